#include <catch2/catch.hpp>

#include <string>

#include "actors/client/partitioner.hpp"

using namespace al;

namespace {
int32_t hash(const std::string& s) { return murmur2(byte_view{std::string_view{s}}); }
} // namespace

TEST_CASE("murmur2 matches Kafka's UtilsTest.testMurmur2 vectors", "[partitioner]") {
  CHECK(hash("21") == -973932308);
  CHECK(hash("foobar") == -790332482);
  CHECK(hash("a-little-bit-long-string") == -985981536);
  CHECK(hash("a-little-bit-longer-string") == -1486304829);
  CHECK(hash("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8") == -58897971);
  CHECK(hash("abc") == 479470107);
}

TEST_CASE("keyed records always land on the same partition", "[partitioner]") {
  for (std::string key : {"AAPL", "TCS", "INFY", "MSFT", ""}) {
    auto p = partition_for_key(byte_view{std::string_view{key}}, 6);
    CHECK(p >= 0);
    CHECK(p < 6);
    CHECK(partition_for_key(byte_view{std::string_view{key}}, 6) == p);
  }
}

TEST_CASE("sticky partitioner keeps a partition per batch", "[partitioner]") {
  sticky_partitioner s{42};
  auto first = s.partition(4);
  for (int i = 0; i < 10; ++i)
    CHECK(s.partition(4) == first);
  s.next_batch();
  CHECK(s.partition(4) != first);
  sticky_partitioner one{1};
  CHECK(one.partition(1) == 0);
  one.next_batch();
  CHECK(one.partition(1) == 0);
}
