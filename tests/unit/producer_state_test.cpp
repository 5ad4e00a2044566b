#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
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

/// Deletes every producer snapshot in `dir` (a log without them).
void remove_snapshots(const std::string& dir) {
  for (auto offset : producer_snapshot_offsets(dir)) {
    char name[32];
    std::snprintf(name, sizeof name, "%020lld.snapshot", static_cast<long long>(offset));
    REQUIRE(std::filesystem::remove(dir + "/" + name));
  }
  REQUIRE(producer_snapshot_offsets(dir).empty());
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
  remove_snapshots(dir);
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
  remove_snapshots(dir);
  auto scanned = load_producer_state(**log, &note, 1000 + day);
  REQUIRE(scanned);
  CHECK(scanned->producer_count() == 10);
  CHECK(scanned->expire(1000 + day, day) == 10);
  std::filesystem::remove_all(dir);
}

// Issue 12, item 1, at the store: a snapshot above the log end (the log was
// truncated, or recovery cut its tail) must be gone before the log regrows
// past it; else it is taken for the new log's state.
TEST_CASE("a snapshot above the log end is never used, even after the log regrows",
          "[producer][truncation]") {
  auto dir = (std::filesystem::temp_directory_path() / "al-producer-stale-test").string();
  std::filesystem::remove_all(dir);
  auto log = partition_log::open(dir, log_config{}, 0);
  REQUIRE(log);
  producer_state_table live;
  for (int32_t seq = 0; seq < 4; ++seq) { // producer 42 at offsets 0..3
    auto b = idempotent_batch(42, seq, 1);
    REQUIRE((*log)->append(b, 0));
    live.on_append(read_batch_header(b.data()));
  }
  REQUIRE(save_producer_state(live, **log)); // covers [0, 4)
  REQUIRE((*log)->truncate_to(2));
  std::string note;
  REQUIRE(load_producer_state(**log, &note)); // what a restart or truncation does
  for (int32_t seq = 0; seq < 3; ++seq) { // another producer's batches at 2, 3, 4
    auto b = idempotent_batch(43, seq, 1);
    REQUIRE((*log)->append(b, 0));
  }
  auto loaded = load_producer_state(**log, &note);
  REQUIRE(loaded);
  INFO(note);
  // Producer 42's batches 2 and 3 are gone: 2 is the next one, not a duplicate.
  auto d = loaded->check(read_batch_header(idempotent_batch(42, 2, 1).data()));
  CHECK(d.kind == producer_state_table::verdict::append);
  REQUIRE(loaded->find(42) != nullptr);
  CHECK(loaded->find(42)->batches.size() == 2);
  REQUIRE(loaded->find(43) != nullptr);
  CHECK(loaded->find(43)->batches.front().first_offset == 2);
  std::filesystem::remove_all(dir);
}

