#pragma once
// Whole-cluster simulation: the controller quorum. Every node runs a Raft
// voter over the metadata log and applies committed commands to its own
// metadata_machine, then pushes the changed partitions to its own broker
// (brokers need no link to the active controller for metadata). The Raft
// leader is the active controller: it hears broker heartbeats and
// AlterPartition requests and proposes one step at a time, each planned
// against an image that has applied everything in its log:
//   a. a fenced broker still leads or sits in an ISR: plan_broker_fenced
//   b. a broker restarted (newer incarnation): fence it, then register it
//   c. bootstrap: the topic (RF 3, min.insync.replicas 2)
//   d. a broker silent for the session timeout: fence it
//   e. a fenced broker heard again: unfence it
//   f. an unfenced broker can lead an offline partition: plan_broker_unfenced
//   g. the next AlterPartition: plan_alter_isr, answered once applied
// Storage: Raft's save() is the fsync; it completes before the ready's
// messages go out.
#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline void simulation::start_controller(int n) {
  auto& c = nodes_[size_t(n)].ctl;
  raft_config cfg;
  cfg.id = n;
  for (int v = 1; v <= nodes; ++v)
    cfg.voters.push_back(v);
  cfg.election_ticks = k_.election_ticks;
  cfg.heartbeat_ticks = k_.heartbeat_ticks;
  cfg.max_entries_per_message = 8;
  cfg.seed = r_.next();
  c.raft = std::make_unique<raft_machine>(cfg, c.disk.persisted());
  c.meta = metadata_machine{}; // rebuilt by applying the committed log again
  c.applied = 0;
  c.lead_term = -1;
  c.pending_index = 0;
  c.alters.clear();
  c.answer_at.clear();
}

inline const partition_description* simulation::described(int n, int32_t p) const {
  auto& img = nodes_[size_t(n)].ctl.meta.image();
  auto t = img.topics.find("t");
  return t == img.topics.end() ? nullptr : &t->second.partitions[size_t(p)];
}

/// The image of the up node that applied the most: committed metadata,
/// as fresh as any broker can know it.
inline const metadata_image* simulation::freshest_image() const {
  const controller* best = nullptr;
  for (int n = 1; n <= nodes; ++n) {
    auto& nd = nodes_[size_t(n)];
    if (nd.life.up && (!best || nd.ctl.applied > best->applied))
      best = &nd.ctl;
  }
  return best ? &best->meta.image() : nullptr;
}

/// The ready/advance loop in etcd's order; proposals of the active
/// controller feed it again.
inline void simulation::pump_raft(int n) {
  auto& c = nodes_[size_t(n)].ctl;
  for (int round = 0; failure_.empty(); ++round) {
    while (c.raft->has_ready() && failure_.empty()) {
      raft_ready rd = c.raft->ready();
      c.disk.save(rd);
      for (auto& rm : rd.messages) {
        message out = msg(kind::raft, n, rm.to);
        out.raft = rm;
        send(out);
      }
      for (auto& e : rd.committed)
        apply_entry(n, e);
      c.raft->advance(rd);
    }
    if (!k_.publish_ms)
      push_metadata(n);
    reconcile(n);
    if (!c.raft->has_ready())
      return;
  }
}

inline void simulation::apply_entry(int n, const raft_entry& e) {
  auto& c = nodes_[size_t(n)].ctl;
  if (e.index != c.applied + 1)
    return fail("node " + std::to_string(n) + " applies metadata entry " +
                std::to_string(e.index) + " after " + std::to_string(c.applied));
  c.applied = e.index;
  std::string data(e.data.begin(), e.data.end());
  auto [it, fresh] = raft_committed_.emplace(e.index, raft_fact{e.term, data});
  if (!fresh && (it->second.term != e.term || it->second.data != data))
    return fail("committed metadata entry " + std::to_string(e.index) + " changed: node " +
                std::to_string(n) + " applies term " + std::to_string(e.term) + ", first was term " +
                std::to_string(it->second.term));
  status st = status::ok();
  if (!e.data.empty()) { // empty: a new leader's no-op
    auto cmd = decode_command(e.data);
    if (!cmd)
      return fail("undecodable metadata entry " + std::to_string(e.index));
    st = c.meta.apply(*cmd, e.index - 1); // Raft index i = metadata offset i - 1
    if (auto* change = std::get_if<change_partition_cmd>(&*cmd); change && st) {
      auto& f = facts_[size_t(change->partition)];
      f.epoch_born.emplace(described(n, change->partition)->leader_epoch,
                           int64_t(f.committed.size()));
    }
  }
  if (auto a = c.answer_at.find(e.index); a != c.answer_at.end()) {
    answer_alter(n, a->second, st ? alter_isr_error::none : alter_isr_error::invalid_update_version);
    c.answer_at.erase(a);
  }
}

/// The node's broker learns every partition whose leader or ISR changed,
/// but only once the image holds its own registration with its current
/// incarnation (KRaft: a broker acts on metadata once caught up). Before
/// that the replay shows leaderships of the previous process: acting on
/// them, a restarted leader resumes its old epoch with an ISR older than
/// the committed one (its own proposals forgotten) and moves the HW past
/// records a current ISR member lacks (the simulation found this).
inline void simulation::push_metadata(int n) {
  auto& nd = nodes_[size_t(n)];
  auto& incs = nd.ctl.meta.image().broker_incarnations;
  auto mine = incs.find(n);
  if (!described(n, 0) || mine == incs.end() || mine->second != nd.life.incarnation)
    return;
  for (int32_t p = 0; p < k_.partitions && failure_.empty(); ++p) {
    auto& d = *described(n, p);
    std::pair<int32_t, int32_t> key{d.leader_epoch, d.partition_epoch};
    if (nd.pushed[size_t(p)] == key)
      continue;
    nd.pushed[size_t(p)] = key;
    rep(n, p).m->on_metadata(leadership_of(d, d.partition_epoch), now_);
    drain(n, p);
  }
}

