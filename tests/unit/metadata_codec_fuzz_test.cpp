// Fuzzing the metadata codecs: metadata commands (values of the metadata
// log) and metadata image snapshots. Damaged or random bytes must decode to
// CORRUPT_MESSAGE or to a value that re-encodes and decodes to the same
// bytes again, never abort, throw, overread or allocate from a bogus length.
#include "fuzz_test_support.hpp"

#include "actors/controller/metadata_commands.hpp"
#include "actors/controller/metadata_snapshot.hpp"
#include "metadata_test_support.hpp"

using namespace al;
using namespace al::test;

namespace {

std::vector<metadata_command> sample_commands() {
  return {
    register_broker_cmd{3, "broker-3.example", 9093, 1700000000003},
    fence_broker_cmd{3, true},
    create_topic_cmd{"orders",
                     "0123456789abcdef0123456789abcdef",
                     {{"cleanup.policy", "compact"}, {"retention.ms", "1000"}},
                     {{1, 2, 3}, {2, 3, 1}, {3, 1, 2}}},
    create_partitions_cmd{"orders", {{1, 2}, {2, 1}}},
    alter_configs_cmd{"orders", {{"retention.ms", "5"}}, {"segment.ms", "cleanup.policy"}},
    delete_topic_cmd{"orders"},
    change_partition_cmd{"orders", 1, 2, {2, 3}, true, 4},
    allocate_producer_ids_cmd{1000, 1000},
    // Empty strings and lists, and the defaults.
    create_topic_cmd{},
    change_partition_cmd{},
    register_broker_cmd{},
  };
}

std::vector<bytes> encoded_commands() {
  std::vector<bytes> out;
  for (const auto& cmd : sample_commands())
    out.push_back(encode_command(cmd));
  return out;
}

/// The contract for any bytes; returns whether they decoded.
bool check_command(const bytes& in) {
  reset_largest_allocation();
  auto d = decode_command(byte_view{in});
  CHECK(largest_allocation <= max_decode_allocation);
  if (!d) {
    CHECK(d.error().code() == errc::corrupt_message);
    CHECK(d.error().message().rfind("metadata command", 0) == 0);
    return false;
  }
  // Not byte-for-byte: any non-zero bool byte reads as true, and a repeated
  // config key keeps the last value. But what it decoded to is stable.
  auto again = encode_command(*d);
  auto d2 = decode_command(byte_view{again});
  REQUIRE(d2.has_value());
  CHECK(encode_command(*d2) == again);
  CHECK_FALSE(describe(*d).empty()); // logged for every committed entry
  return true;
}


std::vector<bytes> encoded_images() { return {encode_image(sample_image()), encode_image({})}; }

bool check_image(const bytes& in) {
  reset_largest_allocation();
  auto d = decode_image(byte_view{in}, "fuzz.snapshot");
  CHECK(largest_allocation <= max_decode_allocation);
  if (!d) {
    CHECK(d.error().code() == errc::corrupt_message);
    CHECK(d.error().message().rfind("fuzz.snapshot: ", 0) == 0);
    return false;
  }
  for (const auto& [id, b] : d->brokers)
    CHECK(id == b.id);
  for (const auto& [name, t] : d->topics)
    CHECK(name == t.name);
  auto again = encode_image(*d); // asserts the two above
  auto d2 = decode_image(byte_view{again});
  REQUIRE(d2.has_value());
  CHECK(encode_image(*d2) == again);
  return true;
}

} // namespace

TEST_CASE("metadata command: every cut and extension is an error", "[metadata][fuzz]") {
  // Every field is needed, and nothing may follow the last.
  for (const auto& enc : encoded_commands())
    for_each_cut_and_extension(enc, trailer::none,
                               [](const bytes& b) { CHECK_FALSE(check_command(b)); });
}

TEST_CASE("metadata command: describe() prints any decoded values", "[metadata][fuzz]") {
  CHECK(describe(allocate_producer_ids_cmd{1000, 1000}) == "allocate_producer_ids 1000..1999");
  // No signed overflow computing the last id of a damaged command.
  CHECK(describe(allocate_producer_ids_cmd{INT64_MAX, 1000}) ==
        "allocate_producer_ids 9223372036854775807 count 1000");
  CHECK(describe(allocate_producer_ids_cmd{INT64_MIN, -1}) ==
        "allocate_producer_ids -9223372036854775808 count -1");
}

TEST_CASE("metadata command: every field set to an extreme value", "[metadata][fuzz]") {
  size_t decoded = 0;
  for (const auto& enc : encoded_commands())
    for_each_extreme_field(enc, trailer::none,
                           [&](const bytes& b) { decoded += check_command(b) ? 1 : 0; });
  CHECK(decoded > 0); // ids, ports and epochs take any value
}

TEST_CASE("fuzz: damaged and random metadata commands (seeded, bounded to ~1.5 s)",
          "[metadata][fuzz]") {
  const auto encoded = encoded_commands();
  size_t decoded = 0;
  auto runs = fuzz_loop(fuzz_budget{200000}, [&](std::mt19937& rng, size_t) {
    bytes b;
    if (rng() % 8 == 0) {
      b = random_bytes(rng, 64);
      if (!b.empty() && rng() % 2) // mostly a known type id (or one just past them)
        b[0] = uint8_t(rng() % 16);
    } else {
      b = encoded[rng() % encoded.size()];
      for (size_t n = 1 + rng() % 3; n > 0; --n)
        damage(b, rng, trailer::none);
    }
    decoded += check_command(b) ? 1 : 0;
  });
  INFO("runs " << runs << " decoded " << decoded);
  CHECK(runs >= 100);
}

TEST_CASE("metadata image: every cut and extension is an error", "[snapshot][fuzz]") {
  for (const auto& enc : encoded_images())
    for_each_cut_and_extension(enc, trailer::crc32c, [](const bytes& b) {
      // A resealed cut or extension is still one field short or long.
      CHECK_FALSE(check_image(b));
    });
}

TEST_CASE("metadata image: every field set to an extreme value", "[snapshot][fuzz]") {
  size_t decoded = 0;
  for (const auto& enc : encoded_images())
    for_each_extreme_field(enc, trailer::crc32c,
                           [&](const bytes& b) { decoded += check_image(b) ? 1 : 0; });
  CHECK(decoded > 0);
}

TEST_CASE("fuzz: damaged and random metadata images (seeded, bounded to ~1.5 s)",
          "[snapshot][fuzz]") {
  const auto encoded = encoded_images();
  size_t decoded = 0;
  auto runs = fuzz_loop(fuzz_budget{200000}, [&](std::mt19937& rng, size_t) {
    bytes b;
    if (rng() % 8 == 0) {
      b = random_bytes(rng, 128);
      if (!b.empty())
        b[0] = metadata_snapshot_version;
      reseal(b, trailer::crc32c);
    } else {
      b = encoded[rng() % encoded.size()];
      for (size_t n = 1 + rng() % 3; n > 0; --n)
        damage(b, rng, trailer::crc32c);
    }
    decoded += check_image(b) ? 1 : 0;
  });
  INFO("runs " << runs << " decoded " << decoded);
  CHECK(runs >= 100);
}
