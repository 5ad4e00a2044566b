// Seeded simulation of consumer groups on their own (TigerBeetle VOPR
// style): the whole-cluster simulation's groups (tests/sim/cluster_groups.hpp:
// the real group_machine as coordinator, members running the shipped
// consumer_member_machine with a polling thread, over connections that keep
// order and break; every invariant there) without the cluster under them,
// and with the coordinator-side faults the cluster run leaves out
// (group_faults): writes to the offsets partition that fail with the log's
// errors or complete late, partitions added to the topic, a
// group.initial.rebalance.delay, clients that commit before their SyncGroup
// returned, up to 6 members. Under the groups, a model of where their
// offsets partitions lead: 3 nodes that crash and restart (a new process),
// leadership that moves between them and is sometimes vacant for a while.
// A failure prints "seed=N failed, reproduce with --seed N"; --seed N (or
// AL_SEED=N) replays one seed, --seed-count M runs M seeds. Harness:
// tests/sim/sim_harness.hpp. docs/groups.md, "Simulation".
#include <array>
#include <chrono>
#include <iostream>

#include "tests/sim/cluster_groups.hpp"

namespace al::cluster_sim {
namespace {

/// The nodes and the leaders of the groups' offsets partitions.
class hosts {
public:
  explicit hosts(sim::rng& r) : r_(r) {
    move_ = double(r.between(0, 100)) / 100000; // per ms and partition
    crash_ = double(r.between(0, 50)) / 100000; // per ms
    for (auto& h : leader_)
      h = int(r.between(1, nodes));
  }
  void step(int64_t now, bool calm) {
    for (int n = 1; n <= nodes; ++n)
      if (!up_[size_t(n)] && now >= down_until_[size_t(n)])
        up_[size_t(n)] = true, ++incarnation_[size_t(n)]; // a new process
    for (size_t p = 0; p < leader_.size(); ++p) {
      if (!leader_[size_t(p)] && now >= vacant_until_[size_t(p)])
        leader_[size_t(p)] = any_up();
      if (!calm && leader_[size_t(p)] && r_.chance(move_)) { // a leader change, sometimes via an election
        leader_[size_t(p)] = r_.chance(0.3) ? 0 : any_up();
        vacant_until_[size_t(p)] = now + r_.between(1, 100);
      }
    }
    if (calm || !r_.chance(crash_))
      return;
    int victim = int(r_.between(1, nodes));
    if (!up_[size_t(victim)] || down() == nodes - 1)
      return;
    up_[size_t(victim)] = false;
    down_until_[size_t(victim)] = now + r_.between(10, 1000);
    for (size_t p = 0; p < leader_.size(); ++p)
      if (leader_[size_t(p)] == victim)
        leader_[size_t(p)] = 0, vacant_until_[size_t(p)] = now + r_.between(1, 100);
  }
  void heal(int64_t now) {
    for (int n = 1; n <= nodes; ++n)
      down_until_[size_t(n)] = std::min(down_until_[size_t(n)], now);
    for (auto& v : vacant_until_)
      v = std::min(v, now);
  }
  std::pair<int, int64_t> locate(int32_t p) const {
    int n = leader_[size_t(p)];
    return n ? std::make_pair(n, incarnation_[size_t(n)]) : std::make_pair(0, int64_t(0));
  }
  bool alive(int n, int64_t incarnation) const { return up_[size_t(n)] && incarnation_[size_t(n)] == incarnation; }

private:
  int any_up() {
    int n = int(r_.between(1, nodes));
    for (int i = 0; i < nodes && !up_[size_t(n)]; ++i)
      n = n % nodes + 1;
    return up_[size_t(n)] ? n : 0;
  }
  int down() const {
    int d = 0;
    for (int n = 1; n <= nodes; ++n)
      d += !up_[size_t(n)];
    return d;
  }
  sim::rng& r_;
  double move_ = 0, crash_ = 0;
  std::array<bool, nodes + 1> up_{true, true, true, true};
  std::array<int64_t, nodes + 1> incarnation_{1, 1, 1, 1}, down_until_{};
  std::array<int, 2> leader_{};          // per partition; 0: vacant
  std::array<int64_t, 2> vacant_until_{};
};

knobs network_knobs(sim::rng& r) {
  knobs k{};
  k.partitions = 2; // two groups lead on different partitions
  k.min_delay_ms = r.between(1, 5);
  k.max_delay_ms = r.between(k.min_delay_ms, 40);
  k.drop = r.chance(0.2) ? 0 : double(r.between(0, 10)) / 100;
  k.duplicate = double(r.between(0, 5)) / 100; // connections are ordered: nothing doubles
  return k;
}

group_faults faults(sim::rng& r) {
  group_faults f;
  f.write_fail = r.chance(0.3) ? 0 : double(r.between(1, 50)) / 1000;
  f.write_delay_ms = r.chance(0.3) ? 0 : r.between(1, 50);
  f.grow = double(r.between(0, 20)) / 10000;
  f.early_commit = double(r.between(0, 200)) / 1000;
  f.initial_delay_ms = r.chance(0.5) ? 0 : int32_t(r.between(1, 300));
  f.max_members = 6;
  return f;
}

class simulation {
public:
  explicit simulation(uint64_t seed)
    : r_{seed}, k_(network_knobs(r_)), hosts_(r_), groups_(seed, k_, faults(r_)),
      safety_ms_(r_.between(3000, 8000)) {}

