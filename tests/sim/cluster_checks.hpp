#pragma once
// Whole-cluster simulation: the data invariants.
//   committed prefix   the records below any leader's HW, ever, form one
//                      sequence; every replica's log from its log start to
//                      its own HW matches it (replicas agree up to the HW);
//                      retention deletes only committed records
//   acks=all           an acknowledged batch sits in that sequence at its
//                      acknowledged offsets, and stays there (below a
//                      replica's log start it counts as retained, not lost)
//   completeness       the leader of epoch E holds every record committed
//                      before the controller elected it
//   one leader         per leader epoch of a partition; HW monotonic
//                      during a leadership
//   producer state     whenever it is loaded, each producer's last batch in
//                      the table is its last batch in the log
//   at the end         every replica equals the committed sequence from its
//                      log start; each producer's records appear at most
//                      once, in sequence order: every acknowledged record,
//                      and nothing else but records of failed batches
// (Raft's invariants are checked in cluster_controller.hpp.)
#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline std::string simulation::where(int n, int32_t p) const {
  return "node " + std::to_string(n) + " t-" + std::to_string(p);
}

/// A replica that just became leader: one leader per epoch, and it holds
/// the committed prefix.
inline void simulation::check_tenure(int n, int32_t p) {
  auto& r = rep(n, p);
  auto& m = *r.m;
  if (m.role() != replica_role::leader) {
    r.tenure_epoch = -1;
    return;
  }
  if (r.tenure_epoch == m.leader_epoch())
    return;
  stats_.reelected += r.tenure_epoch >= 0; // leads on in a newer epoch
  r.tenure_epoch = m.leader_epoch();
  r.tenure_hw = m.high_watermark();
  r.tenure_lso = 0;
  auto [it, fresh] = facts_[size_t(p)].leaders.emplace(m.leader_epoch(), n);
  if (it->second != n)
    return fail("two leaders in epoch " + std::to_string(m.leader_epoch()) + " of t-" +
                std::to_string(p) + ": nodes " + std::to_string(it->second) + " and " +
                std::to_string(n));
  stats_.leader_epochs += fresh;
  // Records committed before the controller elected this leader. A node
  // may learn late of an epoch that newer ones have since superseded (its
  // controller lags): what those committed is not its business.
  auto& born = facts_[size_t(p)].epoch_born;
  auto at = born.find(m.leader_epoch());
  int64_t committed = at == born.end() ? 0 : at->second;
  if (r.disk.end() < committed)
    return fail("leader completeness: " + where(n, p) + " leads epoch " +
                std::to_string(m.leader_epoch()) + " with " + std::to_string(r.disk.end()) +
                " records, " + std::to_string(committed) + " were committed when it was elected");
  verify(n, p, committed, false, "new leader");
}

inline void simulation::on_hw(int n, int32_t p, int64_t hw) {
  auto& r = rep(n, p);
  if (r.m->role() == replica_role::leader) {
    if (hw < r.tenure_hw)
      return fail("HW of leader " + where(n, p) + " went down from " +
                  std::to_string(r.tenure_hw) + " to " + std::to_string(hw));
    r.tenure_hw = hw;
    verify(n, p, hw, true, "leader HW");
    if (txn_.opt.on && p != txn_state_partition && failure_.empty())
      check_lso(n, p);
  } else {
    verify(n, p, hw, false, "follower HW");
  }
  if (r_.chance(k_.checkpoint))
    r.disk.checkpoint_hw = hw; // written; synced by the next flush
}

/// log[log start, upto) of a replica against the committed prefix; a
/// leader's HW extends that prefix.
inline void simulation::verify(int n, int32_t p, int64_t upto, bool extend, const char* why) {
  auto& r = rep(n, p);
  auto& c = facts_[size_t(p)].committed;
  if (upto > r.disk.end())
    return fail(where(n, p) + " " + why + " " + std::to_string(upto) + " beyond its log");
  for (auto o = std::max(r.verified, r.disk.log_start); o < upto; ++o) {
    auto& e = r.disk.log[size_t(o)];
    if (o < int64_t(c.size())) {
      if (c[size_t(o)] != e)
        return fail("replicas disagree below the HW: " + where(n, p) + " (" + why +
                    ") has record " + std::to_string(e.record()) + " of epoch " +
                    std::to_string(e.epoch) + " at " + std::to_string(o) +
                    ", committed is record " + std::to_string(c[size_t(o)].record()) +
                    " of epoch " + std::to_string(c[size_t(o)].epoch));
    } else if (extend) {
      c.push_back(e);
    } else {
      return fail(where(n, p) + " " + why + " " + std::to_string(upto) +
                  " is beyond every leader's HW (" + std::to_string(c.size()) + ")");
    }
  }
  r.verified = std::max(r.verified, upto);
}

