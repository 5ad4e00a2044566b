// Deferred segment rolls and the recovery point (issue 15, item 1): a roll
// fsyncs nothing in line, the flushed offset (the recovery point) passes
// the closed segment only once its sync job ran, a flush or truncation
// settles pending jobs, and opening a log scans every segment past its
// recovery point, so damage there is found, while segments below it are
// trusted through their indexes.
#include <sys/stat.h>

#include "log_test_support.hpp"

#include "storage/log_filename.hpp"

using namespace al;
using namespace al::test;

namespace {

/// Appends 5-record batches until the log has `segments` segments.
void fill_to(partition_log& log, size_t segments, int64_t ts = 1000) {
  while (log.segment_count() < segments) {
    auto batch = numbered_batch(5, ts, int(log.log_end_offset()), 40);
    ok(log.append(batch, ts));
  }
}

std::unique_ptr<partition_log> deferred_log(const std::string& dir, int64_t recovery_point,
                                            recovery_report* report = nullptr) {
  auto log = ok(partition_log::open(dir, small_config(), 0, report, recovery_point));
  log->defer_roll_syncs(true);
  return log;
}

/// Runs each job and reports it done, in order.
void run_all(partition_log& log, const std::vector<segment_sync_job>& jobs) {
  for (const auto& j : jobs) {
    ok(run_segment_sync(j));
    log.segment_synced(j);
    CHECK(log.flushed_offset() <= log.log_end_offset());
  }
}

/// Flips one byte in the middle of segment `base`'s .log.
void damage(const std::string& dir, int64_t base) {
  auto path = join_path(dir, log_file_name(base));
  auto data = file_bytes(path);
  REQUIRE(data.size() > 200);
  data[data.size() / 2] ^= 0x5a;
  write_file_bytes(path, data);
}

} // namespace

TEST_CASE("a deferred roll queues its fsyncs, the flushed offset passes the segment when they ran",
          "[deferred_roll]") {
  temp_dir dir("droll-basic");
  auto log = deferred_log(dir.path(), partition_log::trust_closed);
  fill_to(*log, 2);
  auto segs = log->segments();
  auto jobs = log->take_sync_jobs();
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].base_offset == segs[0].base_offset);
  CHECK(jobs[0].upto == segs[1].base_offset);
  CHECK(log->flushed_offset() <= segs[0].base_offset); // not durable yet
  CHECK(log->take_sync_jobs().empty());               // taken once
  // The index files were written (page cache) at the roll.
  CHECK(path_exists(dir.file(index_file_name(segs[0].base_offset))));
  run_all(*log, jobs);
  CHECK(log->flushed_offset() == segs[1].base_offset);
  log->segment_synced(jobs[0]); // a duplicate answer changes nothing
  CHECK(log->flushed_offset() == segs[1].base_offset);
}

TEST_CASE("jobs that finish out of order move the flushed offset only past synced segments",
          "[deferred_roll]") {
  temp_dir dir("droll-order");
  auto log = deferred_log(dir.path(), partition_log::trust_closed);
  fill_to(*log, 3);
  auto segs = log->segments();
  auto jobs = log->take_sync_jobs();
  REQUIRE(jobs.size() == 2);
  run_all(*log, {jobs[1]});
  CHECK(log->flushed_offset() <= segs[0].base_offset); // the older one still waits
  run_all(*log, {jobs[0]});
  CHECK(log->flushed_offset() == segs[2].base_offset);
}

TEST_CASE("a flush syncs pending segments in line, their late jobs change nothing",
          "[deferred_roll]") {
  temp_dir dir("droll-flush");
  auto log = deferred_log(dir.path(), partition_log::trust_closed);
  fill_to(*log, 3);
  auto jobs = log->take_sync_jobs();
  REQUIRE(jobs.size() == 2);
  ok(log->flush());
  CHECK(log->flushed_offset() == log->log_end_offset());
  run_all(*log, jobs);
  CHECK(log->flushed_offset() == log->log_end_offset());
}

