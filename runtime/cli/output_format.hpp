#pragma once
// What the client commands print (no CAF, unit-tested): topic descriptions
// in kafka-topics --describe's shape, the cluster view as tables, and
// consumed records in kafka-console-consumer's shape.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "actors/group/group_messages.hpp"
#include "actors/protocol/admin_messages.hpp"

namespace al::cli {

/// kafka-topics --describe, plus the partition's log start and end offsets
/// (-1, i.e. unknown, prints as "-"; no leader prints as "none"):
///   Topic: orders<TAB>TopicId: ...<TAB>PartitionCount: 6<TAB>ReplicationFactor: 1<TAB>Configs: retention.ms=1000
///   <TAB>Topic: orders<TAB>Partition: 0<TAB>Leader: 1<TAB>Replicas: 1<TAB>Isr: 1<TAB>LogStartOffset: 0<TAB>LogEndOffset: 42
/// Partitions are printed in partition order.
std::string format_topic_description(const topic_description& topic);

/// Cluster id, controller id, metadata offset, then a brokers table
/// (ID HOST PORT STATUS alive/fenced) and a quorum table
/// (ID ROLE TERM COMMIT-INDEX), both ordered by id.
std::string format_cluster_description(const cluster_description& cluster);

/// What kafka-console-consumer prints besides the value.
struct record_print_options {
  bool print_partition = false;
  bool print_offset = false;
  bool print_key = false;
  std::string separator = "\t"; ///< between the printed fields
};

/// Appends one consumed record as kafka-console-consumer prints it:
/// [Partition:P<sep>][Offset:O<sep>][key<sep>]value'\n'; a null key or value
/// prints as "null".
void append_record_line(std::string& out, const record_print_options& opts, int32_t partition,
                        int64_t offset, std::optional<std::string_view> key,
                        std::optional<std::string_view> value);

// ---- consumer groups (kafka-consumer-groups) --------------------------------

/// --describe: one row per partition that has a committed offset or an
/// owner (by topic, partition), then one per member that owns nothing:
///   GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
/// LAG = LOG-END-OFFSET - CURRENT-OFFSET; unknown values print as "-".
std::string format_group_offsets(const group_description& group,
                                 const std::map<topic_partition, int64_t>& log_end_offsets);

/// --describe --state: GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS.
std::string format_group_state(const group_description& group, const std::string& coordinator);

/// --list --state: GROUP STATE (by group id).
std::string format_group_listing(const std::vector<group_listing>& groups);

/// --reset-offsets: GROUP TOPIC PARTITION NEW-OFFSET.
std::string format_offset_plan(const std::string& group,
                               const std::map<topic_partition, int64_t>& plan);

} // namespace al::cli
