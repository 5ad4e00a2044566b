// validate_records: the leader's check of a producer's batch. It must accept
// exactly what decode_batch accepts (the corrupt-batch tests compare both on
// every damaged batch), reject null keys for compacted topics, and allocate
// nothing for an uncompressed batch (counted here with a replaced global
// operator new: this test is its own binary).
#include "batch_test_support.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<size_t> g_allocations{0};
} // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc{};
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

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
  CHECK(h.error().code() == errc::invalid_request);
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

TEST_CASE("validating an uncompressed batch allocates nothing; compressed reuse the scratch",
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
