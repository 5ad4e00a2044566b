#pragma once
// One chaos run from start to verdict: cluster up, topic, producers,
// faults, heal, read back, check, report; with the idempotent workload
// (default) or the transactional one.
#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "tools/chaos/fault_runner.hpp"

namespace chaos {

struct run_options {
  uint64_t seed = 1;
  int duration_s = 60;
  std::vector<fault_kind> kinds;
  std::string topic = "chaos";
  int32_t partitions = 3;
  int producers = 2;
  int keys_per_producer = 8;
  int records_per_s = 300;
  std::string bin_dir;
  std::string config_dir;
  std::string work_dir;
  bool keep = false;
  bool json = false;
  std::string workload = "idempotent"; // or "transactional" (docs/chaos.md)
  // transactional workload
  int writers = 3;         // transactional producers into the input topic
  int txns_per_s = 15;     // all writers together
  int abort_every = 5;     // about one writer transaction in this many aborted on purpose
  int zombie_every = 0;    // about one copier transaction in this many fenced mid-way (0: none)
  std::string mutation = "none"; // test-only: break the copier (txn_copier.hpp)
};

/// The exit status: 0 pass, 1 a check failed, 3 the cluster would not run.
int run(caf::actor_system& sys, const run_options& opts);
/// The transactional workload (txn_run.cpp); the same exit status.
int run_transactional(caf::actor_system& sys, const run_options& opts);

} // namespace chaos
