// partition_log's aborted transactions (issue 16): each entry in memory
// and in the .txnindex of the segment holding its ABORT marker, kept over a
// restart, cut with the log (truncation, a torn log tail) and repaired when
// the file itself is torn or damaged. Deletion, sync jobs and compaction:
// txn_index_lifecycle_test.cpp.
#include "log_test_support.hpp"

#include <algorithm>

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

/// A transaction of producer `pid` over [marker - 3, marker].
aborted_txn abort_at(int64_t marker, int64_t pid = 7) {
  return aborted_txn{pid, std::max<int64_t>(marker - 3, 0), marker, marker - 3};
}

std::vector<int64_t> markers(const std::vector<aborted_txn>& entries) {
  std::vector<int64_t> out;
  for (const auto& a : entries)
    out.push_back(a.last_offset);
  return out;
}

/// Entries in segment `base`'s .txnindex; -1 when it has none.
int64_t entries_on_disk(const temp_dir& dir, int64_t base) {
  auto path = dir.file(txn_index_file_name(base));
  if (!path_exists(path))
    return -1;
  auto size = file_bytes(path).size();
  CHECK(size % txn_index::entry_size == 0);
  return int64_t(size / txn_index::entry_size);
}

} // namespace

TEST_CASE("aborted transactions go to their marker's segment and come back after a reopen",
          "[txn][partition_log]") {
  temp_dir dir("txnlog-basic");
  auto log = open_log(dir.path(), small_config());
  fill_to(*log, 3);
  auto segs = log->segments();
  REQUIRE(segs[0].next_offset > 12);
  CHECK(entries_on_disk(dir, segs[0].base_offset) == -1); // created on first use
  ok(log->add_aborted(abort_at(segs[0].base_offset + 4)));
  ok(log->add_aborted(abort_at(segs[0].base_offset + 9, 8)));
  ok(log->add_aborted(abort_at(segs[2].base_offset + 1)));
  CHECK(entries_on_disk(dir, segs[0].base_offset) == 2);
  CHECK(entries_on_disk(dir, segs[1].base_offset) == -1);
  CHECK(entries_on_disk(dir, segs[2].base_offset) == 1);
  auto all = log->aborted_txns();
  CHECK(markers(all) == std::vector<int64_t>{4, 9, segs[2].base_offset + 1});

  ok(log->close());
  log = open_log(dir.path(), small_config());
  CHECK(log->aborted_txns() == all);
  // Idempotent: a rescan adds again what it finds; nothing is written twice.
  ok(log->add_aborted(abort_at(9, 8)));
  CHECK(log->aborted_txns() == all);
  CHECK(entries_on_disk(dir, segs[0].base_offset) == 2);
  // Appends after the reopen go to the same file, after the kept entries.
  ok(log->add_aborted(abort_at(segs[0].base_offset + 12)));
  CHECK(entries_on_disk(dir, segs[0].base_offset) == 3);
  CHECK(markers(log->aborted_txns()) ==
        std::vector<int64_t>{4, 9, 12, segs[2].base_offset + 1});
}

TEST_CASE("aborted_between names the transactions overlapping a fetch", "[txn][partition_log]") {
  temp_dir dir("txnlog-between");
  auto log = open_log(dir.path(), small_config());
  fill_to(*log, 3);
  ok(log->add_aborted(aborted_txn{1, 2, 5, 2}));    // records 2..4, marker 5
  ok(log->add_aborted(aborted_txn{2, 3, 10, 3}));   // a long one
  ok(log->add_aborted(aborted_txn{3, 20, 22, 20}));
  CHECK(markers(log->aborted_between(0, 2)).empty());
  CHECK(markers(log->aborted_between(0, 3)) == std::vector<int64_t>{5});
  CHECK(markers(log->aborted_between(5, 6)) == std::vector<int64_t>{5, 10}); // a marker counts
  CHECK(markers(log->aborted_between(6, 20)) == std::vector<int64_t>{10});
  CHECK(markers(log->aborted_between(11, 20)).empty());
  CHECK(markers(log->aborted_between(0, 100)) == std::vector<int64_t>{5, 10, 22});
}

