#include <catch2/catch.hpp>

#include <filesystem>
#include <limits>

#include "actors/partition/producer_state_store.hpp"
#include "storage/record_batch.hpp"

using namespace al;

namespace {

batch_header header(int64_t pid, int16_t epoch, int32_t seq, int32_t count, int64_t base) {
  batch_header h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.records_count = count;
  h.last_offset_delta = count - 1;
  h.base_offset = base;
  return h;
}

bytes idempotent_batch(int64_t pid, int32_t seq, int n) {
  batch_options o;
  o.producer_id = pid;
  o.producer_epoch = 0;
  o.base_sequence = seq;
  batch_builder b{o};
  for (int i = 0; i < n; ++i)
    b.append(1000 + i, std::nullopt, byte_view{std::string_view{"v"}});
  return b.build();
}

} // namespace

TEST_CASE("sequences: next appends, retries are duplicates, gaps are rejected", "[producer]") {
  producer_state_table t;
  using V = producer_state_table::verdict;
  CHECK(t.check(header(7, 0, 0, 3, 0)).kind == V::append);
  t.on_append(header(7, 0, 0, 3, 0));
  CHECK(t.check(header(7, 0, 3, 2, 3)).kind == V::append);
  t.on_append(header(7, 0, 3, 2, 3));
  auto dup = t.check(header(7, 0, 0, 3, 99));
  CHECK(dup.kind == V::duplicate);
  CHECK(dup.duplicate_base_offset == 0);
  CHECK(t.check(header(7, 0, 3, 2, 99)).duplicate_base_offset == 3);
  auto gap = t.check(header(7, 0, 9, 1, 5));
  CHECK(gap.kind == V::reject);
  CHECK(gap.error.code() == errc::out_of_order_sequence_number);
  CHECK(t.check(header(7, 0, 5, 1, 5)).kind == V::append);
  // Older epoch fenced, newer epoch must restart at 0.
  t.on_append(header(7, 2, 0, 1, 5));
  CHECK(t.check(header(7, 1, 1, 1, 6)).error.code() == errc::invalid_producer_epoch);
  CHECK(t.check(header(7, 3, 4, 1, 6)).error.code() == errc::out_of_order_sequence_number);
  CHECK(t.check(header(7, 3, 0, 1, 6)).kind == V::append);
}

TEST_CASE("only the last five batches answer as duplicates", "[producer]") {
  producer_state_table t;
  for (int i = 0; i < 7; ++i)
    t.on_append(header(1, 0, i, 1, i));
  CHECK(t.find(1)->batches.size() == 5);
  CHECK(t.check(header(1, 0, 6, 1, 0)).kind == producer_state_table::verdict::duplicate);
  CHECK(t.check(header(1, 0, 2, 1, 0)).kind == producer_state_table::verdict::duplicate);
  CHECK(t.check(header(1, 0, 1, 1, 0)).kind == producer_state_table::verdict::reject);
}

TEST_CASE("truncation forgets batches at or after the offset", "[producer]") {
  producer_state_table t;
  t.on_append(header(1, 0, 0, 2, 0));
  t.on_append(header(1, 0, 2, 2, 2));
  t.on_append(header(2, 0, 0, 1, 4));
  t.truncate_from(2);
  CHECK(t.find(1)->batches.size() == 1);
  CHECK(t.find(2) == nullptr);
  CHECK(t.check(header(1, 0, 2, 2, 2)).kind == producer_state_table::verdict::append);
}

TEST_CASE("snapshots round-trip and corruption is detected", "[producer]") {
  producer_state_table t;
  t.on_append(header(1, 0, 0, 2, 0));
  t.on_append(header(9, 4, 10, 5, 2));
  auto snap = t.snapshot(7);
  producer_state_table u;
  auto covers = u.restore(snap, "snap");
  REQUIRE(covers);
  CHECK(*covers == 7);
  CHECK(u == t);
  for (size_t i = 0; i < snap.size(); ++i) {
    auto bad = snap;
    bad[i] ^= 0x10;
    producer_state_table v;
    CHECK_FALSE(v.restore(bad, "snap"));
  }
  producer_state_table w;
  CHECK_FALSE(w.restore(byte_view{snap.data(), snap.size() - 1}, "snap"));
}

TEST_CASE("state is rebuilt from snapshot plus log scan after a restart", "[producer]") {
  auto dir = (std::filesystem::temp_directory_path() / "al-producer-state-test").string();
  std::filesystem::remove_all(dir);
  producer_state_table live;
  {
    auto log = partition_log::open(dir, log_config{}, 0);
    REQUIRE(log);
    for (int i = 0; i < 4; ++i) {
      auto b = idempotent_batch(42, i * 3, 3);
      auto info = (*log)->append(b, 0);
      REQUIRE(info);
      live.on_append(read_batch_header(b.data()));
      if (i == 1)
        REQUIRE(save_producer_state(live, **log)); // snapshot mid-way
    }
  }
  auto log = partition_log::open(dir, log_config{}, 0);
  REQUIRE(log);
  std::string note;
  auto loaded = load_producer_state(**log, &note);
  REQUIRE(loaded);
  CHECK(note == "snapshot at offset 6");
  CHECK(*loaded == live);
  // A retry of the last batch is a duplicate with its original offset.
  auto again = loaded->check(read_batch_header(idempotent_batch(42, 9, 3).data()));
  CHECK(again.kind == producer_state_table::verdict::duplicate);
  CHECK(again.duplicate_base_offset == 9);
  // Without a snapshot the scan alone gives the same state.
  std::filesystem::remove(dir + "/producer.snapshot");
  auto scanned = load_producer_state(**log, &note);
  REQUIRE(scanned);
  CHECK(*scanned == live);
  std::filesystem::remove_all(dir);
}

