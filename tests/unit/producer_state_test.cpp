#include <catch2/catch.hpp>

#include <filesystem>

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
