#pragma once
// What a node's /metrics endpoint serves: a snapshot of the node's state,
// gathered from its broker actor (metrics_server.cpp), rendered in the
// Prometheus text exposition format 0.0.4 (# HELP / # TYPE, then samples,
// one family at a time). No CAF here. The metrics are listed in docs/metrics.md.
#include <cstdint>
#include <string>
#include <vector>

#include "actors/group/group_messages.hpp"
#include "actors/protocol/admin_messages.hpp"

namespace al {

struct metrics_snapshot {
  int32_t node_id = -1;
  std::string cluster_id;
  std::vector<broker_description> brokers; ///< the cluster's brokers, from the metadata image

  struct replica {
    topic_partition tp;
    bool leader = false; ///< this node is the partition's leader
    int64_t log_start_offset = -1;
    int64_t log_end_offset = -1;
    int64_t high_watermark = -1;
  };
  std::vector<replica> replicas; ///< partition replicas hosted on this node

  /// Segment files (open_file_cache.hpp): open now, the bound (0: none),
  /// and how often the bound closed one and a read or write reopened one.
  struct segment_files {
    int64_t open = 0;
    int64_t max = 0;
    int64_t evictions = 0;
    int64_t reopens = 0;
  } files;

  /// Groups whose coordinator is on this node, with their committed offsets.
  std::vector<group_description> groups;
};

/// Prometheus text format of the snapshot. Consumer lag is the hosted
/// replica's high watermark minus the committed offset (0 if the commit is
/// ahead), and is left out for partitions without a replica on this node.
std::string render_prometheus(const metrics_snapshot& s);

/// A label value escaped for the text format (\\, \" and \n).
std::string escape_label_value(const std::string& v);

} // namespace al
