// Fuzzing what a partition replica reads back from its folder: the
// leader-epoch-checkpoint and high-watermark text files
// (replica_checkpoint_files.hpp) and the producer state snapshot
// (producer_state_table::restore). Damage must give CORRUPT_MESSAGE naming
// the file, never an abort (the epoch cache asserts its invariant), an
// exception or a huge allocation; what parses is valid and survives being
// written and read again.
#include "fuzz_test_support.hpp"

#include <cctype>

#include "actors/partition/producer_state_machine.hpp"
#include "actors/partition/replica_checkpoint_files.hpp"

using namespace al;
using namespace al::test;

namespace {

const std::string epochs_file = "orders-0/leader-epoch-checkpoint";
const std::string hw_file = "orders-0/high-watermark";

std::vector<std::string> epoch_texts() {
  return {format_epoch_checkpoint(leader_epoch_cache({{0, 0}, {2, 40}, {5, 41}, {6, 41}})),
          format_epoch_checkpoint(leader_epoch_cache{}),
          format_epoch_checkpoint(leader_epoch_cache({{INT32_MAX, INT64_MAX}}))};
}

/// Numbers that text parsers get wrong, for the numbers of the files.
const std::vector<std::string>& tricky_numbers() {
  static const std::vector<std::string> v{
    "", "-0", "-1", "+7", "0x10", "1e3", "2147483647", "2147483648", "-2147483649",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "18446744073709551615", "18446744073709551616", "99999999999999999999999", "\t", "x"};
  return v;
}

/// One change of checkpoint text: a number replaced, or bytes damaged.
void damage_text(std::string& text, std::mt19937& rng) {
  if (rng() % 2 == 0) {
    std::vector<std::pair<size_t, size_t>> numbers; // [begin, end) of each digit run
    for (size_t i = 0; i < text.size();) {
      size_t j = i;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])))
        ++j;
      if (j > i)
        numbers.emplace_back(i, j);
      i = j + 1;
    }
    if (!numbers.empty()) {
      auto [from, to] = numbers[rng() % numbers.size()];
      const auto& v = tricky_numbers();
      text.replace(from, to - from, v[rng() % v.size()]);
      return;
    }
  }
  bytes b(text.begin(), text.end());
  damage(b, rng, trailer::none);
  text.assign(b.begin(), b.end());
}

bool check_epochs(const std::string& text) {
  reset_largest_allocation();
  auto c = parse_epoch_checkpoint(text, epochs_file);
  CHECK(largest_allocation <= max_decode_allocation);
  if (!c) {
    CHECK(c.error().code() == errc::corrupt_message);
    CHECK(c.error().message().rfind(epochs_file + ": ", 0) == 0);
    return false;
  }
  // The constructor asserted the invariant; written and read again, the same.
  auto again = parse_epoch_checkpoint(format_epoch_checkpoint(*c), epochs_file);
  REQUIRE(again.has_value());
  CHECK(again->entries() == c->entries());
  return true;
}

bool check_hw(const std::string& text) {
  auto hw = parse_hw_checkpoint(text, hw_file);
  if (!hw) {
    CHECK(hw.error().code() == errc::corrupt_message);
    CHECK(hw.error().message().rfind(hw_file + ": ", 0) == 0);
    return false;
  }
  CHECK(*hw >= 0);
  auto again = parse_hw_checkpoint(format_hw_checkpoint(*hw), hw_file);
  REQUIRE(again.has_value());
  CHECK(*again == *hw);
  return true;
}

batch_header idempotent(int64_t pid, int16_t epoch, int32_t seq, int32_t count, int64_t base) {
  batch_header h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.records_count = count;
  h.last_offset_delta = count - 1;
  h.base_offset = base;
  h.max_timestamp = 1700000000000 + base;
  return h;
}

std::vector<bytes> producer_snapshots() {
  producer_state_table full;
  int64_t offset = 0;
  for (int32_t i = 0; i < 7; ++i, offset += 3) // producer 1000 keeps its last 5 batches
    full.on_append(idempotent(1000, 2, i * 3, 3, offset));
  full.on_append(idempotent(1001, 0, 0, 1, offset++));
  full.on_append(idempotent(INT64_MAX, INT16_MAX, INT32_MAX, 1, offset++));
  // Transactions: one open, one ended by a marker (version 2's fields).
  auto open = idempotent(1002, 0, 0, 2, offset);
  open.attributes |= batch_attr::transactional;
  full.on_append(open);
  offset += 2;
  auto data = idempotent(1003, 4, 0, 1, offset++);
  data.attributes |= batch_attr::transactional;
  full.on_append(data);
  batch_header marker = idempotent(1003, 5, -1, 1, offset++);
  marker.attributes |= batch_attr::transactional | batch_attr::control;
  txn_marker abort{false, 0};
  full.on_append(marker, producer_state_table::no_clock, &abort, offset);
  REQUIRE(full.txns().open_since(1002));
  return {full.snapshot(offset), producer_state_table{}.snapshot(0)};
}

/// The batch counts of each producer in a snapshot the encoder wrote
/// (layout: producer_state_machine.hpp).
std::vector<size_t> batch_counts(const bytes& snapshot) {
  std::vector<size_t> out;
  size_t pos = 20;
  for (uint32_t i = load_be<uint32_t>(snapshot.data() + 16); i > 0; --i) {
    REQUIRE(snapshot.size() - 4 - pos >= 19); // id, epoch, marker time, batch count
    out.push_back(snapshot[pos + 18]);
    pos += 19 + 32 * out.back();
  }
  return out;
}

