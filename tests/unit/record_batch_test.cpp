// RecordBatch v2 records: what librdkafka writes decodes as its README says,
// what we write decodes back (and, uncompressed, byte for byte like
// librdkafka), and a hand-checked golden batch pins the encoding.
#include "batch_test_support.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

// Counts heap allocations so a test can prove append() makes none once warm.
// (GCC 12 flags malloc/free inside replacement operators as mismatched.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
static std::atomic<size_t> g_allocations{0};
void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

using namespace al;
using namespace al::test;

namespace {

struct testdata_file {
  const char* name;
  compression codec;
  size_t count;
};

const testdata_file trading_files[] = {
  {"uncompressed-100.bin", compression::none, 100}, {"lz4-100.bin", compression::lz4, 100},
  {"zstd-100.bin", compression::zstd, 100},         {"gzip-100.bin", compression::gzip, 100},
  {"snappy-100.bin", compression::snappy, 100},     {"headers-4.bin", compression::none, 4},
  {"idempotent-4.bin", compression::none, 4},
};

void check_librdkafka_header(const batch_header& h, compression codec, size_t count) {
  CHECK(h.base_offset == 0);
  CHECK(h.magic == 2);
  CHECK(h.codec() == codec);
  CHECK(h.records_count == int32_t(count));
  CHECK(h.last_offset_delta == int32_t(count) - 1);
  CHECK_FALSE(h.is_transactional());
  CHECK_FALSE(h.is_control());
}

/// Offsets 0..N-1, timestamps base + delta with max = maxTimestamp.
void check_offsets_and_times(const decoded_batch& b) {
  int64_t max_ts = b.header.base_timestamp;
  for (size_t i = 0; i < b.records.size(); ++i) {
    CHECK(b.records[i].offset == int64_t(i));
    CHECK(b.records[i].timestamp >= b.header.base_timestamp);
    max_ts = std::max(max_ts, b.records[i].timestamp);
  }
  CHECK(b.records.front().timestamp == b.header.base_timestamp);
  CHECK(max_ts == b.header.max_timestamp);
}

decoded_batch decode_ok(const bytes& batch, const std::string& where = "batch") {
  auto d = decode_batch(byte_view{batch}, where);
  INFO((d ? std::string("ok") : d.error().to_string()));
  REQUIRE(d.has_value());
  return std::move(*d);
}

/// Re-encodes with the same codec and producer fields, decodes again.
bytes reencode(const decoded_batch& b) {
  batch_options opts;
  opts.codec = b.header.codec();
  opts.producer_id = b.header.producer_id;
  opts.producer_epoch = b.header.producer_epoch;
  opts.base_sequence = b.header.base_sequence;
  opts.partition_leader_epoch = b.header.partition_leader_epoch;
  opts.base_offset = b.header.base_offset;
  batch_builder builder(opts);
  append_all(builder, to_plain(b), b.header.base_offset);
  return builder.build();
}

} // namespace

TEST_CASE("librdkafka trading batches decode record by record", "[record_batch]") {
  for (const auto& f : trading_files) {
    INFO("file " << f.name);
    auto raw = testdata(f.name);
    auto b = decode_ok(raw, f.name);
    check_librdkafka_header(b.header, f.codec, f.count);
    REQUIRE(b.records.size() == f.count);
    check_offsets_and_times(b);
    bool with_headers = std::string(f.name) == "headers-4.bin";
    for (size_t i = 0; i < f.count; ++i) {
      INFO("record " << i);
      auto [key, value] = trade(i);
      const auto& r = b.records[i];
      REQUIRE(r.key);
      REQUIRE(r.value);
      CHECK(r.key->as_string() == key);
      CHECK(r.value->as_string() == value);
      if (with_headers) {
        REQUIRE(r.headers.size() == 2);
        CHECK(r.headers[0].key == "source");
        CHECK(r.headers[0].value->as_string() == "order-service");
        CHECK(r.headers[1].key == "region");
        CHECK(r.headers[1].value->as_string() == "IN");
      } else {
        CHECK(r.headers.empty());
      }
    }
    // Compressed files keep the records in the payload; plain ones view the input.
    if (f.codec == compression::none) {
      CHECK(b.payload.empty());
      CHECK(b.records[0].key->data > raw.data());
      CHECK(b.records[0].key->data < raw.data() + raw.size());
    } else {
      CHECK_FALSE(b.payload.empty());
    }
  }
}

