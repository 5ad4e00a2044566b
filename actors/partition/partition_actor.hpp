#pragma once
// The actor of one partition replica: owns its partition_log, answers
// produce/fetch/list-offsets as leader, parks long-poll fetches, and runs
// retention, compaction and time-based flushes on a timer. Spawn it
// `detached` in a node: its disk I/O (fsync included) then never blocks the
// shared scheduler threads.
#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

#include "actors/partition/partition_api.hpp"
#include "storage/log_config.hpp"

namespace al {

struct partition_setup {
  topic_partition tp;
  std::string dir;                  // the partition's folder, e.g. <data.dir>/orders-3
  log_config log;                   // broker defaults with the topic's overrides applied
  config_map topic_configs;         // the overrides themselves (min.insync.replicas, ...)
  int32_t default_min_insync_replicas = 1;
  partition_description state;      // leader, epoch, replicas, ISR from the controller
  int32_t node_id = -1;
  int64_t housekeeping_interval_ms = 1000;
  int64_t retention_check_interval_ms = 300000;
};

struct partition_state;

partition_api::behavior_type
partition_actor(partition_api::stateful_pointer<partition_state> self, partition_setup setup);

} // namespace al
