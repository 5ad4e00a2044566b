// partition_log::delete_segments_before, roll_now and advance_log_start: whole closed segments
// below an offset go, the active one never; the log start offset follows
// and survives a reopen.
#include "log_test_support.hpp"

using namespace al;
using namespace al::test;

namespace {

/// Appends `n` one-record batches (offsets log_end .. log_end + n - 1).
void append_records(partition_log& log, int n) {
  for (int i = 0; i < n; ++i) {
    auto batch = numbered_batch(1, 1000, int(log.log_end_offset()), 50);
    ok(log.append(batch, 1000));
  }
}

/// The log from `first` on holds exactly the numbered records first..end-1.
void check_numbered_from(const partition_log& log, int64_t first, int64_t end) {
  std::vector<int64_t> offsets;
  for (auto& r : read_all(log))
    if (r.offset >= first) {
      CHECK(r.key == "k" + std::to_string(r.offset));
      offsets.push_back(r.offset);
    }
  REQUIRE(offsets.size() == size_t(end - first));
  CHECK(offsets.front() == first);
  CHECK(offsets.back() == end - 1);
}

} // namespace

TEST_CASE("delete_segments_before drops whole closed segments below the offset",
          "[partition_log][prefix]") {
  temp_dir dir("prefix-delete");
  auto log = open_log(dir.path(), small_config());
  append_records(*log, 60);
  auto segs = log->segments();
  REQUIRE(segs.size() >= 4);

  SECTION("an offset inside a segment keeps that segment") {
    int64_t inside = segs[2].base_offset + 1;
    auto deleted = ok(log->delete_segments_before(inside));
    REQUIRE(deleted.size() == 2);
    CHECK(deleted[0].base_offset == 0);
    CHECK(deleted[1].next_offset == segs[2].base_offset);
    CHECK(deleted[0].reason == "delete_before");
    CHECK(log->log_start_offset() == segs[2].base_offset);
    CHECK_FALSE(path_exists(segs[0].log_path));
    CHECK_FALSE(path_exists(segs[1].log_path));
    CHECK(path_exists(segs[2].log_path));
    CHECK(log->read(0, 100).error().code() == errc::offset_out_of_range);
    check_numbered_from(*log, inside, 60);
  }
  SECTION("an offset at a segment boundary deletes everything before it") {
    auto deleted = ok(log->delete_segments_before(segs[3].base_offset));
    CHECK(deleted.size() == 3);
    CHECK(log->log_start_offset() == segs[3].base_offset);
  }
  SECTION("offset 0 or below the log start deletes nothing") {
    CHECK(ok(log->delete_segments_before(0)).empty());
    CHECK(ok(log->delete_segments_before(-5)).empty());
    CHECK(log->segment_count() == segs.size());
  }
  SECTION("never the active segment, even past the log end") {
    ok(log->delete_segments_before(1'000'000));
    CHECK(log->segment_count() == 1);
    CHECK(log->log_start_offset() == segs.back().base_offset);
    CHECK(log->log_end_offset() == 60);
    append_records(*log, 1); // appends still work
    CHECK(log->log_end_offset() == 61);
  }
  SECTION("the new log start survives a reopen") {
    ok(log->delete_segments_before(segs[2].base_offset));
    REQUIRE(log->close());
    log.reset();
    auto reopened = open_log(dir.path(), small_config());
    CHECK(reopened->log_start_offset() == segs[2].base_offset);
    CHECK(reopened->log_end_offset() == 60);
    check_numbered_from(*reopened, segs[2].base_offset, 60);
  }
}

TEST_CASE("roll_now starts a new segment at the log end unless the active one is empty",
          "[partition_log][prefix]") {
  temp_dir dir("prefix-roll");
  auto cfg = small_config();
  cfg.segment_bytes = 1 << 20; // never rolls by size here
  auto log = open_log(dir.path(), cfg);
  CHECK_FALSE(ok(log->roll_now(1000))); // empty: nothing to close
  append_records(*log, 5);
  REQUIRE(log->segment_count() == 1);
  CHECK(ok(log->roll_now(1000)));
  CHECK(log->segment_count() == 2);
  CHECK(log->segments().back().base_offset == 5);
  CHECK(log->flushed_offset() == 5); // the closed segment is durable
  CHECK_FALSE(ok(log->roll_now(1000)));
  append_records(*log, 3);
  auto deleted = ok(log->delete_segments_before(6));
  REQUIRE(deleted.size() == 1);
  CHECK(deleted[0].next_offset == 5);
  CHECK(log->log_start_offset() == 5);
  check_numbered_from(*log, 5, 8);
}

