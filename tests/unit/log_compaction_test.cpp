// Compaction: the latest record per key survives with its offset, older
// ones go, tombstones go only after delete.retention.ms, appends may happen
// between plan and commit, and a crash mid-swap is finished on open.
#include "log_test_support.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <random>

#include "storage/log_filename.hpp"

using namespace al;
using namespace al::test;

namespace {

log_config compact_config() {
  auto c = small_config();
  c.policy = {false, true};
  c.segment_bytes = 1024;
  c.delete_retention_ms = 1000;
  return c;
}

/// Appends batches of 3 records with keys from a small set; returns every
/// record written.
std::vector<plain_record> append_random(partition_log& log, std::mt19937& rng, int batches,
                                        int keys, int64_t ts, compression codec) {
  std::vector<plain_record> out;
  for (int b = 0; b < batches; ++b) {
    std::vector<kv> records;
    for (int i = 0; i < 3; ++i) {
      std::string key = "key" + std::to_string(rng() % unsigned(keys));
      std::string value = "value-" + std::to_string(rng() % 100000);
      records.emplace_back(key, value);
      out.push_back({log.log_end_offset() + i, ts, key, value, {}});
    }
    auto batch = kv_batch(records, ts, codec);
    ok(log.append(batch, ts));
  }
  return out;
}

/// What compaction must leave: every record of the active segment (from
/// active_base on) and elsewhere only each key's latest below it (the active
/// segment does not count: Kafka's first uncleanable offset).
std::vector<plain_record> expected_after(const std::vector<plain_record>& all,
                                         int64_t active_base) {
  std::map<std::string, int64_t> latest;
  for (const auto& r : all)
    if (r.offset < active_base)
      latest[*r.key] = r.offset;
  std::vector<plain_record> out;
  for (const auto& r : all)
    if (r.offset >= active_base || latest[*r.key] == r.offset)
      out.push_back(r);
  return out;
}

std::map<int64_t, batch_header> batches_by_base(const partition_log& log) {
  std::map<int64_t, batch_header> out;
  for (const auto& h : headers_of(ok(log.read(log.log_start_offset(), 1 << 24))))
    out[h.base_offset] = h;
  return out;
}

} // namespace

TEST_CASE("compaction keeps each key's latest record at its original offset",
          "[compaction]") {
  auto seed = test_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  auto codec = GENERATE(compression::none, compression::lz4);
  INFO("codec " << to_string(codec));
  temp_dir dir("compact-latest");
  auto cfg = compact_config();
  auto log = open_log(dir.path(), cfg);
  auto all = append_random(*log, rng, 60, 12, 1000, codec);
  REQUIRE(log->segment_count() > 3);
  auto before_batches = batches_by_base(*log);
  auto size_before = log->size_bytes();
  auto end = log->log_end_offset();

  auto stats = ok(log->compact(5000, log->log_end_offset()));
  CHECK(stats.segments_cleaned > 0);
  CHECK(stats.records_removed > 0);
  CHECK(log->size_bytes() < size_before);
  CHECK(log->log_end_offset() == end);
  CHECK(log->log_start_offset() == 0);
  auto active_base = log->segments().back().base_offset;
  auto expected = expected_after(all, active_base);
  CHECK(read_all(*log) == expected);
  // Surviving batches keep base offset, last offset delta and codec.
  for (const auto& [base, h] : batches_by_base(*log)) {
    REQUIRE(before_batches.count(base) == 1);
    CHECK(h.last_offset_delta == before_batches[base].last_offset_delta);
    CHECK(h.codec() == codec);
  }
  // A second run finds nothing more to do; a restart sees the same log.
  CHECK(ok(log->compact(6000, log->log_end_offset())).segments_cleaned == 0);
  log.reset();
  recovery_report report;
  auto again = open_log(dir.path(), cfg, 0, &report);
  INFO(report.to_string());
  CHECK(report.events.empty());
  CHECK(read_all(*again) == expected);
  CHECK(again->log_end_offset() == end);
}