TEST_CASE("a truncation into a pending segment voids its job, later rolls sync again",
          "[deferred_roll]") {
  temp_dir dir("droll-trunc");
  auto log = deferred_log(dir.path(), partition_log::trust_closed);
  fill_to(*log, 3);
  auto segs = log->segments();
  auto jobs = log->take_sync_jobs();
  REQUIRE(jobs.size() == 2);
  auto cut = segs[1].base_offset + 2; // inside the second segment
  ok(log->truncate_to(cut));
  // Nothing fsynced in line: the cut's fsyncs are a job of their own.
  CHECK(log->truncation_unsynced());
  CHECK(log->flushed_offset() < log->log_end_offset());
  auto cut_jobs = log->take_sync_jobs();
  REQUIRE(cut_jobs.size() == 1);
  CHECK(cut_jobs[0].truncation);
  CHECK(cut_jobs[0].dir == dir.path()); // the third segment's unlinked names
  CHECK(cut_jobs[0].upto == log->log_end_offset());
  run_all(*log, jobs); // the segment of jobs[1] was cut, then is active again
  CHECK(log->truncation_unsynced());
  run_all(*log, cut_jobs);
  CHECK_FALSE(log->truncation_unsynced());
  CHECK(log->flushed_offset() == log->log_end_offset());
  fill_to(*log, 4);
  auto again = log->take_sync_jobs();
  REQUIRE(again.size() == 2);
  run_all(*log, again);
  CHECK(log->flushed_offset() == log->segments().back().base_offset);
  CHECK(read_all(*log).size() == size_t(log->log_end_offset()));
}

TEST_CASE("a truncation's job: a flush settles it in line, a later cut voids it, and without "
          "deferred syncs the cut is durable on return",
          "[deferred_roll]") {
  temp_dir dir("droll-cutjob");
  SECTION("flush") {
    auto log = deferred_log(dir.path(), partition_log::trust_closed);
    fill_to(*log, 2);
    auto rolls = log->take_sync_jobs();
    ok(log->truncate_to(log->log_end_offset() - 3));
    CHECK(log->truncation_unsynced());
    ok(log->flush());
    CHECK_FALSE(log->truncation_unsynced());
    CHECK(log->flushed_offset() == log->log_end_offset());
    run_all(*log, rolls);
    run_all(*log, log->take_sync_jobs()); // the late job changes nothing
    CHECK_FALSE(log->truncation_unsynced());
    CHECK(log->flushed_offset() == log->log_end_offset());
  }
  SECTION("a second cut before the first job is back") {
    auto log = deferred_log(dir.path(), partition_log::trust_closed);
    fill_to(*log, 2);
    auto rolls = log->take_sync_jobs();
    ok(log->truncate_to(log->log_end_offset() - 3));
    auto first = log->take_sync_jobs();
    ok(log->truncate_to(log->log_end_offset() - 3));
    auto second = log->take_sync_jobs();
    REQUIRE(first.size() == 1);
    REQUIRE(second.size() == 1);
    run_all(*log, rolls);
    run_all(*log, first);
    CHECK(log->truncation_unsynced()); // the second cut is not on disk yet
    run_all(*log, second);
    CHECK_FALSE(log->truncation_unsynced());
    CHECK(log->flushed_offset() == log->log_end_offset());
  }
  SECTION("in line") {
    auto log = ok(partition_log::open(dir.path(), small_config(), 0));
    fill_to(*log, 2);
    ok(log->truncate_to(log->log_end_offset() - 3));
    CHECK_FALSE(log->truncation_unsynced());
    CHECK(log->flushed_offset() == log->log_end_offset());
    CHECK(log->take_sync_jobs().empty());
  }
}

TEST_CASE("open scans the segments past the recovery point and finds damage there",
          "[deferred_roll][recovery]") {
  temp_dir dir("droll-open");
  std::vector<segment_info> segs;
  {
    auto log = deferred_log(dir.path(), partition_log::trust_closed);
    fill_to(*log, 4);
    segs = log->segments();
    ok(log->close());
  }
  damage(dir.path(), segs[1].base_offset);
  SECTION("below the recovery point a closed segment is trusted (loaded through its indexes)") {
    recovery_report report;
    auto log = deferred_log(dir.path(), segs[3].base_offset, &report);
    CHECK(report.events.empty());
    CHECK(log->segment_count() == 4);
    CHECK(log->flushed_offset() == segs[3].base_offset);
    CHECK(log->take_sync_jobs().empty());
  }
  SECTION("past it, the damaged segment is scanned, cut there, and what follows is dropped") {
    recovery_report report;
    auto log = deferred_log(dir.path(), segs[1].base_offset, &report);
    INFO(report.to_string());
    CHECK(report.count(recovery_action::truncated_corruption) == 1);
    CHECK(report.count(recovery_action::deleted_after_corruption) == 2);
    CHECK(log->segment_count() == 2);
    CHECK(log->log_end_offset() < segs[2].base_offset);
    auto records = read_all(*log);
    CHECK(records.size() == size_t(log->log_end_offset()));
  }
  SECTION("no recovery point (0): every segment is scanned, and the scanned closed ones get "
          "sync jobs") {
    damage(dir.path(), segs[1].base_offset); // the same flip again: the log is whole
    recovery_report report;
    auto log = deferred_log(dir.path(), 0, &report);
    CHECK(report.events.empty());
    CHECK(log->segment_count() == 4);
    CHECK(log->flushed_offset() == segs[0].base_offset);
    auto jobs = log->take_sync_jobs();
    CHECK(jobs.size() == 3);
    run_all(*log, jobs);
    CHECK(log->flushed_offset() == segs[3].base_offset);
  }
}