TEST_CASE("add_aborted refuses a marker outside the log or before its segment's last entry",
          "[txn][partition_log]") {
  temp_dir dir("txnlog-refuse");
  auto log = open_log(dir.path(), small_config());
  fill_to(*log, 2);
  auto end = log->log_end_offset();
  CHECK(log->add_aborted(abort_at(end)).code() == errc::offset_out_of_range);
  ok(log->add_aborted(abort_at(end - 1)));
  CHECK(log->add_aborted(abort_at(end - 2)).code() == errc::invalid_request);
  CHECK(log->add_aborted(aborted_txn{1, 9, 3, 0}).code() == errc::invalid_request);
  CHECK(markers(log->aborted_txns()) == std::vector<int64_t>{end - 1});
  ok(log->delete_segments_before(log->segments()[1].base_offset));
  CHECK(log->add_aborted(abort_at(3)).code() == errc::offset_out_of_range);
}

TEST_CASE("truncate_to drops the entries at or past the cut, in memory and on disk",
          "[txn][partition_log]") {
  temp_dir dir("txnlog-truncate");
  auto log = open_log(dir.path(), small_config());
  fill_to(*log, 4);
  auto segs = log->segments();
  auto one = segs[1].base_offset;
  REQUIRE(segs[1].next_offset > one + 7);
  ok(log->add_aborted(abort_at(2)));
  ok(log->add_aborted(abort_at(one + 1)));
  ok(log->add_aborted(abort_at(one + 7)));
  ok(log->add_aborted(abort_at(segs[3].base_offset)));
  ok(log->truncate_to(one + 5)); // inside segment 1, between its entries
  CHECK(markers(log->aborted_txns()) == std::vector<int64_t>{2, one + 1});
  CHECK(entries_on_disk(dir, one) == 1);
  CHECK(entries_on_disk(dir, segs[3].base_offset) == -1); // went with its segment
  SECTION("the cut survives a reopen") {
    ok(log->close());
    log = open_log(dir.path(), small_config());
    CHECK(markers(log->aborted_txns()) == std::vector<int64_t>{2, one + 1});
  }
  SECTION("a marker written anew at a cut offset is recorded again") {
    fill_to(*log, 3);
    ok(log->add_aborted(abort_at(one + 7, 9)));
    CHECK(log->aborted_txns().back().producer_id == 9);
    CHECK(entries_on_disk(dir, one) == 2);
  }
  SECTION("below the log start: every entry and file goes") {
    ok(log->truncate_to(0));
    CHECK(log->aborted_txns().empty());
    for (const auto& s : segs)
      CHECK(entries_on_disk(dir, s.base_offset) == -1);
  }
}

TEST_CASE("truncate_fully_and_start_at removes every entry and file", "[txn][partition_log]") {
  temp_dir dir("txnlog-full");
  auto log = open_log(dir.path(), small_config());
  fill_to(*log, 3);
  auto segs = log->segments();
  ok(log->add_aborted(abort_at(3)));
  ok(log->add_aborted(abort_at(segs[2].base_offset + 1)));
  ok(log->truncate_fully_and_start_at(500));
  CHECK(log->aborted_txns().empty());
  for (const auto& s : segs)
    CHECK(entries_on_disk(dir, s.base_offset) == -1);
  fill_to(*log, 2);
  ok(log->add_aborted(abort_at(501)));
  ok(log->close());
  log = open_log(dir.path(), small_config());
  CHECK(markers(log->aborted_txns()) == std::vector<int64_t>{501});
  CHECK(entries_on_disk(dir, 500) == 1);
}

