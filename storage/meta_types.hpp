#pragma once
// Rows of the node's metadata store (meta.db), as plain structs. Names follow
// Kafka's (leader_epoch, generation_id, producer_epoch); units come last.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace al {

/// Kafka's topic id: a random 16-byte UUID, stored as a 16-byte BLOB.
using topic_uuid = std::array<std::uint8_t, 16>;

struct topic_record {
  std::string name;
  topic_uuid topic_id{};
  std::int32_t partition_count = 0;
  std::int16_t replication_factor = 0;
  std::int64_t created_at_ms = 0;

  friend bool operator==(const topic_record& a, const topic_record& b) {
    return a.name == b.name && a.topic_id == b.topic_id && a.partition_count == b.partition_count
           && a.replication_factor == b.replication_factor && a.created_at_ms == b.created_at_ms;
  }
};

/// Per-topic config overrides by Kafka key ("retention.ms" -> "86400000").
using topic_configs = std::map<std::string, std::string>;

struct partition_record {
  std::string topic;
  std::int32_t partition = 0;
  std::vector<std::int32_t> replicas; // node ids, preferred leader first
  std::int32_t leader = -1;           // node id; -1 when no leader
  std::int32_t leader_epoch = 0;
  std::vector<std::int32_t> isr;      // node ids
  std::int32_t partition_epoch = 0;

  friend bool operator==(const partition_record& a, const partition_record& b) {
    return a.topic == b.topic && a.partition == b.partition && a.replicas == b.replicas
           && a.leader == b.leader && a.leader_epoch == b.leader_epoch && a.isr == b.isr
           && a.partition_epoch == b.partition_epoch;
  }
};

/// One entry of an OffsetCommit request.
struct offset_commit {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int32_t leader_epoch = -1; // epoch of the last consumed record; -1 when unknown
  std::string metadata;
  std::int64_t commit_time_ms = 0;
};

/// A committed offset as stored: the commit plus who committed it.
struct committed_offset {
  std::string group;
  std::int32_t generation_id = -1;
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int32_t leader_epoch = -1;
  std::string metadata;
  std::int64_t commit_time_ms = 0;
};

/// Metadata of one batch appended by an idempotent producer. Kafka keeps the
/// last 5 per producer per partition to answer retried batches as duplicates.
struct producer_batch {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t first_seq = -1;
  std::int32_t last_seq = -1;
  std::int64_t last_offset = -1;
  std::int64_t timestamp_ms = -1; // max timestamp of the batch

  friend bool operator==(const producer_batch& a, const producer_batch& b) {
    return a.topic == b.topic && a.partition == b.partition && a.producer_id == b.producer_id
           && a.producer_epoch == b.producer_epoch && a.first_seq == b.first_seq
           && a.last_seq == b.last_seq && a.last_offset == b.last_offset
           && a.timestamp_ms == b.timestamp_ms;
  }
};

/// How many batches per producer per partition are kept (Kafka's
/// ProducerStateEntry.NUM_BATCHES_TO_RETAIN).
inline constexpr int max_producer_batches = 5;

/// Position in the controller's replicated metadata log; {-1, -1} before any.
struct metadata_log_position {
  std::int64_t offset = -1;
  std::int64_t term = -1;

  friend bool operator==(const metadata_log_position& a, const metadata_log_position& b) {
    return a.offset == b.offset && a.term == b.term;
  }
};

/// Keys of the node_meta table.
namespace node_meta_key {
inline constexpr const char* cluster_id = "cluster.id";
inline constexpr const char* node_id = "node.id";
} // namespace node_meta_key

} // namespace al
