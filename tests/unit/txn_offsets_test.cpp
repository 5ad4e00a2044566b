// Transactional offset commits (issue 16): pending until the producer's
// marker, dropped on abort, and a later plain commit wins.
#include <catch2/catch.hpp>

#include "actors/group/txn_offsets_machine.hpp"

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
