#pragma once
// Whole-cluster simulation: the controller quorum. Every node runs a Raft
// voter over the metadata log and applies committed commands to its own
// metadata_machine, then pushes the changed partitions to its own broker
// (brokers need no link to the active controller for metadata). The Raft
// leader is the active controller: it runs the shipped
// active_controller_machine, as the controller actor does, on the image its
// voter applied. Brokers register with it at every start (the real
// broker's RegisterBroker, retried until answered), then heartbeat; it
// fences silent brokers, fences a restarted one before registering it,
// unfences, elects and answers AlterPartition, proposing in bulk and
// learning each proposal's fate when its entry applies (or leadership is
// lost). The only command the simulation proposes itself is the bootstrap
// topic (RF 3, min.insync.replicas 2), an admin request once every broker
// registered.
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
  c.active = active_controller_machine{{k_.session_ms, false}};
  c.lead_term = -1;
  c.pending.clear();
  c.requests.clear();
  c.creating = false;
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
    drive_active(n);
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
  if (auto p = c.pending.find(e.index); p != c.pending.end()) {
    auto [term, id] = p->second;
    c.pending.erase(p);
    if (id == 0)
      c.creating = false;
    else if (term == e.term)
      c.active.on_proposal_done(id, st, c.meta.image(), now_);
    else
      c.active.on_proposal_done(id, {errc::not_controller, "leadership changed before commit"},
                                c.meta.image(), now_);
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

/// The node's raft tick is the controller actor's tick: sessions, then
/// reconciliation.
inline void simulation::controller_tick(int n) {
  auto& c = nodes_[size_t(n)].ctl;
  c.raft->tick();
  if (c.active.active())
    c.active.tick(c.meta.image(), now_);
  pump_raft(n);
}

inline void simulation::on_heartbeat(int n, const message& m) {
  auto& c = nodes_[size_t(n)].ctl;
  if (!c.active.active())
    return; // the broker's own controller forwards to the active one: here, every voter hears it
  c.active.on_heartbeat(m.from, m.incarnation, c.meta.image(), now_);
  pump_raft(n);
}

inline void simulation::on_register(int n, const message& m) {
  auto& c = nodes_[size_t(n)].ctl;
  if (!c.active.active())
    return; // not the active controller: the broker asks again
  auto id = c.next_request++;
  c.requests[id] = {m.from, m.incarnation};
  broker_description b{m.from, "sim", uint16_t(9000 + m.from), false, 0, "", 0};
  c.active.on_register(id, b, m.incarnation, c.meta.image(), now_);
  pump_raft(n);
}

inline void simulation::on_alter(int n, const message& m) {
  auto& c = nodes_[size_t(n)].ctl;
  if (!c.active.active())
    return; // the leader's replica retries after its request timeout
  auto id = c.next_request++;
  c.requests[id] = {m.from, m.incarnation};
  c.active.on_alter_partition(id, m.alter, c.meta.image());
  pump_raft(n);
}

/// Leadership changes (with Raft's election safety and leader
/// completeness checked), the bootstrap topic, and the machine's ready().
inline void simulation::drive_active(int n) {
  auto& c = nodes_[size_t(n)].ctl;
  raft_machine& raft = *c.raft;
  if (raft.role() != raft_role::leader) {
    c.lead_term = -1;
    if (c.active.active()) {
      c.active.deactivate();
      run_active(n); // refuses the requests waiting on it
    }
    c.pending.clear();
    c.requests.clear();
    c.creating = false;
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
    c.active.activate(c.meta.image(), now_); // a grace period before fencing anyone
  }
  auto& img = c.meta.image();
  if (!img.topics.count("t") && !c.creating && int(img.brokers.size()) == nodes) {
    create_topic_cmd t;
    t.name = "t";
    t.topic_id = "sim";
    t.configs["min.insync.replicas"] = std::to_string(min_isr);
    for (int32_t p = 0; p < k_.partitions; ++p)
      t.assignment.push_back({p % nodes + 1, (p + 1) % nodes + 1, (p + 2) % nodes + 1});
    if (auto r = raft.propose(encode_command(t))) {
      c.pending[r->index] = {r->term, 0};
      c.creating = true;
      ++stats_.metadata_commands;
    }
  }
  run_active(n);
}

/// Carries out the active controller machine's ready(): answers to the
/// brokers, proposals to Raft (a refused proposal is lost at once).
inline void simulation::run_active(int n) {
  auto& c = nodes_[size_t(n)].ctl;
  while (c.active.has_ready() && failure_.empty()) {
    auto rd = c.active.ready();
    if (trace_)
      for (auto& note : rd.notes)
        std::cerr << now_ << " controller " << n << ": " << note.text << "\n";
    for (auto& r : rd.registrations) {
      auto to = c.requests.find(r.request);
      if (to == c.requests.end())
        continue;
      message out = msg(kind::register_resp, n, to->second.first, 0, to->second.second);
      out.error = r.result.code();
      c.requests.erase(to);
      send(out);
    }
    for (auto& a : rd.alters) {
      auto to = c.requests.find(a.request);
      if (to == c.requests.end())
        continue;
      auto [broker, incarnation] = to->second;
      c.requests.erase(to);
      if (!a.failure.is_ok())
        continue; // an error instead of an answer: the replica proposes again
      message out = msg(kind::alter_resp, n, broker, a.response.tp.partition, incarnation);
      out.alter_resp = a.response;
      send(out);
    }
    for (auto& p : rd.proposals) {
      auto r = c.raft->propose(encode_command(p.cmd));
      if (!r) {
        c.active.on_proposal_done(p.id, r.error(), c.meta.image(), now_);
        continue;
      }
      c.pending[r->index] = {r->term, p.id};
      ++stats_.metadata_commands;
    }
  }
}

} // namespace al::cluster_sim