TEST_CASE("advance_log_start hides records below it, inside a segment and a batch",
          "[partition_log][prefix][log_start]") {
  temp_dir dir("prefix-advance");
  auto log = open_log(dir.path(), small_config());
  append_records(*log, 60);
  auto three = numbered_batch(3, 1000, 60, 50); // one batch of offsets 60..62
  ok(log->append(three, 1000));
  auto segs = log->segments();
  REQUIRE(segs.size() >= 4);
  int64_t inside = segs[2].base_offset + 1;

  SECTION("segments wholly below go; the one holding the start stays, unreadable below it") {
    auto deleted = ok(log->advance_log_start(inside));
    REQUIRE(deleted.size() == 2);
    CHECK(deleted[0].reason == "log_start");
    CHECK_FALSE(path_exists(segs[1].log_path));
    CHECK(path_exists(segs[2].log_path));
    CHECK(log->log_start_offset() == inside);
    CHECK(log->read(inside - 1, 100).error().code() == errc::offset_out_of_range);
    CHECK(log->segments().front().base_offset == segs[2].base_offset);
    check_numbered_from(*log, inside, 63);
    auto first = read_all(*log);
    CHECK(first.front().offset == inside);
    // ListOffsets by timestamp: every record has timestamp 1000, and the
    // first one readable is the log start, not the segment's first record.
    auto found = ok(log->lookup_by_timestamp(0));
    REQUIRE(found);
    CHECK(found->offset == inside);
  }
  SECTION("inside a batch: that batch stays whole, reads below the start are refused") {
    ok(log->advance_log_start(61));
    CHECK(log->log_start_offset() == 61);
    CHECK(log->read(60, 100).error().code() == errc::offset_out_of_range);
    auto chunk = ok(log->read(61, 1 << 20));
    CHECK(headers_of(chunk).front().base_offset == 60); // Kafka returns the whole batch
  }
  SECTION("lower or equal: nothing happens; past the log end: capped there") {
    CHECK(ok(log->advance_log_start(0)).empty());
    CHECK(log->log_start_offset() == 0);
    ok(log->advance_log_start(1'000));
    CHECK(log->log_start_offset() == 63);
    CHECK(log->segment_count() == 1);
    append_records(*log, 1);
    CHECK(log->log_end_offset() == 64);
  }
  SECTION("it survives a reopen; retention and compaction-free reads keep it") {
    ok(log->advance_log_start(inside));
    REQUIRE(log->close());
    log.reset();
    auto reopened = open_log(dir.path(), small_config());
    CHECK(reopened->log_start_offset() == inside);
    CHECK(reopened->read(inside - 1, 100).error().code() == errc::offset_out_of_range);
    check_numbered_from(*reopened, inside, 63);
  }
  SECTION("a truncation below it restarts the log there, and a reopen keeps that") {
    ok(log->advance_log_start(inside));
    ok(log->truncate_to(inside - 1));
    CHECK(log->log_start_offset() == inside - 1);
    CHECK(log->log_end_offset() == inside - 1);
    CHECK_FALSE(path_exists(dir.file("log-start-offset")));
    REQUIRE(log->close());
    log.reset();
    auto reopened = open_log(dir.path(), small_config());
    CHECK(reopened->log_start_offset() == inside - 1);
    CHECK(reopened->log_end_offset() == inside - 1);
  }
  SECTION("truncate_fully_and_start_at drops it") {
    ok(log->advance_log_start(inside));
    ok(log->truncate_fully_and_start_at(100));
    CHECK_FALSE(path_exists(dir.file("log-start-offset")));
    REQUIRE(log->close());
    log.reset();
    CHECK(open_log(dir.path(), small_config())->log_start_offset() == 100);
  }
}

TEST_CASE("recovery applies the log-start-offset file and survives a damaged one",
          "[partition_log][prefix][log_start][recovery]") {
  temp_dir dir("prefix-advance-recovery");
  {
    auto log = open_log(dir.path(), small_config());
    append_records(*log, 30);
    REQUIRE(log->close());
  }
  auto write = [&](const std::string& text) {
    ok(replace_file_durably(dir.path(), "log-start-offset",
                            byte_view{reinterpret_cast<const uint8_t*>(text.data()), text.size()}));
  };
  SECTION("a start above the log end (a torn tail below it) restarts the log empty there") {
    write("0\n45\n");
    recovery_report report;
    auto log = ok(partition_log::open(dir.path(), small_config(), 1000, &report));
    CHECK(log->log_start_offset() == 45);
    CHECK(log->log_end_offset() == 45);
    CHECK(report.count(recovery_action::restarted_at_log_start) == 1);
  }
  SECTION("damaged contents are reported and the first segment's base is used") {
    write("garbage");
    recovery_report report;
    auto log = ok(partition_log::open(dir.path(), small_config(), 1000, &report));
    CHECK(log->log_start_offset() == 0);
    CHECK(log->log_end_offset() == 30);
    REQUIRE(report.count(recovery_action::removed_leftover) == 1);
    CHECK(report.to_string().find("log-start-offset") != std::string::npos);
    CHECK_FALSE(path_exists(dir.file("log-start-offset")));
  }
  SECTION("a start below the first segment's base (retention passed it) changes nothing") {
    auto log = open_log(dir.path(), small_config());
    ok(log->advance_log_start(3));
    auto segs = log->segments();
    ok(log->delete_segments_before(segs[2].base_offset));
    REQUIRE(log->close());
    log.reset();
    CHECK(open_log(dir.path(), small_config())->log_start_offset() == segs[2].base_offset);
  }
}
