// partition_log::delete_segments_before and roll_now: whole closed segments
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
