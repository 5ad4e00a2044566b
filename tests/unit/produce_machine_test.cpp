// produce_machine: the leader's produce decisions in Kafka's order (acks,
// leadership, min.insync.replicas, the batch, the producer's sequence),
// duplicates answered with the first write's offsets, acks=all waits handed
// to the replica machine, and a written but not durable batch counted yet
// refused.
#include <catch2/catch.hpp>

#include <memory>

#include "actors/partition/produce_machine.hpp"

using namespace al;

namespace {

struct leader {
  std::unique_ptr<replica_machine> replica;
  producer_state_table producers;
  std::string where = "produce to t-0";
  int64_t log_end = 0;
  int validations = 0;

  explicit leader(std::vector<int32_t> isr = {1, 2, 3}) {
    replica_config c;
    c.tp = {"t", 0};
    c.broker_id = 1;
    replica = std::make_unique<replica_machine>(c, replica_log_state{});
    replica->on_metadata(partition_leadership{1, 4, 1, {1, 2, 3}, std::move(isr)}, 0);
    while (replica->has_ready())
      (void)replica->ready();
  }
  produce_machine machine() { return produce_machine{*replica, producers, where}; }

  static batch_header batch(int64_t producer, int32_t seq, int32_t count) {
    batch_header h;
    h.producer_id = producer;
    h.producer_epoch = 0;
    h.base_sequence = seq;
    h.last_offset_delta = count - 1;
    h.records_count = count;
    return h;
  }
  /// admit(), and for an `append` the write and appended(), as the actor.
  produce_decision produce(const batch_header& h, produce_params p = {},
                           status durable = status::ok()) {
    auto m = machine();
    batch_header checked;
    auto d = m.admit(p, checked, [&] {
      ++validations;
      return result<batch_header>{h};
    });
    if (d.what != produce_decision::action::append)
      return d;
    CHECK(d.leader_epoch == 4);
    auto stamped = checked;
    stamped.base_offset = log_end;
    stamped.partition_leader_epoch = d.leader_epoch;
    int64_t base = log_end;
    log_end += checked.last_offset_delta + 1;
    return m.appended(p, stamped, base, log_end - 1, log_end, durable);
  }
};

using action = produce_decision::action;

} // namespace

TEST_CASE("produce: refused before validation when not leader, acks bad or ISR too small",
          "[produce]") {
  SECTION("a follower") {
    leader l;
    l.replica->on_metadata(partition_leadership{2, 5, 2, {1, 2, 3}, {1, 2, 3}}, 0);
    auto d = l.produce(leader::batch(7, 0, 1));
    CHECK(d.what == action::refuse);
    CHECK(d.error.code() == errc::not_leader_or_follower);
    CHECK(d.error.message().find("leader is node 2") != std::string::npos);
  }
  SECTION("acks 2") {
    leader l;
    produce_params p;
    p.acks = acks_mode(2);
    CHECK(l.produce(leader::batch(7, 0, 1), p).error.code() == errc::invalid_required_acks);
  }
  SECTION("acks=all below min.insync.replicas; acks=1 goes on") {
    leader l({1});
    produce_params p;
    p.min_insync_replicas = 2;
    CHECK(l.produce(leader::batch(7, 0, 1), p).error.code() == errc::not_enough_replicas);
    CHECK(l.validations == 0);
    p.acks = acks_mode::leader;
    auto d = l.produce(leader::batch(7, 0, 1), p);
    CHECK(d.what == action::answer);
    CHECK(d.base_offset == 0);
    CHECK(l.validations == 1);
  }
}

TEST_CASE("produce: an invalid batch is refused with the validator's error", "[produce]") {
  leader l;
  auto m = l.machine();
  batch_header h;
  auto d = m.admit({}, h, [] {
    return result<batch_header>{errc::corrupt_message, "produce to t-0: CRC mismatch"};
  });
  CHECK(d.what == action::refuse);
  CHECK(d.error.code() == errc::corrupt_message);
}

TEST_CASE("produce: acks=all waits in the replica machine, a retry is a duplicate with the "
          "first offsets",
          "[produce]") {
  leader l;
  produce_params p;
  p.ack_id = 41;
  auto d = l.produce(leader::batch(7, 0, 3), p);
  CHECK(d.what == action::wait);
  CHECK(d.base_offset == 0);
  CHECK(l.replica->log_end_offset() == 3);
  p.ack_id = 42;
  auto retry = l.produce(leader::batch(7, 0, 3), p);
  CHECK(retry.what == action::wait); // not yet replicated: waits as well
  CHECK(retry.base_offset == 0);
  CHECK(l.log_end == 3); // nothing written twice
  p.acks = acks_mode::leader;
  auto next = l.produce(leader::batch(7, 3, 1), p);
  CHECK(next.what == action::answer);
  CHECK(next.base_offset == 3);
  auto gap = l.produce(leader::batch(7, 9, 1), p);
  CHECK(gap.what == action::refuse);
  CHECK(gap.error.code() == errc::out_of_order_sequence_number);
}

TEST_CASE("produce: a batch written but not durable counts, yet is not acknowledged",
          "[produce]") {
  leader l;
  produce_params p;
  p.acks = acks_mode::leader;
  status failed{errc::kafka_storage_error, "fsync failed"};
  auto d = l.produce(leader::batch(7, 0, 2), p, failed);
  CHECK(d.what == action::refuse);
  CHECK(d.error.code() == errc::kafka_storage_error);
  CHECK(l.replica->log_end_offset() == 2); // followers fetch past it
  auto retry = l.produce(leader::batch(7, 0, 2), p);
  CHECK(retry.what == action::answer); // a duplicate of what is in the log
  CHECK(retry.base_offset == 0);
}
