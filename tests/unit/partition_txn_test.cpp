// partition_txn_machine (issue 16): open transactions, the last stable
// offset, aborted transactions for read_committed, markers and cuts; the
// producer state's part (markers fence, snapshots keep open transactions)
// and a read_committed consumer's filter.
#include <catch2/catch.hpp>

#include "actors/client/aborted_filter.hpp"
#include "actors/partition/partition_txn_machine.hpp"
#include "actors/partition/producer_state_machine.hpp"
#include "storage/crc32c.hpp"
#include "storage/record_batch.hpp"

using namespace al;

namespace {

/// A batch of `n` records at `base`, transactional for `pid` when pid >= 0.
bytes data_batch(int64_t base, int n, int64_t pid = -1, int16_t epoch = 0) {
  batch_options o;
  o.base_offset = base;
  if (pid >= 0) {
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = 0;
    o.transactional = true;
  }
  batch_builder b(o);
  for (int i = 0; i < n; ++i)
    b.append(1000, std::nullopt, byte_view{std::string_view{"v"}});
  return b.build();
}

struct fed {
  partition_txn_machine m;
  std::vector<aborted_txn> written; // what would go to .txnindex

  void data(int64_t base, int n, int64_t pid = -1, int64_t hw = 0, int16_t epoch = 0) {
    auto b = data_batch(base, n, pid, epoch);
    auto h = read_batch_header(b.data());
    CHECK_FALSE(m.on_batch(h, std::nullopt, hw));
  }
  /// `bumped`: the end bumped the epoch (KIP-890); the fixtures below
  /// mostly end at the records' epoch, as Kafka's EndTxn v0-4 does.
  void marker(int64_t at, int64_t pid, bool commit, int16_t epoch = 0, int64_t hw = 0,
              bool bumped = false) {
    auto b = build_txn_marker_batch(pid, epoch, txn_marker{commit, 3}, 1000);
    stamp_base_offset(b.data(), at);
    auto h = read_batch_header(b.data());
    REQUIRE(m.check_marker(h, bumped));
    auto mk = decode_txn_marker(byte_view{b});
    REQUIRE(mk);
    if (auto a = m.on_batch(h, *mk, hw))
      written.push_back(*a);
  }
};

} // namespace

TEST_CASE("a marker batch reads back as the marker it was built from", "[txn][partition]") {
  for (bool commit : {true, false}) {
    auto b = build_txn_marker_batch(7, 2, txn_marker{commit, 11}, 1000);
    auto h = validate_batch(byte_view{b});
    REQUIRE(h);
    CHECK(h->is_control());
    CHECK(h->is_transactional());
    CHECK(h->producer_id == 7);
    CHECK(h->producer_epoch == 2);
    auto m = decode_txn_marker(byte_view{b});
    REQUIRE(m);
    CHECK(m->commit == commit);
    CHECK(m->coordinator_epoch == 11);
  }
  auto plain = data_batch(0, 1);
  auto not_marker = decode_txn_marker(byte_view{plain});
  REQUIRE_FALSE(not_marker);
  CHECK(not_marker.error().message().find("not a control batch") != std::string::npos);
}

TEST_CASE("open transactions hold the last stable offset, an abort is recorded for "
          "read_committed",
          "[txn][partition]") {
  fed f;
  f.data(0, 3, 1);  // producer 1 opens at 0
  f.data(3, 1);     // plain
  f.data(4, 2, 2);  // producer 2 opens at 4
  f.data(6, 1, 1);  // producer 1 again: still open from 0
  CHECK(f.m.open_count() == 2);
  CHECK(f.m.last_stable_offset(20) == 0);
  CHECK(f.m.last_stable_offset(0) == 0);
  REQUIRE(f.m.open_since(1));
  CHECK(*f.m.open_since(1) == 0);
  f.marker(7, 1, true, 0, 8); // commit: producer 2's transaction is now the oldest
  CHECK(f.m.last_stable_offset(20) == 4);
  CHECK(f.written.empty());
  f.marker(8, 2, false, 0, 9); // abort
  CHECK(f.m.open_count() == 0);
  CHECK(f.m.last_stable_offset(20) == 20);
  REQUIRE(f.written.size() == 1);
  CHECK(f.written[0] == aborted_txn{2, 4, 8, 9});
  CHECK(f.m.aborted_between(0, 4).empty());
  CHECK(f.m.aborted_between(0, 5).size() == 1);
  CHECK(f.m.aborted_between(8, 9).size() == 1);
  CHECK(f.m.aborted_between(9, 20).empty());
  // A marker with nothing open (a duplicate) changes nothing.
  f.marker(9, 2, false);
  CHECK(f.written.size() == 1);
  f.m.advance_log_start(9);
  CHECK(f.m.aborted().empty());
}

