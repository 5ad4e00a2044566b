#pragma once
// Transactions in the whole-cluster simulation: transactional producers,
// one or two transactional.ids, each run by one process at a time, as
// Kafka's producer with KIP-890 (the end of a transaction hands on the
// next epoch):
//   InitProducerId, then per transaction: AddPartitionsToTxn for one or
//   more of t-1.., batches of idempotent sequences (one in flight per
//   partition, retried with the same sequence), then EndTxn: commit when
//   every batch was acknowledged and the transaction was meant to commit,
//   else abort. Requests go to the coordinator the metadata of a random
//   node names, over a connection (ordered; a lost message breaks it and
//   the request times out); retriable errors go again after a backoff.
//   A fenced producer (PRODUCER_FENCED, or any error it cannot retry) stops;
//   a new process starts for its id.
//   Zombies: now and then a new process starts while the old one goes on
//   with its transaction (batches, retries, EndTxn) as if nothing
//   happened; the new one's InitProducerId must fence it.
#include <algorithm>

#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline void simulation::start_txn_instance(int client) {
  txn_instance x;
  x.client = client;
  txn_.current[size_t(client)] = int(txn_.instances.size());
  txn_.instances.push_back(x);
}

inline void simulation::txn_clients_tick() {
  for (size_t i = 0; i < txn_.instances.size() && failure_.empty(); ++i) {
    auto& x = txn_.instances[i];
    if (x.phase == txn_phase::dead)
      continue;
    if (!liveness_ && !x.zombie && x.phase != txn_phase::init && r_.chance(txn_.zombie)) {
      x.zombie = true; // goes on; a new process starts for its id
      ++txn_.stats.zombies;
      start_txn_instance(x.client);
    }
    txn_client_step(int(i));
  }
}

inline void simulation::txn_client_step(int i) {
  auto& x = txn_.instances[size_t(i)];
  if (x.seq && now_ - x.sent_at >= txn_.request_timeout_ms)
    x.seq = 0, x.retry_at = now_; // no answer: again
  switch (x.phase) {
    case txn_phase::idle:
      if (!liveness_ && r_.chance(txn_.begin))
        begin_txn(x);
      return;
    case txn_phase::send: return send_txn_batches(i);
    case txn_phase::init:
    case txn_phase::add:
    case txn_phase::end:
      if (!x.seq && now_ >= x.retry_at)
        send_txn_request(i);
      return;
    case txn_phase::dead: return;
  }
}

inline void simulation::begin_txn(txn_instance& x) {
  x.partitions.clear();
  x.batches.clear();
  for (int32_t p = 1; p < k_.partitions; ++p)
    if (r_.chance(0.6) || (p == k_.partitions - 1 && x.partitions.empty()))
      x.partitions.push_back(p);
  for (auto p : x.partitions) {
    int32_t seq = 0; // a new epoch: sequences start again
    for (int64_t b = r_.between(1, 3); b > 0; --b) {
      txn_batch tb;
      tb.partition = p, tb.seq = seq, tb.count = int32_t(r_.between(1, 3));
      seq += tb.count;
      x.batches.push_back(tb);
    }
  }
  // Now and then a batch to a partition left out of the transaction (a
  // client's bug, or a hostile one): verification must refuse it.
  if (r_.chance(0.1))
    for (int32_t p = 1; p < k_.partitions; ++p)
      if (std::find(x.partitions.begin(), x.partitions.end(), p) == x.partitions.end()) {
        txn_batch tb;
        tb.partition = p, tb.seq = 0, tb.count = 1, tb.stray = true;
        x.batches.push_back(tb);
        ++txn_.stats.stray;
        break;
      }
  x.commit = r_.chance(0.8);
  x.phase = txn_phase::add;
}

/// The phase's request to the coordinator some node's metadata names.
inline void simulation::send_txn_request(int i) {
  auto& x = txn_.instances[size_t(i)];
  int from = int(r_.between(1, nodes));
  auto* d = nodes_[size_t(from)].life.up ? described(from, txn_state_partition) : nullptr;
  int to = d ? d->leader : 0;
  if (to <= 0 || !nodes_[size_t(to)].life.up) {
    x.retry_at = now_ + 20; // FindCoordinator failed, or the connection is refused
    return;
  }
  int endpoint = first_txn_client + i;
  message m = msg(kind::txn_req, endpoint, to, 0, nodes_[size_t(to)].life.incarnation);
  m.tag = ++txn_.next_request;
  std::string id = "x" + std::to_string(x.client);
  if (x.phase == txn_phase::init) {
    m.init = txn_init_request{0, id, txn_.timeout_ms, -1, -1};
  } else if (x.phase == txn_phase::add) {
    txn_add_partitions_request q{0, id, x.producer_id, x.epoch, {}};
    for (auto p : x.partitions)
      q.partitions.push_back({"t", p});
    m.add = q;
  } else {
    m.end = txn_end_request{0, id, x.producer_id, x.epoch, x.commit, true};
  }
  if (!net_.send(now_, endpoint, to, m, true)) {
    x.retry_at = now_ + r_.between(1, 50); // the connection broke
    return;
  }
  x.seq = m.tag;
  x.sent_at = now_;
}

