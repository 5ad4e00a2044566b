#pragma once
// Consumer metrics with Kafka's names (consumer-fetch-manager-metrics and
// consumer-coordinator-metrics), as al::consumer::metrics() returns them.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/protocol/messages.hpp"

namespace al {

struct consumer_metrics {
  /// records-lag: high watermark (from the last fetch response) minus the
  /// position (the next record poll() returns), per partition.
  std::map<topic_partition, int64_t> records_lag;
  int64_t records_lag_max = 0;      // records-lag-max over the assigned partitions
  double records_consumed_rate = 0; // records-consumed-rate: per second, last 30 s
  int64_t records_consumed_total = 0;
  std::string member_id;            // group membership ("" without a group)
  int32_t generation_id = -1;
  std::vector<topic_partition> assignment;
  int64_t commits_total = 0;
  int64_t commits_failed = 0;
  int64_t rebalances_total = 0;     // assignments received
};

} // namespace al