  std::string run() {
    auto locate = [this](int32_t p) { return hosts_.locate(p); };
    auto alive = [this](int n, int64_t inc) { return hosts_.alive(n, inc); };
    int64_t deadline = 0;
    for (int64_t now = 1; groups_.failure().empty(); ++now) {
      bool calm = now > safety_ms_;
      if (now == safety_ms_ + 1) { // faults stop
        hosts_.heal(now);
        deadline = now + 200 + groups_.heal(now);
      }
      hosts_.step(now, calm);
      groups_.step(now, calm, locate, alive);
      if (calm && groups_.converged()) {
        converged_after_ms_ = now - safety_ms_;
        break;
      }
      if (calm && now > deadline)
        return "liveness: groups not converged " + std::to_string(now - safety_ms_) +
               " ms after the faults stopped";
    }
    return groups_.failure();
  }
  group_stats result() const { return groups_.result(); }
  int64_t converged_after_ms() const { return converged_after_ms_; }

private:
  sim::rng r_;
  knobs k_;
  hosts hosts_;
  groups groups_;
  int64_t safety_ms_ = 0, converged_after_ms_ = 0;
};

} // namespace
} // namespace al::cluster_sim

using namespace al;

TEST_CASE("group simulation: coordinator faults, invariants, liveness", "[group][sim]") {
  auto started = std::chrono::steady_clock::now();
  cluster_sim::group_stats total;
  int64_t worst_ms = 0;
  uint64_t count = sim::for_each_seed(250, [&](uint64_t seed) {
    cluster_sim::simulation sim(seed);
    auto failure = sim.run();
    total.add(sim.result());
    worst_ms = std::max(worst_ms, sim.converged_after_ms());
    return failure;
  });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started).count();
  std::cout << "group sim: " << count << " seeds in " << ms << " ms: " << total.generations
            << " generations, " << total.commits << " commits, " << total.fenced
            << " stale fenced, " << total.refused << " refused while rebalancing, "
            << total.failed_writes << " writes failed, " << total.grown
            << " partitions added, " << total.early_commits << " early commits, "
            << total.moves << " coordinator loads, " << total.member_crashes
            << " member crashes, " << total.revocations << " eager revocations, " << total.stalls
            << " poll stalls; worst time to converge after the faults stopped: " << worst_ms
            << " ms\n";
  if (count > 1) { // the faults must actually reach the coordinator
    CHECK(total.fenced > 0);
    CHECK(total.generations > int64_t(count));
    CHECK(total.failed_writes > 0);
    CHECK(total.grown > 0);
    CHECK(total.early_commits > 0);
  }
}
