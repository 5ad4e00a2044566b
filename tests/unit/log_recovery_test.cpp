// Recovery on open, in LevelDB's log_test style: damage the files on
// purpose (cut, flip, append garbage, delete indexes), reopen, and check what
// survives and what the report says.
#include "log_test_support.hpp"

#include "storage/log_filename.hpp"

using namespace al;
using namespace al::test;

namespace {

struct written_log {
  std::vector<append_info> batches;
  std::vector<segment_info> segments;
};

/// `n` batches of 2 records; closes the log.
written_log write_log(const std::string& dir, const log_config& cfg, int n,
                      size_t value_size = 10) {
  auto log = open_log(dir, cfg);
  written_log out;
  for (int i = 0; i < n; ++i) {
    auto batch = numbered_batch(2, 1000 + i, int(log->log_end_offset()), value_size);
    out.batches.push_back(ok(log->append(batch, 0)));
  }
  out.segments = log->segments();
  ok(log->close());
  return out;
}

/// Positions of every batch in a .log file's bytes.
std::vector<size_t> batch_positions(const bytes& log) {
  std::vector<size_t> out;
  for (size_t pos = 0; pos < log.size();) {
    out.push_back(pos);
    pos += read_batch_header(log.data() + pos).size_in_bytes();
  }
  return out;
}

void check_prefix(partition_log& log, int64_t end) {
  CHECK(log.log_end_offset() == end);
  auto records = read_all(log);
  REQUIRE(records.size() == size_t(end));
  for (int64_t o = 0; o < end; ++o)
    CHECK(records[size_t(o)].key == "k" + std::to_string(o));
}

void check_still_appends(partition_log& log) {
  auto end = log.log_end_offset();
  auto batch = numbered_batch(2, 5000, int(end));
  CHECK(ok(log.append(batch, 0)).base_offset == end);
  CHECK(log.log_end_offset() == end + 2);
}

} // namespace

TEST_CASE("a tail cut at every byte of the last batch recovers every batch before it",
          "[recovery]") {
  temp_dir dir("recovery-torn");
  auto cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  auto written = write_log(dir.path(), cfg, 6);
  auto path = dir.file(log_file_name(0));
  auto full = file_bytes(path);
  auto last = batch_positions(full).back();
  auto index_files = dir_snapshot(dir.path());
  for (size_t cut = last; cut < full.size(); ++cut) {
    INFO("cut at " << cut << " of " << full.size() << ", last batch at " << last);
    write_file_bytes(path, bytes(full.begin(), full.begin() + long(cut)));
    recovery_report report;
    auto log = open_log(dir.path(), cfg, 0, &report);
    if (cut > last) {
      REQUIRE(report.count(recovery_action::truncated_torn_tail) == 1);
      const auto& e = report.events.back();
      CHECK(e.file == path);
      CHECK(e.position == last);
      CHECK(e.bytes_dropped == cut - last);
    }
    CHECK_FALSE(report.corruption_found());
    check_prefix(*log, 10);
    CHECK(file_size(path).value() == last);
    log.reset();
    // Restore the index files a previous round may have rewritten.
    for (const auto& [name, content] : index_files)
      if (name != log_file_name(0))
        write_file_bytes(dir.file(name), content);
  }
  write_file_bytes(path, bytes(full.begin(), full.begin() + long(last) + 1));
  auto log = open_log(dir.path(), cfg);
  check_still_appends(*log);
}

TEST_CASE("a flipped byte in a middle batch is corruption: readable up to the batch before",
          "[recovery]") {
  temp_dir dir("recovery-flip");
  auto cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  write_log(dir.path(), cfg, 10);
  auto path = dir.file(log_file_name(0));
  auto data = file_bytes(path);
  auto positions = batch_positions(data);
  data[positions[5] + 70] ^= 0x20; // inside the records, covered by the CRC
  write_file_bytes(path, data);
  recovery_report report;
  auto log = open_log(dir.path(), cfg, 0, &report);
  INFO(report.to_string());
  REQUIRE(report.count(recovery_action::truncated_corruption) == 1);
  const auto& e = report.events.back();
  CHECK(e.file == path);
  CHECK(e.position == positions[5]);
  CHECK(e.bytes_dropped == data.size() - positions[5]);
  CHECK(e.reason.find("CRC") != std::string::npos);
  CHECK(report.to_string().find(path + " position " + std::to_string(positions[5])) !=
        std::string::npos);
  check_prefix(*log, 10);
  check_still_appends(*log);
}