TEST_CASE("librdkafka idempotent batch carries producer id, epoch and sequence",
          "[record_batch]") {
  auto b_raw = testdata("idempotent-4.bin"); // views point into it
  auto b = decode_ok(b_raw);
  CHECK(b.header.producer_id == 4242);
  CHECK(b.header.producer_epoch == 0);
  CHECK(b.header.base_sequence == 0);
  CHECK(b.header.last_sequence() == 3);
  CHECK(record_sequence(b.header, 3) == 3);
  auto plain_raw = testdata("uncompressed-100.bin"); // views point into it
  auto plain = decode_ok(plain_raw);
  CHECK(plain.header.producer_id == no_producer_id);
  CHECK(plain.header.producer_epoch == no_producer_epoch);
  CHECK(plain.header.base_sequence == no_sequence);
  CHECK(record_sequence(plain.header, 5) == no_sequence);
}

TEST_CASE("librdkafka tombstone and null-key batches", "[record_batch]") {
  auto t_raw = testdata("tombstone-2.bin"); // views point into it
  auto t = decode_ok(t_raw);
  check_librdkafka_header(t.header, compression::none, 2);
  REQUIRE(t.records.size() == 2);
  check_offsets_and_times(t);
  CHECK(t.records[0].key->as_string() == "AAPL");
  CHECK_FALSE(t.records[0].value.has_value());
  CHECK(t.records[1].key->as_string() == "TCS");
  CHECK(t.records[1].value->as_string() == "live");

  auto n_raw = testdata("null-key-2.bin"); // views point into it
  auto n = decode_ok(n_raw);
  check_librdkafka_header(n.header, compression::none, 2);
  REQUIRE(n.records.size() == 2);
  check_offsets_and_times(n);
  CHECK_FALSE(n.records[0].key.has_value());
  CHECK(n.records[0].value->as_string() == "no key here");
  CHECK_FALSE(n.records[1].key.has_value());
  CHECK(n.records[1].value->as_string() == "second");
}

TEST_CASE("re-encoding each librdkafka batch gives the same records", "[record_batch]") {
  for (auto name : {"uncompressed-100.bin", "lz4-100.bin", "zstd-100.bin", "gzip-100.bin",
                    "snappy-100.bin", "headers-4.bin", "idempotent-4.bin", "tombstone-2.bin",
                    "null-key-2.bin"}) {
    INFO("file " << name);
    auto raw = testdata(name);
    auto original = decode_ok(raw);
    auto ours = reencode(original);
    auto again = decode_ok(ours);
    CHECK(to_plain(again) == to_plain(original));
    CHECK(again.header.codec() == original.header.codec());
    CHECK(again.header.base_timestamp == original.header.base_timestamp);
    CHECK(again.header.max_timestamp == original.header.max_timestamp);
    CHECK(again.header.last_offset_delta == original.header.last_offset_delta);
    CHECK(again.header.producer_id == original.header.producer_id);
    CHECK(again.header.base_sequence == original.header.base_sequence);
    // Uncompressed, there is one right encoding: ours must equal librdkafka's.
    if (original.header.codec() == compression::none)
      CHECK(ours == raw);
  }
}

