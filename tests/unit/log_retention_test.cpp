// Retention: whole closed segments, oldest first, by the largest batch
// timestamp (retention.ms) and by total size (retention.bytes).
#include "log_test_support.hpp"

using namespace al;
using namespace al::test;

namespace {

/// Segment i holds batches with timestamps 1000 * (i + 1); roll by time.
std::unique_ptr<partition_log> log_with_segments(const std::string& dir, log_config cfg,
                                                 int segments) {
  cfg.segment_ms = 1000;
  auto log = open_log(dir, cfg);
  for (int s = 0; s < segments; ++s) {
    for (int b = 0; b < 3; ++b) {
      int64_t ts = 1000 * (s + 1);
      auto batch = numbered_batch(2, ts, int(log->log_end_offset()), 50);
      ok(log->append(batch, ts));
    }
  }
  REQUIRE(log->segment_count() == size_t(segments));
  return log;
}

} // namespace

TEST_CASE("retention.ms deletes closed segments whose newest record is too old",
          "[retention]") {
  temp_dir dir("retention-ms");
  auto cfg = small_config();
  cfg.retention_ms = 2500;
  auto log = log_with_segments(dir.path(), cfg, 5); // max timestamps 1000..5000
  auto segs = log->segments();
  auto hw = log->log_end_offset(); // everything committed
  CHECK(ok(log->apply_retention(3500, hw)).empty()); // 3500 - 1000 = 2500 is not > 2500
  auto deleted = ok(log->apply_retention(4000, hw)); // 1000 and 1001..: only the first
  REQUIRE(deleted.size() == 1);
  CHECK(deleted[0].reason == "retention.ms");
  CHECK(deleted[0].base_offset == 0);
  CHECK(deleted[0].max_timestamp == 1000);
  CHECK(log->log_start_offset() == segs[1].base_offset);
  CHECK_FALSE(path_exists(segs[0].log_path));
  CHECK(log->read(0, 100).error().code() == errc::offset_out_of_range);
  CHECK_FALSE(ok(log->read(log->log_start_offset(), 100)).empty());

  deleted = ok(log->apply_retention(1'000'000, hw)); // everything is old: all but the active
  CHECK(deleted.size() == 3);
  CHECK(log->segment_count() == 1);
  CHECK(log->log_start_offset() == segs[4].base_offset);
  CHECK(log->log_end_offset() == 30);
}

TEST_CASE("retention.bytes deletes oldest segments while the rest stays above the limit",
          "[retention]") {
  temp_dir dir("retention-bytes");
  auto cfg = small_config();
  auto log = log_with_segments(dir.path(), cfg, 5);
  auto segs = log->segments();
  // Exactly what remains without the first two segments.
  cfg.retention_bytes = int64_t(log->size_bytes() - segs[0].size_bytes - segs[1].size_bytes);
  log->set_config(cfg);
  auto deleted = ok(log->apply_retention(0, log->log_end_offset()));
  REQUIRE(deleted.size() == 2);
  CHECK(deleted[0].reason == "retention.bytes");
  CHECK(log->size_bytes() >= uint64_t(cfg.retention_bytes));
  CHECK(log->log_start_offset() == segs[2].base_offset);
  cfg.retention_bytes = 0; // never the active segment
  log->set_config(cfg);
  CHECK(ok(log->apply_retention(0, log->log_end_offset())).size() == 2);
  CHECK(log->segment_count() == 1);
}

TEST_CASE("both limits: the first hit wins, per segment", "[retention]") {
  temp_dir dir("retention-both");
  auto cfg = small_config();
  cfg.retention_ms = 2500;
  auto log = log_with_segments(dir.path(), cfg, 5);
  auto segs = log->segments();
  cfg.retention_bytes = int64_t(log->size_bytes() - segs[0].size_bytes - segs[1].size_bytes -
                                segs[2].size_bytes);
  log->set_config(cfg);
  // At 4000 only segment 0 is too old; size condemns segments 0..2.
  auto deleted = ok(log->apply_retention(4000, log->log_end_offset()));
  REQUIRE(deleted.size() == 3);
  CHECK(deleted[0].reason == "retention.ms");
  CHECK(deleted[1].reason == "retention.bytes");
  CHECK(deleted[2].reason == "retention.bytes");
  CHECK(log->log_start_offset() == segs[3].base_offset);
}

TEST_CASE("retention is off for cleanup.policy=compact and survives a restart",
          "[retention]") {
  temp_dir dir("retention-policy");
  auto cfg = small_config();
  cfg.retention_ms = 10;
  cfg.policy = {false, true};
  auto log = log_with_segments(dir.path(), cfg, 3);
  CHECK(ok(log->apply_retention(1'000'000, log->log_end_offset())).empty());
  cfg.policy = {true, true};
  log->set_config(cfg);
  CHECK(ok(log->apply_retention(1'000'000, log->log_end_offset())).size() == 2);
  auto start = log->log_start_offset();
  log.reset();
  auto again = open_log(dir.path(), cfg);
  CHECK(again->log_start_offset() == start);
  CHECK(again->log_end_offset() == 18);
}

TEST_CASE("retention deletes only segments entirely below the high watermark",
          "[retention][replication]") {
  // Issue 12, item 6: a producer's CreateTime in the past condemns segments
  // at once, and retention used to delete them whatever the followers had
  // fetched. Kafka's rule: a segment goes only if the next one starts at or
  // below the HW, so the log start never passes the HW.
  temp_dir dir("retention-hw");
  auto cfg = small_config();
  cfg.retention_ms = 10; // every segment is long expired at 1'000'000
  auto log = log_with_segments(dir.path(), cfg, 5);
  auto segs = log->segments(); // 6 offsets each: 0, 6, 12, 18, 24
  CHECK(ok(log->apply_retention(1'000'000, 0)).empty()); // nothing committed
  CHECK(ok(log->apply_retention(1'000'000, segs[1].base_offset - 1)).empty());
  auto deleted = ok(log->apply_retention(1'000'000, segs[1].base_offset));
  REQUIRE(deleted.size() == 1);
  CHECK(log->log_start_offset() == segs[1].base_offset);
  deleted = ok(log->apply_retention(1'000'000, segs[3].base_offset + 1)); // inside segment 3
  CHECK(deleted.size() == 2);
  CHECK(log->log_start_offset() == segs[3].base_offset);
  CHECK(log->log_start_offset() <= segs[3].base_offset + 1); // never past the HW
  // retention.bytes obeys the same bound.
  cfg.retention_ms = -1;
  cfg.retention_bytes = 0;
  log->set_config(cfg);
  CHECK(ok(log->apply_retention(0, segs[4].base_offset - 1)).empty());
  CHECK(ok(log->apply_retention(0, log->log_end_offset())).size() == 1);
  CHECK(log->segment_count() == 1);
}

TEST_CASE("cleanup.policy parses Kafka's spellings", "[retention]") {
  cleanup_policy p;
  REQUIRE(parse_cleanup_policy("compact,delete", p));
  CHECK((p.compact && p.delete_segments));
  REQUIRE(parse_cleanup_policy("compact", p));
  CHECK((p.compact && !p.delete_segments));
  REQUIRE(parse_cleanup_policy("delete, compact", p));
  CHECK(to_string(p) == "compact,delete");
  CHECK_FALSE(parse_cleanup_policy("shred", p));
  CHECK_FALSE(parse_cleanup_policy("", p));
}
