// validate_records: the leader's check of a producer's batch. It must accept
// exactly what decode_batch accepts (the corrupt-batch tests compare both on
// every damaged batch), reject null keys for compacted topics, apply the
// producer limits (max.message.bytes before decompressing, a bound on the
// decompressed size, message.timestamp.*), and allocate nothing for an
// uncompressed batch (counted here with a replaced global operator new: this
// test is its own binary; it also records the largest single allocation).
#include "batch_test_support.hpp"

#include <atomic>
#include <cstdlib>
#include <limits>
#include <new>

namespace {
std::atomic<size_t> g_allocations{0};
std::atomic<size_t> g_largest{0}; // largest single allocation since reset

void note_size(size_t n) {
  size_t seen = g_largest.load(std::memory_order_relaxed);
  while (n > seen && !g_largest.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
  }
}
} // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  note_size(n);
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc{};
}
// Not inlined: GCC 12 would see new (malloc) and free meet in a caller and
// warn (-Wmismatched-new-delete), although the pair is consistent.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace al;
using namespace al::test;

TEST_CASE("validate_records accepts what real clients write, with the decoded header",
          "[record_batch][validate]") {
  bytes scratch;
  for (auto name : {"uncompressed-100.bin", "lz4-100.bin", "zstd-100.bin", "gzip-100.bin",
                    "snappy-100.bin", "headers-4.bin", "tombstone-2.bin", "null-key-2.bin",
                    "idempotent-4.bin"}) {
    INFO("file " << name);
    auto raw = testdata(name);
    auto decoded = decode_batch(byte_view{raw});
    REQUIRE(decoded.has_value());
    auto h = validate_records(byte_view{raw}, record_validation{}, scratch, name);
    REQUIRE(h.has_value());
    CHECK(h->records_count == decoded->header.records_count);
    CHECK(h->crc == decoded->header.crc);
    CHECK(h->base_sequence == decoded->header.base_sequence);
    CHECK(h->size_in_bytes() == raw.size());
  }
}

TEST_CASE("a compacted topic's validation rejects a null key and names the record",
          "[record_batch][validate]") {
  bytes scratch;
  record_validation keys;
  keys.require_keys = true;
  auto null_keys = testdata("null-key-2.bin");
  auto h = validate_records(byte_view{null_keys}, keys, scratch, "produce to t-0");
  REQUIRE_FALSE(h.has_value());
  CHECK(h.error().code() == errc::invalid_record); // Kafka's code, as its LogValidator
  CHECK(h.error().message().find("produce to t-0: record 0") != std::string::npos);
  CHECK(h.error().message().find("requires a key") != std::string::npos);

  // Only the second record lacks a key: the error names record 1.
  batch_builder b;
  b.append(1, byte_view{std::string_view{"k"}}, byte_view{std::string_view{"v"}});
  b.append(2, std::nullopt, byte_view{std::string_view{"v"}});
  auto mixed = b.build();
  auto m = validate_records(byte_view{mixed}, keys, scratch, "t-0");
  REQUIRE_FALSE(m.has_value());
  CHECK(m.error().message().find("record 1") != std::string::npos);
  // Without the rule both pass; tombstones (null values) pass either way.
  CHECK(validate_records(byte_view{mixed}, record_validation{}, scratch, "t-0").has_value());
  auto tombstones = testdata("tombstone-2.bin");
  CHECK(validate_records(byte_view{tombstones}, keys, scratch, "t-0").has_value());
}

