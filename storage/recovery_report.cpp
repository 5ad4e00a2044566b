#include "storage/recovery_report.hpp"

namespace al {

const char* to_string(recovery_action a) {
  switch (a) {
    case recovery_action::truncated_torn_tail: return "torn tail";
    case recovery_action::truncated_corruption: return "corruption";
    case recovery_action::deleted_after_corruption: return "deleted after corruption";
    case recovery_action::rebuilt_indexes: return "rebuilt indexes";
    case recovery_action::removed_leftover: return "removed leftover";
    case recovery_action::completed_swap: return "completed swap";
    case recovery_action::restarted_at_log_start: return "restarted at log start";
    case recovery_action::cut_txn_index_tail: return "torn txn index tail";
    case recovery_action::emptied_txn_index: return "emptied txn index";
  }
  return "unknown";
}

size_t recovery_report::count(recovery_action a) const {
  size_t n = 0;
  for (const auto& e : events)
    n += e.action == a;
  return n;
}

uint64_t recovery_report::bytes_dropped() const {
  uint64_t n = 0;
  for (const auto& e : events)
    n += e.bytes_dropped;
  return n;
}

bool recovery_report::corruption_found() const {
  return count(recovery_action::truncated_corruption) > 0;
}

std::string recovery_report::to_string() const {
  std::string out;
  for (const auto& e : events) {
    out += al::to_string(e.action);
    out += ": " + e.file;
    if (e.bytes_dropped > 0)
      out += " position " + std::to_string(e.position) + ", " + std::to_string(e.bytes_dropped) +
             " bytes dropped";
    if (!e.reason.empty())
      out += ": " + e.reason;
    out += '\n';
  }
  return out;
}

} // namespace al
