#include "actors/group/group_lag.hpp"

#include <algorithm>

namespace al {

std::vector<partition_lag> group_lag(const group_description& group,
                                     const std::map<topic_partition, int64_t>& end_offsets) {
  std::map<topic_partition, partition_lag> rows;
  for (const auto& [tp, committed] : group.offsets) {
    auto& row = rows[tp];
    row.committed_offset = committed.offset;
  }
  for (const auto& m : group.members)
    for (const auto& tp : m.assignment)
      rows[tp].owner = &m;
  std::vector<partition_lag> out;
  out.reserve(rows.size());
  for (auto& [tp, row] : rows) {
    row.tp = tp;
    auto e = end_offsets.find(tp);
    if (e != end_offsets.end() && e->second >= 0)
      row.end_offset = e->second;
    if (row.committed_offset >= 0 && row.end_offset >= 0)
      row.lag = std::max<int64_t>(row.end_offset - row.committed_offset, 0);
    out.push_back(row);
  }
  return out;
}

} // namespace al