TEST_CASE("tombstones survive until delete.retention.ms past their segment's newest record",
          "[compaction]") {
  temp_dir dir("compact-tombstone");
  auto cfg = compact_config();
  cfg.segment_ms = 100;
  auto log = open_log(dir.path(), cfg);
  auto b1 = kv_batch({{"a", "1"}, {"b", "1"}, {std::nullopt, "no key"}}, 1000);
  ok(log->append(b1, 1000));
  auto b2 = kv_batch({{"a", std::nullopt}, {"c", "1"}}, 1050); // tombstone for a
  ok(log->append(b2, 1050));
  auto b3 = kv_batch({{"c", "2"}}, 2000); // rolls: the first segment is closed
  ok(log->append(b3, 2000));
  auto b4 = kv_batch({{"d", "1"}}, 3000); // rolls: c=2 is in a closed segment
  ok(log->append(b4, 3000));
  REQUIRE(log->segment_count() == 3);

  auto stats = ok(log->compact(1050 + 999, log->log_end_offset()));
  CHECK(stats.null_keys_removed == 1);
  CHECK(stats.records_removed == 2); // a=1 and c=1
  CHECK(stats.tombstones_removed == 0);
  std::vector<plain_record> expected{{1, 1000, "b", "1", {}},
                                     {3, 1050, "a", std::nullopt, {}},
                                     {5, 2000, "c", "2", {}},
                                     {6, 3000, "d", "1", {}}};
  CHECK(read_all(*log) == expected);

  stats = ok(log->compact(1050 + 1000, log->log_end_offset()));
  CHECK(stats.tombstones_removed == 1);
  expected.erase(expected.begin() + 1);
  CHECK(read_all(*log) == expected);
  CHECK(log->log_end_offset() == 7);
  // The emptied batch is gone; offsets of the rest are unchanged.
  CHECK(headers_of(ok(log->read(3, 1000))).front().base_offset == 5);
  CHECK(headers_of(ok(log->read(2, 1000))).front().last_offset() == 2);
}

TEST_CASE("a delete.retention.ms near INT64_MAX keeps tombstones instead of overflowing",
          "[compaction]") {
  // The tombstone horizon is the segment's newest timestamp (a client's) plus
  // delete.retention.ms (a topic config, up to INT64_MAX). The sum used to
  // overflow (undefined; in practice negative), so such tombstones were
  // dropped at once instead of kept for good.
  const int64_t ts = 1000;
  auto lifetime = GENERATE(std::numeric_limits<int64_t>::max(),
                           std::numeric_limits<int64_t>::max() - 500);
  INFO("delete.retention.ms " << lifetime);
  temp_dir dir("compact-tombstone-overflow");
  auto cfg = compact_config();
  cfg.segment_ms = 100;
  cfg.delete_retention_ms = lifetime;
  auto log = open_log(dir.path(), cfg);
  auto b1 = kv_batch({{"a", "1"}, {"a", std::nullopt}}, ts); // a value, then its tombstone
  ok(log->append(b1, 1000));
  auto b2 = kv_batch({{"c", "2"}}, 2000); // rolls: the first segment is closed
  ok(log->append(b2, 2000));
  REQUIRE(log->segment_count() == 2);
  auto stats = ok(log->compact(1'700'000'000'000, log->log_end_offset()));
  CHECK(stats.records_removed == 1);
  CHECK(stats.tombstones_removed == 0);
  std::vector<plain_record> expected{{1, ts, "a", std::nullopt, {}}, {2, 2000, "c", "2", {}}};
  CHECK(read_all(*log) == expected);
}

TEST_CASE("min.compaction.lag.ms keeps recent segments as they are", "[compaction]") {
  temp_dir dir("compact-lag");
  auto cfg = compact_config();
  cfg.segment_ms = 100;
  cfg.min_compaction_lag_ms = 500;
  auto log = open_log(dir.path(), cfg);
  for (int64_t ts : {1000, 1200, 1400}) {
    auto b = kv_batch({{"k", std::to_string(ts)}, {"k", std::to_string(ts + 1)}}, ts);
    ok(log->append(b, ts));
  }
  REQUIRE(log->segment_count() == 3);
  // Only the first segment is >= 500 ms old.
  auto stats = ok(log->compact(1600, log->log_end_offset()));
  CHECK(stats.segments_cleaned == 1);
  CHECK(stats.records_removed == 2);
  CHECK(read_all(*log).size() == 4);
}

