// Fuzzing a controller voter's state files (raft_state_files.hpp): the
// quorum-state file, <index>-<term>.snapshot files and their names. Damage
// must give CORRUPT_MESSAGE naming the file (or, for a name, "not a
// snapshot"), never an abort, an exception or a huge allocation. What does
// decode is exactly what the encoder writes for it: the formats have one
// encoding per value.
//
// (Raft messages between nodes are CAF-serialized structs (raft_wire.hpp),
// not bytes this project decodes; the Raft log is record batches, fuzzed in
// record_batch_corrupt_test.)
#include "fuzz_test_support.hpp"

#include "actors/controller/raft_state_files.hpp"

using namespace al;
using namespace al::test;

namespace {

const std::string where = "dir/quorum-state";

std::vector<bytes> encoded_hard_states() {
  return {encode_hard_state({7, 2, 41}), encode_hard_state({0, -1, 0}),
          encode_hard_state({INT64_MAX, INT32_MAX, INT64_MAX})};
}

bool check_hard_state(const bytes& in) {
  reset_largest_allocation();
  auto d = decode_hard_state(byte_view{in}, where);
  CHECK(largest_allocation <= max_decode_allocation);
  if (!d) {
    CHECK(d.error().code() == errc::corrupt_message);
    CHECK(d.error().message().rfind(where + ": ", 0) == 0);
    return false;
  }
  CHECK(encode_hard_state(*d) == in);
  return true;
}

std::vector<bytes> encoded_snapshots() {
  return {encode_snapshot(raft_snapshot{{1000, 3}, bytes{'i', 'm', 'a', 'g', 'e'}}),
          encode_snapshot(raft_snapshot{{1, 1}, {}}),
          encode_snapshot(raft_snapshot{{INT64_MAX, INT64_MAX}, bytes(40, 0xab)})};
}

bool check_snapshot(const bytes& in) {
  reset_largest_allocation();
  auto d = decode_snapshot(byte_view{in}, "dir/x.snapshot");
  CHECK(largest_allocation <= max_decode_allocation);
  if (!d) {
    CHECK(d.error().code() == errc::corrupt_message);
    CHECK(d.error().message().rfind("dir/x.snapshot: ", 0) == 0);
    return false;
  }
  CHECK(encode_snapshot(*d) == in);
  return true;
}

bool check_file_name(const std::string& name) {
  auto meta = parse_snapshot_file_name(name);
  if (!meta)
    return false;
  CHECK(meta->index > 0);
  CHECK(meta->term > 0);
  CHECK(snapshot_file_name(*meta) == name);
  return true;
}

} // namespace

TEST_CASE("quorum-state: every cut, extension and extreme field", "[raft][fuzz]") {
  size_t decoded = 0;
  for (const auto& enc : encoded_hard_states()) {
    for_each_cut_and_extension(enc, trailer::crc32c,
                               [](const bytes& b) { CHECK_FALSE(check_hard_state(b)); });
    for_each_extreme_field(enc, trailer::crc32c,
                           [&](const bytes& b) { decoded += check_hard_state(b) ? 1 : 0; });
  }
  CHECK(decoded > 0); // voted_for and non-negative terms take any value
}

TEST_CASE("snapshot file: every cut, extension and extreme field", "[raft][fuzz]") {
  size_t decoded = 0;
  for (const auto& enc : encoded_snapshots()) {
    for_each_cut_and_extension(enc, trailer::crc32c,
                               [](const bytes& b) { CHECK_FALSE(check_snapshot(b)); });
    for_each_extreme_field(enc, trailer::crc32c,
                           [&](const bytes& b) { decoded += check_snapshot(b) ? 1 : 0; });
  }
  CHECK(decoded > 0); // data bytes take any value
}

TEST_CASE("fuzz: damaged and random quorum-state and snapshot files (seeded, bounded)",
          "[raft][fuzz]") {
  const auto states = encoded_hard_states();
  const auto snapshots = encoded_snapshots();
  auto runs = fuzz_loop(fuzz_budget{200000}, [&](std::mt19937& rng, size_t) {
    bool snapshot = rng() % 2 == 0;
    bytes b;
    if (rng() % 8 == 0) { // random bytes behind a valid magic and version
      b = random_bytes(rng, 64);
      const auto& like = snapshot ? snapshots[0] : states[0];
      for (size_t i = 0; i < 6 && i < b.size(); ++i)
        b[i] = like[i];
      reseal(b, trailer::crc32c);
    } else {
      const auto& from = snapshot ? snapshots : states;
      b = from[rng() % from.size()];
      for (size_t n = 1 + rng() % 3; n > 0; --n)
        damage(b, rng, trailer::crc32c);
    }
    if (snapshot)
      check_snapshot(b);
    else
      check_hard_state(b);
  });
  CHECK(runs >= 100);
}

TEST_CASE("snapshot file names: damaged and random names are not snapshots", "[raft][fuzz]") {
  const std::vector<std::string> valid{snapshot_file_name({1000, 3}), snapshot_file_name({1, 1}),
                                       snapshot_file_name({INT64_MAX, 9999999999})};
  for (const auto& name : valid)
    REQUIRE(check_file_name(name));
  // Every character replaced by each of these, and every cut.
  const std::string replacements = "0919-+ .a\xff";
  for (const auto& name : valid) {
    for (size_t i = 0; i < name.size(); ++i) {
      check_file_name(name.substr(0, i));
      for (char c : replacements) {
        auto x = name;
        x[i] = c;
        check_file_name(x);
      }
    }
  }
  // Numbers past int64 in the index: read as digits, but too big.
  CHECK_FALSE(check_file_name("99999999999999999999-0000000001.snapshot"));
  CHECK_FALSE(check_file_name("00000000000000000000-0000000001.snapshot"));
  CHECK_FALSE(check_file_name("00000000000000000001-0000000000.snapshot"));
  // Seeded: digits anywhere, often all nines or zeros.
  auto runs = fuzz_loop(fuzz_budget{200000}, [&](std::mt19937& rng, size_t) {
    auto name = valid[rng() % valid.size()];
    for (size_t n = 1 + rng() % 4; n > 0; --n) {
      size_t at = rng() % name.size();
      switch (rng() % 4) {
        case 0: name[at] = char('0' + rng() % 10); break;
        case 1: name.replace(0, 20, std::string(20, rng() % 2 ? '9' : '0')); break;
        case 2: name[at] = char(rng()); break;
        default: name.erase(at, 1 + rng() % 3);
      }
    }
    check_file_name(name);
  });
  CHECK(runs >= 100);
}
