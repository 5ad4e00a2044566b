// partition_txn_machine (issue 16): open transactions, the last stable
// offset, aborted transactions for read_committed, markers and cuts.
#include <catch2/catch.hpp>

#include "actors/partition/partition_txn_machine.hpp"
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

  void data(int64_t base, int n, int64_t pid = -1, int64_t hw = 0) {
    auto b = data_batch(base, n, pid);
    auto h = read_batch_header(b.data());
    CHECK_FALSE(m.on_batch(h, std::nullopt, hw));
  }
  void marker(int64_t at, int64_t pid, bool commit, int16_t epoch = 0, int64_t hw = 0) {
    auto b = build_txn_marker_batch(pid, epoch, txn_marker{commit, 3}, 1000);
    stamp_base_offset(b.data(), at);
    auto h = read_batch_header(b.data());
    REQUIRE(m.check_marker(h));
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

TEST_CASE("open transactions hold the last stable offset; an abort is recorded for "
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
  auto st = f.m.check_marker(h);
  REQUIRE_FALSE(st);
  CHECK(st.code() == errc::invalid_producer_epoch);
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