TEST_CASE("producer ids expire after producer.id.expiration.ms without a write", "[producer]") {
  // Kafka's rule: measured from the producer's last write timestamp (its last
  // batch's max timestamp); a producer sending random ids cannot grow the table
  // for good.
  constexpr int64_t day = 86'400'000;
  producer_state_table t;
  auto at = [](int64_t pid, int32_t seq, int64_t base, int64_t ts) {
    auto h = header(pid, 0, seq, 1, base);
    h.max_timestamp = ts;
    return h;
  };
  for (int64_t pid = 0; pid < 1000; ++pid) // random ids, one batch each, at t=1000
    t.on_append(at(1'000'000 + pid * 7919, 0, pid, 1000), 1000);
  t.on_append(at(1, 0, 1000, 1000), 1000);
  t.on_append(at(1, 1, 1001, 5000), 5000); // producer 1 writes again later
  CHECK(t.producer_count() == 1001);
  CHECK(t.expire(1000 + day - 1, day) == 0); // not yet
  CHECK(t.expire(1000 + day, day) == 1000);  // idle exactly one day: gone
  CHECK(t.producer_count() == 1);
  REQUIRE(t.find(1) != nullptr);
  // An expired producer is a fresh one again: its next batch is accepted.
  CHECK(t.check(at(1'000'000, 5, 2000, 0)).kind == producer_state_table::verdict::append);
  CHECK(t.expire(5000 + day, day) == 1);
  CHECK(t.producer_count() == 0);
}

TEST_CASE("a producer's clock cannot keep its id from expiring", "[producer]") {
  constexpr int64_t day = 86'400'000;
  producer_state_table t;
  auto future = header(5, 0, 0, 1, 0);
  future.max_timestamp = std::numeric_limits<int64_t>::max();
  auto none = header(6, 0, 0, 1, 1);
  none.max_timestamp = -1;
  auto ancient = header(7, 0, 0, 1, 2);
  ancient.max_timestamp = std::numeric_limits<int64_t>::min();
  t.on_append(future, 2000); // appended at 2000: counts as written then
  t.on_append(none, 2000);
  t.on_append(ancient, 2000);
  CHECK(t.find(5)->batches.back().max_timestamp == 2000);
  CHECK(t.find(6)->batches.back().max_timestamp == 2000);
  CHECK(t.find(7)->batches.back().max_timestamp == 2000);
  CHECK(t.expire(2000 + day - 1, day) == 0);
  CHECK(t.expire(2000 + day, day) == 3);
  // Without a clock (tools, tests) the batch's own timestamp is kept, and
  // extreme ones compare without overflow.
  producer_state_table u;
  u.on_append(future);
  u.on_append(ancient);
  CHECK(u.find(5)->batches.back().max_timestamp == std::numeric_limits<int64_t>::max());
  CHECK(u.expire(0, day) == 1); // the ancient one
  CHECK(u.find(5) != nullptr);
  CHECK(u.expire(std::numeric_limits<int64_t>::max(), 0) == 1);
}

TEST_CASE("expiry survives a snapshot and a restart", "[producer]") {
  constexpr int64_t day = 86'400'000;
  auto dir = (std::filesystem::temp_directory_path() / "al-producer-expiry-test").string();
  std::filesystem::remove_all(dir);
  {
    auto log = partition_log::open(dir, log_config{}, 0);
    REQUIRE(log);
    producer_state_table live;
    for (int64_t pid = 100; pid < 110; ++pid) {
      auto b = idempotent_batch(pid, 0, 1); // timestamps 1000
      REQUIRE((*log)->append(b, 0));
      live.on_append(read_batch_header(b.data()), 1000);
    }
    CHECK(live.expire(1000 + day, day) == 10);
    REQUIRE(save_producer_state(live, **log)); // covers the whole log: empty table
  }
  auto log = partition_log::open(dir, log_config{}, 0);
  REQUIRE(log);
  std::string note;
  auto loaded = load_producer_state(**log, &note, 1000 + day);
  REQUIRE(loaded);
  CHECK(loaded->producer_count() == 0); // expired ones do not come back from the log
  // Without the snapshot the scan finds them again, and they expire again.
  std::filesystem::remove(dir + "/producer.snapshot");
  auto scanned = load_producer_state(**log, &note, 1000 + day);
  REQUIRE(scanned);
  CHECK(scanned->producer_count() == 10);
  CHECK(scanned->expire(1000 + day, day) == 10);
  std::filesystem::remove_all(dir);
}