TEST_CASE("damage after the last batch: garbage, a length past the end, a wrong magic",
          "[recovery]") {
  temp_dir dir("recovery-tail");
  auto cfg = small_config();
  cfg.segment_bytes = 1 << 20;
  write_log(dir.path(), cfg, 4);
  auto path = dir.file(log_file_name(0));
  const auto good = file_bytes(path);
  auto last_batch = bytes(good.begin() + long(batch_positions(good).back()), good.end());
  auto reopen_with_tail = [&](const bytes& tail) {
    bytes data = good;
    data.insert(data.end(), tail.begin(), tail.end());
    write_file_bytes(path, data);
    recovery_report report;
    auto log = open_log(dir.path(), cfg, 0, &report);
    CHECK(report.bytes_dropped() == tail.size());
    check_prefix(*log, 8);
    CHECK(file_size(path).value() == good.size());
    return report;
  };
  SECTION("a few bytes of garbage: shorter than a header, a torn tail") {
    auto r = reopen_with_tail(bytes(20, 0xab));
    CHECK(r.count(recovery_action::truncated_torn_tail) == 1);
  }
  SECTION("a header-sized block of garbage: wrong magic, corruption") {
    auto r = reopen_with_tail(bytes(200, 0xab));
    CHECK(r.count(recovery_action::truncated_corruption) == 1);
    CHECK(r.events.back().reason.find("magic") != std::string::npos);
  }
  SECTION("a batchLength that runs past the end of the file") {
    bytes tail = last_batch;
    store_be<int32_t>(tail.data() + batch_layout::batch_length, 1 << 30);
    auto r = reopen_with_tail(tail);
    CHECK(r.count(recovery_action::truncated_torn_tail) == 1);
    CHECK(r.events.back().reason.find("past the end") != std::string::npos);
  }
  SECTION("a whole batch with magic 1") {
    bytes tail = last_batch;
    tail[batch_layout::magic] = 1;
    auto r = reopen_with_tail(tail);
    CHECK(r.count(recovery_action::truncated_corruption) == 1);
  }
  SECTION("a batch whose offsets go backwards") {
    bytes tail = last_batch; // a valid copy of the batch before: same offsets
    auto r = reopen_with_tail(tail);
    CHECK(r.count(recovery_action::truncated_corruption) == 1);
    CHECK(r.events.back().reason.find("below the expected") != std::string::npos);
  }
}

TEST_CASE("missing or broken index files are rebuilt from the log", "[recovery]") {
  temp_dir dir("recovery-index");
  auto cfg = small_config();
  auto written = write_log(dir.path(), cfg, 80, 40);
  const auto& segs = written.segments;
  REQUIRE(segs.size() > 3);
  ok(remove_file(dir.file(index_file_name(segs[0].base_offset))));
  ok(remove_file(dir.file(time_index_file_name(segs[1].base_offset))));
  write_file_bytes(dir.file(index_file_name(segs[2].base_offset)), bytes(13, 1));
  ok(remove_file(dir.file(index_file_name(segs.back().base_offset))));
  recovery_report report;
  auto log = open_log(dir.path(), cfg, 0, &report);
  INFO(report.to_string());
  CHECK(report.count(recovery_action::rebuilt_indexes) == 4);
  CHECK(report.bytes_dropped() == 0);
  check_prefix(*log, 160);
  // Closed segments get their rebuilt index files at once; the active one's
  // are written when it rolls or the log closes (a recovery rebuilds them).
  for (const auto& s : segs) {
    bool active = s.base_offset == segs.back().base_offset;
    CHECK(path_exists(dir.file(index_file_name(s.base_offset))) != active);
    CHECK(path_exists(dir.file(time_index_file_name(s.base_offset))));
  }
  log.reset();
  CHECK(path_exists(dir.file(index_file_name(segs.back().base_offset))));
  recovery_report clean;
  open_log(dir.path(), cfg, 0, &clean);
  CHECK(clean.events.empty());
}

TEST_CASE("corruption in a closed segment whose index was lost drops what follows",
          "[recovery]") {
  temp_dir dir("recovery-middle");
  auto cfg = small_config();
  auto written = write_log(dir.path(), cfg, 80, 40);
  const auto& segs = written.segments;
  REQUIRE(segs.size() > 3);
  auto path = dir.file(log_file_name(segs[1].base_offset));
  auto data = file_bytes(path);
  auto positions = batch_positions(data);
  data[positions[2] + 80] ^= 0xff;
  write_file_bytes(path, data);
  ok(remove_file(dir.file(index_file_name(segs[1].base_offset))));
  recovery_report report;
  auto log = open_log(dir.path(), cfg, 0, &report);
  INFO(report.to_string());
  REQUIRE(report.count(recovery_action::truncated_corruption) == 1);
  CHECK(report.count(recovery_action::deleted_after_corruption) == segs.size() - 2);
  CHECK(log->segment_count() == 2);
  check_prefix(*log, segs[1].base_offset + 4); // two 2-record batches survive
  for (size_t i = 2; i < segs.size(); ++i)
    CHECK_FALSE(path_exists(segs[i].log_path));
  check_still_appends(*log);
}

TEST_CASE("leftover compaction files and orphan indexes are settled on open", "[recovery]") {
  temp_dir dir("recovery-leftover");
  auto cfg = small_config();
  auto written = write_log(dir.path(), cfg, 40, 40);
  const auto& segs = written.segments;
  REQUIRE(segs.size() > 2);
  auto seg1 = file_bytes(segs[1].log_path);
  write_file_bytes(dir.file(cleaned_file_name(segs[0].base_offset)), bytes(100, 7));
  write_file_bytes(dir.file(swap_file_name(segs[1].base_offset)), seg1);
  write_file_bytes(dir.file(index_file_name(999999)), bytes(8, 0));
  write_file_bytes(dir.file("unrelated.txt"), bytes(3, 'x'));
  recovery_report report;
  auto log = open_log(dir.path(), cfg, 0, &report);
  INFO(report.to_string());
  CHECK(report.count(recovery_action::removed_leftover) == 2);
  CHECK(report.count(recovery_action::completed_swap) == 1);
  CHECK(report.count(recovery_action::rebuilt_indexes) == 1); // the swapped segment
  CHECK_FALSE(path_exists(dir.file(cleaned_file_name(segs[0].base_offset))));
  CHECK_FALSE(path_exists(dir.file(swap_file_name(segs[1].base_offset))));
  CHECK_FALSE(path_exists(dir.file(index_file_name(999999))));
  CHECK(path_exists(dir.file("unrelated.txt")));
  check_prefix(*log, 80);
}