TEST_CASE("validating an uncompressed batch allocates nothing, compressed reuse the scratch",
          "[record_batch][validate]") {
  const std::string where = "produce to orders-0";
  bytes scratch;
  record_validation keys;
  keys.require_keys = true;
  for (auto name : {"uncompressed-100.bin", "headers-4.bin"}) {
    INFO("file " << name);
    auto raw = testdata(name);
    REQUIRE(validate_records(byte_view{raw}, keys, scratch, where).has_value()); // warm-up
    size_t before = g_allocations.load();
    for (int i = 0; i < 10; ++i)
      (void)validate_records(byte_view{raw}, keys, scratch, where);
    CHECK(g_allocations.load() - before == 0);
  }
  auto lz4 = testdata("lz4-100.bin");
  REQUIRE(validate_records(byte_view{lz4}, keys, scratch, where).has_value());
  auto capacity = scratch.capacity();
  CHECK(capacity > 0);
  size_t before = g_allocations.load();
  for (int i = 0; i < 10; ++i)
    REQUIRE(validate_records(byte_view{lz4}, keys, scratch, where).has_value());
  CHECK(scratch.capacity() == capacity);
  // The lz4 decoder may allocate its own context, but not the output buffer
  // each time: fewer allocations than batches would show a regrowing buffer.
  INFO("allocations for 10 lz4 batches: " << g_allocations.load() - before);
  CHECK(g_allocations.load() - before < 10 * 2);
}

namespace {

void put_varint(bytes& out, int64_t v) {
  auto z = (uint64_t(v) << 1) ^ uint64_t(v >> 63); // zigzag
  while (z >= 0x80) {
    out.push_back(uint8_t(z) | 0x80);
    z >>= 7;
  }
  out.push_back(uint8_t(z));
}

/// A batch of `count` hand-made records (each: attributes 0, deltas 0 and
/// `i`, null key, null value, then `tail` as the header section).
bytes batch_of_raw_records(int32_t count, const bytes& tail) {
  bytes records;
  for (int32_t i = 0; i < count; ++i) {
    bytes body{0};
    put_varint(body, 0);  // timestampDelta
    put_varint(body, i);  // offsetDelta
    put_varint(body, -1); // key
    put_varint(body, -1); // value
    body.insert(body.end(), tail.begin(), tail.end());
    put_varint(records, int64_t(body.size()));
    records.insert(records.end(), body.begin(), body.end());
  }
  batch_builder b;
  b.append(1000, std::nullopt, std::nullopt);
  auto batch = b.build();
  batch.resize(batch_layout::header_size);
  batch.insert(batch.end(), records.begin(), records.end());
  store_be<int32_t>(batch.data() + batch_layout::batch_length, int32_t(batch.size() - 12));
  store_be<int32_t>(batch.data() + batch_layout::last_offset_delta, count - 1);
  store_be<int32_t>(batch.data() + batch_layout::records_count, count);
  fix_crc(batch);
  return batch;
}

bytes one_record_at(int64_t timestamp) {
  batch_builder b;
  b.append(timestamp, byte_view{std::string_view{"k"}}, byte_view{std::string_view{"v"}});
  return b.build();
}

} // namespace

TEST_CASE("max.message.bytes is checked before the CRC and before decompressing",
          "[record_batch][validate]") {
  bytes scratch;
  auto raw = testdata("zstd-100.bin");
  record_validation opts;
  opts.max_batch_bytes = raw.size() - 1;
  // Damaged records and a wrong CRC: still MESSAGE_TOO_LARGE, nothing decoded.
  auto damaged = raw;
  for (size_t i = batch_layout::header_size; i < batch_layout::header_size + 16; ++i)
    damaged[i] ^= 0x5A;
  scratch.clear();
  auto h = validate_records(byte_view{damaged}, opts, scratch, "produce to t-0");
  REQUIRE_FALSE(h.has_value());
  CHECK(h.error().code() == errc::message_too_large);
  CHECK(h.error().message().find("max.message.bytes " + std::to_string(raw.size() - 1)) !=
        std::string::npos);
  CHECK(scratch.capacity() == 0); // not decompressed
  opts.max_batch_bytes = raw.size();
  CHECK(validate_records(byte_view{raw}, opts, scratch, "t-0").has_value());
}