TEST_CASE("a torn closed segment past the recovery point is a torn tail, not corruption",
          "[deferred_roll][recovery]") {
  temp_dir dir("droll-torn");
  std::vector<segment_info> segs;
  {
    auto log = deferred_log(dir.path(), partition_log::trust_closed);
    fill_to(*log, 3);
    segs = log->segments();
    ok(log->close());
  }
  // An OS crash before the roll's fsync: the closed segment lost its end.
  auto path = join_path(dir.path(), log_file_name(segs[1].base_offset));
  auto data = file_bytes(path);
  data.resize(data.size() - 10);
  write_file_bytes(path, data);
  recovery_report report;
  auto log = deferred_log(dir.path(), segs[1].base_offset, &report);
  INFO(report.to_string());
  CHECK(report.count(recovery_action::truncated_torn_tail) == 1);
  CHECK(report.count(recovery_action::truncated_corruption) == 0);
  CHECK(log->segment_count() == 2); // the segment after the hole went
  CHECK(read_all(*log).size() == size_t(log->log_end_offset()));
}

TEST_CASE("close syncs pending segments: a reopen trusting every closed segment is right",
          "[deferred_roll]") {
  temp_dir dir("droll-close");
  {
    auto log = deferred_log(dir.path(), partition_log::trust_closed);
    fill_to(*log, 3);
    CHECK(log->take_sync_jobs().size() == 2); // never run
    ok(log->close());
    CHECK(log->flushed_offset() == log->log_end_offset());
  }
  recovery_report report;
  auto log = deferred_log(dir.path(), partition_log::trust_closed, &report);
  CHECK(report.events.empty());
  CHECK(read_all(*log).size() == size_t(log->log_end_offset()));
}

TEST_CASE("deferred deletes: retention renames a segment's files to .deleted and queues them, "
          "open removes any left behind",
          "[deferred_roll][retention]") {
  temp_dir dir("ddelete");
  auto config = small_config();
  config.retention_bytes = 1; // every closed segment is over it
  config.policy.delete_segments = true;
  auto log = ok(partition_log::open(dir.path(), config, 0));
  log->defer_deletes(true);
  fill_to(*log, 4);
  auto before = log->segments();
  auto deleted = ok(log->apply_retention(1000, log->log_end_offset()));
  REQUIRE(deleted.size() == 3);
  CHECK(log->log_start_offset() == before[3].base_offset);
  auto job = log->take_delete_job();
  CHECK(job.dir == dir.path());
  REQUIRE(job.paths.size() == 9); // .log, .index and .timeindex of each
  for (const auto& p : job.paths) {
    CHECK(path_exists(p));
    CHECK(is_deleted_file_name(p.substr(p.rfind('/') + 1)));
  }
  for (size_t i = 0; i < 3; ++i)
    CHECK_FALSE(path_exists(dir.file(log_file_name(before[i].base_offset))));
  CHECK(log->take_delete_job().paths.empty()); // taken once
  CHECK(read_all(*log).size() == size_t(log->log_end_offset() - log->log_start_offset()));
  SECTION("the I/O worker's run deletes them") {
    ok(run_file_delete(job));
    for (const auto& p : job.paths)
      CHECK_FALSE(path_exists(p));
  }
  SECTION("a crash before it ran: the next open deletes them") {
    ok(log->close());
    log.reset();
    recovery_report report;
    auto again = ok(partition_log::open(dir.path(), config, 0, &report));
    CHECK(report.count(recovery_action::removed_leftover) == 9);
    for (const auto& p : job.paths)
      CHECK_FALSE(path_exists(p));
    CHECK(again->log_start_offset() == before[3].base_offset);
  }
}

