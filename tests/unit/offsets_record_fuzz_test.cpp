// Fuzzing the records of __consumer_offsets: offset keys and values
// (decode_offset_key / decode_offset_value) and offsets_loader, which
// replays fetched batches of them. Damage must give CORRUPT_MESSAGE naming
// the field (or a skipped record), never an abort, an exception or a huge
// allocation; what decodes encodes and decodes to the same value.
#include "fuzz_test_support.hpp"

#include "actors/group/offsets_record.hpp"
#include "storage/record_batch.hpp"

using namespace al;
using namespace al::test;

namespace {

const topic_partition t0{"orders", 0}, t1{"orders", 1}, t2{"payments", 7};

std::vector<bytes> encoded_keys() {
  return {encode_offset_key({"g1", t0}), encode_offset_key({"", {"", -1}}),
          encode_offset_key({std::string(300, 'g'), t2})};
}

std::vector<bytes> encoded_values() {
  return {encode_offset_value({10, "", 1, 100, -1}),
          encode_offset_value({INT64_MAX, "client metadata", INT32_MAX, INT64_MIN, 5}),
          encode_offset_value({-1, std::string(1000, 'm'), -1, 0, 0})};
}

bool check_key(const bytes& in) {
  reset_largest_allocation();
  auto k = decode_offset_key(byte_view{in});
  CHECK(largest_allocation <= max_decode_allocation);
  if (!k) {
    CHECK(k.error().code() == errc::corrupt_message);
    CHECK(k.error().message().rfind("offsets key: truncated at ", 0) == 0);
    return false;
  }
  if (!*k) { // skipped: only a key version other than 0 and 1
    REQUIRE(in.size() >= 2);
    auto version = load_be<int16_t>(in.data());
    CHECK(version != 0);
    CHECK(version != 1);
    return false;
  }
  auto again = decode_offset_key(byte_view{encode_offset_key(**k)});
  REQUIRE(again.has_value());
  REQUIRE(again->has_value());
  CHECK(**again == **k);
  return true;
}

bool check_value(const bytes& in) {
  reset_largest_allocation();
  auto v = decode_offset_value(byte_view{in});
  CHECK(largest_allocation <= max_decode_allocation);
  if (!v) {
    CHECK(v.error().code() == errc::corrupt_message);
    CHECK(v.error().message().rfind("offsets value: ", 0) == 0);
    return false;
  }
  auto again = decode_offset_value(byte_view{encode_offset_value(*v)});
  REQUIRE(again.has_value());
  CHECK(again->offset == v->offset);
  CHECK(again->leader_epoch == v->leader_epoch);
  CHECK(again->metadata == v->metadata);
  CHECK(again->commit_time_ms == v->commit_time_ms);
  CHECK(again->generation_id == v->generation_id);
  return true;
}

/// Batches as the partition log holds them: base offsets stamped in order.
bytes offsets_log() {
  std::vector<bytes> batches{
    offset_commit_batch("g1", {{t0, {10, "", 1, 100, -1}}, {t1, {20, "", 1, 100, -1}}}, 100),
    offset_commit_batch("g2", {{t2, {5, "x", 4, 101, -1}}}, 101),
    offset_tombstone_batch("g2", {t2}, 103)};
  bytes out;
  int64_t next = 0;
  for (auto& b : batches) {
    stamp_base_offset(b.data(), next);
    auto d = decode_batch(byte_view{b});
    REQUIRE(d);
    next = d->header.next_offset();
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

/// Fixes the CRC of every batch that still fits, so that damage reaches the
/// records and the offset key and value decoders (the analogue of reseal()).
void fix_batch_crcs(bytes& log) {
  size_t pos = 0;
  while (log.size() - pos >= batch_layout::header_size) {
    auto length = load_be<int32_t>(log.data() + pos + batch_layout::batch_length);
    if (length < int32_t(batch_layout::header_size - batch_layout::log_overhead) ||
        log.size() - pos - batch_layout::log_overhead < size_t(length))
      return;
    size_t size = batch_layout::log_overhead + size_t(length);
    write_batch_crc(log.data() + pos, size);
    pos += size;
  }
}

void check_loader(const bytes& in, int64_t from) {
  reset_largest_allocation();
  offsets_loader loader;
  auto next = loader.apply(byte_view{in}, from);
  CHECK(largest_allocation <= max_decode_allocation);
  if (!next) {
    CHECK(next.error().code() != errc::none);
    CHECK_FALSE(next.error().message().empty());
    return;
  }
  CHECK(*next >= from);
  CHECK(loader.unreadable() <= loader.records());
  for (const auto& [group, g] : loader.groups()) {
    CHECK_FALSE(g.offsets.empty());
    CHECK(g.max_generation >= 0);
  }
}

} // namespace

TEST_CASE("offset key and value: every cut, extension and extreme field", "[offsets][fuzz]") {
  size_t keys = 0, values = 0;
  for (const auto& enc : encoded_keys()) {
    // A cut key is truncated; bytes after the partition are not looked at.
    for (size_t n = 0; n < enc.size(); ++n)
      CHECK_FALSE(check_key(bytes(enc.begin(), enc.begin() + long(n))));
    for_each_cut_and_extension(enc, trailer::none, [](const bytes& b) { check_key(b); });
    for_each_extreme_field(enc, trailer::none, [&](const bytes& b) { keys += check_key(b); });
  }
  for (const auto& enc : encoded_values()) {
    for_each_cut_and_extension(enc, trailer::none, [](const bytes& b) { check_value(b); });
    for_each_extreme_field(enc, trailer::none, [&](const bytes& b) { values += check_value(b); });
  }
  CHECK(keys > 0);
  CHECK(values > 0);
}

TEST_CASE("fuzz: damaged and random offset keys and values (seeded, bounded to ~1.5 s)",
          "[offsets][fuzz]") {
  const auto keys = encoded_keys();
  const auto values = encoded_values();
  auto runs = fuzz_loop(fuzz_budget{200000}, [&](std::mt19937& rng, size_t) {
    bool key = rng() % 2 == 0;
    bytes b;
    if (rng() % 8 == 0) {
      b = random_bytes(rng, 48);
      if (b.size() >= 2) // mostly a version that is decoded
        store_be<int16_t>(b.data(), key ? int16_t(rng() % 2) : offset_value_version);
    } else {
      const auto& from = key ? keys : values;
      b = from[rng() % from.size()];
      for (size_t n = 1 + rng() % 3; n > 0; --n)
        damage(b, rng, trailer::none);
    }
    if (key)
      check_key(b);
    else
      check_value(b);
  });
  CHECK(runs >= 100);
}

TEST_CASE("offsets_loader: every cut of the log and extreme header fields", "[offsets][fuzz]") {
  const bytes log = offsets_log();
  offsets_loader whole;
  REQUIRE(whole.apply(byte_view{log}, 0));
  for (size_t n = 0; n <= log.size(); ++n)
    check_loader(bytes(log.begin(), log.begin() + long(n)), 0);
  // A baseOffset whose last offset would overflow int64 is an error.
  bytes near_max = log;
  stamp_base_offset(near_max.data(), INT64_MAX);
  offsets_loader overflow;
  auto st = overflow.apply(byte_view{near_max}, 0);
  REQUIRE_FALSE(st);
  CHECK(st.error().message().find("baseOffset") != std::string::npos);
  // The first batch's header (base offset, length, epoch, counts, ...).
  bytes first(log.begin(), log.begin() + long(batch_layout::header_size));
  for_each_extreme_field(first, trailer::none, [&](const bytes& header) {
    bytes x = log;
    std::copy(header.begin(), header.end(), x.begin());
    check_loader(x, 0);
    fix_batch_crcs(x);
    check_loader(x, 0);
  });
}

TEST_CASE("fuzz: damaged offsets partitions replay or fail cleanly (seeded, bounded)",
          "[offsets][fuzz]") {
  const bytes log = offsets_log();
  auto runs = fuzz_loop(fuzz_budget{100000}, [&](std::mt19937& rng, size_t) {
    bytes b = log;
    for (size_t n = 1 + rng() % 3; n > 0; --n)
      damage(b, rng, trailer::none);
    if (rng() % 4 != 0)
      fix_batch_crcs(b);
    check_loader(b, int64_t(rng() % 5) - 1);
  });
  CHECK(runs >= 100);
}
