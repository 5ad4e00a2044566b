// Damaged batches: every corruption ends in a clear CORRUPT_MESSAGE naming
// where it was found, never in a crash or an overread (run under ASan to be
// sure). Damage is made LevelDB-style: change bytes, optionally fix the CRC
// so the record decoder rather than the checksum has to catch it.
#include "batch_test_support.hpp"

#include <chrono>
#include <random>

using namespace al;
using namespace al::test;

namespace {

status decode_error(const bytes& batch, const std::string& where = "seg.log position 0") {
  auto d = decode_batch(byte_view{batch}, where);
  REQUIRE_FALSE(d.has_value());
  INFO(d.error().to_string());
  CHECK(d.error().message().find(where) != std::string::npos);
  // The leader's allocation-free validation must reject it the same way.
  bytes scratch;
  auto v = validate_records(byte_view{batch}, record_validation{}, scratch, where);
  REQUIRE_FALSE(v.has_value());
  CHECK(v.error().code() == d.error().code());
  CHECK(v.error().message() == d.error().message());
  return d.error();
}

/// The golden-test batch layout: records start at byte 61.
bytes small_batch() {
  batch_builder b;
  b.append(1000, byte_view{std::string_view{"key"}}, byte_view{std::string_view{"value"}});
  b.append(1001, byte_view{std::string_view{"k2"}}, byte_view{std::string_view{"v2"}});
  return b.build();
}

constexpr size_t first_record = batch_layout::header_size;

} // namespace

TEST_CASE("a flipped byte in the middle of a batch fails the CRC", "[record_batch][corrupt]") {
  for (auto name : {"uncompressed-100.bin", "lz4-100.bin", "snappy-100.bin"}) {
    INFO("file " << name);
    auto raw = testdata(name);
    raw[raw.size() / 2] ^= 0x10;
    auto st = decode_error(raw);
    CHECK(st.code() == errc::corrupt_message);
    CHECK(st.message().find("CRC mismatch") != std::string::npos);
  }
}

TEST_CASE("truncated batches are errors at every length", "[record_batch][corrupt]") {
  auto raw = testdata("headers-4.bin");
  for (size_t n = 0; n < raw.size(); ++n) {
    bytes cut(raw.begin(), raw.begin() + long(n));
    CHECK(decode_error(cut).code() == errc::corrupt_message);
  }
}

TEST_CASE("bad varints inside records are reported by field", "[record_batch][corrupt]") {
  auto batch = small_batch();
  // Record 0 is: length, attributes, timestampDelta, offsetDelta, keyLength...
  // An 11-byte varlong where timestampDelta sits.
  bytes bad(batch.begin(), batch.begin() + first_record + 2);
  bad.insert(bad.end(), 11, 0xFF);
  bad.insert(bad.end(), batch.begin() + first_record + 3, batch.end());
  store_be<int32_t>(bad.data() + batch_layout::batch_length, int32_t(bad.size() - 12));
  fix_crc(bad);
  auto st = decode_error(bad);
  CHECK(st.code() == errc::corrupt_message);
  CHECK(st.message().find("record 0") != std::string::npos);

  // The record length itself as a six-byte varint.
  bad = batch;
  for (size_t i = 0; i < 5; ++i)
    bad[first_record + i] = 0x80;
  fix_crc(bad);
  st = decode_error(bad);
  CHECK(st.message().find("length varint is too long") != std::string::npos);
}

TEST_CASE("lengths past the end of a record or the batch are errors", "[record_batch][corrupt]") {
  auto batch = small_batch();
  // Record 0: [len][attr 00][ts 00][off 00][keyLen 06 = 3]"key"[valueLen 0a = 5]"value"[00]
  REQUIRE(batch[first_record + 4] == 0x06);
  auto bad = batch;
  bad[first_record + 4] = 0x7E; // keyLength 63 > the record's bytes
  fix_crc(bad);
  auto st = decode_error(bad);
  CHECK(st.message().find("key length 63 runs past the record") != std::string::npos);

  bad = batch;
  bad[first_record + 4] = 0x03; // keyLength -2
  fix_crc(bad);
  CHECK(decode_error(bad).message().find("key length -2 is negative") != std::string::npos);

  bad = batch;
  bad[first_record] = 0x7E; // record length 63 > the records section
  fix_crc(bad);
  CHECK(decode_error(bad).message().find("runs past the records") != std::string::npos);

  bad = batch;
  bad[first_record] = static_cast<uint8_t>(bad[first_record] - 2); // one byte short
  fix_crc(bad);
  CHECK(decode_error(bad).code() == errc::corrupt_message);

  // batchLength past the end of the input: caught before the CRC.
  bad = batch;
  store_be<int32_t>(bad.data() + batch_layout::batch_length, 100000);
  CHECK(decode_error(bad).message().find("runs past the end") != std::string::npos);
}

