// Segment files, names and the sparse indexes: every lookup must agree with
// a linear scan, and indexes must survive a round trip through their files.
#include "log_test_support.hpp"

#include <random>

#include "storage/log_filename.hpp"
#include "storage/segment.hpp"

using namespace al;
using namespace al::test;

namespace {

struct appended {
  uint64_t position;
  batch_header header;
};

/// Appends `n` batches with 1-5 records, random value sizes and random
/// (not monotonic) timestamps; returns what went where.
std::vector<appended> fill(segment& seg, std::mt19937& rng, int n) {
  std::vector<appended> out;
  int64_t offset = seg.base_offset();
  for (int i = 0; i < n; ++i) {
    int records = 1 + int(rng() % 5);
    auto batch = numbered_batch(records, 1000 + int64_t(rng() % 500), int(offset),
                                size_t(rng() % 200));
    stamp_base_offset(batch.data(), offset);
    auto h = ok(validate_batch(batch));
    out.push_back({seg.size_bytes(), h});
    ok(seg.append(batch, h, 0));
    offset = h.next_offset();
  }
  return out;
}

const appended* linear_find(const std::vector<appended>& all, int64_t offset) {
  for (const auto& a : all)
    if (a.header.last_offset() >= offset)
      return &a;
  return nullptr;
}

const appended* linear_find_time(const std::vector<appended>& all, int64_t ts) {
  for (const auto& a : all)
    if (a.header.max_timestamp >= ts)
      return &a;
  return nullptr;
}

void check_lookups(const segment& seg, const std::vector<appended>& all, std::mt19937& rng) {
  for (int i = 0; i < 300; ++i) {
    int64_t target = seg.base_offset() + int64_t(rng() % uint64_t(seg.next_offset() -
                                                                   seg.base_offset() + 3));
    auto found = ok(seg.find_batch(target));
    auto expected = linear_find(all, target);
    INFO("offset " << target);
    REQUIRE(found.has_value() == (expected != nullptr));
    if (expected)
      CHECK(found->position == expected->position);
    int64_t ts = 990 + int64_t(rng() % 520);
    auto by_time = ok(seg.find_by_timestamp(ts));
    auto expected_time = linear_find_time(all, ts);
    INFO("timestamp " << ts);
    REQUIRE(by_time.has_value() == (expected_time != nullptr));
    if (expected_time)
      CHECK(by_time->position == expected_time->position);
  }
}

} // namespace

TEST_CASE("file names: one per kind, one parser", "[segment]") {
  CHECK(log_file_name(0) == "00000000000000000000.log");
  CHECK(index_file_name(1234) == "00000000000000001234.index");
  CHECK(time_index_file_name(1234) == "00000000000000001234.timeindex");
  CHECK(cleaned_file_name(7) == "00000000000000000007.log.cleaned");
  CHECK(swap_file_name(7) == "00000000000000000007.log.swap");
  auto p = parse_log_file_name("00000000000000001234.timeindex");
  REQUIRE(p);
  CHECK(p->base_offset == 1234);
  CHECK(p->kind == log_file_kind::time_index);
  CHECK(parse_log_file_name(swap_file_name(INT64_MAX))->base_offset == INT64_MAX);
  for (const char* junk : {"", "meta.db", "0000000000000000123.log", "00000000000000001234.lo",
                           "0000000000000000123x.log", "99999999999999999999.log"})
    CHECK_FALSE(parse_log_file_name(junk));
}

TEST_CASE("offset and time index lookups agree with a linear scan", "[segment][index]") {
  auto seed = test_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  offset_index oi("unused", 1000);
  time_index ti("unused", 1000);
  std::vector<std::pair<int64_t, uint32_t>> entries;
  int64_t offset = 1000;
  uint32_t position = 0;
  int64_t ts = 0;
  for (int i = 0; i < 500; ++i) {
    offset += 1 + rng() % 50;
    position += 1 + rng() % 5000;
    ts += rng() % 3; // sometimes equal: time index keeps only increases
    oi.append(offset, position);
    ti.maybe_append(ts, offset);
    entries.emplace_back(offset, position);
  }
  for (int i = 0; i < 2000; ++i) {
    int64_t target = 990 + int64_t(rng() % uint64_t(offset - 980));
    offset_index::position_hint expected{1000, 0};
    for (const auto& [o, p] : entries)
      if (o <= target)
        expected = {o, p};
    auto got = oi.lookup(target);
    INFO("target " << target);
    CHECK(got.offset == expected.offset);
    CHECK(got.position == expected.position);
  }
  for (int64_t t = -1; t <= ts + 1; ++t) {
    int64_t expected = 1000;
    for (const auto& e : ti.entries())
      if (e.timestamp <= t)
        expected = 1000 + e.relative_offset;
    CHECK(ti.lookup(t) == expected);
  }
}

