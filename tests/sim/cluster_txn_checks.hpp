#pragma once
// Transactions in the whole-cluster simulation: the invariants.
//   one decision      a transaction's markers are all COMMIT or all ABORT
//                     (txn_markers, each time a coordinator sends some)
//   answers           EndTxn answered "committed" (or "aborted") only once
//                     that decision is written and its markers go out
//   read_committed    on every leader, each time its HW moves: the LSO
//                     (the shipped partition_txn_machine's) never goes back
//                     during a leadership; every transactional record below
//                     it is closed by a marker of its own transaction (its
//                     producer's next marker there, whose epoch is the
//                     record's + 1: every end bumps the epoch, KIP-890),
//                     COMMIT exactly when its transaction was decided
//                     committed; a transaction is visible on every
//                     partition or on none
//   fencing           no leader appends a transactional batch with an epoch
//                     older than one an InitProducerId was answered with
//                     (the old transaction is aborted, its markers written,
//                     before that answer)
//   at the end        every record of a transaction answered committed is
//                     visible; no transaction left open on any partition,
//                     none unfinished at the coordinator (liveness)
#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline void simulation::note_decision(const txn_write_markers& w) {
  auto [it, fresh] = txn_.decided.emplace(std::pair{w.producer_id, w.producer_epoch}, w.commit);
  if (it->second != w.commit)
    fail("producer " + std::to_string(w.producer_id) + " epoch " +
         std::to_string(w.producer_epoch) + ": COMMIT and ABORT markers both sent");
}

/// EndTxn answered without error: the decision is written.
inline void simulation::note_answer(const txn_instance& x) {
  auto key = std::pair{x.producer_id, x.epoch};
  auto d = txn_.decided.find({x.producer_id, int16_t(x.epoch + 1)});
  if (d == txn_.decided.end() || d->second != x.commit)
    return fail("x" + std::to_string(x.client) + ": EndTxn(" + (x.commit ? "commit" : "abort") +
                ") of producer " + std::to_string(x.producer_id) + " epoch " +
                std::to_string(x.epoch) + " answered, but " +
                (d == txn_.decided.end() ? std::string("no decision was written")
                                         : std::string("it was decided the other way")));
  txn_.answered[key] = x.commit;
  if (!x.commit) {
    ++txn_.stats.aborted;
    return;
  }
  ++txn_.stats.committed;
  auto& acked = txn_.acked[key];
  for (auto& b : x.batches)
    for (int32_t k = 0; k < b.count && !b.stray; ++k) // a stray batch was refused
      acked.push_back({b.partition, b.offset + k});
}

/// A leader appends a transactional batch: not of a fenced epoch.
inline void simulation::check_fence(int n, const message& m) {
  auto f = txn_.fence.find(m.producer);
  if (f != txn_.fence.end() && m.producer_epoch < f->second)
    fail("zombie write accepted: " + where(n, m.partition) + " appends producer " +
         std::to_string(m.producer) + " epoch " + std::to_string(m.producer_epoch) +
         " sequence " + std::to_string(m.base_seq) + ", InitProducerId answered epoch " +
         std::to_string(f->second));
}

/// A leader's HW moved: its LSO, and the records that went below it.
inline void simulation::check_lso(int n, int32_t p) {
  auto& r = rep(n, p);
  auto& log = r.disk.log;
  int64_t lso = r.producers.txns().last_stable_offset(r.m->high_watermark());
  if (lso < r.tenure_lso)
    return fail("LSO of leader " + where(n, p) + " went back from " +
                std::to_string(r.tenure_lso) + " to " + std::to_string(lso));
  r.tenure_lso = lso;
  auto& from = txn_.stable[size_t(p)];
  for (int64_t o = std::max(from, r.disk.log_start); o < lso && failure_.empty(); ++o) {
    auto& e = log[size_t(o)];
    if (e.type != entry_type::txn_data)
      continue;
    ++txn_.stats.records_checked;
    auto what = where(n, p) + " offset " + std::to_string(o) + " (producer " +
                std::to_string(e.producer) + " epoch " + std::to_string(e.producer_epoch) +
                ", LSO " + std::to_string(lso) + ")";
    auto mk = std::find_if(log.begin() + o + 1, log.end(), [&](const log_entry& x) {
      return x.marker() && x.producer == e.producer;
    });
    if (mk == log.end())
      return fail("read_committed: " + what + " is below the LSO, its transaction open");
    if (mk->producer_epoch != e.producer_epoch + 1)
      return fail("read_committed: " + what + " is closed by the marker at " +
                  std::to_string(mk->batch_base) + " of epoch " +
                  std::to_string(mk->producer_epoch) + ", another transaction's");
    bool shown = mk->type == entry_type::commit_marker;
    auto d = txn_.decided.find({e.producer, mk->producer_epoch});
    if (d == txn_.decided.end() || d->second != shown)
      return fail("read_committed: " + what + (shown ? " is visible" : " is filtered out") +
                  ", its transaction was " +
                  (d == txn_.decided.end() ? "not decided" : shown ? "aborted" : "committed"));
    auto [it, fresh] = txn_.visible.emplace(std::pair{e.producer, e.producer_epoch}, shown);
    if (it->second != shown)
      return fail("read_committed: " + what + " is " + (shown ? "visible" : "filtered out") +
                  ", the transaction's records elsewhere are not");
  }
  from = std::max(from, lso);
}

/// Once the faults stopped: everything finished.
inline bool simulation::txn_converged() { return txn_waiting().empty(); }

/// What is not finished yet ("" once everything is).
inline std::string simulation::txn_waiting() {
  for (auto& x : txn_.instances)
    if (x.phase != txn_phase::dead && (x.phase != txn_phase::idle || x.seq))
      return "producer x" + std::to_string(x.client) + " is in phase " +
             std::to_string(int(x.phase));
  for (int32_t p = 0; p < k_.partitions; ++p) {
    auto* d = described(1, p);
    if (!d || d->leader <= 0 || !rep(d->leader, p).m)
      return "t-" + std::to_string(p) + " has no leader";
    auto& r = rep(d->leader, p);
    if (auto open = r.producers.txns().first_unstable_offset())
      return "hanging transaction: " + where(d->leader, p) + " has " +
             std::to_string(r.producers.txns().open_count()) + " open, the oldest from " +
             std::to_string(*open) + " (HW " + std::to_string(r.m->high_watermark()) + ")";
    if (p != txn_state_partition)
      continue;
    auto& c = nodes_[size_t(d->leader)].txn;
    if (!c.m)
      return "no coordinator on the leader of t-0";
    for (auto& t : c.m->list({txn_state::ongoing, txn_state::prepare_commit,
                              txn_state::prepare_abort}))
      return "transaction of " + t.transactional_id + " unfinished: " +
             std::string(to_string(t.state));
  }
  return "";
}

inline void simulation::txn_final_checks() {
  for (auto& [key, records] : txn_.acked) {
    auto v = txn_.visible.find(key);
    for (auto [p, offset] : records) {
      auto& c = facts_[size_t(p)].committed;
      if (v == txn_.visible.end() || !v->second || offset >= int64_t(c.size()) ||
          c[size_t(offset)].producer != key.first ||
          c[size_t(offset)].producer_epoch != key.second)
        return fail("transaction of producer " + std::to_string(key.first) + " epoch " +
                    std::to_string(key.second) + " answered committed, its record at t-" +
                    std::to_string(p) + " offset " + std::to_string(offset) +
                    " is not visible to read_committed");
    }
  }
}

} // namespace al::cluster_sim