// Issue 12, item 4, at the store: after a truncation the table is what a scan
// of the remaining log gives, not the old table trimmed. Trimming forgot
// producer 42 (its five remembered batches were all cut) although its first
// batch stayed: a retry of that batch would have been appended again.
TEST_CASE("after a truncation the table is rebuilt from the remaining log",
          "[producer][truncation]") {
  auto dir = (std::filesystem::temp_directory_path() / "al-producer-rebuild-test").string();
  std::filesystem::remove_all(dir);
  auto log = partition_log::open(dir, log_config{}, 0);
  REQUIRE(log);
  producer_state_table live;
  for (int32_t seq = 0; seq < 6; ++seq) {
    auto b = idempotent_batch(42, seq, 1);
    REQUIRE((*log)->append(b, 0));
    live.on_append(read_batch_header(b.data()));
    if (seq == 2)
      REQUIRE(save_producer_state(live, **log)); // covers [0, 3)
  }
  auto trimmed = live;
  trimmed.truncate_from(1);
  CHECK(trimmed.find(42) == nullptr); // what trimming does
  REQUIRE((*log)->truncate_to(1));
  std::string note;
  auto rebuilt = load_producer_state(**log, &note);
  REQUIRE(rebuilt);
  CHECK(note.find("deleted snapshot at offset 3") != std::string::npos);
  CHECK(producer_snapshot_offsets(dir).empty());
  auto retry = rebuilt->check(read_batch_header(idempotent_batch(42, 0, 1).data()));
  CHECK(retry.kind == producer_state_table::verdict::duplicate);
  CHECK(retry.duplicate_base_offset == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("snapshots: the newest per segment is kept, the newest at or below the log end "
          "is loaded",
          "[producer][truncation]") {
  auto dir = (std::filesystem::temp_directory_path() / "al-producer-snapshots-test").string();
  std::filesystem::remove_all(dir);
  log_config cfg;
  cfg.segment_bytes = 300; // about three one-record batches per segment
  auto log = partition_log::open(dir, cfg, 0);
  REQUIRE(log);
  producer_state_table live;
  for (int32_t seq = 0; seq < 12; ++seq) {
    auto b = idempotent_batch(7 + seq % 2, seq / 2, 1);
    REQUIRE((*log)->append(b, 0));
    live.on_append(read_batch_header(b.data()));
    REQUIRE(save_producer_state(live, **log)); // one per offset, pruned as it goes
  }
  auto kept = producer_snapshot_offsets(dir);
  auto segments = (*log)->segments();
  REQUIRE(segments.size() >= 3);
  // One per segment, the newest whose last covered offset lies in it: a
  // closed segment's covers it to its end.
  REQUIRE(kept.size() == segments.size());
  for (size_t i = 0; i + 1 < segments.size(); ++i)
    CHECK(kept[i] == segments[i].next_offset);
  CHECK(kept.back() == (*log)->log_end_offset());
  // Truncate into the middle segment: the snapshots above are deleted, the
  // one ending the first segment is loaded, and the table equals a scan.
  auto cut = segments[1].base_offset + 1;
  REQUIRE((*log)->truncate_to(cut));
  std::string note;
  auto loaded = load_producer_state(**log, &note);
  REQUIRE(loaded);
  CHECK(note.find("snapshot at offset " + std::to_string(kept[0])) != std::string::npos);
  CHECK(producer_snapshot_offsets(dir) == std::vector<int64_t>{kept[0]});
  remove_snapshots(dir);
  auto scanned = load_producer_state(**log, &note);
  REQUIRE(scanned);
  CHECK(*loaded == *scanned);
  std::filesystem::remove_all(dir);
}

TEST_CASE("leftovers: an interrupted snapshot write and the old single file are removed",
          "[producer]") {
  auto dir = (std::filesystem::temp_directory_path() / "al-producer-leftover-test").string();
  std::filesystem::remove_all(dir);
  auto log = partition_log::open(dir, log_config{}, 0);
  REQUIRE(log);
  auto b = idempotent_batch(42, 0, 1);
  REQUIRE((*log)->append(b, 0));
  producer_state_table live;
  live.on_append(read_batch_header(b.data()));
  { std::ofstream(dir + "/00000000000000000001.snapshot.tmp") << "half"; }
  { std::ofstream(dir + "/producer.snapshot") << "old"; }
  std::string note;
  auto loaded = load_producer_state(**log, &note);
  REQUIRE(loaded);
  CHECK(*loaded == live);
  CHECK_FALSE(std::filesystem::exists(dir + "/00000000000000000001.snapshot.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir + "/producer.snapshot"));
  REQUIRE(save_producer_state(live, **log));
  CHECK(producer_snapshot_offsets(dir) == std::vector<int64_t>{1});
  std::filesystem::remove_all(dir);
}

// Issue 15: periodic snapshots are written by the partition's I/O worker. One
// taken before a truncation and written after it would describe records the
// truncation took; the fence voids it (the same stale-snapshot hazard as
// above, with the write late instead of the file old).
TEST_CASE("a snapshot job prepared before a truncation is never written after it",
          "[producer][truncation]") {
  auto dir = (std::filesystem::temp_directory_path() / "al-producer-fence-test").string();
  std::filesystem::remove_all(dir);
  auto log = partition_log::open(dir, log_config{}, 0);
  REQUIRE(log);
  producer_state_table live;
  for (int32_t seq = 0; seq < 4; ++seq) {
    auto b = idempotent_batch(42, seq, 1);
    REQUIRE((*log)->append(b, 0));
    live.on_append(read_batch_header(b.data()));
  }
  auto fence = std::make_shared<snapshot_fence>();
  auto queued = prepare_producer_snapshot(live, **log, fence); // covers [0, 4)
  CHECK(queued.covers == 4);
  // The partition truncates (and reloads its table) before the worker runs.
  std::string note;
  auto reloaded = fence->advance([&] {
    auto cut = (*log)->truncate_to(2);
    return cut ? load_producer_state(**log, &note) : result<producer_state_table>{cut};
  });
  REQUIRE(reloaded);
  auto written = write_snapshot_job(queued);
  REQUIRE(written);
  CHECK_FALSE(*written);
  CHECK(producer_snapshot_offsets(dir).empty());
  // A job prepared after the truncation is written, and pruning keeps it.
  auto fresh = prepare_producer_snapshot(*reloaded, **log, fence);
  written = write_snapshot_job(fresh);
  REQUIRE(written);
  CHECK(*written);
  CHECK(producer_snapshot_offsets(dir) == std::vector<int64_t>{2});
  std::filesystem::remove_all(dir);
}