TEST_CASE("a torn last .txnindex entry is cut and reported on open", "[txn][recovery]") {
  temp_dir dir("txnlog-torn");
  auto log = open_log(dir.path(), small_config());
  fill_to(*log, 2);
  ok(log->add_aborted(abort_at(3)));
  ok(log->add_aborted(abort_at(8)));
  ok(log->close());
  auto path = dir.file(txn_index_file_name(0));
  auto data = file_bytes(path);
  data.resize(data.size() - 5);
  write_file_bytes(path, data);
  recovery_report report;
  log = open_log(dir.path(), small_config(), 0, &report);
  INFO(report.to_string());
  REQUIRE(report.count(recovery_action::cut_txn_index_tail) == 1);
  CHECK(report.events[0].file == path);
  CHECK(report.events[0].position == txn_index::entry_size);
  CHECK(report.events[0].bytes_dropped == txn_index::entry_size - 5);
  CHECK(markers(log->aborted_txns()) == std::vector<int64_t>{3});
  CHECK(entries_on_disk(dir, 0) == 1);
  ok(log->add_aborted(abort_at(8))); // the owner's rescan puts it back
  CHECK(entries_on_disk(dir, 0) == 2);
}

TEST_CASE("a damaged .txnindex is reported and emptied, the open goes on", "[txn][recovery]") {
  temp_dir dir("txnlog-corrupt");
  auto log = open_log(dir.path(), small_config());
  fill_to(*log, 3);
  auto segs = log->segments();
  ok(log->add_aborted(abort_at(3)));
  ok(log->add_aborted(abort_at(8)));
  ok(log->add_aborted(abort_at(segs[1].base_offset + 2)));
  ok(log->close());
  auto path = dir.file(txn_index_file_name(0));
  auto data = file_bytes(path);
  data[txn_index::entry_size + 1] = 5; // the second entry's version
  write_file_bytes(path, data);
  recovery_report report;
  log = open_log(dir.path(), small_config(), 0, &report);
  INFO(report.to_string());
  REQUIRE(report.count(recovery_action::emptied_txn_index) == 1);
  CHECK(report.events[0].file == path);
  CHECK(report.events[0].reason.find("version 5") != std::string::npos);
  CHECK_FALSE(report.corruption_found()); // the log itself is sound
  CHECK(entries_on_disk(dir, 0) == 0);
  CHECK(markers(log->aborted_txns()) == std::vector<int64_t>{segs[1].base_offset + 2});
  ok(log->add_aborted(abort_at(3)));
  ok(log->add_aborted(abort_at(8)));
  ok(log->close());
  recovery_report clean;
  log = open_log(dir.path(), small_config(), 0, &clean);
  CHECK(clean.events.empty());
  CHECK(markers(log->aborted_txns()) == std::vector<int64_t>{3, 8, segs[1].base_offset + 2});
}

TEST_CASE("a torn log tail cut on open takes the entries of the markers it held",
          "[txn][recovery]") {
  temp_dir dir("txnlog-logtail");
  auto log = open_log(dir.path(), small_config());
  fill_to(*log, 2);
  auto active = log->segments().back().base_offset;
  auto batch = numbered_batch(5, 1000, int(log->log_end_offset()), 40);
  ok(log->append(batch, 1000)); // a second batch in the active segment
  REQUIRE(log->segment_count() == 2);
  auto end = log->log_end_offset();
  ok(log->add_aborted(abort_at(active + 1)));
  ok(log->add_aborted(abort_at(end - 1))); // in the last batch
  ok(log->close());
  auto path = dir.file(log_file_name(active));
  auto data = file_bytes(path);
  data.resize(data.size() - 7); // the last batch is torn
  write_file_bytes(path, data);
  recovery_report report;
  log = open_log(dir.path(), small_config(), 0, &report);
  INFO(report.to_string());
  REQUIRE(report.count(recovery_action::truncated_torn_tail) == 1);
  CHECK(log->log_end_offset() == end - 5);
  CHECK(markers(log->aborted_txns()) == std::vector<int64_t>{active + 1});
  CHECK(entries_on_disk(dir, active) == 1);
}
