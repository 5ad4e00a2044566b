// fetch_session_machine: the follower side of the fetch sessions between
// nodes (actors/broker/fetch_session_machine.hpp).
#include <catch2/catch.hpp>

#include "actors/broker/fetch_session_machine.hpp"

using namespace al;

namespace {

fetch_request fetch(const std::string& topic, int32_t partition, int64_t offset,
                    int32_t epoch = 0) {
  fetch_request f;
  f.topic = topic;
  f.partition = partition;
  f.offset = offset;
  f.current_leader_epoch = epoch;
  f.replica_id = 2;
  return f;
}

std::vector<std::string> names(const std::vector<fetch_request>& fs) {
  std::vector<std::string> out;
  for (auto& f : fs)
    out.push_back(f.topic + "-" + std::to_string(f.partition) + "@" + std::to_string(f.offset));
  return out;
}

} // namespace

TEST_CASE("fetches queue per leader node and leave together, in arrival order") {
  fetch_session_machine m;
  CHECK_FALSE(m.add(1, fetch("a", 0, 5), 10));
  CHECK_FALSE(m.add(3, fetch("a", 1, 7), 11));
  CHECK_FALSE(m.add(1, fetch("b", 2, 0), 12));
  CHECK(m.size() == 3);
  CHECK(m.leaders_with_unsent() == std::vector<int32_t>{1, 3});
  CHECK(names(m.take_unsent(1)) == std::vector<std::string>{"a-0@5", "b-2@0"});
  CHECK(m.leaders_with_unsent() == std::vector<int32_t>{3});
  CHECK(m.take_unsent(1).empty()); // nothing new
  CHECK(names(m.take_unsent(3)) == std::vector<std::string>{"a-1@7"});
  CHECK(m.leaders_with_unsent().empty());
  CHECK(m.size() == 3); // sent, waiting for answers
}

TEST_CASE("an answer finds the fetch it answers, stale and foreign answers find nothing") {
  fetch_session_machine m;
  m.add(1, fetch("a", 0, 5, 4), 10);
  SECTION("not sent yet: an answer cannot be for it") {
    CHECK_FALSE(m.match(1, "a", 0, 5, 4));
  }
  m.take_unsent(1);
  SECTION("another offset, epoch, leader or partition: stale") {
    CHECK_FALSE(m.match(1, "a", 0, 4, 4));
    CHECK_FALSE(m.match(1, "a", 0, 5, 3));
    CHECK_FALSE(m.match(2, "a", 0, 5, 4));
    CHECK_FALSE(m.match(1, "a", 1, 5, 4));
    CHECK_FALSE(m.match(1, "b", 0, 5, 4));
    CHECK(m.size() == 1);
  }
  SECTION("the answer: matched once, then gone") {
    CHECK(m.match(1, "a", 0, 5, 4) == 10u);
    CHECK(m.empty());
    CHECK_FALSE(m.match(1, "a", 0, 5, 4)); // a duplicate
  }
}

TEST_CASE("a partition's newer fetch replaces its earlier one, sent or not") {
  fetch_session_machine m;
  SECTION("unsent: only the newer one leaves") {
    m.add(1, fetch("a", 0, 5), 10);
    CHECK(m.add(1, fetch("a", 0, 6), 11) == 10u);
    CHECK(names(m.take_unsent(1)) == std::vector<std::string>{"a-0@6"});
    CHECK(m.match(1, "a", 0, 6, 0) == 11u);
  }
  SECTION("sent: the old answer is stale, the new one counts") {
    m.add(1, fetch("a", 0, 5), 10);
    m.take_unsent(1);
    CHECK(m.add(1, fetch("a", 0, 9), 11) == 10u);
    m.take_unsent(1);
    CHECK_FALSE(m.match(1, "a", 0, 5, 0));
    CHECK(m.match(1, "a", 0, 9, 0) == 11u);
  }
  SECTION("the same offset asked again (a timed-out fetch): its answer serves the new ask") {
    m.add(1, fetch("a", 0, 5), 10);
    m.take_unsent(1);
    CHECK(m.add(1, fetch("a", 0, 5), 11) == 10u);
    m.take_unsent(1);
    CHECK(m.match(1, "a", 0, 5, 0) == 11u);
    CHECK_FALSE(m.match(1, "a", 0, 5, 0)); // the second answer finds nothing
  }
  SECTION("the leader moved: the queue of the old leader no longer sends it") {
    m.add(1, fetch("a", 0, 5, 1), 10);
    CHECK(m.add(3, fetch("a", 0, 5, 2), 11) == 10u);
    CHECK(m.take_unsent(1).empty());
    CHECK(names(m.take_unsent(3)) == std::vector<std::string>{"a-0@5"});
    CHECK_FALSE(m.match(1, "a", 0, 5, 1));
    CHECK(m.match(3, "a", 0, 5, 2) == 11u);
  }
}

TEST_CASE("a lost connection fails every fetch waiting on that node, and only those") {
  fetch_session_machine m;
  m.add(1, fetch("a", 0, 5), 10);
  m.add(1, fetch("a", 1, 5), 11);
  m.take_unsent(1);
  m.add(1, fetch("a", 2, 5), 12); // queued, not sent
  m.add(3, fetch("a", 3, 5), 13);
  auto dropped = m.drop_leader(1);
  std::sort(dropped.begin(), dropped.end());
  CHECK(dropped == std::vector<uint64_t>{10, 11, 12});
  CHECK(m.size() == 1);
  CHECK(m.leaders_with_unsent() == std::vector<int32_t>{3});
  CHECK(m.take_unsent(1).empty());
  CHECK_FALSE(m.match(1, "a", 0, 5, 0));
  CHECK(m.drop_leader(1).empty());
  CHECK(names(m.take_unsent(3)) == std::vector<std::string>{"a-3@5"});
}
