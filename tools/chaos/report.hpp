#pragma once
// The end-of-run table (and --json): faults by kind, records, the checks,
// failover times. No CAF.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tools/chaos/checker.hpp"
#include "tools/chaos/fault_runner.hpp"
#include "tools/chaos/workload.hpp"

namespace chaos {

struct run_report {
  uint64_t seed = 0;
  int duration_s = 0;
  std::string topic;
  int32_t partitions = 0;
  fault_stats faults;
  workload_counts load;
  check_result check;
  std::string read_error;   // read back incomplete
  bool isr_full_at_end = false;
  std::string replicas_note; // leader/follower end offsets after healing

  bool passed() const { return check.passed() && read_error.empty(); }
};

struct summary_ms {
  size_t n = 0;
  double min = 0, median = 0, max = 0;
};
summary_ms summarize(std::vector<double> xs);

// Shared by both workloads' tables.
/// "n x: min / median / max ms", with the misses.
std::string times(const std::vector<double>& xs, int missed);
/// One table row: name, value, verdict.
void row(std::ostream& out, const std::string& name, const std::string& value,
         const char* verdict = "");
const char* must_be_zero(int64_t v);
std::string json_list(const std::vector<double>& xs);
std::string json_string(const std::string& s);
/// "faults injected" row; the failover, ISR and replica rows.
void faults_row(std::ostream& out, const fault_stats& f);
void failover_rows(std::ostream& out, const fault_stats& f, bool isr_full_at_end,
                   const std::string& replicas_note);
/// "faults":{...}; then ,"leader_failover_ms":[...] ... ,"isr_full_at_end":b
void json_faults(std::ostream& out, const fault_stats& f);
void json_failover(std::ostream& out, const fault_stats& f, bool isr_full_at_end);

void print_table(std::ostream& out, const run_report& r);
void print_json(std::ostream& out, const run_report& r);

} // namespace chaos
