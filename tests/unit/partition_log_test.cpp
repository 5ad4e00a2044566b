// partition_log: offsets, reads with Kafka's fetch semantics, rejected
// appends, rolling, restart, truncation, timestamps and the flush policy.
#include "log_test_support.hpp"

#include <random>

#include "storage/log_filename.hpp"

using namespace al;
using namespace al::test;

namespace {

/// Appends `batches` batches of `per_batch` numbered records at ts.
std::vector<append_info> append_numbered(partition_log& log, int batches, int per_batch,
                                         int64_t ts = 1000, size_t value_size = 8) {
  std::vector<append_info> out;
  for (int i = 0; i < batches; ++i) {
    auto batch = numbered_batch(per_batch, ts, int(log.log_end_offset()), value_size);
    out.push_back(ok(log.append(batch, ts)));
  }
  return out;
}

void check_numbered(const std::vector<plain_record>& records, int64_t first, int64_t end) {
  REQUIRE(records.size() == size_t(end - first));
  for (int64_t o = first; o < end; ++o) {
    const auto& r = records[size_t(o - first)];
    CHECK(r.offset == o);
    CHECK(r.key == "k" + std::to_string(o));
  }
}

} // namespace

TEST_CASE("appends get dense offsets stamped in place", "[partition_log]") {
  temp_dir dir("plog-append");
  auto log = open_log(dir.path(), small_config());
  CHECK(log->log_start_offset() == 0);
  CHECK(log->log_end_offset() == 0);
  auto batch = numbered_batch(3, 1000);
  stamp_base_offset(batch.data(), 777); // whatever the producer sent
  auto info = ok(log->append(batch, 1000));
  CHECK(info.base_offset == 0);
  CHECK(info.last_offset == 2);
  CHECK(info.max_timestamp == 1000);
  CHECK(load_be<int64_t>(batch.data()) == 0);
  CHECK(ok(validate_batch(batch)).base_offset == 0); // CRC untouched by stamping
  append_numbered(*log, 4, 5);
  CHECK(log->log_end_offset() == 23);
  check_numbered(read_all(*log), 0, 23);
}

TEST_CASE("read returns whole batches within max bytes and below max offset",
          "[partition_log]") {
  temp_dir dir("plog-read");
  auto log = open_log(dir.path(), small_config());
  auto infos = append_numbered(*log, 40, 4); // offsets 0..159, several segments
  REQUIRE(log->segment_count() > 3);

  SECTION("from the middle of a batch: that batch comes whole") {
    auto data = ok(log->read(42, 1 << 20));
    auto hs = headers_of(data);
    CHECK(hs.front().base_offset == 40);
    CHECK(hs.back().next_offset() == 160); // across every segment
  }
  SECTION("max_bytes cuts at a batch boundary, but one batch always comes") {
    auto one = ok(log->read(0, 1));
    CHECK(headers_of(one).size() == 1);
    size_t batch_size = one.size();
    auto three = ok(log->read(0, 3 * batch_size + batch_size / 2));
    CHECK(headers_of(three).size() == 3);
  }
  SECTION("max_offset (high watermark) is exclusive and keeps batches whole") {
    auto data = ok(log->read(0, 1 << 20, 22));
    CHECK(headers_of(data).back().last_offset() == 19); // 20..23 reaches 22: left out
    CHECK(ok(log->read(20, 1 << 20, 22)).empty());
    CHECK(headers_of(ok(log->read(0, 1 << 20, 24))).back().last_offset() == 23);
  }
  SECTION("at the log end: empty; outside the log: OFFSET_OUT_OF_RANGE") {
    CHECK(ok(log->read(160, 1 << 20)).empty());
    CHECK(log->read(161, 1 << 20).error().code() == errc::offset_out_of_range);
    CHECK(log->read(-1, 1 << 20).error().code() == errc::offset_out_of_range);
  }
  SECTION("every start offset reads from the batch holding it") {
    for (int64_t o = 0; o < 160; ++o) {
      auto hs = headers_of(ok(log->read(o, 1)));
      REQUIRE(hs.size() == 1);
      CHECK(hs[0].base_offset == o - o % 4);
    }
  }
}