TEST_CASE("segment lookups agree with a linear scan, live, reloaded and rebuilt",
          "[segment]") {
  auto seed = test_seed();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  temp_dir dir("segment");
  auto seg = ok(segment::create(dir.path(), 500, 256, 0));
  auto all = fill(*seg, rng, 200);
  CHECK(seg->next_offset() == all.back().header.next_offset());
  CHECK(seg->index().size() > 20);
  check_lookups(*seg, all, rng);
  auto index_entries = seg->index().entries();
  auto max_ts = seg->max_timestamp();
  ok(seg->on_roll());
  ok(seg->close());

  SECTION("reloaded through its index files") {
    auto again = ok(segment::open(dir.path(), 500, 256, 0));
    ok(again->load());
    CHECK(again->next_offset() == all.back().header.next_offset());
    CHECK(again->max_timestamp() == max_ts);
    CHECK(again->index().size() == index_entries.size());
    check_lookups(*again, all, rng);
  }
  SECTION("rebuilt from the log") {
    ok(remove_file(dir.file(index_file_name(500))));
    auto again = ok(segment::open(dir.path(), 500, 256, 0));
    CHECK(again->load().code() == errc::corrupt_message);
    auto scan = ok(again->recover());
    CHECK(scan.stop == scan_result::end);
    CHECK(scan.dropped_bytes == 0);
    CHECK(again->max_timestamp() == max_ts);
    REQUIRE(again->index().size() == index_entries.size());
    for (size_t i = 0; i < index_entries.size(); ++i) {
      CHECK(again->index().entries()[i].relative_offset == index_entries[i].relative_offset);
      CHECK(again->index().entries()[i].position == index_entries[i].position);
    }
    check_lookups(*again, all, rng);
    // The rebuilt index is written with the segment's next flush of its
    // indexes (roll, close), not by the recovery itself.
    CHECK_FALSE(path_exists(dir.file(index_file_name(500))));
    ok(again->flush_indexes());
    CHECK(path_exists(dir.file(index_file_name(500))));
  }
}

TEST_CASE("broken index files are refused on load", "[segment][index]") {
  temp_dir dir("index-load");
  std::mt19937 rng(1);
  auto seg = ok(segment::create(dir.path(), 0, 128, 0));
  fill(*seg, rng, 50);
  ok(seg->close());
  auto path = dir.file(index_file_name(0));
  auto good = file_bytes(path);
  REQUIRE(good.size() >= 16);
  auto load_error = [&](const bytes& content) {
    write_file_bytes(path, content);
    auto again = ok(segment::open(dir.path(), 0, 128, 0));
    return again->load();
  };
  CHECK(load_error(good).is_ok());
  CHECK(load_error(bytes(good.begin(), good.end() - 3)).code() == errc::corrupt_message);
  bytes swapped = good;
  std::swap_ranges(swapped.begin(), swapped.begin() + 8, swapped.begin() + 8);
  CHECK(load_error(swapped).message().find("does not increase") != std::string::npos);
  bytes far = good;
  store_be<uint32_t>(far.data() + far.size() - 4, 0x7fffffff);
  store_be<uint32_t>(far.data() + far.size() - 8, 0x7fffffff);
  CHECK(load_error(far).message().find("past the log") != std::string::npos);
  bytes misaligned = good; // a position inside a batch: the tail scan notices
  store_be<uint32_t>(misaligned.data() + misaligned.size() - 4,
                     load_be<uint32_t>(misaligned.data() + misaligned.size() - 4) + 1);
  CHECK(load_error(misaligned).code() == errc::corrupt_message);
  ok(remove_file(path));
  auto again = ok(segment::open(dir.path(), 0, 128, 0));
  CHECK(again->load().message().find("missing") != std::string::npos);
}

