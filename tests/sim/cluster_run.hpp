#pragma once
// The whole-cluster simulation's loop (tests/sim/cluster_sim_test.cpp,
// tests/sim/txn_sim_test.cpp): construction, one virtual ms, the network,
// liveness. Every other header of the simulation is included here.
#include <iostream>

#include "tests/sim/cluster_broker.hpp"
#include "tests/sim/cluster_checks.hpp"
#include "tests/sim/cluster_controller.hpp"
#include "tests/sim/cluster_faults.hpp"
#include "tests/sim/cluster_fetch.hpp"
#include "tests/sim/cluster_producers.hpp"
#include "tests/sim/cluster_txn.hpp"

namespace al::cluster_sim {

inline simulation::simulation(uint64_t seed, bool isr_races, txn_options txn)
    : r_{seed}, k_(knobs::from(r_, isr_races)), net_(r_, nodes + 1), groups_(seed, k_) {
  txn_.opt = txn;
  if (txn.on) // the transaction state partition and at least one to write to
    k_.partitions = std::max(k_.partitions, 2);
  net_.faults = {k_.drop, k_.duplicate, k_.min_delay_ms, k_.max_delay_ms};
  if (k_.controller_delay_ms > 0) // the isr profile: a slow link to the controller
    net_.extra_delay = [this](int, int) {
      return to_controller_ ? r_.between(0, k_.controller_delay_ms) : 0;
    };
  nodes_.resize(nodes + 1);
  facts_.resize(size_t(k_.partitions));
  producers_.assign(size_t(k_.producers), std::vector<producer_partition>(size_t(k_.partitions)));
  for (int n = 1; n <= nodes; ++n) {
    auto& nd = nodes_[size_t(n)];
    nd.parts.resize(size_t(k_.partitions));
    nd.pushed.assign(size_t(k_.partitions), {-1, -1});
    nd.raft_phase = r_.between(0, k_.raft_tick_ms - 1);
    nd.next_heartbeat = r_.between(0, k_.heartbeat_ms);
    start_controller(n);
    start_replicas(n);
  }
  if (txn.on)
    txn_setup();
}

inline std::string simulation::run() {
  sim::run_phases(
    now_, k_.safety_ms, failure_, [&] { step(); }, [&] { start_liveness(); return deadline_; },
    [&] { return converged(); },
    [&](int64_t ms) {
      fail("liveness: not converged " + std::to_string(ms) + " ms after the faults stopped" +
           (txn_.opt.on ? "; " + txn_waiting() : std::string()));
    });
  stats_.worst_liveness_ms = now_ - heal_at_;
  stats_.dropped = net_.dropped;
  if (failure_.empty())
    final_checks();
  if (failure_.empty() && txn_.opt.on)
    txn_final_checks();
  return failure_;
}

inline void simulation::step() {
  ++now_;
  if (!liveness_)
    inject_faults();
  while (net_.has_due(now_) && failure_.empty())
    deliver(net_.pop().m);
  for (int n = 1; n <= nodes && failure_.empty(); ++n) {
    auto& nd = nodes_[size_t(n)];
    if (nd.life.restart_due(now_))
      restart(n);
    if (!nd.life.up)
      continue;
    if (now_ >= nd.next_heartbeat) { // to every voter; the active one listens
      // The broker registers (again after a request timeout, as the real
      // one does after its request fails), then heartbeats.
      for (int c = 1; c <= nodes; ++c) {
        message hb = msg(nd.registered ? kind::heartbeat : kind::register_req, n, c);
        hb.incarnation = nd.life.incarnation;
        send(hb);
      }
      nd.next_heartbeat =
        now_ + (nd.registered ? k_.heartbeat_ms : k_.heartbeat_ms + k_.request_timeout_ms);
    }
    if ((now_ + nd.raft_phase) % k_.raft_tick_ms == 0)
      controller_tick(n);
    if (k_.publish_ms && (now_ + n) % k_.publish_ms == 0)
      push_metadata(n);
    for (int32_t p = 0; p < k_.partitions && failure_.empty(); ++p)
      if (!rep(n, p).parked.empty())
        expire_parked(n, p);
    if ((now_ + n) % k_.tick_ms == 0)
      for (int32_t p = 0; p < k_.partitions && failure_.empty(); ++p) {
        rep(n, p).m->tick(now_);
        drain(n, p);
        housekeeping(n, p);
      }
  }
  producers_tick();
  if (txn_.opt.on)
    txn_step();
  groups_.step(now_, liveness_, [&](int32_t p) { // the partition's leader hosts the coordinator
    std::pair<int, int64_t> best{0, 0};
    int32_t epoch = -1;
    for (int n = 1; n <= nodes; ++n) {
      auto& m = rep(n, p).m;
      if (nodes_[size_t(n)].life.up && m && m->role() == replica_role::leader && m->leader_epoch() > epoch)
        epoch = m->leader_epoch(), best = {n, nodes_[size_t(n)].life.incarnation};
    }
    return best;
  }, [&](int n, int64_t inc) { return nodes_[size_t(n)].life.up && nodes_[size_t(n)].life.incarnation == inc; });
  if (!groups_.failure().empty())
    fail(groups_.failure());
}

inline void simulation::send(const message& m) {
  if (m.from == m.to) // within the node: no network
    return net_.push(now_, m);
  to_controller_ = m.k == kind::alter || m.k == kind::alter_resp || m.k == kind::heartbeat ||
                   m.k == kind::register_req || m.k == kind::register_resp;
  net_.send(now_, m.from, m.to, m);
}

inline void simulation::deliver(const message& m) {
  if (trace_)
    std::cerr << now_ << " " << m.from << "->" << m.to << " kind " << int(m.k) << " t-"
              << m.partition << (m.k == kind::raft ? " " + describe(m.raft) : "")
              << (m.k == kind::produce || m.k == kind::produce_resp
                    ? " seq " + std::to_string(m.base_seq) + "+" + std::to_string(m.count) +
                        " attempt " + std::to_string(m.attempt) + " error " +
                        std::to_string(int(m.error)) + " offset " + std::to_string(m.base_offset)
                    : "")
              << (m.k == kind::txn_resp ? " " + std::string(to_string(m.txn.error)) : "")
              << "\n";
  if (m.to >= first_txn_client)
    return m.k == kind::txn_resp ? on_txn_resp(m) : on_txn_produce_resp(m);
  if (m.to >= first_producer)
    return on_produce_resp(m);
  auto& nd = nodes_[size_t(m.to)];
  if (!nd.life.up || (m.to_incarnation && m.to_incarnation != nd.life.incarnation))
    return; // lost with the process it was for
  int n = m.to;
  int32_t p = m.partition;
  switch (m.k) {
    case kind::raft:
      nd.ctl.raft->step(m.raft);
      return pump_raft(n);
    case kind::heartbeat: return on_heartbeat(n, m);
    case kind::register_req: return on_register(n, m);
    case kind::register_resp:
      if (m.error == errc::none && !nd.registered) {
        nd.registered = true;
        nd.next_heartbeat = now_;
      } else if (m.error != errc::none) {
        nd.next_heartbeat = std::min(nd.next_heartbeat, now_ + k_.heartbeat_ms);
      }
      return;
    case kind::alter: return on_alter(n, m);
    case kind::alter_resp: rep(n, p).m->on_alter_isr_response(m.alter_resp, now_); break;
    case kind::fetch: return on_fetch(n, m);
    case kind::fetch_resp: return on_fetch_resp(n, m);
    case kind::epoch_req: {
      message out = msg(kind::epoch_resp, n, m.from, p, m.incarnation);
      out.epoch_resp = rep(n, p).m->on_offsets_for_epoch(m.epoch_req);
      drain(n, p);
      return send(out);
    }
    case kind::epoch_resp: rep(n, p).m->on_offsets_for_epoch_response(m.epoch_resp, now_); break;
    case kind::produce: return on_produce(n, m);
    case kind::produce_resp:
      if (m.type != entry_type::data) // to a coordinator's append or marker
        return on_txn_written(n, m);
      return fail("a produce answer sent to a node");
    case kind::txn_req: return on_txn_request(n, m);
    case kind::txn_resp: return fail("a coordinator's answer sent to a node");
    case kind::verify_req: return on_verify_req(n, m);
    case kind::verify_resp: return on_verify_resp(n, m);
  }
  drain(n, p);
}

inline void simulation::start_liveness() {
  liveness_ = true;
  net_.faults_on = false;
  heal_at_ = now_;
  net_.links.heal();
  int64_t backlog = 0;
  for (int n = 1; n <= nodes; ++n) {
    if (!nodes_[size_t(n)].life.up)
      nodes_[size_t(n)].life.restart_at = now_;
    for (auto& r : nodes_[size_t(n)].parts)
      backlog = std::max(backlog, r.disk.end() - r.disk.log_start);
  }
  // Elect a controller, re-register and unfence, elect partition leaders,
  // truncate, catch up, rejoin the ISR, answer the producers.
  int64_t election = 2 * k_.election_ticks * k_.raft_tick_ms;
  int64_t round_trip = 2 * k_.max_delay_ms + k_.fetch_backoff_ms + k_.fetch_wait_ms + k_.tick_ms;
  deadline_ = now_ + 10 * election + 4 * k_.session_ms + 4 * k_.lag_ms +
              10 * k_.produce_timeout_ms + 20 * k_.request_timeout_ms +
              (backlog / k_.max_fetch_batches + 20) * round_trip + groups_.heal(now_);
  if (txn_.opt.on) { // zombies end; an open transaction of theirs times out
    for (auto& x : txn_.instances)
      x.phase = x.zombie ? txn_phase::dead : x.phase;
    deadline_ += 3 * txn_.timeout_ms + 20 * k_.request_timeout_ms;
  }
}

inline bool simulation::converged() {
  if (!groups_.converged())
    return false;
  for (auto& per_producer : producers_)
    for (auto& pp : per_producer)
      if (!pp.batches.empty())
        return false;
  int64_t applied = nodes_[1].ctl.applied;
  for (int n = 1; n <= nodes; ++n)
    if (!nodes_[size_t(n)].life.up || nodes_[size_t(n)].ctl.applied != applied ||
        !described(n, 0))
      return false;
  for (int32_t p = 0; p < k_.partitions; ++p) {
    auto& d = *described(1, p);
    if (d.leader < 0 || d.isr.size() != size_t(nodes))
      return false;
    auto& l = *rep(d.leader, p).m;
    if (l.role() != replica_role::leader || l.leader_epoch() != d.leader_epoch)
      return false;
    for (int n = 1; n <= nodes; ++n) {
      auto& m = *rep(n, p).m;
      if (m.log_end_offset() != l.log_end_offset() || m.high_watermark() != l.log_end_offset())
        return false;
    }
  }
  return !txn_.opt.on || txn_converged();
}

} // namespace al::cluster_sim
