// Compaction and retention with transactions (issue 16): aborted records
// go and never supersede committed ones, an open transaction holds the
// cleaner at its first offset, markers go only once their transaction's
// data is gone and delete.retention.ms has passed (their .txnindex entry
// with them), retention keeps the last stable offset at or above the log
// start, and a restart after all this reads the same committed records.
#include "log_test_support.hpp"

#include <algorithm>
#include <optional>

#include "actors/client/aborted_filter.hpp"
#include "actors/partition/partition_txn_machine.hpp"
#include "actors/partition/producer_state_store.hpp"
#include "storage/log_filename.hpp"

using namespace al;
using namespace al::test;

namespace {

constexpr int64_t p1 = 1001;
constexpr int64_t p2 = 1002;

log_config txn_config() {
  auto c = small_config();
  c.policy = {false, true};
  c.segment_ms = 100; // one segment per timestamp step below
  c.delete_retention_ms = 1000;
  return c;
}

bytes txn_batch(int64_t pid, const std::vector<kv>& records, int64_t ts) {
  batch_options o;
  o.producer_id = pid;
  o.producer_epoch = 0;
  o.base_sequence = 0;
  o.transactional = true;
  batch_builder b(o);
  for (const auto& [k, v] : records)
    b.append(ts, view_of(k), view_of(v));
  return b.build();
}

/// A one-replica leader: appends feed the producer state, an ABORT goes to
/// the .txnindex, the HW is the log end (what the partition actor does).
struct txn_log {
  std::unique_ptr<partition_log> log;
  producer_state_table producers;

  void write(bytes batch, int64_t ts) {
    ok(log->append(batch, ts));
    auto h = read_batch_header(batch.data()); // stamped in place
    std::optional<txn_marker> m;
    if (h.is_control())
      m = ok(decode_txn_marker(byte_view{batch}));
    if (auto a = producers.on_append(h, ts, m ? &*m : nullptr, log->log_end_offset()))
      ok(log->add_aborted(*a));
  }
  void plain(const std::vector<kv>& records, int64_t ts) { write(kv_batch(records, ts), ts); }
  void txn(int64_t pid, const std::vector<kv>& records, int64_t ts) {
    write(txn_batch(pid, records, ts), ts);
  }
  void end(int64_t pid, bool commit, int64_t ts) {
    write(build_txn_marker_batch(pid, 0, txn_marker{commit, 1}, ts), ts);
  }
  int64_t lso() const {
    return producers.txns().last_stable_offset(log->log_end_offset(), log->log_start_offset());
  }
  /// What housekeeping does: compaction below the LSO.
  compaction_stats compact(int64_t now, int64_t marker_limit = partition_log::no_limit) {
    return ok(log->compact(now, lso(), marker_limit));
  }
};

std::string show(const plain_record& r) {
  return std::to_string(r.offset) + ":" + r.key.value_or("-") + "=" + r.value.value_or("null");
}

struct log_view {
  std::vector<std::string> records; // data records, "offset:key=value"
  std::vector<int64_t> markers;     // control batches' offsets
};

/// The log from its start below `upto`; `read_committed` skips what a
/// read_committed consumer skips (aborted_filter, with the aborted
/// transactions the fetch would name).
log_view view(const partition_log& log, bool read_committed = false,
              int64_t upto = partition_log::no_limit) {
  log_view out;
  const int64_t from = log.log_start_offset();
  if (from >= std::min(upto, log.log_end_offset()))
    return out;
  auto data = ok(log.read(from, 1 << 24, upto));
  std::vector<aborted_range> ranges;
  for (const auto& a : log.aborted_between(from, std::min(upto, log.log_end_offset())))
    ranges.push_back({a.producer_id, a.first_offset});
  aborted_filter filter(ranges);
  for (size_t pos = 0; pos < data.size();) {
    auto d = ok(decode_batch(byte_view{data}.sub(pos, data.size() - pos), "view"));
    auto whole = byte_view{data}.sub(pos, d.header.size_in_bytes());
    pos += d.header.size_in_bytes();
    bool skipped = read_committed && filter.skip(d.header, whole);
    if (d.header.is_control())
      out.markers.push_back(d.header.base_offset);
    else if (!skipped)
      for (const auto& r : d.records)
        if (r.offset >= from)
          out.records.push_back(show(to_plain(r)));
  }
  return out;
}

using strings = std::vector<std::string>;
using offsets = std::vector<int64_t>;

/// k=v0 (0); P1 commits k=c1, x=c1 (1, 2); P2 aborts k=ab, y=ab (3, 4);
/// COMMIT (5), ABORT (6); then z (7) and w (8), each rolling, so offsets
/// 0-6 form a closed segment whose newest record is at 1000.
txn_log committed_and_aborted(const std::string& dir) {
  txn_log t{open_log(dir, txn_config()), {}};
  t.plain({{"k", "v0"}}, 1000);
  t.txn(p1, {{"k", "c1"}, {"x", "c1"}}, 1000);
  t.txn(p2, {{"k", "ab"}, {"y", "ab"}}, 1000);
  t.end(p1, true, 1000);
  t.end(p2, false, 1000);
  t.plain({{"z", "1"}}, 2000);
  t.plain({{"w", "1"}}, 3000);
  REQUIRE(t.log->segment_count() == 3);
  REQUIRE(t.log->aborted_txns().size() == 1);
  REQUIRE(t.lso() == 9);
  return t;
}

} // namespace

