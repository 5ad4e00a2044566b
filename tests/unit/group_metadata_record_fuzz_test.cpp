// Fuzzing the group metadata records of __consumer_offsets (key version 2,
// value GroupMetadataValue v0-v3 with nested consumer-protocol bytes) and
// offsets_loader over a log that holds them. Damage must give
// CORRUPT_MESSAGE naming the field (or a skipped record), never an abort, an
// exception or a huge allocation; what decodes encodes and decodes to the
// same value. Damage inside a member's subscription or assignment bytes is
// not an error: those are opaque (relay generations) and kept as raw bytes.
#include "fuzz_test_support.hpp"

#include "actors/group/group_metadata_record.hpp"
#include "actors/group/offsets_record.hpp"
#include "storage/record_batch.hpp"

using namespace al;
using namespace al::test;

namespace {

const topic_partition t0{"orders", 0}, t1{"orders", 1}, t2{"payments", 7};

group_metadata two_members(int32_t generation) {
  return group_metadata{
    "consumer",
    generation,
    "cooperative-sticky",
    "a-1",
    1700000000000,
    {group_member_metadata{"a-1", "a", "10.0.0.1", 300000, 45000,
                           member_subscription{{"orders", "payments"}, {t0, t2}, 3},
                           {t0, t1}},
     group_member_metadata{"b-2", "b", "10.0.0.2", 300000, 45000,
                           member_subscription{{"orders"}, {}, -1}, {t2}}}};
}

std::vector<bytes> encoded_values() {
  return {encode_group_metadata_value(two_members(4)),
          encode_group_metadata_value(group_metadata{"consumer", 0, "", "", 0, {}})};
}

bool check_value(const bytes& in) {
  reset_largest_allocation();
  auto v = decode_group_metadata_value(byte_view{in});
  CHECK(largest_allocation <= max_decode_allocation);
  if (!v) {
    CHECK(v.error().code() == errc::corrupt_message);
    CHECK(v.error().message().rfind("group metadata ", 0) == 0);
    return false;
  }
  auto again = decode_group_metadata_value(byte_view{encode_group_metadata_value(*v)});
  REQUIRE(again.has_value());
  CHECK(*again == *v);
  return true;
}

bool check_key(const bytes& in) {
  auto k = decode_group_metadata_key(byte_view{in});
  if (!k) {
    CHECK(k.error().code() == errc::corrupt_message);
    CHECK(k.error().message().rfind("group metadata key: ", 0) == 0);
    return false;
  }
  auto again = decode_group_metadata_key(byte_view{encode_group_metadata_key(*k)});
  REQUIRE(again.has_value());
  CHECK(*again == *k);
  return true;
}

/// Batches as the partition log holds them: base offsets stamped in order.
bytes offsets_log() {
  std::vector<bytes> batches{
    offset_commit_batch("g1", {{t0, {10, "", 4, 100, -1}}}, 100),
    group_metadata_batch("g1", two_members(4), 101),
    group_metadata_batch("g2", two_members(2), 102),
    group_tombstone_batch("g2", {}, 103)};
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

void check_loader(const bytes& in) {
  reset_largest_allocation();
  offsets_loader loader;
  auto next = loader.apply(byte_view{in}, 0);
  CHECK(largest_allocation <= max_decode_allocation);
  if (!next) {
    CHECK_FALSE(next.error().message().empty());
    return;
  }
  CHECK(loader.unreadable() <= loader.records());
  for (const auto& [group, g] : loader.groups()) {
    CHECK_FALSE(g.offsets.empty());
    CHECK(g.max_generation >= 0);
  }
}

} // namespace

TEST_CASE("group metadata key and value: every cut, extension and extreme field",
          "[group][offsets][fuzz]") {
  auto key = encode_group_metadata_key("g1");
  for (size_t n = 0; n < key.size(); ++n)
    CHECK_FALSE(check_key(bytes(key.begin(), key.begin() + long(n))));
  for_each_extreme_field(key, trailer::none, [](const bytes& b) { check_key(b); });
  size_t values = 0;
  for (const auto& enc : encoded_values()) {
    for (size_t n = 0; n < enc.size(); ++n) // a cut value never reads as whole
      CHECK_FALSE(check_value(bytes(enc.begin(), enc.begin() + long(n))));
    for_each_cut_and_extension(enc, trailer::none, [](const bytes& b) { check_value(b); });
    for_each_extreme_field(enc, trailer::none, [&](const bytes& b) { values += check_value(b); });
  }
  CHECK(values > 0);
}

TEST_CASE("fuzz: damaged group metadata values (seeded, bounded to ~1.5 s)",
          "[group][offsets][fuzz]") {
  const auto values = encoded_values();
  auto runs = fuzz_loop(fuzz_budget{100000}, [&](std::mt19937& rng, size_t) {
    bytes b = values[rng() % values.size()];
    for (size_t n = 1 + rng() % 3; n > 0; --n)
      damage(b, rng, trailer::none);
    check_value(b);
  });
  CHECK(runs >= 100);
}

TEST_CASE("fuzz: an offsets partition with group metadata replays or fails cleanly",
          "[group][offsets][fuzz]") {
  const bytes log = offsets_log();
  offsets_loader whole;
  REQUIRE(whole.apply(byte_view{log}, 0));
  CHECK(whole.groups().at("g1").max_generation == 4);
  CHECK(whole.deleted_groups() == std::vector<std::string>{"g2"});
  for (size_t n = 0; n <= log.size(); ++n)
    check_loader(bytes(log.begin(), log.begin() + long(n)));
  auto runs = fuzz_loop(fuzz_budget{50000}, [&](std::mt19937& rng, size_t) {
    bytes b = log;
    for (size_t n = 1 + rng() % 3; n > 0; --n)
      damage(b, rng, trailer::none);
    if (rng() % 4 != 0)
      fix_batch_crcs(b);
    check_loader(b);
  });
  CHECK(runs >= 100);
}
