// The node's deadline wheel (actors/partition/deadline_wheel.hpp, issue 15
// item 3): buckets end at a multiple of the granularity, nothing is taken
// before its deadline or more than one granularity after, and add() says
// when the sweeper must re-arm for an earlier bucket.
#include <catch2/catch.hpp>

#include <string>

#include "actors/partition/deadline_wheel.hpp"

using namespace al;

TEST_CASE("deadline wheel: buckets, order, the earliest flag", "[expiry]") {
  deadline_wheel<std::string> w{10};
  CHECK(w.bucket_of(0) == 0);
  CHECK(w.bucket_of(1) == 10);
  CHECK(w.bucket_of(10) == 10);
  CHECK(w.bucket_of(11) == 20);
  CHECK_FALSE(w.next_due());
  CHECK(w.add(25, "a", 1));       // first: earliest
  CHECK_FALSE(w.add(27, "b", 2)); // same bucket (30)
  CHECK_FALSE(w.add(95, "c", 3)); // later
  CHECK(w.add(12, "d", 4));       // bucket 20, earlier than 30: re-arm
  CHECK(w.size() == 4);
  CHECK(*w.next_due() == 20);
  CHECK(w.take_due(19).empty()); // never before the bucket's end
  auto first = w.take_due(20);
  REQUIRE(first.size() == 1);
  CHECK(first[0].who == "d");
  CHECK(first[0].key == 4);
  auto later = w.take_due(99); // buckets 30 and 100: only 30 is due
  REQUIRE(later.size() == 2);
  CHECK(later[0].who == "a");
  CHECK(later[1].who == "b");
  CHECK(*w.next_due() == 100);
  CHECK(w.take_due(100).size() == 1);
  CHECK(w.size() == 0);
  CHECK_FALSE(w.next_due());
  CHECK(w.add(1000, "e", 5)); // empty again: earliest
}