TEST_CASE("a compression bomb answers MESSAGE_TOO_LARGE without allocating its size",
          "[record_batch][validate]") {
  // 100 MiB of zeros in one record compress to a few KiB: well within
  // max.message.bytes, far beyond what the produce path may decompress.
  bytes zeros(size_t(100) << 20, 0);
  batch_options bo;
  bo.codec = compression::zstd;
  batch_builder b{bo};
  b.append(1000, std::nullopt, byte_view{zeros});
  auto bomb = b.build();
  bytes{}.swap(zeros);
  REQUIRE(bomb.size() < 1048588);
  record_validation opts;
  opts.max_batch_bytes = 1048588;
  opts.max_decompressed_bytes = produce_max_decompressed_bytes(1048588);
  CHECK(opts.max_decompressed_bytes == size_t(64) << 20);
  bytes scratch;
  g_largest = 0;
  auto h = validate_records(byte_view{bomb}, opts, scratch, "produce to t-0");
  REQUIRE_FALSE(h.has_value());
  CHECK(h.error().code() == errc::message_too_large);
  INFO("largest allocation " << g_largest.load());
  CHECK(g_largest.load() <= opts.max_decompressed_bytes + 1);
  // The bound follows max.message.bytes, within [64 MiB, 256 MiB].
  CHECK(produce_max_decompressed_bytes(0) == size_t(64) << 20);
  CHECK(produce_max_decompressed_bytes(32 << 20) == size_t(128) << 20);
  CHECK(produce_max_decompressed_bytes(std::numeric_limits<int32_t>::max()) ==
        default_max_decompressed_bytes);
}