// Built by hand from the grammar in docs/formats/record-batch.md ("Worked
// example"); the CRC was computed separately with a bitwise CRC32C.
TEST_CASE("golden bytes: a small batch encodes exactly as the spec says", "[record_batch]") {
  const std::string hex = "000000000000000000000055ffffffff"  // baseOffset 0, length 85, epoch -1
                          "022f513fdc0000000000020000018bcf"  // magic, crc, attrs, lastDelta 2
                          "e568000000018bcfe56805ffffffffff"  // base/max timestamp, producerId
                          "ffffffffffffffffff00000003140000"  // epoch, sequence, count 3, r0
                          "00046b31047631001e000a0201047632"  // r0 k1/v1, r1 null key, v2
                          "0402680278026e0110000104046b3301"  // r1 headers h=x n=null, r2 k3
                          "00";                               // r2 null value, no headers
  bytes golden;
  for (size_t i = 0; i < hex.size(); i += 2)
    golden.push_back(uint8_t(std::stoi(hex.substr(i, 2), nullptr, 16)));
  REQUIRE(golden.size() == 97);

  batch_builder builder;
  builder.append(1700000000000, byte_view{std::string_view{"k1"}},
                 byte_view{std::string_view{"v1"}});
  builder.append(1700000000005, std::nullopt, byte_view{std::string_view{"v2"}},
                 {{"h", byte_view{std::string_view{"x"}}}, {"n", std::nullopt}});
  builder.append(1699999999999, byte_view{std::string_view{"k3"}}, std::nullopt);
  CHECK(builder.record_count() == 3);
  CHECK(builder.estimated_size() == 97);
  auto built = builder.build();
  CHECK(built == golden);
  CHECK(builder.empty());

  // And it reads back the way the librdkafka files do.
  auto b = decode_ok(golden);
  CHECK(b.header.crc == 0x2f513fdcu);
  CHECK(b.header.base_timestamp == 1700000000000);
  CHECK(b.header.max_timestamp == 1700000000005);
  std::vector<plain_record> expect = {
    {0, 1700000000000, "k1", "v1", {}},
    {1, 1700000000005, std::nullopt, "v2", {{"h", "x"}, {"n", std::nullopt}}},
    {2, 1699999999999, "k3", std::nullopt, {}},
  };
  CHECK(to_plain(b) == expect);
}

TEST_CASE("builder: options, offset gaps, empty batch and reuse", "[record_batch]") {
  batch_options opts;
  opts.codec = compression::zstd;
  opts.producer_id = 77;
  opts.producer_epoch = 3;
  opts.base_sequence = 1000;
  opts.partition_leader_epoch = 9;
  opts.base_offset = 5000;
  opts.transactional = true;
  batch_builder builder(opts);
  builder.append_with_offset_delta(0, 10, byte_view{std::string_view{"a"}}, std::nullopt);
  builder.append_with_offset_delta(7, 30, byte_view{std::string_view{"b"}}, std::nullopt);
  builder.append_with_offset_delta(9, 20, byte_view{std::string_view{"c"}}, std::nullopt);
  auto b1 = builder.build();
  auto d = decode_ok(b1);
  CHECK(d.header.base_offset == 5000);
  CHECK(d.header.partition_leader_epoch == 9);
  CHECK(d.header.producer_id == 77);
  CHECK(d.header.producer_epoch == 3);
  CHECK(d.header.base_sequence == 1000);
  CHECK(d.header.is_transactional());
  CHECK(d.header.last_offset_delta == 9);
  CHECK(d.header.max_timestamp == 30);
  REQUIRE(d.records.size() == 3);
  CHECK(d.records[1].offset == 5007);
  CHECK(d.records[2].offset == 5009);
  CHECK(d.records[2].timestamp == 20);

  // Reuse: a second batch from the same builder is independent of the first.
  builder.append(99, std::nullopt, byte_view{std::string_view{"z"}});
  auto d2_raw = builder.build();
  auto d2 = decode_ok(d2_raw);
  REQUIRE(d2.records.size() == 1);
  CHECK(d2.records[0].offset == 5000);
  CHECK(d2.header.base_timestamp == 99);

  // Empty: count 0, NO_TIMESTAMP, and it decodes (compaction may leave these).
  auto empty = builder.build();
  CHECK(empty.size() == batch_layout::header_size);
  auto de = decode_ok(empty);
  CHECK(de.records.empty());
  CHECK(de.header.base_timestamp == -1);
}