/// The producer table just loaded describes the log: each producer's last
/// batch is the table's last batch for it. Below the log start the log is
/// the committed one (retention deleted it); there the table may also have
/// forgotten the producer (Kafka's too, when no snapshot covers it).
inline void simulation::check_producers(int n, int32_t p) {
  auto& r = rep(n, p);
  auto& d = r.disk;
  auto& c = facts_[size_t(p)].committed;
  std::map<int64_t, const log_entry*> last; // idempotent producer -> its last batch
  for (int64_t o = 0; o < d.log_start; o += c[size_t(o)].batch_len)
    if (c[size_t(o)].type == entry_type::data)
      last[c[size_t(o)].producer] = &c[size_t(o)];
  std::set<int64_t> retained; // producers with a batch in [log start, end)
  for (int64_t o = d.log_start; o < d.end(); o += d.log[size_t(o)].batch_len) {
    if (d.log[size_t(o)].type != entry_type::data)
      continue; // transactions: cluster_txn_checks.hpp
    last[d.log[size_t(o)].producer] = &d.log[size_t(o)];
    retained.insert(d.log[size_t(o)].producer);
  }
  for (auto [id, l] : last) {
    auto* e = r.producers.find(id);
    auto* b = e && !e->batches.empty() ? &e->batches.back() : nullptr;
    bool forgotten = !b && !retained.count(id);
    if (forgotten || (b && b->first_offset == l->batch_base && b->first_seq == l->seq &&
                      b->last_seq == l->seq + l->batch_len - 1))
      continue;
    return fail(where(n, p) + ": producer state does not describe the log: producer " +
                std::to_string(id) + "'s last batch is at " + std::to_string(l->batch_base) +
                " (sequence " + std::to_string(l->seq) + "), the table's at " +
                (b ? std::to_string(b->first_offset) + " (sequence " +
                       std::to_string(b->first_seq) + ")"
                   : std::string("none")) +
                "; log [" + std::to_string(d.log_start) + ", " + std::to_string(d.end()) + ")");
  }
}

inline void simulation::final_checks() {
  for (int32_t p = 0; p < k_.partitions && failure_.empty(); ++p) {
    auto& log = facts_[size_t(p)].committed;
    for (int n = 1; n <= nodes; ++n) {
      auto& d = rep(n, p).disk;
      if (d.end() != int64_t(log.size()) ||
          !std::equal(log.begin() + d.log_start, log.end(), d.log.begin() + d.log_start))
        return fail("after the faults: " + where(n, p) + " differs from the committed log");
    }
    for (int n = 2; n <= nodes; ++n)
      if (!(described(n, p)->isr == described(1, p)->isr) ||
          described(n, p)->leader_epoch != described(1, p)->leader_epoch)
        return fail("after the faults: node " + std::to_string(n) + "'s metadata of t-" +
                    std::to_string(p) + " differs from node 1's");
    std::map<int64_t, int32_t> next; // producer -> the sequence it has next in the log
    for (auto& e : log) {
      if (e.type != entry_type::data)
        continue;
      auto& pp = producers_[size_t(e.producer - first_producer)][size_t(p)];
      int32_t& want = next[e.producer];
      while (want < e.seq && pp.failed.count(want)) // a failed batch may be missing
        ++want;
      if (e.seq != want)
        return fail("t-" + std::to_string(p) + ": producer " + std::to_string(e.producer) +
                    " sequence " + std::to_string(e.seq) + " where " + std::to_string(want) +
                    " belongs (duplicate, gap or reordering)");
      ++want;
    }
    for (int i = 0; i < k_.producers; ++i) {
      auto& pp = producers_[size_t(i)][size_t(p)];
      int64_t id = first_producer + i;
      if (int64_t(pp.acked.size() + pp.failed.size()) != pp.next_seq)
        return fail("t-" + std::to_string(p) + ": producer " + std::to_string(i) + " sent " +
                    std::to_string(pp.next_seq) + " records, " +
                    std::to_string(pp.acked.size()) + " acknowledged and " +
                    std::to_string(pp.failed.size()) + " failed");
      for (auto& [seq, offset] : pp.acked)
        if (log[size_t(offset)].seq != seq || log[size_t(offset)].producer != id)
          return fail("acknowledged record " + std::to_string(seq) + " of t-" +
                      std::to_string(p) + " lost or moved");
    }
  }
}

inline void simulation::fail(const std::string& what) {
  if (!failure_.empty())
    return;
  std::ostringstream os;
  os << "t=" << now_ << " ms: " << what << "\n  knobs: " << k_.describe();
  for (int n = 1; n <= nodes; ++n) {
    auto& nd = nodes_[size_t(n)];
    os << "\n  node " << n << ": ";
    if (!nd.life.up) {
      os << "down";
      continue;
    }
    raft_status st = nd.ctl.raft->status();
    os << "raft " << to_string(st.role) << " term " << st.term << " commit " << st.commit
       << " applied " << nd.ctl.applied;
    for (int32_t p = 0; p < k_.partitions; ++p) {
      auto& r = rep(n, p);
      if (!r.m) { // failed while the node starts
        os << "\n    t-" << p << ": starting";
        continue;
      }
      os << "\n    t-" << p << ": " << to_string(r.m->role()) << " epoch "
         << r.m->leader_epoch() << " log [" << r.disk.log_start << ", "
         << r.m->log_end_offset() << ") flushed " << r.disk.flushed << " hw "
         << r.m->high_watermark() << " committed " << facts_[size_t(p)].committed.size();
      if (auto* d = described(n, p))
        os << "; its metadata: leader " << d->leader << " epoch " << d->leader_epoch << " isr "
           << describe_ids(d->isr);
    }
  }
  failure_ = os.str();
}

} // namespace al::cluster_sim