TEST_CASE("rejected appends leave every file byte-for-byte unchanged", "[partition_log]") {
  temp_dir dir("plog-reject");
  auto cfg = small_config();
  cfg.max_message_bytes = 600;
  auto log = open_log(dir.path(), cfg);
  append_numbered(*log, 3, 4);
  auto before = dir_snapshot(dir.path());
  auto end = log->log_end_offset();

  auto bad_crc = numbered_batch(2, 1000);
  bad_crc.back() ^= 0x01;
  auto copy = bad_crc;
  CHECK(log->append(bad_crc, 1000).error().code() == errc::corrupt_message);
  CHECK(bad_crc == copy); // not stamped either

  auto big = numbered_batch(10, 1000, 0, 100);
  REQUIRE(big.size() > 600);
  CHECK(log->append(big, 1000).error().code() == errc::message_too_large);

  auto trailing = numbered_batch(2, 1000);
  trailing.push_back(0);
  CHECK(log->append(trailing, 1000).error().code() == errc::corrupt_message);

  auto bad_magic = numbered_batch(2, 1000);
  bad_magic[batch_layout::magic] = 1;
  CHECK(log->append(bad_magic, 1000).error().code() == errc::corrupt_message);

  bytes empty = batch_builder{}.build();
  CHECK(log->append(empty, 1000).error().code() == errc::corrupt_message);

  bytes short_one(30, 0);
  CHECK(log->append(short_one, 1000).error().code() == errc::corrupt_message);

  CHECK(log->log_end_offset() == end);
  CHECK(dir_snapshot(dir.path()) == before);
  append_numbered(*log, 1, 2); // and the log still works
  check_numbered(read_all(*log), 0, end + 2);
}