TEST_CASE("appends between plan and commit are fine, a truncation voids the plan",
          "[compaction]") {
  auto seed = test_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  temp_dir dir("compact-concurrent");
  auto cfg = compact_config();
  auto log = open_log(dir.path(), cfg);
  auto all = append_random(*log, rng, 50, 8, 1000, compression::none);
  auto active_base = log->segments().back().base_offset;
  auto plan = log->plan_compaction(5000, log->log_end_offset());
  auto output = ok(run_compaction(plan));
  REQUIRE_FALSE(output.segments.empty());
  for (const auto& c : output.segments)
    CHECK(path_exists(c.cleaned_path));

  SECTION("appends, even rolling segments, then commit") {
    auto more = append_random(*log, rng, 30, 8, 2000, compression::none);
    auto stats = ok(log->commit_compaction(plan, output));
    CHECK(stats.segments_cleaned == output.segments.size());
    CHECK(stats.segments_skipped == 0);
    auto expected = expected_after(all, active_base);
    expected.insert(expected.end(), more.begin(), more.end());
    CHECK(read_all(*log) == expected);
    for (const auto& c : output.segments)
      CHECK_FALSE(path_exists(c.cleaned_path));
  }
  SECTION("a truncation between plan and commit discards the output") {
    auto before = read_all(*log);
    ok(log->truncate_to(log->log_end_offset() - 3));
    before.resize(before.size() - 3);
    auto stats = ok(log->commit_compaction(plan, output));
    CHECK(stats.segments_cleaned == 0);
    CHECK(stats.segments_skipped == output.segments.size());
    CHECK(read_all(*log) == before);
    for (const auto& c : output.segments)
      CHECK_FALSE(path_exists(c.cleaned_path));
  }
}

TEST_CASE("a crash during the swap is finished or undone on open", "[compaction]") {
  std::mt19937 rng(7);
  temp_dir dir("compact-crash");
  auto cfg = compact_config();
  auto log = open_log(dir.path(), cfg);
  auto all = append_random(*log, rng, 50, 8, 1000, compression::none);
  auto segs = log->segments();
  auto plan = log->plan_compaction(5000, log->log_end_offset());
  auto output = ok(run_compaction(plan));
  REQUIRE(output.segments.size() >= 2);
  log.reset(); // "crash": nothing committed yet
  // The first output reached the commit point (.swap), the others did not.
  const auto& first = output.segments[0];
  ok(rename_file(first.cleaned_path, dir.file(swap_file_name(first.base_offset))));
  recovery_report report;
  auto again = open_log(dir.path(), cfg, 0, &report);
  INFO(report.to_string());
  CHECK(report.count(recovery_action::completed_swap) == 1);
  CHECK(report.count(recovery_action::removed_leftover) == output.segments.size() - 1);
  // Every key's latest value is still there, offsets intact.
  auto records = read_all(*again);
  std::map<std::string, plain_record> latest;
  for (const auto& r : all)
    latest[*r.key] = r;
  for (const auto& [key, r] : latest)
    CHECK(std::find(records.begin(), records.end(), r) != records.end());
  CHECK(records.size() < all.size());
  CHECK(again->log_end_offset() == all.back().offset + 1);
  CHECK(ok(again->compact(5000, again->log_end_offset())).segments_cleaned ==
        output.segments.size() - 1);
  CHECK(read_all(*again) == expected_after(all, segs.back().base_offset));
}

// ---------------------------------------------------------------------------
// Compaction and replication (issue 12, item 3). Every replica compacts its
// own log, and a follower's records above the high watermark may be cut by a
// truncation later. Only committed records (below the HW) may decide what
// compaction drops, as in Kafka (whose cleaner stops at the last stable
// offset, never past the HW or into the active segment).

namespace {

void append_kvs(partition_log& log, const std::vector<kv>& records, int64_t ts) {
  auto batch = kv_batch(records, ts);
  ok(log.append(batch, ts));
}

std::vector<plain_record> below(std::vector<plain_record> records, int64_t hw) {
  records.erase(std::remove_if(records.begin(), records.end(),
                               [&](const plain_record& r) { return r.offset >= hw; }),
                records.end());
  return records;
}

/// `records` is a compaction of `log`: a subsequence of it with each key's
/// latest record.
void check_compaction_of(const std::vector<plain_record>& records,
                         const std::vector<plain_record>& log) {
  for (const auto& r : records)
    CHECK(std::find(log.begin(), log.end(), r) != log.end());
  std::map<std::string, plain_record> latest;
  for (const auto& r : log)
    latest.insert_or_assign(*r.key, r);
  for (const auto& [key, r] : latest) {
    INFO("key " << key);
    CHECK(std::find(records.begin(), records.end(), r) != records.end());
  }
}

/// The first records of every replica: k=v1 and x in segment 0, y in
/// segment 1 (segment.ms 100, one segment per timestamp step).
std::unique_ptr<partition_log> replica_log(const std::string& dir) {
  auto cfg = compact_config();
  cfg.segment_ms = 100;
  auto log = open_log(dir, cfg);
  append_kvs(*log, {{"k", "v1"}, {"x", "1"}}, 1000); // offsets 0, 1
  append_kvs(*log, {{"y", "1"}}, 2000);              // offset 2
  return log;
}

} // namespace

