#pragma once
// Consumer lag of a group, per partition (kafka-consumer-groups --describe):
// used by `actorlog groups describe` and by each node's /metrics endpoint, so
// both report the same numbers.
#include <cstdint>
#include <map>
#include <vector>

#include "actors/group/group_messages.hpp"

namespace al {

struct partition_lag {
  topic_partition tp;
  int64_t committed_offset = -1; ///< -1: the group committed nothing here
  int64_t end_offset = -1;       ///< -1: unknown (no such partition, leader unreachable)
  int64_t lag = -1;              ///< max(end - committed, 0); -1 when either is unknown
  const member_description* owner = nullptr; ///< into the group_description; null: unowned
};

/// One row per partition that has a committed offset or is assigned to a
/// member, ordered by (topic, partition). `end_offsets` holds the partitions'
/// latest offsets (the high watermark: what a consumer can reach); missing
/// partitions are unknown. The rows point into `group`: keep it alive.
std::vector<partition_lag> group_lag(const group_description& group,
                                     const std::map<topic_partition, int64_t>& end_offsets);

} // namespace al