TEST_CASE("segments roll by size and by time", "[partition_log]") {
  temp_dir dir("plog-roll");
  auto cfg = small_config();
  cfg.segment_ms = 60'000;
  auto log = open_log(dir.path(), cfg);
  SECTION("size: no segment grows past segment.bytes") {
    append_numbered(*log, 30, 4, 1000, 40);
    auto segs = log->segments();
    REQUIRE(segs.size() > 2);
    for (size_t i = 0; i < segs.size(); ++i) {
      CHECK(segs[i].size_bytes <= uint64_t(cfg.segment_bytes));
      CHECK(path_exists(segs[i].log_path));
      if (i > 0)
        CHECK(segs[i].base_offset == segs[i - 1].next_offset);
    }
    CHECK(log_file_name(segs[1].base_offset) ==
          segs[1].log_path.substr(segs[1].log_path.rfind('/') + 1));
  }
  SECTION("time: a segment older than segment.ms rolls on the next append") {
    auto b1 = numbered_batch(1, 0);
    ok(log->append(b1, 0));
    auto b2 = numbered_batch(1, 59'999, 1);
    CHECK_FALSE(ok(log->append(b2, 59'999)).rolled);
    auto b3 = numbered_batch(1, 60'000, 2);
    auto info = ok(log->append(b3, 60'000));
    CHECK(info.rolled);
    CHECK(log->segment_count() == 2);
    CHECK(log->segments()[1].base_offset == 2);
  }
}

TEST_CASE("a restart keeps the log end offset and the data", "[partition_log]") {
  temp_dir dir("plog-restart");
  auto cfg = small_config();
  {
    auto log = open_log(dir.path(), cfg);
    append_numbered(*log, 25, 3, 1000, 30);
    REQUIRE(log->segment_count() > 2);
    ok(log->close());
  }
  recovery_report report;
  auto log = open_log(dir.path(), cfg, 5000, &report);
  CHECK(report.events.empty());
  CHECK(log->log_end_offset() == 75);
  // The active segment counts as unflushed after a restart until its next
  // fsync (the open does not fsync it); closed segments are durable.
  CHECK(log->flushed_offset() == log->segments().back().base_offset);
  CHECK(log->flushed_offset() < 75);
  ok(log->flush());
  CHECK(log->flushed_offset() == 75);
  check_numbered(read_all(*log), 0, 75);
  append_numbered(*log, 1, 3);
  CHECK(log->log_end_offset() == 78);
  log.reset(); // the destructor closes too
  check_numbered(read_all(*open_log(dir.path(), cfg)), 0, 78);
}

TEST_CASE("truncate_to works across segments and survives a restart", "[partition_log]") {
  temp_dir dir("plog-truncate");
  auto cfg = small_config();
  auto log = open_log(dir.path(), cfg);
  append_numbered(*log, 40, 4, 1000, 20);
  REQUIRE(log->segment_count() > 3);
  auto segs = log->segments();

  SECTION("into an older segment: later segments go, the batch holding it goes") {
    int64_t target = segs[1].base_offset + 6; // mid-batch
    ok(log->truncate_to(target));
    CHECK(log->log_end_offset() == target - target % 4);
    CHECK(log->segment_count() == 2);
    CHECK_FALSE(path_exists(segs[2].log_path));
    check_numbered(read_all(*log), 0, log->log_end_offset());
    append_numbered(*log, 1, 4);
    auto end = log->log_end_offset();
    log.reset();
    auto again = open_log(dir.path(), cfg);
    CHECK(again->log_end_offset() == end);
    check_numbered(read_all(*again), 0, end);
  }
  SECTION("to a segment boundary") {
    ok(log->truncate_to(segs[2].base_offset));
    CHECK(log->log_end_offset() == segs[2].base_offset);
    CHECK(log->segment_count() == 3);
  }
  SECTION("at or past the end: nothing happens") {
    auto before = dir_snapshot(dir.path());
    ok(log->truncate_to(log->log_end_offset()));
    ok(log->truncate_to(1000));
    CHECK(log->log_end_offset() == 160);
    CHECK(dir_snapshot(dir.path()) == before);
  }
  SECTION("to the log start: empty log") {
    ok(log->truncate_to(0));
    CHECK(log->log_end_offset() == 0);
    CHECK(log->segment_count() == 1);
    CHECK(ok(log->read(0, 100)).empty());
  }
}

TEST_CASE("truncate_fully_and_start_at empties the log and restarts it past its end",
          "[partition_log][replication]") {
  // A follower whose leader's log starts after this log's end (retention
  // there): what it has is useless, and the next fetched batch starts at the
  // leader's log start (Kafka's truncateFullyAndStartAt).
  temp_dir leader_dir("plog-restart-leader");
  temp_dir dir("plog-restart");
  auto cfg = small_config();
  auto leader = open_log(leader_dir.path(), cfg);
  append_numbered(*leader, 40, 4, 1000, 20);
  auto log = open_log(dir.path(), cfg);
  append_numbered(*log, 10, 4, 1000, 20);
  REQUIRE(log->segment_count() > 1);
  auto old_segments = log->segments();
  ok(log->truncate_fully_and_start_at(100));
  CHECK(log->log_start_offset() == 100);
  CHECK(log->log_end_offset() == 100);
  CHECK(log->segment_count() == 1);
  for (const auto& seg : old_segments)
    CHECK_FALSE(path_exists(seg.log_path));
  CHECK(log->read(0, 100).error().code() == errc::offset_out_of_range);
  ok(log->append_as_follower(ok(leader->read(100, 1 << 20)), 0));
  CHECK(log->log_end_offset() == 160);
  check_numbered(read_all(*log), 100, 160);
  log.reset();
  auto again = open_log(dir.path(), cfg);
  CHECK(again->log_start_offset() == 100);
  check_numbered(read_all(*again), 100, 160);
}

TEST_CASE("lookup_by_timestamp finds the first record at or after a time",
          "[partition_log]") {
  auto seed = test_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  temp_dir dir("plog-time");
  auto log = open_log(dir.path(), small_config());
  std::vector<std::pair<int64_t, int64_t>> records; // (offset, timestamp)
  for (int b = 0; b < 60; ++b) {
    batch_builder builder;
    int n = 1 + int(rng() % 4);
    for (int i = 0; i < n; ++i) {
      int64_t ts = 10'000 + b * 100 + int64_t(rng() % 300); // mostly rising, some overlap
      records.emplace_back(log->log_end_offset() + i, ts);
      builder.append(ts, byte_view{std::string_view("k")}, byte_view{std::string_view("v")});
    }
    auto batch = builder.build();
    ok(log->append(batch, 0));
  }
  REQUIRE(log->segment_count() > 1);
  for (int64_t target = 9'990; target <= 16'500; target += 7) {
    // Kafka's answer: in the first segment whose max timestamp reaches the
    // target, the first batch whose max does, its first record that does.
    std::optional<int64_t> expected;
    for (const auto& seg : log->segments()) {
      if (seg.max_timestamp < target)
        continue;
      for (size_t i = 0; i < records.size() && !expected; ++i) {
        if (records[i].first < seg.base_offset || records[i].first >= seg.next_offset)
          continue;
        if (records[i].second >= target)
          expected = records[i].first;
      }
      break;
    }
    auto got = ok(log->lookup_by_timestamp(target));
    INFO("target " << target);
    REQUIRE(got.has_value() == expected.has_value());
    if (got) {
      CHECK(got->offset == *expected);
      CHECK(got->timestamp >= target);
    }
  }
}

TEST_CASE("flush policy: flush.messages and flush.ms", "[partition_log]") {
  temp_dir dir("plog-flush");
  auto cfg = small_config();
  SECTION("default: never forced by appends") {
    auto log = open_log(dir.path(), cfg);
    auto infos = append_numbered(*log, 3, 2);
    for (const auto& i : infos)
      CHECK_FALSE(i.flushed);
    CHECK(log->flushed_offset() == 0);
    ok(log->flush());
    CHECK(log->flushed_offset() == 6);
  }
  SECTION("flush.messages=1: every append is durable on return") {
    cfg.flush_messages = 1;
    auto log = open_log(dir.path(), cfg);
    for (const auto& i : append_numbered(*log, 3, 2)) {
      CHECK(i.flushed);
      CHECK(i.flushed_offset == i.last_offset + 1);
    }
  }
  SECTION("flush.messages=5: after at least 5 unflushed offsets") {
    cfg.flush_messages = 5;
    auto log = open_log(dir.path(), cfg);
    auto infos = append_numbered(*log, 4, 2);
    CHECK_FALSE(infos[0].flushed);
    CHECK_FALSE(infos[1].flushed);
    CHECK(infos[2].flushed); // 6 unflushed
    CHECK(infos[2].flushed_offset == 6);
    CHECK_FALSE(infos[3].flushed);
    CHECK(log->flushed_offset() == 6);
  }
  SECTION("flush.ms: on append or maybe_flush once the interval passed") {
    cfg.flush_ms = 1000;
    auto log = open_log(dir.path(), cfg, 0);
    auto b1 = numbered_batch(1, 0);
    CHECK_FALSE(ok(log->append(b1, 500)).flushed);
    CHECK_FALSE(ok(log->maybe_flush(999)));
    CHECK(ok(log->maybe_flush(1000)));
    CHECK(log->flushed_offset() == 1);
    auto b2 = numbered_batch(1, 0, 1);
    CHECK_FALSE(ok(log->append(b2, 1500)).flushed);
    auto b3 = numbered_batch(1, 0, 2);
    CHECK(ok(log->append(b3, 2000)).flushed);
    CHECK_FALSE(ok(log->maybe_flush(5000))); // nothing left to flush
  }
}

TEST_CASE("follower appends keep the leader's offsets", "[partition_log]") {
  temp_dir leader_dir("plog-leader");
  temp_dir follower_dir("plog-follower");
  auto leader = open_log(leader_dir.path(), small_config());
  auto follower = open_log(follower_dir.path(), small_config());
  append_numbered(*leader, 20, 3, 1000, 30);
  auto fetched = ok(leader->read(0, 2000));
  auto info = ok(follower->append_as_follower(fetched, 0));
  CHECK(info.base_offset == 0);
  CHECK(info.last_offset == headers_of(fetched).back().last_offset());
  CHECK(follower->log_end_offset() == info.last_offset + 1);
  // The same batches again are below the log end: refused, nothing written.
  auto before = dir_snapshot(follower_dir.path());
  CHECK(follower->append_as_follower(fetched, 0).error().code() == errc::offset_out_of_range);
  CHECK(dir_snapshot(follower_dir.path()) == before);
  // Corrupt anywhere in the fetched data: nothing of it is written.
  auto rest = ok(leader->read(follower->log_end_offset(), 1 << 20));
  auto damaged = rest;
  damaged[damaged.size() - 3] ^= 0xff;
  CHECK(follower->append_as_follower(damaged, 0).error().code() == errc::corrupt_message);
  CHECK(dir_snapshot(follower_dir.path()) == before);
  ok(follower->append_as_follower(rest, 0));
  CHECK(follower->log_end_offset() == leader->log_end_offset());
  check_numbered(read_all(*follower), 0, 60);
  // A gap (what compaction leaves) is accepted and rolls nothing back.
  auto later = numbered_batch(2, 1000, 100);
  stamp_base_offset(later.data(), 100);
  ok(follower->append_as_follower(later, 0));
  CHECK(follower->log_end_offset() == 102);
  CHECK(headers_of(ok(follower->read(70, 1 << 20))).front().base_offset == 100);
}

TEST_CASE("bytes_readable counts what read would return, from positions only",
          "[partition_log]") {
  temp_dir dir("plog-readable");
  auto log = open_log(dir.path(), small_config());
  append_numbered(*log, 40, 4); // offsets 0..159, several segments
  REQUIRE(log->segment_count() > 3);
  auto end = log->log_end_offset();
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    int64_t from = int64_t(rng() % uint32_t(end + 1));
    int64_t limit = int64_t(rng() % uint32_t(end + 10));
    INFO("from " << from << " limit " << limit);
    auto expected = ok(log->read(from, size_t(1) << 30, limit)).size();
    CHECK(ok(log->bytes_readable(from, limit)) == expected);
  }
  CHECK(ok(log->bytes_readable(0)) == log->size_bytes());
  CHECK(ok(log->bytes_readable(end)) == 0);
  CHECK(ok(log->bytes_readable(end + 5)) == 0);
}

TEST_CASE("a produced batch larger than segment.bytes is RECORD_LIST_TOO_LARGE",
          "[partition_log]") {
  temp_dir dir("plog-too-large");
  auto cfg = small_config(); // segment.bytes 1024
  auto log = open_log(dir.path(), cfg);
  auto big = numbered_batch(4, 1000, 0, 300);
  REQUIRE(big.size() > 1024);
  auto r = log->append(big, 1000);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::record_list_too_large);
  CHECK(log->log_end_offset() == 0);
  cfg.max_message_bytes = 1000; // max.message.bytes is checked first
  log->set_config(cfg);
  r = log->append(big, 1000);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::message_too_large);
}

TEST_CASE("a future timestamp does not hold off segment.ms after a restart", "[partition_log]") {
  temp_dir dir("plog-future-roll");
  auto cfg = small_config();
  cfg.segment_ms = 60'000;
  const int64_t far = int64_t(1) << 60;
  {
    auto log = open_log(dir.path(), cfg, 1000);
    auto b = numbered_batch(1, far); // the producer's clock is far ahead
    ok(log->append(b, 1000));
  }
  auto log = open_log(dir.path(), cfg, 2000); // reopened: counts from 2000, not `far`
  CHECK(log->segments().back().max_timestamp == far);
  auto b2 = numbered_batch(1, 61'999, 1);
  CHECK_FALSE(ok(log->append(b2, 61'999)).rolled);
  auto b3 = numbered_batch(1, 62'000, 2);
  CHECK(ok(log->append(b3, 62'000)).rolled);
}

TEST_CASE("discard closes a log without writing its indexes, close writes them",
          "[partition_log]") {
  // What a deleted partition does with its log: nothing more is written or
  // flushed before the folder goes.
  auto index_size = [](const std::string& dir) -> uint64_t {
    auto path = join_path(dir, index_file_name(0));
    return path_exists(path) ? ok(file_size(path)) : 0;
  };
  auto config = small_config();
  config.segment_bytes = 1 << 20; // one segment: the active one
  temp_dir kept("plog-close");
  temp_dir gone("plog-discard");
  for (auto* d : {&kept, &gone}) {
    auto log = open_log(d->path(), config);
    append_numbered(*log, 200, 5, 1000, 64);
    auto before = index_size(d->path());
    if (d == &kept) {
      ok(log->close());
      CHECK(index_size(d->path()) > before); // the active segment's entries written
    } else {
      log->discard();
      log.reset(); // and the destructor writes nothing either
      CHECK(index_size(d->path()) == before);
    }
  }
}