TEST_CASE("compaction drops aborted records, and they never supersede committed ones",
          "[compaction][txn]") {
  temp_dir dir("compact-txn-aborted");
  auto t = committed_and_aborted(dir.path());
  auto stats = t.compact(1500); // before delete.retention.ms: every marker stays
  CHECK(stats.aborted_removed == 2);
  CHECK(stats.records_removed == 1); // k=v0, superseded by the committed k=c1
  CHECK(stats.markers_removed == 0);
  auto v = view(*t.log);
  CHECK(v.records == strings{"1:k=c1", "2:x=c1", "7:z=1", "8:w=1"});
  CHECK(v.markers == offsets{5, 6});
  CHECK(view(*t.log, true).records == v.records);
  // A second pass finds nothing more before the horizon.
  CHECK(t.compact(1500).segments_cleaned == 0);
}

TEST_CASE("a marker goes once its transaction's data is gone and delete.retention.ms has "
          "passed, its .txnindex entry with it",
          "[compaction][txn]") {
  temp_dir dir("compact-txn-markers");
  auto t = committed_and_aborted(dir.path());
  auto txn_index = dir.file(txn_index_file_name(0));
  // Past the horizon, but the aborted data is still there when the pass
  // begins: its marker outlives it by one pass.
  CHECK(t.compact(2500).markers_removed == 0);
  CHECK(view(*t.log).markers == offsets{5, 6});
  CHECK(file_bytes(txn_index).size() == txn_index::entry_size);

  SECTION("markers past the newest producer snapshot stay") {
    CHECK(t.compact(2500, 6).markers_removed == 0);
    CHECK(t.compact(2500, 7).markers_removed == 1);
  }
  SECTION("the next pass removes the ABORT; the COMMIT stays while k=c1 and x=c1 do") {
    auto stats = t.compact(2500);
    CHECK(stats.markers_removed == 1);
    CHECK(stats.segments_cleaned == 1);
  }
  CHECK(view(*t.log).markers == offsets{5});
  CHECK(t.log->aborted_txns().empty());
  CHECK(file_bytes(txn_index).empty());

  // Newer values supersede P1's records: its batch goes, then its marker.
  t.plain({{"k", "v9"}, {"x", "v9"}}, 4000);
  t.plain({{"u", "1"}}, 5000); // rolls: the new values are in a closed segment
  auto stats = t.compact(5500);
  CHECK(stats.records_removed == 2);
  CHECK(stats.markers_removed == 0);
  CHECK(t.compact(5500).markers_removed == 1);
  auto v = view(*t.log);
  CHECK(v.markers.empty());
  CHECK(v.records == strings{"7:z=1", "8:w=1", "9:k=v9", "10:x=v9", "11:u=1"});
  CHECK(t.log->log_end_offset() == 12); // offsets never change
  // P2's next transaction is read: an entry left for its removed ABORT
  // would make a read_committed consumer skip P2 from its first offset on.
  t.txn(p2, {{"n", "p2"}}, 6000);
  t.end(p2, true, 6000);
  CHECK(view(*t.log, true, t.lso()).records.back() == "12:n=p2");
}

TEST_CASE("an open transaction holds compaction at its first offset until its marker",
          "[compaction][txn]") {
  temp_dir dir("compact-txn-open");
  txn_log t{open_log(dir.path(), txn_config()), {}};
  t.plain({{"k", "old"}}, 1000);          // 0
  t.txn(p1, {{"t", "open"}}, 1000);       // 1: P1 opens here
  t.plain({{"a", "1"}}, 1000);            // 2
  t.plain({{"a", "2"}, {"k", "2"}}, 2000); // 3, 4: rolls
  t.plain({{"b", "1"}}, 3000);            // 5: rolls
  REQUIRE(t.log->segment_count() == 3);
  REQUIRE(t.lso() == 1);
  const auto before = view(*t.log).records;
  // With the HW (6) as the bound, k=old and a=1 would go and P1's record
  // would count although P1 may still abort.
  auto stats = t.compact(10000);
  CHECK(stats.segments_cleaned == 0);
  CHECK(view(*t.log).records == before);

  SECTION("committed: the cleaner passes it, P1's record stays") {
    t.end(p1, true, 3000); // 6
    REQUIRE(t.lso() == 7);
    t.compact(10000);
    CHECK(view(*t.log).records == strings{"1:t=open", "3:a=2", "4:k=2", "5:b=1"});
  }
  SECTION("aborted: the cleaner passes it, P1's record goes") {
    t.end(p1, false, 3000);
    REQUIRE(t.lso() == 7);
    CHECK(t.compact(10000).aborted_removed == 1);
    CHECK(view(*t.log).records == strings{"3:a=2", "4:k=2", "5:b=1"});
  }
}