TEST_CASE("compaction never drops a committed value for a newer one above the high watermark",
          "[compaction][replication]") {
  temp_dir dir_a("compact-hw-follower");
  temp_dir dir_b("compact-hw-leader");
  // Follower A fetched k=v2 from a leader that died before committing it:
  // the HW is 3, and v2 sits in a closed segment above it.
  auto a = replica_log(dir_a.path());
  append_kvs(*a, {{"k", "v2"}}, 3000); // offset 3, uncommitted
  append_kvs(*a, {{"z", "1"}}, 4000);  // offset 4, rolls: v2's segment is closed
  REQUIRE(a->segment_count() == 4);
  const int64_t hw = 3;
  // The new leader B never had v2 and writes k=v3 at offset 3.
  auto b = replica_log(dir_b.path());

  auto stats = ok(a->compact(5000, hw));
  CHECK(stats.records_removed == 0);
  const std::vector<plain_record> committed{
    {0, 1000, "k", "v1", {}}, {1, 1000, "x", "1", {}}, {2, 2000, "y", "1", {}}};
  CHECK(below(read_all(*a), hw) == committed); // k=v1 is still there

  // A truncates against B (v2 and z go), then fetches k=v3.
  ok(a->truncate_to(hw));
  CHECK(read_all(*a) == committed);
  append_kvs(*b, {{"k", "v3"}}, 3000);
  append_kvs(*b, {{"w", "1"}}, 4000); // rolls: v3's segment is closed
  ok(a->append_as_follower(byte_view{ok(b->read(hw, 1 << 20))}, 4000));
  CHECK(read_all(*a) == read_all(*b));

  // Both compact with each HW they learn. Their segments differ (each rolls
  // on its own clock), so each may clean a different part; below the HW
  // each must hold a compaction of the same committed log: only records of
  // it, at their offsets, and every key's latest committed record.
  const auto reference = read_all(*b); // uncompacted, = A's log now
  for (int64_t new_hw : {int64_t(3), int64_t(4), int64_t(5)}) {
    INFO("hw " << new_hw);
    ok(a->compact(6000, new_hw));
    ok(b->compact(6000, new_hw));
    check_compaction_of(below(read_all(*a), new_hw), below(reference, new_hw));
    check_compaction_of(below(read_all(*b), new_hw), below(reference, new_hw));
  }
  // Once v3 is committed and its segment closed, v1 may go.
  auto after = read_all(*b);
  CHECK(std::none_of(after.begin(), after.end(),
                     [](const plain_record& r) { return r.value == opt_string{"v1"}; }));
}

TEST_CASE("compaction ignores records at or above the high watermark inside a closed segment",
          "[compaction][replication]") {
  temp_dir dir("compact-hw-mid-segment");
  auto log = replica_log(dir.path());
  append_kvs(*log, {{"k", "v2"}}, 2000); // offset 3, in y's segment, uncommitted
  append_kvs(*log, {{"z", "1"}}, 3000);  // rolls
  REQUIRE(log->segment_count() == 3);
  auto stats = ok(log->compact(5000, 3)); // HW 3: v2 does not count
  CHECK(stats.records_removed == 0);
  CHECK(read_all(*log).front().value == opt_string{"v1"});
  // Nor does anything in the active segment, committed or not.
  append_kvs(*log, {{"x", "2"}}, 3000); // offset 5, active segment
  stats = ok(log->compact(5000, log->log_end_offset()));
  auto records = read_all(*log);
  CHECK(std::count_if(records.begin(), records.end(),
                      [](const plain_record& r) { return r.key == opt_string{"x"}; }) == 2);
  CHECK(std::count_if(records.begin(), records.end(),
                      [](const plain_record& r) { return r.key == opt_string{"k"}; }) == 1);
}
