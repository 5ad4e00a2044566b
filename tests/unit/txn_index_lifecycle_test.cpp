// A segment's .txnindex over the segment's life (issue 16): fsynced by the
// sync jobs of its segment, deleted with it (retention, a prefix deletion,
// a raised log start, deferred deletes, an orphan found on open) and kept
// by compaction.
#include "log_test_support.hpp"

#include <algorithm>

#include "storage/log_filename.hpp"

using namespace al;
using namespace al::test;

namespace {

void fill_to(partition_log& log, size_t segments, int64_t ts = 1000) {
  while (log.segment_count() < segments) {
    auto batch = numbered_batch(5, ts, int(log.log_end_offset()), 40);
    ok(log.append(batch, ts));
  }
}

aborted_txn abort_at(int64_t marker) {
  return aborted_txn{7, std::max<int64_t>(marker - 3, 0), marker, marker - 3};
}

/// One entry in each of the first `n` segments, at its base + 1.
void abort_in_first(partition_log& log, size_t n) {
  auto segs = log.segments();
  for (size_t i = 0; i < n; ++i)
    ok(log.add_aborted(abort_at(segs[i].base_offset + 1)));
}

bool covers(const segment_sync_job& job, const std::string& path) {
  return std::find(job.index_paths.begin(), job.index_paths.end(), path) != job.index_paths.end();
}

} // namespace

TEST_CASE("deleting a segment deletes its .txnindex and forgets its entries", "[txn][retention]") {
  temp_dir dir("txnlife-delete");
  auto cfg = small_config();
  cfg.retention_bytes = 1; // every closed segment is over it
  auto log = open_log(dir.path(), cfg);
  fill_to(*log, 4);
  auto segs = log->segments();
  abort_in_first(*log, 4);
  auto txn_path = [&](size_t i) { return dir.file(txn_index_file_name(segs[i].base_offset)); };
  REQUIRE(path_exists(txn_path(0)));

  SECTION("delete_segments_before") {
    REQUIRE(ok(log->delete_segments_before(segs[2].base_offset)).size() == 2);
  }
  SECTION("advance_log_start") {
    REQUIRE(ok(log->advance_log_start(segs[2].base_offset + 1)).size() == 2);
  }
  SECTION("retention, in line") {
    auto deleted = ok(log->apply_retention(1000, segs[2].base_offset));
    REQUIRE(deleted.size() == 2);
  }
  SECTION("retention, deferred: renamed with the segment, deleted by the I/O worker") {
    log->defer_deletes(true);
    REQUIRE(ok(log->apply_retention(1000, segs[2].base_offset)).size() == 2);
    auto job = log->take_delete_job();
    CHECK(job.paths.size() == 8); // .log, .index, .timeindex, .txnindex of each
    CHECK(std::count(job.paths.begin(), job.paths.end(), txn_path(0) + deleted_suffix) == 1);
    CHECK(path_exists(txn_path(1) + deleted_suffix));
    SECTION("run") { ok(run_file_delete(job)); }
    SECTION("a crash first: open deletes them") {
      ok(log->close());
      recovery_report report;
      log = open_log(dir.path(), cfg, 0, &report);
      CHECK(report.count(recovery_action::removed_leftover) == 8);
    }
    CHECK_FALSE(path_exists(txn_path(0) + deleted_suffix));
  }
  CHECK_FALSE(path_exists(txn_path(0)));
  CHECK_FALSE(path_exists(txn_path(1)));
  CHECK(path_exists(txn_path(2)));
  REQUIRE(log->aborted_txns().size() == 2);
  CHECK(log->aborted_txns()[0].last_offset == segs[2].base_offset + 1);
  ok(log->close());
  log = open_log(dir.path(), cfg);
  CHECK(log->aborted_txns().size() == 2);
}

TEST_CASE("a .txnindex without its .log is removed on open", "[txn][recovery]") {
  temp_dir dir("txnlife-orphan");
  {
    auto log = open_log(dir.path(), small_config());
    fill_to(*log, 2);
    abort_in_first(*log, 2);
  }
  ok(remove_file(dir.file(log_file_name(0)))); // a deletion that did not finish
  ok(remove_file(dir.file(index_file_name(0))));
  ok(remove_file(dir.file(time_index_file_name(0))));
  recovery_report report;
  auto log = open_log(dir.path(), small_config(), 0, &report);
  INFO(report.to_string());
  CHECK(report.count(recovery_action::removed_leftover) == 1);
  CHECK_FALSE(path_exists(dir.file(txn_index_file_name(0))));
  REQUIRE(log->aborted_txns().size() == 1);
  CHECK(log->aborted_txns()[0].last_offset == log->log_start_offset() + 1);
}