inline void simulation::on_heartbeat(int n, const message& m) {
  auto& c = nodes_[size_t(n)].ctl;
  if (c.raft->role() != raft_role::leader || m.incarnation < c.heard_incarnation[m.from])
    return;
  c.heard_incarnation[m.from] = m.incarnation;
  c.last_heartbeat[m.from] = now_;
  pump_raft(n);
}

inline void simulation::on_alter(int n, const message& m) {
  auto& c = nodes_[size_t(n)].ctl;
  if (c.raft->role() != raft_role::leader)
    return; // the leader's replica retries after its request timeout
  c.alters.push_back({m.from, m.incarnation, m.alter});
  pump_raft(n);
}

inline void simulation::answer_alter(int n, const alter_from& a, alter_isr_error error) {
  auto& d = *described(n, a.req.tp.partition);
  message out = msg(kind::alter_resp, n, a.broker, a.req.tp.partition, a.incarnation);
  out.alter_resp = {a.req.tp, a.req.proposal_id, error, d.leader_epoch, d.partition_epoch, d.isr};
  send(out);
}

inline void simulation::reconcile(int n) {
  auto& c = nodes_[size_t(n)].ctl;
  raft_machine& raft = *c.raft;
  if (raft.role() != raft_role::leader) {
    c.lead_term = -1;
    c.alters.clear();
    c.answer_at.clear();
    return;
  }
  if (c.lead_term != raft.term()) { // a new leadership: election safety, completeness
    c.lead_term = raft.term();
    auto [it, fresh] = raft_leaders_.emplace(raft.term(), n);
    if (it->second != n)
      return fail("two Raft leaders in term " + std::to_string(raft.term()) + ": nodes " +
                  std::to_string(it->second) + " and " + std::to_string(n));
    stats_.raft_leaders += fresh;
    for (auto& [index, f] : raft_committed_)
      if (raft.log().term_at(index).value_or(-1) != f.term)
        return fail("Raft leader " + std::to_string(n) + " of term " +
                    std::to_string(raft.term()) + " lacks committed metadata entry " +
                    std::to_string(index));
    for (int b = 1; b <= nodes; ++b)
      c.last_heartbeat[b] = now_; // a grace period before fencing anyone
    c.heard_incarnation.clear();
    c.pending_index = 0;
  }
  // Plan only against an image that has applied our whole log.
  if (c.applied != raft.log().last_index() || c.applied < c.pending_index)
    return;
  plan next = plan_next(n);
  for (auto& cmd : next.cmds) {
    auto r = raft.propose(encode_command(cmd));
    if (!r)
      return;
    c.pending_index = r->index;
    ++stats_.metadata_commands;
  }
  if (next.answer)
    c.answer_at[c.pending_index] = *next.answer;
}

inline plan simulation::plan_next(int n) {
  auto& c = nodes_[size_t(n)].ctl;
  auto& img = c.meta.image();
  election_options opts; // unclean.leader.election.enable = false
  auto to_plan = [](std::vector<change_partition_cmd> cmds) {
    plan out;
    out.cmds.assign(cmds.begin(), cmds.end());
    return out;
  };
  auto registered = [&](int b) { return img.brokers.count(b) > 0; };
  auto fenced = [&](int b) { return img.brokers.at(b).fenced; };
  for (int b = 1; b <= nodes; ++b) // a
    if (registered(b) && fenced(b))
      if (auto cmds = plan_broker_fenced(img, b, opts); !cmds.empty())
        return to_plan(cmds);
  for (int b = 1; b <= nodes; ++b) { // b
    int64_t heard = c.heard_incarnation.count(b) ? c.heard_incarnation.at(b) : 0;
    if (heard == 0 || (registered(b) && heard <= img.broker_incarnations.at(b)))
      continue;
    if (registered(b) && !fenced(b))
      return {{fence_broker_cmd{b, true}}, {}};
    return {{register_broker_cmd{b, "sim", uint16_t(9000 + b), heard}}, {}};
  }
  if (!img.topics.count("t")) { // c
    if (int(img.brokers.size()) < nodes)
      return {};
    create_topic_cmd t;
    t.name = "t";
    t.topic_id = "sim";
    t.configs["min.insync.replicas"] = std::to_string(min_isr);
    for (int32_t p = 0; p < k_.partitions; ++p)
      t.assignment.push_back({p % nodes + 1, (p + 1) % nodes + 1, (p + 2) % nodes + 1});
    return {{t}, {}};
  }
  for (int b = 1; b <= nodes; ++b) { // d, e
    bool silent = now_ - c.last_heartbeat[b] > k_.session_ms;
    bool current = c.heard_incarnation.count(b) &&
                   c.heard_incarnation.at(b) == img.broker_incarnations.at(b);
    if (!fenced(b) && silent)
      return {{fence_broker_cmd{b, true}}, {}};
    if (fenced(b) && !silent && current)
      return {{fence_broker_cmd{b, false}}, {}};
  }
  for (int b = 1; b <= nodes; ++b) // f
    if (!fenced(b))
      if (auto cmds = plan_broker_unfenced(img, b, opts); !cmds.empty())
        return to_plan(cmds);
  while (!c.alters.empty()) { // g
    alter_from a = c.alters.front();
    c.alters.pop_front();
    auto& d = *described(n, a.req.tp.partition);
    auto decision = plan_alter_isr(img, d.partition_epoch, a.req);
    if (decision.error == alter_isr_error::none)
      return {{decision.cmd}, a};
    answer_alter(n, a, decision.error);
  }
  return {};
}

} // namespace al::cluster_sim
