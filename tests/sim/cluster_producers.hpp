#pragma once
// Whole-cluster simulation: idempotent acks=all producers, one per id, each
// with up to max.in.flight batches per partition (Kafka's sender rules with
// enable.idempotence):
//   - a batch keeps its sequence numbers on every retry;
//   - batches go in sequence order, on one connection (node, process) at a
//     time; a connection is TCP: in order, never duplicated, and a drop, a
//     request timeout or the process dying breaks it, failing every request
//     still on it;
//   - a retry goes alone: only once every earlier batch is acknowledged,
//     and nothing new goes while it is in flight (RecordAccumulator's
//     "first in-flight sequence" rule), so after an error batches go again
//     in order;
//   - OUT_OF_ORDER_SEQUENCE is retriable while an earlier batch is
//     unresolved. For the first unacknowledged batch it means the replica
//     either took a later batch first (producer_state_table, like Kafka,
//     accepts any sequence from a producer it does not know, e.g. a burst
//     whose first batch was refused by a replica just becoming leader) or
//     lags (a deposed leader that does not know it yet): the later batches
//     go again without waiting for it ("probing"), and once one of them is
//     acknowledged the batch fails (Kafka: OutOfOrderSequenceException; it
//     bumps the producer epoch, which this model does not). A failed batch
//     is in the log at most once.
// The producer never gives up otherwise: every batch ends acknowledged or
// failed.
#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline void simulation::producers_tick() {
  for (int i = 0; i < k_.producers; ++i)
    for (int32_t p = 0; p < k_.partitions; ++p) {
      auto& pp = producers_[size_t(i)][size_t(p)];
      while (!pp.batches.empty() && pp.batches.front().acked)
        pp.batches.pop_front();
      for (auto& b : pp.batches) {
        if (!b.node)
          continue;
        auto& life = nodes_[size_t(b.node)].life;
        if (!life.up || life.incarnation != b.incarnation ||
            now_ - b.sent_at >= k_.produce_timeout_ms)
          disconnect(pp, b.node, b.incarnation);
      }
      if (!liveness_ && pp.batches.size() < size_t(k_.max_in_flight) && r_.chance(k_.produce)) {
        produce_batch b;
        b.base_seq = pp.next_seq;
        b.count = int32_t(r_.between(1, k_.max_batch));
        pp.next_seq += b.count;
        pp.batches.push_back(b);
      }
      send_batches(i, p);
    }
}

/// Every request still on the connection fails; its batches go again.
inline void simulation::disconnect(producer_partition& pp, int node, int64_t incarnation) {
  for (auto& b : pp.batches)
    if (b.node == node && b.incarnation == incarnation)
      b.node = 0, b.retry_at = now_;
}

inline void simulation::send_batches(int i, int32_t p) {
  auto& pp = producers_[size_t(i)][size_t(p)];
  int on = 0; // the connection in use: node, process
  int64_t on_incarnation = 0;
  bool earlier_in_flight = false, retry_in_flight = false;
  int leader = -1; // from one metadata refresh, when something is to be sent
  size_t unacked = 0;
  for (auto& b : pp.batches)
    unacked += !b.acked;
  for (auto& b : pp.batches) {
    if (b.acked)
      continue;
    if (b.node) {
      on = b.node, on_incarnation = b.incarnation;
      earlier_in_flight = true;
      retry_in_flight |= b.attempt > 1 && !pp.probing;
      continue;
    }
    bool retry = b.attempt > 0 && !pp.probing; // goes alone
    if (now_ < b.retry_at || retry_in_flight || (retry && earlier_in_flight))
      return;
    if (leader < 0) { // a metadata refresh from any node that is up: may be stale
      int from = int(r_.between(1, nodes));
      auto* d = nodes_[size_t(from)].life.up ? described(from, p) : nullptr;
      leader = d ? d->leader : 0;
    }
    if (leader <= 0 || !nodes_[size_t(leader)].life.up) {
      b.retry_at = now_ + 20; // no leader known, or connection refused
      return;
    }
    int64_t incarnation = nodes_[size_t(leader)].life.incarnation;
    if (on && (on != leader || on_incarnation != incarnation))
      return; // the old connection still has requests on it
    message out = msg(kind::produce, first_producer + i, leader, p, incarnation);
    out.producer = first_producer + i;
    out.base_seq = b.base_seq;
    out.count = b.count;
    out.attempt = ++b.attempt;
    stats_.retries_in_flight += b.attempt > 1 && unacked > 1;
    if (!net_.send(now_, out.from, out.to, out, true)) {
      b.retry_at = now_ + r_.between(1, 50); // the connection broke: nothing more on it
      return;
    }
    b.node = on = leader;
    b.incarnation = on_incarnation = incarnation;
    b.sent_at = now_;
    earlier_in_flight = true;
    retry_in_flight = retry;
  }
}

inline void simulation::on_produce_resp(const message& m) {
  auto& pp = producers_[size_t(m.to - first_producer)][size_t(m.partition)];
  auto it = std::find_if(pp.batches.begin(), pp.batches.end(),
                         [&](const produce_batch& b) { return b.base_seq == m.base_seq; });
  if (it == pp.batches.end() || it->acked) {
    if (m.error == errc::none && pp.failed.count(m.base_seq))
      fail("t-" + std::to_string(m.partition) + ": producer " + std::to_string(m.producer) +
           " sequence " + std::to_string(m.base_seq) + " acknowledged after it failed");
    return; // an answer to a batch that is done
  }
  auto& b = *it;
  bool first = std::all_of(pp.batches.begin(), it, [](auto& x) { return x.acked; });
  if (m.error != errc::none) {
    if (m.attempt != b.attempt || !b.node)
      return; // to a request that already failed
    b.node = 0;
    b.retry_at = now_ + r_.between(1, 50);
    stats_.out_of_order += m.error == errc::out_of_order_sequence_number;
    if (first)
      pp.probing = m.error == errc::out_of_order_sequence_number;
    bool later_acked = std::any_of(it, pp.batches.end(), [](auto& x) { return x.acked; });
    if (!pp.probing || !later_acked)
      return; // goes again (after the earlier ones)
    pp.probing = false;
    ++stats_.gaps;
    if (trace_)
      std::cerr << now_ << " producer " << m.producer << " t-" << m.partition << " fails sequence "
                << b.base_seq << " (OUT_OF_ORDER_SEQUENCE from node " << m.from << ")\n";
    for (int32_t s = b.base_seq; s < b.base_seq + b.count; ++s)
      pp.failed.insert(s);
    pp.batches.erase(it);
    return;
  }
  auto& c = facts_[size_t(m.partition)].committed;
  for (int32_t i = 0; i < b.count; ++i) {
    auto o = size_t(m.base_offset + i);
    if (o >= c.size() || c[o].producer != m.producer || c[o].seq != b.base_seq + i)
      return fail("acknowledged record " + std::to_string(m.producer) + ":" +
                  std::to_string(b.base_seq + i) + " of t-" + std::to_string(m.partition) +
                  " at offset " + std::to_string(o) + " is not committed there");
    pp.acked.push_back({b.base_seq + i, int64_t(o)});
  }
  stats_.acked += b.count;
  b.acked = true;
  b.node = 0;
  pp.probing &= !first;
}

} // namespace al::cluster_sim