TEST_CASE("builder: append allocates nothing once its buffer is warm", "[record_batch]") {
  const std::string key = "AAPL", value = "BUY 100 @ 189.5 acct=ACC0001 venue=NSE";
  const std::vector<record_header> headers = {{"source", byte_view{std::string_view{"svc"}}}};
  for (auto codec : {compression::none, compression::lz4}) {
    batch_options opts;
    opts.codec = codec;
    batch_builder builder(opts);
    auto fill = [&] {
      for (int i = 0; i < 1000; ++i)
        builder.append(1700000000000 + i, byte_view{std::string_view{key}},
                       byte_view{std::string_view{value}}, headers);
    };
    fill();
    builder.build(); // the buffer keeps its capacity
    size_t before = g_allocations.load();
    fill();
    CHECK(g_allocations.load() == before);
    auto batch = builder.build();
    CHECK(decode_ok(batch).records.size() == 1000);
  }
}

TEST_CASE("LogAppendTime batches report maxTimestamp for every record", "[record_batch]") {
  batch_options opts;
  opts.log_append_time = true;
  batch_builder builder(opts);
  builder.append(500, std::nullopt, byte_view{std::string_view{"a"}});
  builder.append(700, std::nullopt, byte_view{std::string_view{"b"}});
  auto d_raw = builder.build();
  auto d = decode_ok(d_raw);
  CHECK((d.header.attributes & batch_attr::log_append_time) != 0);
  CHECK(d.header.max_timestamp == 700);
  REQUIRE(d.records.size() == 2);
  CHECK(d.records[0].timestamp == 700); // Kafka's reading of LogAppendTime
  CHECK(d.records[1].timestamp == 700);
}

TEST_CASE("seeded random batches round-trip through every codec", "[record_batch]") {
  const compression codecs[] = {compression::none, compression::gzip, compression::snappy,
                                compression::lz4, compression::zstd};
  const uint32_t first_seed = test_seed();
  for (uint32_t round = 0; round < 60; ++round) {
    uint32_t seed = first_seed + round;
    INFO("seed " << seed << " (rerun with AL_TEST_SEED=" << seed << ")");
    std::mt19937 rng(seed);
    auto random_string = [&](size_t max_len) -> opt_string {
      if (rng() % 5 == 0)
        return std::nullopt;
      std::string s(rng() % (max_len + 1), '\0');
      for (auto& c : s)
        c = char(rng() % 4 == 0 ? rng() : 'a' + rng() % 3); // compressible, with noise
      return s;
    };
    batch_options opts;
    opts.codec = codecs[rng() % 5];
    opts.base_offset = int64_t(rng() % 1000000);
    batch_builder builder(opts);
    std::vector<plain_record> records;
    int64_t offset = opts.base_offset;
    size_t n = 1 + rng() % 200;
    for (size_t i = 0; i < n; ++i) {
      plain_record r;
      r.offset = offset;
      offset += 1 + (rng() % 4 == 0 ? rng() % 100 : 0); // occasional gaps
      r.timestamp = 1700000000000 + int64_t(rng() % 100000) - 50000;
      r.key = random_string(20);
      r.value = random_string(rng() % 10 == 0 ? 3000 : 100);
      for (size_t h = rng() % 4; h > 0; --h)
        r.headers.emplace_back(random_string(10).value_or(""), random_string(20));
      records.push_back(r);
    }
    append_all(builder, records, opts.base_offset);
    auto batch = builder.build();
    auto d = decode_ok(batch);
    CHECK(d.header.codec() == opts.codec);
    CHECK(to_plain(d) == records);
  }
}
