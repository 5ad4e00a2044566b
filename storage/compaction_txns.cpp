#include "storage/compaction_txns.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace al {

compaction_txns::compaction_txns(const std::vector<aborted_txn>& aborted, int64_t marker_limit)
  : marker_limit_(marker_limit) {
  for (const auto& a : aborted)
    aborted_[a.producer_id].emplace_back(a.first_offset, a.last_offset);
  for (auto& [pid, ranges] : aborted_)
    std::sort(ranges.begin(), ranges.end());
}

void compaction_txns::observe(const batch_header& h) {
  if (!h.is_transactional() || !h.has_producer_id())
    return;
  if (!h.is_control()) {
    pending_.insert(h.producer_id);
    return;
  }
  // The marker closes whatever P had open: its data, if any, came before.
  if (pending_.erase(h.producer_id) == 0 && h.base_offset < marker_limit_)
    removable_.insert(h.base_offset);
}

bool compaction_txns::aborted(const batch_header& h) const {
  if (!h.is_transactional() || h.is_control() || !h.has_producer_id())
    return false;
  auto it = aborted_.find(h.producer_id);
  if (it == aborted_.end())
    return false;
  // The last range starting at or before the batch: a producer has one
  // transaction open at a time, so ranges of one producer do not overlap.
  const auto& ranges = it->second;
  auto after = std::upper_bound(ranges.begin(), ranges.end(),
                                std::make_pair(h.base_offset, INT64_MAX));
  return after != ranges.begin() && std::prev(after)->second >= h.base_offset;
}

} // namespace al