TEST_CASE("a marker older than the producer's newest epoch is refused", "[txn][partition]") {
  fed f;
  f.data(0, 1, 5);
  f.marker(1, 5, true, 3); // the coordinator's bump: epoch 3 now
  auto stale = build_txn_marker_batch(5, 2, txn_marker{false, 3}, 1000);
  auto h = read_batch_header(stale.data());
  auto st = f.m.check_marker(h, true);
  REQUIRE_FALSE(st);
  CHECK(st.code() == errc::invalid_producer_epoch);
}

namespace {

status check(const fed& f, int64_t pid, int16_t epoch, bool bumped) {
  auto b = build_txn_marker_batch(pid, epoch, txn_marker{false, 3}, 1000);
  return f.m.check_marker(read_batch_header(b.data()), bumped);
}

} // namespace

// Found by the transaction simulation (txn_sim_test, seeds 51 and 1189): a
// copy of an ABORT marker that arrived late closed the next transaction,
// whose records carry the epoch that marker handed on.
TEST_CASE("a late copy of a bumped end's marker does not close the next transaction",
          "[txn][partition]") {
  fed f;
  SECTION("the copy's transaction had records here") {
    f.data(0, 1, 5, 0, 4);
    f.marker(1, 5, false, 5, 0, true); // EndTxn bumped 4 -> 5
  }
  SECTION("it had none here (the partition never saw the producer)") {}
  CHECK(check(f, 5, 5, true)); // nothing open: a duplicate, harmless
  f.data(2, 1, 5, 0, 5);       // the next transaction, under epoch 5
  auto st = check(f, 5, 5, true);
  REQUIRE_FALSE(st);
  CHECK(st.code() == errc::invalid_producer_epoch);
  CHECK(check(f, 5, 6, true)); // its own marker
}

TEST_CASE("a producer that keeps its epoch (EndTxn v0-4) ends each transaction at that epoch",
          "[txn][partition]") {
  fed f;
  f.data(0, 1, 5, 0, 3);
  f.marker(1, 5, true, 3);
  f.data(2, 1, 5, 0, 3);
  CHECK(check(f, 5, 3, false));
  f.marker(3, 5, true, 3);
  CHECK(f.m.open_count() == 0);
}

TEST_CASE("a cut reopens a transaction whose marker it removed, and forgets what it removed",
          "[txn][partition]") {
  fed f;
  f.data(0, 2, 1);
  f.data(2, 2, 2);
  f.marker(4, 1, false);
  f.marker(5, 2, true);
  CHECK(f.m.open_count() == 0);
  SECTION("cut between the data and the markers") {
    f.m.truncate_from(4);
    CHECK(f.m.open_count() == 2);
    CHECK(f.m.last_stable_offset(10) == 0);
    CHECK(f.m.aborted().empty()); // the abort's marker is gone
    CHECK_FALSE(f.m.rebuild_needed());
  }
  SECTION("cut inside the second transaction's data") {
    f.m.truncate_from(2);
    CHECK(f.m.open_count() == 1);
    CHECK(*f.m.open_since(1) == 0);
    CHECK_FALSE(f.m.open_since(2));
  }
  SECTION("a cut below what is remembered asks for a rebuild") {
    f.m.forget_closed_below(6);
    f.m.truncate_from(5);
    CHECK(f.m.rebuild_needed());
  }
}

// ---- a read_committed consumer's filter (actors/client/aborted_filter) ------


namespace {

/// Whether the filter skips the batch at `base` (built by `make`).
bool skips(aborted_filter& f, const bytes& b, int64_t base) {
  bytes copy = b;
  stamp_base_offset(copy.data(), base);
  return f.skip(read_batch_header(copy.data()), byte_view{copy});
}

} // namespace

TEST_CASE("read_committed skips an aborted producer's batches up to its marker, and markers",
          "[txn][consumer]") {
  // Producer 7 aborted a transaction from offset 10; producer 8 committed.
  aborted_filter f({{7, 10}});
  CHECK_FALSE(skips(f, data_batch(0, 5), 5));        // plain data
  CHECK_FALSE(skips(f, data_batch(0, 2, 7), 5));     // 7's earlier transaction (committed)
  CHECK(skips(f, build_txn_marker_batch(7, 0, txn_marker{true, 0}, 1000), 7)); // its marker
  CHECK(skips(f, data_batch(0, 3, 7), 10));          // 7's aborted transaction
  CHECK_FALSE(skips(f, data_batch(0, 3, 8), 13));    // 8's, open at the same time
  CHECK(skips(f, data_batch(0, 1, 7), 16));
  CHECK(skips(f, build_txn_marker_batch(7, 1, txn_marker{false, 0}, 1000), 17)); // ABORT
  CHECK_FALSE(skips(f, data_batch(0, 2, 7), 18));    // 7's next transaction: not aborted
  CHECK(skips(f, build_txn_marker_batch(8, 0, txn_marker{true, 0}, 1000), 20));
}

