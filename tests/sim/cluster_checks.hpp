#pragma once
// Whole-cluster simulation: idempotent producers and the data invariants.
//   committed prefix   the records below any leader's HW, ever, form one
//                      sequence; every replica's log below its own HW
//                      matches it (replicas agree up to the HW)
//   acks=all           an acknowledged batch sits in that sequence at its
//                      acknowledged offsets, and stays there
//   completeness       the leader of epoch E holds every record committed
//                      before the controller elected it
//   one leader         per leader epoch of a partition; HW monotonic
//                      during a leadership
//   at the end         every replica equals the committed sequence; each
//                      producer's records appear once, in sequence order
// (Raft's invariants are checked in cluster_controller.hpp.)
#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline std::string simulation::where(int n, int32_t p) const {
  return "node " + std::to_string(n) + " t-" + std::to_string(p);
}

inline void simulation::producers_tick() {
  for (int i = 0; i < k_.producers; ++i)
    for (int32_t p = 0; p < k_.partitions; ++p) {
      auto& pp = producers_[size_t(i)][size_t(p)];
      if (!pp.batch) {
        if (liveness_ || !r_.chance(k_.produce))
          continue;
        produce_batch b;
        b.base_seq = pp.next_seq;
        b.count = int32_t(r_.between(1, k_.max_batch));
        pp.next_seq += b.count;
        pp.batch = b;
      }
      auto& b = *pp.batch;
      if (b.waiting ? now_ - b.sent_at < k_.produce_timeout_ms : now_ < b.retry_at)
        continue;
      // A metadata refresh from any node that is up: may be stale.
      int from = int(r_.between(1, nodes));
      auto* d = nodes_[size_t(from)].life.up ? described(from, p) : nullptr;
      int leader = d ? d->leader : -1;
      b.waiting = leader > 0;
      b.sent_at = now_;
      b.retry_at = now_ + 20;
      if (leader <= 0)
        continue;
      message out = msg(kind::produce, first_producer + i, leader, p);
      out.producer = first_producer + i;
      out.base_seq = b.base_seq;
      out.count = b.count;
      send(out);
    }
}

inline void simulation::on_produce_resp(const message& m) {
  auto& pp = producers_[size_t(m.to - first_producer)][size_t(m.partition)];
  if (!pp.batch || pp.batch->base_seq != m.base_seq)
    return; // an answer to a batch that is done
  auto& b = *pp.batch;
  if (m.error != errc::none) {
    b.waiting = false;
    b.retry_at = now_ + r_.between(1, 50);
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
  pp.batch.reset();
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
  r.tenure_epoch = m.leader_epoch();
  r.tenure_hw = m.high_watermark();
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
  if (int64_t(r.log.size()) < committed)
    return fail("leader completeness: " + where(n, p) + " leads epoch " +
                std::to_string(m.leader_epoch()) + " with " + std::to_string(r.log.size()) +
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
  } else {
    verify(n, p, hw, false, "follower HW");
  }
  if (r_.chance(k_.checkpoint))
    r.checkpoint_hw = hw;
}

/// log[0, upto) of a replica against the committed prefix; a leader's HW
/// extends that prefix.
inline void simulation::verify(int n, int32_t p, int64_t upto, bool extend, const char* why) {
  auto& r = rep(n, p);
  auto& c = facts_[size_t(p)].committed;
  if (upto > int64_t(r.log.size()))
    return fail(where(n, p) + " " + why + " " + std::to_string(upto) + " beyond its log");
  for (auto o = r.verified; o < upto; ++o) {
    auto& e = r.log[size_t(o)];
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

inline void simulation::final_checks() {
  for (int32_t p = 0; p < k_.partitions && failure_.empty(); ++p) {
    auto& log = facts_[size_t(p)].committed;
    for (int n = 1; n <= nodes; ++n)
      if (rep(n, p).log != log)
        return fail("after the faults: " + where(n, p) + " differs from the committed log");
    for (int n = 2; n <= nodes; ++n)
      if (!(described(n, p)->isr == described(1, p)->isr) ||
          described(n, p)->leader_epoch != described(1, p)->leader_epoch)
        return fail("after the faults: node " + std::to_string(n) + "'s metadata of t-" +
                    std::to_string(p) + " differs from node 1's");
    std::map<int64_t, int32_t> next; // producer -> next sequence expected in the log
    for (auto& e : log) {
      int32_t& want = next[e.producer];
      if (e.seq != want)
        return fail("t-" + std::to_string(p) + ": producer " + std::to_string(e.producer) +
                    " sequence " + std::to_string(e.seq) + " where " + std::to_string(want) +
                    " belongs (duplicate, gap or reordering)");
      ++want;
    }
    for (int i = 0; i < k_.producers; ++i) {
      auto& pp = producers_[size_t(i)][size_t(p)];
      if (next[first_producer + i] != pp.next_seq)
        return fail("t-" + std::to_string(p) + ": producer " + std::to_string(i) + " sent " +
                    std::to_string(pp.next_seq) + " records, the log has " +
                    std::to_string(next[first_producer + i]));
      for (auto& [seq, offset] : pp.acked)
        if (log[size_t(offset)].seq != seq || log[size_t(offset)].producer != first_producer + i)
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
      os << "\n    t-" << p << ": " << to_string(r.m->role()) << " epoch "
         << r.m->leader_epoch() << " leo " << r.m->log_end_offset() << " hw "
         << r.m->high_watermark() << " committed " << facts_[size_t(p)].committed.size();
      if (auto* d = described(n, p))
        os << "; its metadata: leader " << d->leader << " epoch " << d->leader_epoch << " isr "
           << describe_ids(d->isr);
    }
  }
  failure_ = os.str();
}

} // namespace al::cluster_sim
