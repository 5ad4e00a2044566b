#include <catch2/catch.hpp>

#include "actors/client/record_accumulator.hpp"

using namespace al;

namespace {

producer_record rec(const std::string& topic, int32_t p, size_t size = 10) {
  return producer_record{topic, p, std::nullopt, std::string(size, 'x')};
}

accumulator_config config(int64_t linger_ms, int32_t batch_size = 16384) {
  accumulator_config c;
  c.linger_ms = linger_ms;
  c.batch_size = batch_size;
  return c;
}

} // namespace

TEST_CASE("accumulator: open batches leave after linger.ms, oldest first", "[producer]") {
  record_accumulator acc{config(5)};
  CHECK(acc.next_linger_due(0) == -1);
  CHECK(acc.append({"t", 0}, rec("t", 0), 100, {}) == record_accumulator::wake::linger);
  CHECK(acc.append({"t", 1}, rec("t", 1), 102, {}) == record_accumulator::wake::no);
  CHECK(acc.append({"t", 0}, rec("t", 0), 103, {}) == record_accumulator::wake::no);
  CHECK(acc.next_linger_due(103) == 2); // partition 0's batch, opened at 100
  CHECK(acc.drain(104, false).empty());
  auto first = acc.drain(105, false);
  REQUIRE(first.size() == 1);
  CHECK(first[0].tp == topic_partition{"t", 0});
  CHECK(first[0].record_count == 2);
  CHECK(acc.next_linger_due(105) == 2); // partition 1's, opened at 102
  auto second = acc.drain(107, false);
  REQUIRE(second.size() == 1);
  CHECK(second[0].tp == topic_partition{"t", 1});
  CHECK(acc.next_linger_due(107) == -1);
  CHECK(acc.pending_records() == 0);
}

TEST_CASE("accumulator: a batch closed by size leaves no stale linger entry behind",
          "[producer]") {
  // Batches of about two records: the third record closes the first batch
  // and opens a new one, whose linger starts then, not with the first.
  record_accumulator acc{config(5, 300)};
  acc.append({"t", 0}, rec("t", 0, 80), 100, {});
  acc.append({"t", 0}, rec("t", 0, 80), 101, {});
  CHECK(acc.append({"t", 0}, rec("t", 0, 80), 103, {}) == record_accumulator::wake::now);
  auto closed = acc.drain(103, false); // only the full batch
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].record_count == 2);
  // The entry of the closed batch (opened at 100) is stale: the open batch
  // opened at 103 is due at 108, not at 105.
  CHECK(acc.next_linger_due(104) == 4);
  CHECK(acc.drain(106, false).empty());
  auto rest = acc.drain(108, false);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].record_count == 1);
}

TEST_CASE("accumulator: a forced drain takes every open batch", "[producer]") {
  record_accumulator acc{config(1000)};
  for (int32_t p = 0; p < 100; ++p)
    acc.append({"t", p}, rec("t", p), 10 + p, {});
  auto all = acc.drain(20, true);
  CHECK(all.size() == 100);
  CHECK(acc.next_linger_due(20) == -1);
  CHECK(acc.drain(5000, false).empty());
}

TEST_CASE("accumulator: drain_open leaves a partition whose full batch is not drained yet",
          "[producer]") {
  // The sender drains full batches, then (later, after the user thread may
  // have closed another) open ones. An open batch must never leave before
  // an older full batch of its partition: it would get the lower sequence
  // number and its records would land first.
  record_accumulator acc{config(5, 300)};
  acc.append({"t", 0}, rec("t", 0, 80), 100, {});
  acc.append({"t", 0}, rec("t", 0, 80), 100, {});
  acc.append({"t", 0}, rec("t", 0, 80), 101, {}); // closes the first two; opens a third
  acc.append({"t", 1}, rec("t", 1, 80), 101, {});
  auto take = [](const topic_partition&, size_t) { return record_accumulator::offer::take; };
  auto open = acc.drain_open(200, false, take);
  REQUIRE(open.size() == 1); // partition 1 only: partition 0 has a full batch waiting
  CHECK(open[0].tp == topic_partition{"t", 1});
  auto full = acc.drain_closed();
  REQUIRE(full.size() == 1);
  CHECK(full[0].record_count == 2);
  auto rest = acc.drain_open(200, false, take);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].tp == topic_partition{"t", 0});
  CHECK(rest[0].record_count == 1);
  CHECK(acc.pending_records() == 0);
}