TEST_CASE("segment read_batches cuts at whole batches, max bytes and max offset",
          "[segment]") {
  temp_dir dir("segment-read");
  std::mt19937 rng(2);
  auto seg = ok(segment::create(dir.path(), 0, 4096, 0));
  auto all = fill(*seg, rng, 10);
  bytes out;
  auto r = ok(seg->read_batches(0, 1 << 20, INT64_MAX, false, out));
  CHECK(r.bytes == seg->size_bytes());
  CHECK_FALSE(r.more);
  CHECK(r.next_offset == seg->next_offset());

  out.clear(); // two batches and a bit: the third does not fit
  size_t two = all[2].position;
  r = ok(seg->read_batches(0, two + 10, INT64_MAX, false, out));
  CHECK(r.bytes == two);
  CHECK(r.more);

  out.clear(); // max_bytes smaller than the first batch: only with min_one
  r = ok(seg->read_batches(all[3].position, 5, INT64_MAX, false, out));
  CHECK(r.bytes == 0);
  r = ok(seg->read_batches(all[3].position, 5, INT64_MAX, true, out));
  CHECK(r.bytes == all[3].header.size_in_bytes());
  CHECK(out.size() == r.bytes);

  out.clear(); // max offset: batches whose last offset reaches it stay out
  r = ok(seg->read_batches(0, 1 << 20, all[4].header.last_offset(), true, out));
  CHECK(r.bytes == all[4].position);
  CHECK(r.next_offset == all[3].header.next_offset());
}

TEST_CASE("segment truncate_to drops whole batches and reindexes", "[segment]") {
  temp_dir dir("segment-truncate");
  std::mt19937 rng(3);
  auto seg = ok(segment::create(dir.path(), 0, 128, 0));
  auto all = fill(*seg, rng, 60);
  const auto& cut = all[30].header;
  int64_t mid = cut.base_offset + cut.last_offset_delta / 2 + (cut.last_offset_delta > 0);
  ok(seg->truncate_to(mid));
  CHECK(seg->next_offset() == cut.base_offset);
  CHECK(seg->size_bytes() == all[30].position);
  int64_t max_ts = -1;
  for (size_t i = 0; i < 30; ++i)
    max_ts = std::max(max_ts, all[i].header.max_timestamp);
  CHECK(seg->max_timestamp() == max_ts);
  all.resize(30);
  check_lookups(*seg, all, rng);
  // Appending after a truncation continues at the cut.
  auto batch = numbered_batch(2, 2000, 0);
  stamp_base_offset(batch.data(), seg->next_offset());
  ok(seg->append(batch, ok(validate_batch(batch)), 0));
  CHECK(seg->max_timestamp() == 2000);
  ok(seg->close());
  auto again = ok(segment::open(dir.path(), 0, 128, 0));
  ok(again->load());
  CHECK(again->next_offset() == cut.base_offset + 2);
}

TEST_CASE("index files match the worked examples in docs/formats/segment.md",
          "[segment][index]") {
  temp_dir dir("index-golden");
  offset_index oi(dir.file(index_file_name(1000)), 1000);
  oi.append(1003, 4200);
  oi.append(1010, 8400);
  ok(oi.flush());
  CHECK(file_bytes(oi.path()) == bytes{0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x10, 0x68,
                                       0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x20, 0xd0});
  time_index ti(dir.file(time_index_file_name(1000)), 1000);
  ti.maybe_append(1700000000000, 1003);
  ti.maybe_append(1700000000000, 1005); // not an increase: ignored
  ti.maybe_append(1700000000500, 1010);
  ok(ti.flush());
  CHECK(file_bytes(ti.path()) == bytes{0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
                                       0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x01, 0x8b,
                                       0xcf, 0xe5, 0x69, 0xf4, 0x00, 0x00, 0x00, 0x0a});
  // Appending after a flush writes only the new entry; a truncation rewrites.
  oi.append(1020, 9000);
  ok(oi.flush());
  CHECK(file_bytes(oi.path()).size() == 24);
  oi.truncate_to_offset(1010);
  ok(oi.flush());
  CHECK(file_bytes(oi.path()).size() == 8);
}