TEST_CASE("a record count that does not match the records is an error",
          "[record_batch][corrupt]") {
  auto batch = small_batch();
  auto bad = batch;
  store_be<int32_t>(bad.data() + batch_layout::records_count, 1); // 2 are there
  store_be<int32_t>(bad.data() + batch_layout::last_offset_delta, 0);
  fix_crc(bad);
  CHECK(decode_error(bad).message().find("bytes after the last of 1 records") !=
        std::string::npos);

  bad = batch;
  store_be<int32_t>(bad.data() + batch_layout::records_count, 3); // 2 are there
  store_be<int32_t>(bad.data() + batch_layout::last_offset_delta, 2);
  fix_crc(bad);
  CHECK(decode_error(bad).message().find("record 2") != std::string::npos);

  bad = batch;
  store_be<int32_t>(bad.data() + batch_layout::records_count, 1000000);
  store_be<int32_t>(bad.data() + batch_layout::last_offset_delta, 1000000);
  fix_crc(bad);
  CHECK(decode_error(bad).message().find("cannot fit") != std::string::npos);
}

TEST_CASE("offset deltas must increase and stay within lastOffsetDelta",
          "[record_batch][corrupt]") {
  auto batch = small_batch();
  // Record 1's offsetDelta is 1 (varint 02); make it 0, a repeat of record 0.
  size_t r1 = first_record + 1 + batch[first_record] / 2;
  REQUIRE(batch[r1 + 3] == 0x02);
  auto bad = batch;
  bad[r1 + 3] = 0x00;
  fix_crc(bad);
  CHECK(decode_error(bad).message().find("not increasing") != std::string::npos);

  bad = batch;
  store_be<int32_t>(bad.data() + batch_layout::last_offset_delta, 0);
  fix_crc(bad);
  CHECK(decode_error(bad).code() == errc::corrupt_message);
}

TEST_CASE("compressed records that do not decompress are corrupt", "[record_batch][corrupt]") {
  for (auto name : {"gzip-100.bin", "lz4-100.bin", "zstd-100.bin", "snappy-100.bin"}) {
    INFO("file " << name);
    auto bad = testdata(name);
    for (size_t i = first_record + 8; i < first_record + 24; ++i)
      bad[i] ^= 0x5A;
    fix_crc(bad);
    auto st = decode_error(bad);
    CHECK(st.code() == errc::corrupt_message);
  }
  // A bound below the real size: the codec stops, nothing is half-decoded.
  decode_options small;
  small.max_decompressed_bytes = 1000;
  auto d = decode_batch(byte_view{testdata("zstd-100.bin")}, small, "zstd-100.bin");
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error().message().find("more than 1000 bytes") != std::string::npos);
}

TEST_CASE("fuzz: random damage never crashes the decoder (bounded to ~1.5 s)",
          "[record_batch][corrupt][fuzz]") {
  std::vector<bytes> seeds;
  for (auto name : {"uncompressed-100.bin", "headers-4.bin", "tombstone-2.bin",
                    "null-key-2.bin", "gzip-100.bin", "lz4-100.bin", "zstd-100.bin",
                    "snappy-100.bin"})
    seeds.push_back(testdata(name));
  seeds.push_back(small_batch());
  const uint32_t seed = test_seed();
  INFO("seed " << seed << " (rerun with AL_TEST_SEED=" << seed << ")");
  std::mt19937 rng(seed);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  size_t runs = 0, accepted = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    for (int i = 0; i < 50; ++i, ++runs) {
      bytes b = seeds[rng() % seeds.size()];
      switch (rng() % 4) {
        case 0: // flip bytes in the records
          for (size_t n = 1 + rng() % 4; n > 0; --n)
            b[first_record + rng() % (b.size() - first_record)] ^= uint8_t(1 + rng() % 255);
          break;
        case 1: // truncate the records (header's length kept: runs past the end)
          b.resize(first_record + rng() % (b.size() - first_record));
          break;
        case 2: { // cut the records and shrink batchLength to match
          b.resize(first_record + rng() % (b.size() - first_record));
          store_be<int32_t>(b.data() + batch_layout::batch_length, int32_t(b.size() - 12));
          break;
        }
        default: // overwrite a header field (count, deltas, attributes)
          b[batch_layout::attributes + rng() % (first_record - batch_layout::attributes)] =
            uint8_t(rng());
      }
      if (rng() % 4 != 0)
        fix_crc(b); // mostly reach the record decoder, not just the CRC
      auto d = decode_batch(byte_view{b}, "fuzz");
      if (d) {
        ++accepted; // damage may be harmless (e.g. a changed timestamp)
        CHECK(d->records.size() == size_t(d->header.records_count));
      } else {
        CHECK(d.error().code() != errc::none);
        CHECK_FALSE(d.error().message().empty());
      }
    }
  }
  INFO("runs " << runs << " accepted " << accepted);
  CHECK(runs > 100);
}