TEST_CASE("flush.ms with deferred syncs: the fsync is a job, the flushed offset moves when it "
          "comes back, and not after a cut",
          "[deferred_roll][flush]") {
  temp_dir dir("dflushms");
  auto config = small_config();
  config.flush_ms = 100;
  config.segment_bytes = 1 << 20; // one segment: only the active one is flushed
  auto log = ok(partition_log::open(dir.path(), config, 0));
  log->defer_roll_syncs(true);
  auto batch = numbered_batch(5, 1000, 0, 40);
  ok(log->append(batch, 10)); // too early for flush.ms
  CHECK(log->take_sync_jobs().empty());
  CHECK(log->flushed_offset() == 0);
  CHECK(ok(log->maybe_flush(150))); // due: queued, not done
  CHECK(log->flushed_offset() == 0);
  auto jobs = log->take_sync_jobs();
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].active_flush);
  CHECK(jobs[0].upto == 5);
  CHECK_FALSE(ok(log->maybe_flush(200))); // not due again before 250
  run_all(*log, jobs);
  CHECK(log->flushed_offset() == 5);
  SECTION("an append past flush.ms queues one too") {
    auto more = numbered_batch(5, 1000, 5, 40);
    ok(log->append(more, 300));
    auto next = log->take_sync_jobs();
    REQUIRE(next.size() == 1);
    CHECK(next[0].upto == 10);
    CHECK(log->flushed_offset() == 5);
    run_all(*log, next);
    CHECK(log->flushed_offset() == 10);
  }
  SECTION("a truncation voids a job made before it") {
    auto more = numbered_batch(5, 1000, 5, 40);
    ok(log->append(more, 300));
    auto next = log->take_sync_jobs();
    REQUIRE(next.size() == 1);
    ok(log->truncate_to(7)); // durable on return
    auto after_cut = log->flushed_offset();
    CHECK(after_cut == log->log_end_offset());
    auto again = numbered_batch(5, 1000, int(log->log_end_offset()), 40);
    ok(log->append(again, 310)); // new, unsynced records below the old job's upto
    run_all(*log, next);
    CHECK(log->flushed_offset() == after_cut);
  }
}

TEST_CASE("flush.messages with deferred syncs: the append waits for a job, and appends made "
          "while one is out share the next (group commit)",
          "[deferred_roll][flush]") {
  temp_dir dir("dflushmsgs");
  auto config = small_config();
  config.flush_messages = 1;
  config.segment_bytes = 1 << 20;
  auto log = ok(partition_log::open(dir.path(), config, 0));
  log->defer_roll_syncs(true);
  auto append = [&](int64_t now) {
    auto batch = numbered_batch(5, 1000, int(log->log_end_offset()), 40);
    return ok(log->append(batch, now));
  };
  auto first = append(10);
  CHECK(first.durable_upto == 5);
  CHECK_FALSE(first.flushed);
  CHECK(log->flushed_offset() == 0); // nothing fsynced in line
  auto jobs = log->take_sync_jobs();
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].active_flush);
  CHECK(jobs[0].upto == 5);
  // Two more appends while that fsync is out: no job of their own.
  CHECK(append(11).durable_upto == 10);
  CHECK(append(12).durable_upto == 15);
  CHECK(log->take_sync_jobs().empty());
  run_all(*log, jobs);
  CHECK(log->flushed_offset() == 5);
  auto next = log->take_sync_jobs(); // queued by the answer: covers both
  REQUIRE(next.size() == 1);
  CHECK(next[0].upto == 15);
  run_all(*log, next);
  CHECK(log->flushed_offset() == 15);
  CHECK(log->take_sync_jobs().empty()); // nothing more asked for

  SECTION("a truncation voids the job out; the next one covers what was written after") {
    CHECK(append(20).durable_upto == 20);
    auto out = log->take_sync_jobs();
    REQUIRE(out.size() == 1);
    ok(log->truncate_to(17)); // cuts the batch 15..19 whole; its fsync is a job
    CHECK(log->log_end_offset() == 15);
    CHECK(log->flushed_offset() == 15);
    CHECK(log->truncation_unsynced());
    auto cut = log->take_sync_jobs();
    REQUIRE(cut.size() == 1);
    CHECK(cut[0].truncation);
    // New records at 15..19 (a node's follower would hold them until the
    // cut's job is back; the log's offsets must be right either way), with
    // two jobs out: no job of their own.
    CHECK(append(21).durable_upto == 20);
    CHECK(log->take_sync_jobs().empty());
    run_all(*log, out); // voided: written before the cut
    CHECK(log->flushed_offset() == 15);
    CHECK(log->truncation_unsynced());
    run_all(*log, cut);
    CHECK_FALSE(log->truncation_unsynced());
    CHECK(log->flushed_offset() == 15);
    auto again = log->take_sync_jobs();
    REQUIRE(again.size() == 1);
    run_all(*log, again);
    CHECK(log->flushed_offset() == 20);
  }
  SECTION("rolls in between: every job run in order leaves the log durable to its end") {
    log->set_config([&] {
      auto c = config;
      c.segment_bytes = 1024;
      return c;
    }());
    size_t runs = 0;
    for (int i = 0; i < 40; ++i) {
      auto info = append(30 + i);
      CHECK(info.durable_upto == log->log_end_offset());
      if (i % 3 == 2) { // the worker answers now and then, oldest job first
        auto batch_jobs = log->take_sync_jobs();
        runs += batch_jobs.size();
        run_all(*log, batch_jobs);
      }
    }
    REQUIRE(log->segment_count() > 3);
    for (int round = 0; round < 10; ++round) {
      auto rest = log->take_sync_jobs();
      if (rest.empty())
        break;
      runs += rest.size();
      run_all(*log, rest);
    }
    CHECK(log->flushed_offset() == log->log_end_offset());
    CHECK(runs < 40); // fewer fsync jobs than acknowledgements waiting for one
  }
}

