#pragma once
// The demo's output at the end: what the groups computed (positions,
// reported volume, largest exposures), each group's consumption and
// committed offsets per partition with lag, and the checks.
#include <ostream>
#include <vector>

#include "verify.hpp"

namespace trading {

struct summary_input {
  const demo_context* ctx = nullptr;
  int32_t replication_factor = 1;
  const production_report* production = nullptr;
  const risk_group* risk = nullptr;
  const position_group* position = nullptr;
  const audit_group* audit = nullptr;
  const reporting_group* reporting = nullptr;
  committed_offsets committed;
  std::vector<check_result> checks;
};

/// Prints everything; returns whether every check passed.
bool print_summary(const summary_input& in, std::ostream& out);

} // namespace trading