TEST_CASE("the sync jobs of a segment fsync its .txnindex", "[txn][deferred_roll]") {
  temp_dir dir("txnlife-sync");
  auto log = open_log(dir.path(), small_config());
  log->defer_roll_syncs(true);
  auto batch = numbered_batch(5, 1000);
  ok(log->append(batch, 1000));
  auto first = dir.file(txn_index_file_name(0));
  SECTION("the roll job of a segment with entries") {
    ok(log->add_aborted(abort_at(2)));
    fill_to(*log, 3); // two rolls: only segment 0 has a .txnindex
    auto jobs = log->take_sync_jobs();
    REQUIRE(jobs.size() == 2);
    CHECK(covers(jobs[0], first));
    CHECK(jobs[0].index_paths.size() == 3);
    CHECK(jobs[1].index_paths.size() == 2);
    for (const auto& j : jobs) {
      ok(run_segment_sync(j));
      ok(log->segment_synced(j));
    }
    CHECK(log->flushed_offset() == log->segments().back().base_offset);
  }
  SECTION("an active flush queued by the marker's append, taken after add_aborted") {
    batch = numbered_batch(1, 1000, int(log->log_end_offset()));
    ok(log->append(batch, 1000)); // the "marker"
    ok(log->want_durable(log->log_end_offset()));
    ok(log->add_aborted(abort_at(log->log_end_offset() - 1)));
    auto jobs = log->take_sync_jobs();
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].active_flush);
    CHECK(covers(jobs[0], first));
    CHECK(jobs[0].dir == dir.path()); // the new file's name
    ok(run_segment_sync(jobs[0]));
    ok(log->segment_synced(jobs[0]));
    CHECK(log->flushed_offset() == log->log_end_offset());
    SECTION("later active flushes cover it too") {
      ok(log->want_durable(log->log_end_offset() + 1)); // capped: nothing new
      batch = numbered_batch(1, 1000, int(log->log_end_offset()));
      ok(log->append(batch, 1000));
      ok(log->want_durable(log->log_end_offset()));
      jobs = log->take_sync_jobs();
      REQUIRE(jobs.size() == 1);
      CHECK(covers(jobs[0], first));
      ok(run_segment_sync(jobs[0]));
    }
    SECTION("sync_txn_indexes fsyncs it; the folder is then synced") {
      ok(log->sync_txn_indexes());
      batch = numbered_batch(1, 1000, int(log->log_end_offset()));
      ok(log->append(batch, 1000));
      ok(log->want_durable(log->log_end_offset()));
      jobs = log->take_sync_jobs();
      REQUIRE(jobs.size() == 1);
      CHECK(covers(jobs[0], first));
      CHECK(jobs[0].dir.empty());
    }
  }
  SECTION("a segment without aborted transactions: no .txnindex in its jobs") {
    fill_to(*log, 2);
    auto jobs = log->take_sync_jobs();
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].index_paths.size() == 2);
    CHECK_FALSE(path_exists(first));
  }
}

TEST_CASE("compaction keeps a segment's .txnindex, also when a crash left the swap to open",
          "[txn][compaction]") {
  temp_dir dir("txnlife-compact");
  auto cfg = small_config();
  cfg.policy = {false, true};
  auto log = open_log(dir.path(), cfg);
  for (int i = 0; i < 30; ++i) { // few keys: old segments shrink
    // Offset 1 stands for the ABORT marker: compaction keeps control batches.
    auto key = i == 1 ? std::string("marker") : "key" + std::to_string(i % 3);
    auto batch = kv_batch({{key, "value-" + std::to_string(i)}}, 1000);
    ok(log->append(batch, 1000));
  }
  REQUIRE(log->segment_count() > 2);
  auto size_before = log->segments()[0].size_bytes;
  ok(log->add_aborted(abort_at(1)));
  auto entries = log->aborted_txns();
  auto path = dir.file(txn_index_file_name(0));
  auto bytes_before = file_bytes(path);
  SECTION("compact") {
    auto stats = ok(log->compact(5000, log->log_end_offset()));
    CHECK(stats.segments_cleaned > 0);
    CHECK(log->segments()[0].size_bytes < size_before); // segment 0 was rewritten
  }
  SECTION("a crash after the commit point") {
    auto plan = log->plan_compaction(5000, log->log_end_offset());
    auto output = ok(run_compaction(plan));
    REQUIRE(!output.segments.empty());
    REQUIRE(output.segments[0].base_offset == 0);
    log.reset();
    ok(rename_file(output.segments[0].cleaned_path, dir.file(swap_file_name(0))));
    recovery_report report;
    log = open_log(dir.path(), cfg, 0, &report);
    CHECK(report.count(recovery_action::completed_swap) == 1);
    CHECK(log->segments()[0].size_bytes < size_before);
  }
  CHECK(log->aborted_txns() == entries);
  CHECK(file_bytes(path) == bytes_before);
  ok(log->close());
  log = open_log(dir.path(), cfg);
  CHECK(log->aborted_txns() == entries);
}