bool check_producer_snapshot(const bytes& in) {
  reset_largest_allocation();
  producer_state_table table;
  auto covers = table.restore(byte_view{in}, "orders-0/producer.snapshot");
  CHECK(largest_allocation <= max_decode_allocation);
  if (!covers) {
    CHECK(covers.error().code() == errc::corrupt_message);
    CHECK(covers.error().message().rfind("orders-0/producer.snapshot: ", 0) == 0);
    CHECK(table.producer_count() == 0); // a failed restore leaves the table alone
    return false;
  }
  auto again = table.snapshot(*covers);
  for (size_t n : batch_counts(again))
    CHECK(n <= producer_state_table::max_batches);
  producer_state_table restored;
  auto covers_again = restored.restore(byte_view{again}, "again");
  REQUIRE(covers_again.has_value());
  CHECK(*covers_again == *covers);
  CHECK(restored == table);
  CHECK(restored.snapshot(*covers) == again);
  return true;
}

} // namespace

TEST_CASE("leader-epoch-checkpoint: every cut, and every number replaced", "[replication][fuzz]") {
  size_t parsed = 0;
  for (const auto& text : epoch_texts()) {
    for (size_t n = 0; n <= text.size(); ++n)
      parsed += check_epochs(text.substr(0, n)) ? 1 : 0;
    for (size_t i = 0; i < text.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i])) ||
          (i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1]))))
        continue;
      size_t end = i;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end])))
        ++end;
      for (const auto& number : tricky_numbers()) {
        auto x = text;
        x.replace(i, end - i, number);
        parsed += check_epochs(x) ? 1 : 0;
      }
    }
  }
  CHECK(parsed > 0);
}

TEST_CASE("high-watermark: every cut, and the number replaced", "[replication][fuzz]") {
  const std::string text = format_hw_checkpoint(1234);
  for (size_t n = 0; n <= text.size(); ++n)
    check_hw(text.substr(0, n));
  for (const auto& number : tricky_numbers())
    check_hw("0\n" + number + "\n");
  CHECK_FALSE(check_hw("0\n-1\n")); // a negative high watermark is not one
  CHECK(check_hw("0\n9223372036854775807\n"));
}

TEST_CASE("fuzz: damaged and random checkpoint files (seeded, bounded to ~1.5 s)",
          "[replication][fuzz]") {
  const auto texts = epoch_texts();
  const std::string hw_text = format_hw_checkpoint(1234);
  auto runs = fuzz_loop(fuzz_budget{100000}, [&](std::mt19937& rng, size_t) {
    std::string text;
    bool hw = rng() % 4 == 0;
    if (rng() % 8 == 0) {
      auto b = random_bytes(rng, 48);
      text.assign(b.begin(), b.end());
    } else {
      text = hw ? hw_text : texts[rng() % texts.size()];
      for (size_t n = 1 + rng() % 3; n > 0; --n)
        damage_text(text, rng);
    }
    if (hw)
      check_hw(text);
    else
      check_epochs(text);
  });
  CHECK(runs >= 100);
}

TEST_CASE("producer snapshot: every cut, extension and extreme field", "[producer][fuzz]") {
  size_t restored = 0;
  for (const auto& enc : producer_snapshots()) {
    for_each_cut_and_extension(enc, trailer::crc32c,
                               [](const bytes& b) { CHECK_FALSE(check_producer_snapshot(b)); });
    for_each_extreme_field(enc, trailer::crc32c, [&](const bytes& b) {
      restored += check_producer_snapshot(b) ? 1 : 0;
    });
  }
  CHECK(restored > 0); // sequences, offsets and epochs take any value
}

TEST_CASE("producer snapshot: too many batches or a repeated producer is an error",
          "[producer][fuzz]") {
  producer_state_table table;
  for (int32_t i = 0; i < 5; ++i)
    table.on_append(idempotent(1000, 0, i, 1, i));
  table.on_append(idempotent(2000, 0, 0, 1, 5));
  const bytes valid = table.snapshot(6);
  REQUIRE(check_producer_snapshot(valid));
  const size_t first = 20, second = first + 19 + 5 * 32;

  bytes six = valid; // producer 1000 with a sixth batch
  six[first + 18] = 6;
  six.insert(six.begin() + long(second), six.begin() + long(second - 32),
             six.begin() + long(second));
  reseal(six, trailer::crc32c);
  CHECK_FALSE(check_producer_snapshot(six));

  bytes twice = valid; // producer 2000 listed as 1000 again
  store_be<int64_t>(twice.data() + second, 1000);
  reseal(twice, trailer::crc32c);
  CHECK_FALSE(check_producer_snapshot(twice));
}

TEST_CASE("fuzz: damaged and random producer snapshots (seeded, bounded to ~1.5 s)",
          "[producer][fuzz]") {
  const auto snapshots = producer_snapshots();
  auto runs = fuzz_loop(fuzz_budget{200000}, [&](std::mt19937& rng, size_t) {
    bytes b;
    if (rng() % 8 == 0) { // random bytes behind the magic and version
      b = random_bytes(rng, 128);
      for (size_t i = 0; i < 8 && i < b.size(); ++i)
        b[i] = snapshots[0][i];
      reseal(b, trailer::crc32c);
    } else {
      b = snapshots[rng() % snapshots.size()];
      for (size_t n = 1 + rng() % 3; n > 0; --n)
        damage(b, rng, trailer::crc32c);
    }
    check_producer_snapshot(b);
  });
  CHECK(runs >= 100);
}