namespace {
ino_t inode_of(const std::string& path) {
  struct stat sb {};
  REQUIRE(::stat(path.c_str(), &sb) == 0);
  return sb.st_ino;
}
} // namespace

TEST_CASE("a roll renames the spare files its I/O worker made into place: no file is created "
          "in line, a leftover spare is removed on open",
          "[deferred_roll][spare]") {
  temp_dir dir("droll-spare");
  auto log = deferred_log(dir.path(), partition_log::trust_closed);
  auto append = [&] {
    auto batch = numbered_batch(5, 1000, int(log->log_end_offset()), 40);
    ok(log->append(batch, 1000));
  };
  CHECK(log->take_spare_job().dir.empty());
  // The first segment got its index files with the log; a segment a roll
  // makes gets them at its own roll. Roll once without spares.
  fill_to(*log, 2);
  run_all(*log, log->take_sync_jobs());
  (void)log->take_spare_job();
  log->spare_files_ready(false);
  // Asked for once the active segment is half full, once.
  spare_files_job job;
  while (job.dir.empty() && log->segment_count() == 2)
    append(), job = log->take_spare_job();
  REQUIRE(log->segment_count() == 2);
  CHECK(job.dir == dir.path());
  CHECK(log->take_spare_job().dir.empty()); // taken
  ok(run_spare_files(job));
  ino_t spare[3];
  for (size_t i = 0; i < 3; ++i)
    spare[i] = inode_of(dir.file(spare_file_names[i]));
  log->spare_files_ready(true);
  auto out_base = log->segments().back().base_offset;
  CHECK_FALSE(path_exists(dir.file(index_file_name(out_base))));
  while (log->segment_count() == 2)
    append();
  auto next_base = log->segments().back().base_offset;
  for (const char* name : spare_file_names)
    CHECK_FALSE(path_exists(dir.file(name)));
  CHECK(inode_of(dir.file(log_file_name(next_base))) == spare[0]);
  CHECK(inode_of(dir.file(index_file_name(out_base))) == spare[1]);
  CHECK(inode_of(dir.file(time_index_file_name(out_base))) == spare[2]);
  run_all(*log, log->take_sync_jobs());
  // The renamed files hold what the log wrote: a reopen trusting the
  // closed segment reads every record through its indexes.
  auto end = log->log_end_offset();
  ok(log->close());
  log.reset();
  ok(run_spare_files(spare_files_job{dir.path()})); // as if a crash left a spare
  recovery_report report;
  auto again = deferred_log(dir.path(), partition_log::trust_closed, &report);
  CHECK(again->log_end_offset() == end);
  CHECK(read_all(*again).size() == size_t(end));
  for (const char* name : spare_file_names)
    CHECK_FALSE(path_exists(dir.file(name)));
}
