#pragma once
// The transactional run's table (and --json): faults, the transactions of
// the writers and the copier by outcome, what the readers found, and the
// checks of txn_checker.hpp. No CAF.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tools/chaos/fault_runner.hpp"
#include "tools/chaos/txn_checker.hpp"

namespace chaos {

struct txn_run_report {
  uint64_t seed = 0;
  int duration_s = 0;
  std::string input;
  std::string output;
  int32_t partitions = 0;
  std::string mutation = "none";
  fault_stats faults;
  txn_check_result check;
  std::vector<std::string> errors; // a read back incomplete, the copier not drained, ...
  bool isr_full_at_end = false;
  std::string replicas_note;

  bool passed() const { return check.passed() && errors.empty(); }
};

void print_txn_table(std::ostream& out, const txn_run_report& r);
void print_txn_json(std::ostream& out, const txn_run_report& r);

} // namespace chaos