TEST_CASE("a restart after compaction reads the same committed records, no transaction open",
          "[compaction][txn][recovery]") {
  temp_dir dir("compact-txn-restart");
  auto t = committed_and_aborted(dir.path());
  bool snapshot = GENERATE(false, true);
  INFO("producer snapshot before compaction: " << snapshot);
  if (snapshot)
    ok(save_producer_state(t.producers, *t.log));
  t.compact(2500);
  t.compact(2500); // the ABORT marker goes
  const auto committed = view(*t.log, true, t.lso()).records;
  CHECK(committed == strings{"1:k=c1", "2:x=c1", "7:z=1", "8:w=1"});
  ok(t.log->close());

  t.log = open_log(dir.path(), txn_config());
  std::string note;
  t.producers = ok(load_producer_state(*t.log, &note));
  INFO(note);
  CHECK(t.producers.txns().open_count() == 0);
  CHECK(t.lso() == t.log->log_end_offset());
  CHECK(view(*t.log, true, t.lso()).records == committed);
  CHECK(view(*t.log).markers == offsets{5});
}

TEST_CASE("a marker past the newest producer snapshot survives, so a restart from it closes "
          "the transaction",
          "[compaction][txn][recovery]") {
  temp_dir dir("compact-txn-snapshot");
  txn_log t{open_log(dir.path(), txn_config()), {}};
  t.txn(p2, {{"y", "ab"}}, 1000); // 0: P2 open
  ok(save_producer_state(t.producers, *t.log)); // covers 1: P2 open in it
  t.end(p2, false, 1000);                         // 1
  t.plain({{"z", "1"}}, 2000);                    // 2: rolls
  t.plain({{"w", "1"}}, 3000);                    // 3: rolls
  auto limit = producer_snapshot_offsets(dir.path()).back();
  REQUIRE(limit == 1);
  t.compact(2500, limit);
  CHECK(t.compact(2500, limit).markers_removed == 0);
  CHECK(view(*t.log).markers == offsets{1});
  ok(t.log->close());

  t.log = open_log(dir.path(), txn_config());
  t.producers = ok(load_producer_state(*t.log, nullptr));
  CHECK(t.producers.txns().open_count() == 0);
  CHECK(t.lso() == 4);
  CHECK(view(*t.log, true, t.lso()).records == strings{"2:z=1", "3:w=1"});
}

TEST_CASE("retention past an open transaction's first offset keeps the LSO at the log start "
          "and the transaction open across a restart",
          "[retention][txn]") {
  temp_dir dir("retention-txn-open");
  auto cfg = txn_config();
  cfg.policy = {true, false};
  cfg.retention_ms = 1500;
  txn_log t{open_log(dir.path(), cfg), {}};
  t.txn(p1, {{"t", "1"}}, 1000); // 0: P1 opens
  t.plain({{"a", "1"}}, 1000);   // 1
  t.plain({{"b", "1"}}, 2000);   // 2: rolls
  t.txn(p1, {{"t", "2"}}, 3000); // 3: rolls
  t.plain({{"c", "1"}}, 4000);   // 4: rolls
  REQUIRE(t.lso() == 0);
  auto deleted = ok(t.log->apply_retention(3600, t.log->log_end_offset()));
  REQUIRE(deleted.size() == 2);
  REQUIRE(t.log->log_start_offset() == 3);
  // Not 0: a consumer told the LSO must be able to fetch from it, and
  // nothing past P1's first offset still in the log is readable.
  CHECK(t.lso() == 3);
  CHECK(view(*t.log, true, t.lso()).records.empty());

  // The partition snapshots its producers after such a deletion
  // (keep_open_transactions); the restart restores P1's transaction.
  ok(save_producer_state(t.producers, *t.log));
  ok(t.log->close());
  t.log = open_log(dir.path(), cfg);
  t.producers = ok(load_producer_state(*t.log, nullptr));
  REQUIRE(t.producers.txns().open_since(p1) == std::optional<int64_t>{0});
  CHECK(t.lso() == 3);

  t.end(p1, false, 4000); // 5
  CHECK(t.lso() == 6);
  REQUIRE(t.log->aborted_txns().size() == 1);
  CHECK(t.log->aborted_txns()[0].first_offset == 0);
  CHECK(view(*t.log, true, t.lso()).records == strings{"4:c=1"});
}

TEST_CASE("the last stable offset: the HW, an open transaction's first offset, never below "
          "the log start",
          "[txn][partition]") {
  partition_txn_machine m;
  CHECK(m.last_stable_offset(10, 4) == 10);
  auto b = txn_batch(p1, {{"k", "v"}}, 1000);
  stamp_base_offset(b.data(), 2);
  m.on_batch(read_batch_header(b.data()), std::nullopt, 3);
  CHECK(m.last_stable_offset(10) == 2);
  CHECK(m.last_stable_offset(10, 1) == 2);
  CHECK(m.last_stable_offset(10, 5) == 5);
  CHECK(m.last_stable_offset(1, 0) == 1); // never past the HW
  CHECK(m.last_stable_offset(4, 5) == 4);
}