TEST_CASE("read_committed: an aborted transaction that began before the fetch offset",
          "[txn][consumer]") {
  aborted_filter f({{5, 100}, {6, 40}}); // any order
  CHECK(skips(f, data_batch(0, 2, 6), 50)); // 6's began at 40, before this fetch
  CHECK_FALSE(skips(f, data_batch(0, 2, 5), 60)); // 5's begins later, at 100
  CHECK(skips(f, data_batch(0, 2, 5), 100));
}

// ---- producer state: markers fence and are snapshotted --------------------


namespace {

batch_header header_of(const bytes& b, int64_t base) {
  bytes copy = b;
  stamp_base_offset(copy.data(), base);
  return read_batch_header(copy.data());
}

} // namespace

TEST_CASE("a marker bumps the producer's epoch: old epochs are fenced, the next transaction "
          "starts at sequence 0", "[txn][producer]") {
  producer_state_table t;
  using V = producer_state_table::verdict;
  auto d = data_batch(0, 3, 7, 0); // epoch 0, sequence 0..2
  REQUIRE(t.check(header_of(d, 0)).kind == V::append);
  t.on_append(header_of(d, 0), 1000);
  CHECK(t.txns().open_since(7) == 0);
  CHECK(t.txns().last_stable_offset(3) == 0);
  txn_marker commit{true, 0};
  auto m = build_txn_marker_batch(7, 1, commit, 1000); // KIP-890: the end bumps to epoch 1
  CHECK_FALSE(t.on_append(header_of(m, 3), 1000, &commit, 3));
  CHECK_FALSE(t.txns().open_since(7));
  CHECK(t.txns().last_stable_offset(4) == 4);
  CHECK(t.find(7)->epoch == 1);
  // The zombie (epoch 0) is refused; epoch 1 must start at sequence 0.
  auto zombie = t.check(header_of(data_batch(0, 1, 7, 0), 4));
  CHECK(zombie.kind == V::reject);
  CHECK(zombie.error.code() == errc::invalid_producer_epoch);
  bytes next = data_batch(0, 1, 7, 1);
  CHECK(t.check(header_of(next, 4)).kind == V::append);
  batch_options late;
  late.producer_id = 7;
  late.producer_epoch = 1;
  late.base_sequence = 5;
  late.transactional = true;
  batch_builder lb(late);
  lb.append(1000, std::nullopt, byte_view{std::string_view{"v"}});
  CHECK(t.check(header_of(lb.build(), 4)).error.code() == errc::out_of_order_sequence_number);
  // A marker-only producer does not expire before producer.id.expiration.ms.
  CHECK(t.expire(1000 + 999, 1000) == 0);
  CHECK(t.expire(1000 + 1000, 1000) == 1);
}

TEST_CASE("producer snapshots keep open transactions (version 2) and read version 1",
          "[txn][producer]") {
  producer_state_table t;
  t.on_append(header_of(data_batch(0, 2, 7, 0), 10), 1000); // 7 opens at 10
  t.on_append(header_of(data_batch(0, 2, 8, 0), 12), 1000); // 8 opens at 12
  txn_marker abort{false, 0};
  auto a = t.on_append(header_of(build_txn_marker_batch(8, 1, abort, 1000), 14), 1000, &abort, 14);
  REQUIRE(a);
  CHECK(a->first_offset == 12);
  CHECK(a->last_offset == 14);
  auto snap = t.snapshot(15);
  producer_state_table u;
  auto covers = u.restore(byte_view{snap}, "snap");
  REQUIRE(covers);
  CHECK(*covers == 15);
  CHECK(u == t);
  CHECK(u.txns().open_since(7) == 10);
  CHECK_FALSE(u.txns().open_since(8));
  CHECK(u.find(8)->epoch == 1);
  CHECK(u.find(8)->marker_ms == 1000);
  CHECK(u.txns().last_stable_offset(15) == 10);
  // An open transaction keeps its producer from expiring.
  CHECK(u.expire(1000 + 5000, 1000) == 1); // 8 goes, 7 stays
  CHECK(u.find(7));
  // A version 1 snapshot (before transactions) still loads.
  bytes v1{'A', 'L', 'P', 'S', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0};
  auto crc = crc32c(v1.data(), v1.size());
  v1.resize(v1.size() + 4);
  store_be<uint32_t>(v1.data() + 20, crc);
  producer_state_table w;
  auto v1_covers = w.restore(byte_view{v1}, "v1");
  REQUIRE(v1_covers);
  CHECK(*v1_covers == 9);
  // An open transaction at or past what the snapshot covers is refused.
  auto bad = t.snapshot(10);
  CHECK_FALSE(producer_state_table{}.restore(byte_view{bad}, "bad"));
}
