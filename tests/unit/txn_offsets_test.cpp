// Transactional offset commits (issue 16): pending until the producer's
// marker, dropped on abort, and a later plain commit wins.
#include <catch2/catch.hpp>

#include "actors/group/offsets_record.hpp"
#include "actors/group/txn_offsets_machine.hpp"
#include "actors/partition/partition_txn_machine.hpp"
#include "storage/record_batch.hpp"

using namespace al;

namespace {

const topic_partition orders0{"orders", 0};
const topic_partition orders1{"orders", 1};

group_offsets at(std::initializer_list<std::pair<topic_partition, int64_t>> rows) {
  group_offsets out;
  for (auto& [tp, off] : rows)
    out[tp] = group_offset{off, "", -1, 0, -1};
  return out;
}

} // namespace

TEST_CASE("transactional offsets are pending until the COMMIT marker, gone after an ABORT",
          "[txn][offsets]") {
  txn_offsets_machine m;
  m.on_txn_commit_appended(7, at({{orders0, 100}, {orders1, 50}}), 1000);
  m.on_txn_commit_appended(7, at({{orders0, 120}}), 1001); // later in the same transaction
  m.on_txn_commit_appended(8, at({{orders1, 60}}), 1002);
  CHECK(m.has_pending(orders0));
  CHECK(m.has_pending(orders1));
  CHECK(m.producers() == std::set<int64_t>{7, 8});
  auto committed = m.on_marker(7, true);
  REQUIRE(committed.size() == 2);
  CHECK(committed[orders0].offset == 120);
  CHECK(committed[orders1].offset == 50);
  CHECK_FALSE(m.has_pending(orders0));
  CHECK(m.has_pending(orders1)); // producer 8's
  CHECK(m.on_marker(8, false).empty());
  CHECK_FALSE(m.has_pending(orders1));
  CHECK(m.producers().empty());
  CHECK(m.on_marker(8, true).empty()); // a duplicate marker
}

TEST_CASE("a plain commit written after a transactional one wins at the marker",
          "[txn][offsets]") {
  txn_offsets_machine m;
  m.on_txn_commit_appended(7, at({{orders0, 100}, {orders1, 50}}), 1000);
  m.on_plain_commit_appended(at({{orders0, 90}}), 1005); // after the transaction's record
  m.on_plain_commit_appended(at({{orders1, 40}}), 900);  // before it
  auto committed = m.on_marker(7, true);
  CHECK(committed.count(orders0) == 0);
  REQUIRE(committed.count(orders1) == 1);
  CHECK(committed[orders1].offset == 50);
  m.clear();
  CHECK(m.producers().empty());
}

// ---- the group coordinator's load (offsets_loader) ------------------------


namespace {

/// A log of __consumer_offsets batches, each stamped at the next offset.
struct offsets_log {
  bytes data;
  int64_t next = 0;

  void append(bytes b) {
    stamp_base_offset(b.data(), next);
    next += read_batch_header(b.data()).last_offset_delta + 1;
    data.insert(data.end(), b.begin(), b.end());
  }
  void plain(const std::string& group, const topic_partition& tp, int64_t offset) {
    append(offset_commit_batch(group, at({{tp, offset}}), 1000));
  }
  void txn(int64_t pid, const std::string& group, const topic_partition& tp, int64_t offset) {
    auto b = offset_commit_batch(group, at({{tp, offset}}), 1000);
    store_be<int64_t>(b.data() + batch_layout::producer_id, pid);
    store_be<int16_t>(b.data() + batch_layout::producer_epoch, 0);
    auto attrs = load_be<int16_t>(b.data() + batch_layout::attributes);
    store_be<int16_t>(b.data() + batch_layout::attributes,
                      int16_t(attrs | batch_attr::transactional));
    write_batch_crc(b.data(), b.size());
    append(std::move(b));
  }
  void marker(int64_t pid, bool commit) {
    append(build_txn_marker_batch(pid, 1, txn_marker{commit, 0}, 1000));
  }
};

} // namespace

TEST_CASE("a coordinator's load applies transactional offsets at their COMMIT marker only",
          "[txn][offsets][load]") {
  offsets_log log;
  log.plain("g", orders0, 10);
  log.txn(7, "g", orders0, 20);   // committed below
  log.txn(8, "g", orders1, 30);   // aborted below
  log.txn(9, "g", orders1, 40);   // still open at the end
  log.marker(8, false);
  log.marker(7, true);
  log.txn(10, "h", orders0, 50);  // a plain commit after it wins at its marker
  log.plain("h", orders0, 55);
  log.marker(10, true);
  offsets_loader loader;
  auto next = loader.apply(byte_view{log.data}, 0);
  REQUIRE(next);
  CHECK(*next == log.next);
  auto groups = loader.groups();
  REQUIRE(groups.count("g"));
  CHECK(groups["g"].offsets.at(orders0).offset == 20);
  CHECK(groups["g"].offsets.count(orders1) == 0); // 30 aborted, 40 pending
  CHECK(groups["h"].offsets.at(orders0).offset == 55);
  auto& pending = loader.pending_txn_commits();
  REQUIRE(pending.size() == 1);
  REQUIRE(pending.count(9));
  CHECK(pending.at(9).front().group_id == "g");
  CHECK(pending.at(9).front().offsets.at(orders1).offset == 40);
  CHECK(pending.at(9).front().record_offset == 3);
}
