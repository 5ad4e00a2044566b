#pragma once
// The end-of-run checks across groups: ordering, nothing lost, redeliveries
// only where a crash explains them, business results equal to what the
// acknowledged orders say, and each group's committed offsets where its
// own progress puts them.
#include <map>
#include <string>
#include <vector>

#include "demo_context.hpp"
#include "groups.hpp"
#include "order_service.hpp"

namespace trading {

/// Committed offsets of each group at the end, by group name.
using committed_offsets = std::map<std::string, offset_map>;

struct verify_options {
  /// Redeliveries in groups other than audit's crash fail the run unless
  /// set (a leader or coordinator moving can legitimately cause them).
  bool tolerate_redelivery = false;
};

std::vector<check_result> verify_run(const demo_context& ctx, const production_report& prod,
                                     const risk_group& risk, const position_group& position,
                                     const audit_group& audit, const reporting_group& reporting,
                                     const committed_offsets& committed,
                                     const verify_options& opts);

} // namespace trading