TEST_CASE("record timestamps outside message.timestamp.before/after.max.ms are refused",
          "[record_batch][validate]") {
  bytes scratch;
  record_validation opts;
  opts.now_ms = 1'700'000'000'000;
  opts.timestamp_before_max_ms = 60'000;
  opts.timestamp_after_max_ms = 1'000;
  auto check = [&](int64_t ts) {
    auto batch = one_record_at(ts);
    auto h = validate_records(byte_view{batch}, opts, scratch, "produce to t-0");
    return h ? errc::none : h.error().code();
  };
  CHECK(check(opts.now_ms) == errc::none);
  CHECK(check(opts.now_ms - 60'000) == errc::none); // bounds are inclusive
  CHECK(check(opts.now_ms + 1'000) == errc::none);
  CHECK(check(opts.now_ms - 60'001) == errc::invalid_timestamp);
  CHECK(check(opts.now_ms + 1'001) == errc::invalid_timestamp);
  CHECK(check(std::numeric_limits<int64_t>::max()) == errc::invalid_timestamp);
  CHECK(check(std::numeric_limits<int64_t>::min()) == errc::invalid_timestamp);
  CHECK(check(-1) == errc::none); // NO_TIMESTAMP is not checked, as in Kafka
  // One old record among good ones: named in the error.
  batch_builder b;
  b.append(opts.now_ms, std::nullopt, std::nullopt);
  b.append(opts.now_ms - 120'000, std::nullopt, std::nullopt);
  auto mixed = b.build();
  auto h = validate_records(byte_view{mixed}, opts, scratch, "produce to t-0");
  REQUIRE_FALSE(h.has_value());
  CHECK(h.error().code() == errc::invalid_timestamp);
  CHECK(h.error().message().find("record 1") != std::string::npos);
  // The header's maxTimestamp (what retention reads) is held to the same bound.
  auto lying = one_record_at(opts.now_ms);
  store_be<int64_t>(lying.data() + batch_layout::max_timestamp, opts.now_ms + 10'000'000);
  fix_crc(lying);
  h = validate_records(byte_view{lying}, opts, scratch, "produce to t-0");
  REQUIRE_FALSE(h.has_value());
  CHECK(h.error().code() == errc::invalid_timestamp);
  CHECK(h.error().message().find("maxTimestamp") != std::string::npos);
  // The defaults check nothing: any timestamp passes.
  CHECK(validate_records(byte_view{lying}, record_validation{}, scratch, "t-0").has_value());
  // Extreme settings do not overflow.
  opts.timestamp_before_max_ms = std::numeric_limits<int64_t>::max();
  opts.timestamp_after_max_ms = std::numeric_limits<int64_t>::max();
  CHECK(check(std::numeric_limits<int64_t>::min()) == errc::none);
  CHECK(check(std::numeric_limits<int64_t>::max()) == errc::none);
}

TEST_CASE("header counts and lengths are checked against the bytes present before use",
          "[record_batch][validate]") {
  bytes scratch;
  // headerCount 1,000,000 with two bytes behind it: refused, nothing reserved.
  bytes tail;
  put_varint(tail, 1'000'000);
  tail.insert(tail.end(), {0, 1});
  auto batch = batch_of_raw_records(1, tail);
  g_largest = 0;
  auto h = validate_records(byte_view{batch}, record_validation{}, scratch, "t-0");
  REQUIRE_FALSE(h.has_value());
  CHECK(h.error().code() == errc::corrupt_message);
  CHECK(h.error().message().find("headerCount") != std::string::npos);
  auto d = decode_batch(byte_view{batch}, "t-0");
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error().message().find("headerCount") != std::string::npos);
  CHECK(g_largest.load() < 4096);
  // A negative count, and a header key length past the record's end.
  tail.clear();
  put_varint(tail, -5);
  CHECK(validate_records(byte_view{batch_of_raw_records(1, tail)}, record_validation{}, scratch,
                         "t-0")
          .error()
          .code() == errc::corrupt_message);
  tail.clear();
  put_varint(tail, 1);
  put_varint(tail, 1'000'000); // key length
  auto long_key = batch_of_raw_records(1, tail);
  auto k = validate_records(byte_view{long_key}, record_validation{}, scratch, "t-0");
  REQUIRE_FALSE(k.has_value());
  CHECK(k.error().message().find("headerKey length 1000000 runs past the record") !=
        std::string::npos);
  // Well-formed: two records with one header each.
  tail.clear();
  put_varint(tail, 1);
  put_varint(tail, 1);
  tail.push_back('h');
  put_varint(tail, -1);
  auto good = batch_of_raw_records(2, tail);
  CHECK(validate_records(byte_view{good}, record_validation{}, scratch, "t-0").has_value());
  auto decoded = decode_batch(byte_view{good}, "t-0");
  REQUIRE(decoded.has_value());
  CHECK(decoded->records.at(1).headers.size() == 1);
}

TEST_CASE("a client's base offset near INT64_MAX or below 0 is a corrupt batch",
          "[record_batch][validate]") {
  // The leader stamps the real base offset after validation, but the header
  // is read before that: its last offset must not overflow
  // (-fsanitize=undefined flagged the plain addition).
  for (int64_t base : {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max() - 2,
                       int64_t{-1}}) {
    INFO("base offset " << base);
    auto batch = batch_of_raw_records(3, bytes{0});
    store_be<int64_t>(batch.data() + batch_layout::base_offset, base);
    bytes scratch;
    auto v = validate_records(byte_view{batch}, record_validation{}, scratch, "t-0");
    REQUIRE_FALSE(v.has_value());
    CHECK(v.error().code() == errc::corrupt_message);
    CHECK(v.error().message().find("baseOffset") != std::string::npos);
    CHECK_FALSE(decode_batch(byte_view{batch}, "t-0").has_value());
  }
  // The largest base offset that still fits.
  auto batch = batch_of_raw_records(3, bytes{0});
  store_be<int64_t>(batch.data() + batch_layout::base_offset, std::numeric_limits<int64_t>::max() - 3);
  bytes scratch;
  CHECK(validate_records(byte_view{batch}, record_validation{}, scratch, "t-0").has_value());
}
