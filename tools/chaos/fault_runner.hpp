#pragma once
// Fault injection on a seeded schedule: one fault at a time (at most one
// node down or stopped), healed before the next, with a seeded pause and
// gap. The seed fixes the sequence of kinds, targets and pauses; the
// timing of the cluster itself is not deterministic.
//
//   kill        kill -9 of a random node, restart after a pause
//   stop        SIGSTOP of a random node, SIGCONT after a pause
//   restart     SIGTERM (clean shutdown) of a random node, start again
//   leader      kill -9 of the leader of a random partition; measures
//               kill -> first acknowledged produce to it (new leader)
//   controller  kill -9 of the active controller; measures kill -> a
//               surviving node reports a new active controller
//   cut         network partition: a random node drops its links to the
//               other two, both ways (`actorlog cluster cut`), healed
//               after a pause
#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tools/chaos/ack_log.hpp"
#include "runtime/cluster/cluster_probe.hpp"
#include "runtime/cluster/node_processes.hpp"

namespace chaos {

using al::cluster::cluster_options;
using al::cluster::cluster_probe;
using al::cluster::node_processes;
using al::cluster::node_state;

enum class fault_kind { kill, stop, restart, leader, controller, cut };

const char* to_string(fault_kind k);
/// Parses "kill,stop,..."; false with `why` on an unknown kind.
bool parse_fault_kinds(const std::string& text, std::vector<fault_kind>& out, std::string& why);

struct fault_stats {
  std::map<std::string, int> injected;          // kind -> count
  std::vector<double> leader_failover_ms;       // kill -> first ack on the new leader
  int leader_failover_missed = 0;               // no ack within the bound
  std::vector<double> controller_failover_ms;   // kill -> new active controller reported
  int controller_failover_missed = 0;
  int isr_waits_timed_out = 0;                  // ISR not full before the next fault
};

struct fault_options {
  uint64_t seed = 1;
  std::vector<fault_kind> kinds;
  std::string topic;
  int32_t partitions = 0;
  std::chrono::seconds failover_bound{60};
  std::chrono::seconds isr_bound{20};
};

class fault_runner {
public:
  fault_runner(node_processes& procs, cluster_probe& probe, const load_view& load,
               fault_options opts);

  /// Injects faults until `until`; every fault is healed before it returns.
  void run_until(std::chrono::steady_clock::time_point until);
  /// Resumes stopped nodes and starts down ones; waits until each answers.
  bool heal_all();
  /// Until every partition's ISR holds all replicas (as a running node
  /// reports it), at most `bound`.
  bool wait_isr_full(std::chrono::seconds bound);

  const fault_stats& stats() const { return stats_; }

private:
  void inject(fault_kind kind);
  void kill_node(int32_t id, int pause_ms);
  void stop_node(int32_t id, int pause_ms);
  void restart_node(int32_t id);
  void kill_leader(int pause_ms);
  void kill_controller(int pause_ms);
  void cut_node(int32_t id, int pause_ms);
  /// start + wait until the node answers (30 s).
  bool bring_up(int32_t id);
  int32_t random_node();
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  double since_start_s() const;

  node_processes& procs_;
  cluster_probe& probe_;
  const load_view& load_;
  fault_options opts_;
  std::mt19937_64 rng_;
  fault_stats stats_;
  std::chrono::steady_clock::time_point started_;
  int count_ = 0;
};

} // namespace chaos
