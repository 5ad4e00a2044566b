#pragma once
// Whole-cluster simulation: the faults. Crashes (a process, or the machine
// with its page cache where that is survivable: settled()), cut links,
// isolated nodes, partition leaders cut off from the controller, random
// splits; at most max_down nodes down at a time.
#include <iostream>

#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline void simulation::inject_faults() {
  if (tainted_ && registered(tainted_)) // fenced out of every ISR first: repaired
    tainted_ = 0;
  net_.faults_on = !tainted_; // no drop may fence the leader meanwhile
  if (!tainted_ && nodes_down() < k_.max_down && r_.chance(k_.crash)) {
    int victim = int(r_.between(1, nodes));
    while (!nodes_[size_t(victim)].life.up)
      victim = victim % nodes + 1;
    if (r_.chance(k_.leader_crash)) { // a Raft leader, else a partition leader
      int raft_leader = nodes_[size_t(victim)].ctl.raft->leader();
      auto* d = described(victim, int32_t(r_.between(0, k_.partitions - 1)));
      int target = raft_leader > 0 && r_.chance(0.5) ? raft_leader
                   : d && d->leader > 0                   ? d->leader
                                                          : victim;
      victim = nodes_[size_t(target)].life.up ? target : victim;
    }
    bool machine = r_.chance(k_.machine_crash); // the page cache goes too, where survivable
    if (machine) {
      int v = victim;
      for (int i = 1; i < nodes && !settled(v); ++i)
        v = v % nodes + 1;
      machine = settled(v);
      victim = machine ? v : victim;
    }
    crash(victim, machine);
  }
  if (r_.chance(k_.heal))
    net_.links.heal();
  if (!r_.chance(k_.partition) || tainted_)
    return;
  ++stats_.partitions;
  int a = int(r_.between(1, nodes)), b = int(r_.between(1, nodes));
  switch (r_.between(0, 4)) {
    case 0: net_.links.isolate(a, 1, nodes); break; // from everyone
    case 1: net_.links.cut(a, b); break;            // one way
    case 2:
    case 3: { // a partition leader no longer heard by the controller: fenced, still serving
      auto* d = nodes_[size_t(a)].life.up
                  ? described(a, int32_t(r_.between(0, k_.partitions - 1)))
                  : nullptr;
      int controller = nodes_[size_t(a)].life.up ? nodes_[size_t(a)].ctl.raft->leader() : 0;
      if (d && d->leader > 0 && controller > 0 && controller != d->leader)
        net_.links.cut(d->leader, controller);
      break;
    }
    default: net_.links.split(r_, 1, nodes); // two random sides
  }
}

inline int simulation::nodes_down() const {
  int down = 0;
  for (int n = 1; n <= nodes; ++n)
    down += !nodes_[size_t(n)].life.up;
  return down;
}

/// Up, and registered with its current incarnation, unfenced, in the
/// freshest committed metadata.
inline bool simulation::registered(int n) const {
  auto* img = freshest_image();
  if (!img || !nodes_[size_t(n)].life.up)
    return false;
  auto b = img->brokers.find(n);
  auto inc = img->broker_incarnations.find(n);
  return b != img->brokers.end() && !b->second.fenced && inc != img->broker_incarnations.end() &&
         inc->second == nodes_[size_t(n)].life.incarnation;
}

/// Where a machine crash of `victim` is survivable: every node registered,
/// every link up, every ISR full, and the victim leads nothing, so no ISR
/// change it proposed (say, to itself alone) is still on its way.
inline bool simulation::settled(int victim) {
  for (int a = 1; a <= nodes; ++a) {
    if (!registered(a))
      return false;
    for (int c = 1; c <= nodes; ++c)
      if (!net_.links.up(a, c))
        return false;
  }
  auto& topics = freshest_image()->topics;
  auto t = topics.find("t");
  if (t == topics.end())
    return false;
  for (auto& p : t->second.partitions)
    if (p.isr.size() != size_t(nodes))
      return false;
  for (int32_t p = 0; p < k_.partitions; ++p)
    if (rep(victim, p).m->role() == replica_role::leader)
      return false;
  return true;
}

inline void simulation::crash(int n, bool machine) {
  if (trace_)
    std::cerr << now_ << (machine ? " machine crash " : " crash ") << n << "\n";
  auto& nd = nodes_[size_t(n)];
  nd.ctl.raft.reset();
  nd.verify = txn_verify_machine{};
  nd.verify_parked.clear();
  nd.verify_calls.clear();
  for (int32_t p = 0; p < k_.partitions; ++p) {
    auto& r = rep(n, p);
    r.m.reset();
    r.parked.clear();
    if (!machine)
      continue;
    stats_.hw_checkpoints_lost += r.disk.checkpoint_hw != r.disk.synced_hw;
    stats_.torn_tails += r.disk.tear(r_) > 0;
    r.verified = std::min(r.verified, r.disk.end());
  }
  nd.life.crash(now_, r_, k_.max_down_ms);
  ++stats_.crashes;
  stats_.two_down += nodes_down() == 2;
  if (machine) {
    ++stats_.machine_crashes;
    tainted_ = n;
  }
}

inline void simulation::restart(int n) {
  if (trace_)
    std::cerr << now_ << " restart " << n << "\n";
  auto& nd = nodes_[size_t(n)];
  nd.life.restart();
  nd.registered = false;
  nd.next_heartbeat = now_; // registers at once
  start_controller(n);
  start_replicas(n);
}

} // namespace al::cluster_sim