inline void simulation::on_txn_resp(const message& m) {
  int i = m.to - first_txn_client;
  auto& x = txn_.instances[size_t(i)];
  if (x.phase == txn_phase::dead || m.tag != x.seq)
    return; // to a request given up on
  x.seq = 0;
  auto& a = m.txn;
  if (is_retriable(a.error) || a.error == errc::concurrent_transactions) {
    x.retry_at = now_ + r_.between(5, 50);
    return;
  }
  if (a.error != errc::none) // fenced, or a state it cannot mend: this process stops
    return stop_txn_instance(i);
  if (x.phase == txn_phase::init) {
    x.producer_id = a.producer_id, x.epoch = a.producer_epoch;
    x.phase = txn_phase::idle;
  } else if (x.phase == txn_phase::add) {
    x.phase = txn_phase::send;
  } else {
    note_answer(x);
    x.producer_id = a.producer_id, x.epoch = a.producer_epoch; // KIP-890: the next epoch
    x.phase = txn_phase::idle;
  }
}

inline void simulation::stop_txn_instance(int i) {
  auto& x = txn_.instances[size_t(i)];
  x.phase = txn_phase::dead;
  ++txn_.stats.fenced;
  if (txn_.current[size_t(x.client)] == i)
    start_txn_instance(x.client);
}

/// One batch in flight per partition, in sequence order; a batch that
/// keeps failing (or whose answer never comes) fails the transaction.
inline void simulation::send_txn_batches(int i) {
  auto& x = txn_.instances[size_t(i)];
  bool busy = false;
  std::set<int32_t> blocked; // partitions whose earlier batch is unresolved
  for (auto& b : x.batches) {
    if (b.acked || b.failed || blocked.count(b.partition))
      continue;
    blocked.insert(b.partition);
    busy = true;
    if (b.node) {
      auto& life = nodes_[size_t(b.node)].life;
      if (life.up && life.incarnation == b.incarnation && now_ - b.sent_at < k_.produce_timeout_ms)
        continue;
      b.node = 0, b.retry_at = now_; // the connection broke or timed out
    }
    if (now_ < b.retry_at)
      continue;
    if (b.attempt >= 6) { // delivery.timeout.ms: the transaction can only abort
      if (b.stray)
        b.failed = true; // never part of it
      else
        fail_txn_partition(x, b.partition);
      continue;
    }
    int from = int(r_.between(1, nodes));
    auto* d = nodes_[size_t(from)].life.up ? described(from, b.partition) : nullptr;
    int leader = d ? d->leader : 0;
    if (leader <= 0 || !nodes_[size_t(leader)].life.up) {
      b.retry_at = now_ + 20;
      continue;
    }
    int64_t incarnation = nodes_[size_t(leader)].life.incarnation;
    message m = msg(kind::produce, first_txn_client + i, leader, b.partition, incarnation);
    m.type = entry_type::txn_data;
    m.producer = x.producer_id, m.producer_epoch = x.epoch;
    m.base_seq = b.seq, m.count = b.count, m.attempt = ++b.attempt;
    if (!net_.send(now_, m.from, leader, m, true)) {
      b.retry_at = now_ + r_.between(1, 50);
      continue;
    }
    b.node = leader, b.incarnation = incarnation, b.sent_at = now_;
  }
  if (!busy)
    x.phase = txn_phase::end;
}

/// The partition's unresolved batches fail: the transaction must abort.
inline void simulation::fail_txn_partition(txn_instance& x, int32_t p) {
  for (auto& b : x.batches)
    if (b.partition == p && !b.acked)
      b.failed = true, b.node = 0;
  x.commit = false;
}

inline void simulation::on_txn_produce_resp(const message& m) {
  int i = m.to - first_txn_client;
  auto& x = txn_.instances[size_t(i)];
  auto it = std::find_if(x.batches.begin(), x.batches.end(), [&](const txn_batch& b) {
    return b.partition == m.partition && b.seq == m.base_seq;
  });
  if (x.phase != txn_phase::send || it == x.batches.end() || it->acked || it->failed ||
      !it->node || m.attempt != it->attempt || m.producer_epoch != x.epoch)
    return; // to a request given up on
  it->node = 0;
  if (it->stray) {
    if (m.error == errc::none)
      return fail("a transactional batch to t-" + std::to_string(m.partition) +
                  " outside its producer's transaction was written at offset " +
                  std::to_string(m.base_offset) + " (producer " + std::to_string(m.producer) +
                  " epoch " + std::to_string(m.producer_epoch) +
                  "): no marker closes it, a hanging transaction");
    if (is_retriable(m.error)) {
      it->retry_at = now_ + r_.between(1, 50);
      return;
    }
    it->failed = true;
    ++txn_.stats.stray_refused;
    return;
  }
  if (m.error == errc::none) {
    it->acked = true;
    it->offset = m.base_offset;
    return;
  }
  if (is_retriable(m.error)) {
    it->retry_at = now_ + r_.between(1, 50);
    return;
  }
  txn_.stats.zombie_refused += x.zombie && m.error == errc::invalid_producer_epoch;
  if (m.error == errc::producer_fenced)
    return stop_txn_instance(i);
  fail_txn_partition(x, m.partition); // e.g. INVALID_PRODUCER_EPOCH after a timeout abort
}

} // namespace al::cluster_sim
