#include "tools/chaos/fault_runner.hpp"

#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

namespace chaos {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

const char* to_string(fault_kind k) {
  switch (k) {
    case fault_kind::kill: return "kill";
    case fault_kind::stop: return "stop";
    case fault_kind::restart: return "restart";
    case fault_kind::leader: return "leader";
    case fault_kind::controller: return "controller";
    case fault_kind::cut: return "cut";
  }
  return "?";
}

bool parse_fault_kinds(const std::string& text, std::vector<fault_kind>& out, std::string& why) {
  static const fault_kind all[] = {fault_kind::kill, fault_kind::stop, fault_kind::restart,
                                   fault_kind::leader, fault_kind::controller, fault_kind::cut};
  std::stringstream in{text};
  std::string item;
  out.clear();
  while (std::getline(in, item, ',')) {
    if (item.empty())
      continue;
    bool known = false;
    for (auto k : all)
      if (item == to_string(k)) {
        out.push_back(k);
        known = true;
      }
    if (!known) {
      why = "unknown fault kind \"" + item + "\" (kinds: kill, stop, restart, leader, "
            "controller; cut needs `actorlog cluster cut`, which does not exist yet)";
      return false;
    }
  }
  return true;
}

namespace {

double ms_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

} // namespace

fault_runner::fault_runner(node_processes& procs, cluster_probe& probe, const load_view& load,
                           fault_options opts)
  : procs_(procs), probe_(probe), load_(load), opts_(std::move(opts)), rng_(opts_.seed),
    started_(clock_type::now()) {}

double fault_runner::since_start_s() const {
  return std::chrono::duration<double>(clock_type::now() - started_).count();
}

int32_t fault_runner::random_node() { return int32_t(uniform(1, 3)); }

void fault_runner::run_until(clock_type::time_point until) {
  started_ = clock_type::now();
  if (opts_.kinds.empty()) // no faults: the workload runs alone for the time
    std::this_thread::sleep_until(until);
  while (!opts_.kinds.empty()) {
    // Every draw happens whether or not it is used, so a seed gives the
    // same schedule however long the cluster takes.
    auto gap_ms = uniform(1000, 3000);
    auto kind = opts_.kinds[size_t(uniform(0, int(opts_.kinds.size()) - 1))];
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
    if (clock_type::now() >= until)
      break;
    inject(kind);
    if (!heal_all())
      spdlog::error("a node did not come back; later faults may find it down");
    if (!wait_isr_full(opts_.isr_bound)) {
      ++stats_.isr_waits_timed_out;
      spdlog::warn("ISR not full {} s after the fault; injecting the next one anyway",
                   opts_.isr_bound.count());
    }
    spdlog::info("t={:.1f}s after fault {}: {}", since_start_s(), count_, load_.progress());
  }
}

void fault_runner::inject(fault_kind kind) {
  ++count_;
  int32_t node = random_node();
  int pause_ms = uniform(1000, 4000);
  spdlog::info("t={:.1f}s fault {}: {} (node {} if random, pause {} ms)", since_start_s(),
               count_, to_string(kind), node, pause_ms);
  switch (kind) {
    case fault_kind::kill: kill_node(node, pause_ms); break;
    case fault_kind::stop: stop_node(node, pause_ms); break;
    case fault_kind::restart: restart_node(node); break;
    case fault_kind::leader: kill_leader(pause_ms); break;
    case fault_kind::controller: kill_controller(pause_ms); break;
    case fault_kind::cut: cut_node(node, pause_ms); break;
  }
}

bool fault_runner::bring_up(int32_t id) {
  std::string why;
  if (procs_.node(id).state == node_state::down && !procs_.start(id, why)) {
    spdlog::error("cannot start node {}: {}", id, why);
    return false;
  }
  probe_.forget(id);
  auto deadline = clock_type::now() + 30s;
  while (clock_type::now() < deadline) {
    if (probe_.answers(id, 1000ms))
      return true;
    std::this_thread::sleep_for(200ms);
  }
  spdlog::error("node {} does not answer 30 s after its start: {}", id, probe_.last_error());
  return false;
}

void fault_runner::kill_node(int32_t id, int pause_ms) {
  ++stats_.injected["kill"];
  procs_.kill9(id);
  probe_.forget(id);
  spdlog::info("kill -9 node {}; restart in {} ms", id, pause_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  bring_up(id);
}

void fault_runner::stop_node(int32_t id, int pause_ms) {
  ++stats_.injected["stop"];
  procs_.stop(id);
  probe_.forget(id);
  spdlog::info("SIGSTOP node {}; SIGCONT in {} ms", id, pause_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  procs_.resume(id);
  probe_.forget(id);
}

void fault_runner::cut_node(int32_t id, int pause_ms) {
  ++stats_.injected["cut"];
  std::vector<int32_t> others;
  for (auto& n : procs_.nodes())
    if (n.id != id)
      others.push_back(n.id);
  spdlog::info("cut node {} off from the others (both ways); heal in {} ms", id, pause_ms);
  auto set = [&](bool cut) {
    for (auto o : others) {
      if (!probe_.link(id, o, cut) || !probe_.link(o, id, cut))
        spdlog::warn("link {}-{} not {}: {}", id, o, cut ? "cut" : "healed", probe_.last_error());
    }
  };
  set(true);
  std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  set(false);
}

void fault_runner::restart_node(int32_t id) {
  ++stats_.injected["restart"];
  spdlog::info("SIGTERM node {} (clean shutdown), then start it again", id);
  procs_.terminate(id);
  probe_.forget(id);
  bring_up(id);
}

void fault_runner::kill_leader(int pause_ms) {
  auto t = probe_.topic(opts_.topic);
  // Only partitions that have taken records: the measurement needs an ack.
  std::vector<int32_t> candidates;
  if (t)
    for (auto& p : t->partitions)
      if (p.leader > 0 && load_.acks().count(p.partition) > 0)
        candidates.push_back(p.partition);
  int pick = uniform(0, 1 << 20); // drawn even when unused
  if (candidates.empty()) {
    spdlog::warn("leader fault: no partition with a known leader ({}); killing node 1 instead",
                 probe_.last_error());
    kill_node(1, pause_ms);
    return;
  }
  int32_t partition = candidates[size_t(pick) % candidates.size()];
  int32_t leader = -1;
  for (auto& p : t->partitions)
    if (p.partition == partition)
      leader = p.leader;
  ++stats_.injected["leader"];
  auto t0 = clock_type::now();
  procs_.kill9(leader);
  probe_.forget(leader);
  spdlog::info("kill -9 node {}, leader of partition {}", leader, partition);
  // Acks the old leader sent before it died arrive within milliseconds;
  // any ack after this grace period comes from a new leader.
  std::this_thread::sleep_for(100ms);
  auto n0 = load_.acks().count(partition);
  auto t1 = load_.acks().wait(partition, n0, t0 + opts_.failover_bound);
  if (t1) {
    stats_.leader_failover_ms.push_back(ms_between(t0, *t1));
    spdlog::info("partition {}: first ack after the leader's death {:.0f} ms after the kill",
                 partition, ms_between(t0, *t1));
  } else {
    ++stats_.leader_failover_missed;
    spdlog::warn("partition {}: no ack within {} s of killing its leader (node {})", partition,
                 opts_.failover_bound.count(), leader);
  }
  auto elapsed = int(ms_between(t0, clock_type::now()));
  if (elapsed < pause_ms)
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms - elapsed));
  bring_up(leader);
}

void fault_runner::kill_controller(int pause_ms) {
  int32_t active = probe_.controller_id();
  if (active < 1 || active > 3) {
    spdlog::warn("controller fault: no active controller known ({}); killing node 1 instead",
                 probe_.last_error());
    kill_node(1, pause_ms);
    return;
  }
  ++stats_.injected["controller"];
  auto t0 = clock_type::now();
  procs_.kill9(active);
  probe_.forget(active);
  spdlog::info("kill -9 node {}, the active controller", active);
  int32_t next = -1;
  while (clock_type::now() < t0 + opts_.failover_bound) {
    next = probe_.controller_id(active);
    if (next >= 0 && next != active)
      break;
    std::this_thread::sleep_for(50ms);
  }
  if (next >= 0 && next != active) {
    auto ms = ms_between(t0, clock_type::now());
    stats_.controller_failover_ms.push_back(ms);
    spdlog::info("node {} is the active controller {:.0f} ms after the kill", next, ms);
  } else {
    ++stats_.controller_failover_missed;
    spdlog::warn("no new active controller within {} s", opts_.failover_bound.count());
  }
  auto elapsed = int(ms_between(t0, clock_type::now()));
  if (elapsed < pause_ms)
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms - elapsed));
  bring_up(active);
}

bool fault_runner::heal_all() {
  bool ok = true;
  for (auto id : procs_.reap_unexpected())
    spdlog::error("node {} exited on its own (see {})", id, procs_.log_path(id));
  for (auto& n : procs_.nodes()) {
    if (n.state == node_state::stopped) {
      procs_.resume(n.id);
      probe_.forget(n.id);
    }
    if (n.state == node_state::down) {
      spdlog::info("heal: node {} is down, starting it", n.id);
      ok = bring_up(n.id) && ok;
    }
  }
  return ok;
}

bool fault_runner::wait_isr_full(std::chrono::seconds bound) {
  auto deadline = clock_type::now() + bound;
  while (clock_type::now() < deadline) {
    auto t = probe_.topic(opts_.topic);
    bool full = t && int32_t(t->partitions.size()) == opts_.partitions;
    for (size_t i = 0; full && i < t->partitions.size(); ++i) {
      auto& p = t->partitions[i];
      full = p.leader > 0 && p.isr.size() == p.replicas.size();
    }
    if (full)
      return true;
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

} // namespace chaos
