#pragma once
// The typed, validated configuration of one actorlog node. Produced by
// load_node_config() (config_loader.hpp) from an INI file plus --override
// key=value strings; the keys, types, ranges and help texts are in ONE table,
// config_schema.cpp. Field names are the Kafka key names in snake_case.
//
// A default-constructed node_config holds the schema defaults (a unit test
// checks that they agree); the required keys (node.id, data.dir,
// controller.quorum.voters) have placeholder values there.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace al::config {

/// `host:port` (listeners). IPv6 hosts are written as [::1]:9092 in files;
/// `host` holds them without brackets.
struct host_port {
  std::string host;
  uint16_t port = 0;
};

/// One entry of controller.quorum.voters: `id@host:port`.
struct voter {
  int32_t id = 0;
  std::string host;
  uint16_t port = 0;
};

/// process.roles
enum class node_role { broker, controller };

/// log.level
enum class severity { trace, debug, info, warn, error };

/// cleanup.policy (Kafka's list `compact,delete` is one value here)
enum class cleanup { delete_, compact, compact_delete };

/// compression.type; `producer` keeps whatever codec the producer used.
enum class codec { producer, none, gzip, snappy, lz4, zstd };

std::string_view to_string(node_role x);
std::string_view to_string(severity x);
/// "delete", "compact" or "compact,delete"
std::string_view to_string(cleanup x);
std::string_view to_string(codec x);
std::optional<node_role> parse_node_role(std::string_view s);
std::optional<severity> parse_severity(std::string_view s);
std::optional<codec> parse_codec(std::string_view s);

/// "host:port", with brackets around an IPv6 host.
std::string to_string(const host_port& x);
/// "id@host:port"
std::string to_string(const voter& x);

/// Section [log]: defaults for topics created on this cluster (Kafka broker
/// key names; a topic-level config may override them later).
struct log_config {
  int32_t num_partitions = 1;
  int32_t default_replication_factor = 1;
  int32_t min_insync_replicas = 1;
  int64_t retention_ms = 604800000;      ///< -1 = keep forever
  int64_t retention_bytes = -1;          ///< -1 = no size limit
  int32_t segment_bytes = 1073741824;
  int64_t segment_ms = 604800000;
  cleanup cleanup_policy = cleanup::delete_;
  int64_t log_flush_interval_messages = std::numeric_limits<int64_t>::max(); ///< max = never forced
  int64_t log_flush_interval_ms = -1;    ///< -1 = no time-based flush
  int32_t max_message_bytes = 1048588;
  int64_t delete_retention_ms = 86400000;
  int32_t index_interval_bytes = 4096;
  int64_t log_retention_check_interval_ms = 300000;
  codec compression_type = codec::producer;
  int64_t log_message_timestamp_before_max_ms = std::numeric_limits<int64_t>::max();
  int64_t log_message_timestamp_after_max_ms = 3600000; ///< Kafka 4.x: one hour
};

struct node_config {
  // [node]
  int32_t node_id = 0;                   ///< required
  std::vector<node_role> process_roles{node_role::broker, node_role::controller};
  host_port kafka_listener{"127.0.0.1", 9092}; ///< listeners: where Kafka clients connect
  host_port advertised_listener; ///< advertised.listeners; host empty: kafka_listener
  host_port caf_listener{"127.0.0.1", 9091}; ///< where actorlog's own (CAF) clients connect
  host_port peer_listener{"127.0.0.1", 9093}; ///< where other nodes connect
  int32_t socket_request_max_bytes = 104857600;
  int64_t queued_max_request_bytes = 536870912;
  int32_t max_connections = 4096;
  int64_t socket_frame_timeout_ms = 30000;
  int64_t connections_max_idle_ms = 600000;
  bool fault_injection_enable = false;
  std::string data_dir;                  ///< required
  severity log_level = severity::info;
  int32_t metrics_port = 0;              ///< 0 = no metrics endpoint
  int32_t fetch_max_bytes = 57671680;    ///< most bytes one fetch returns (Kafka's default)
  int64_t fetch_wait_max_ms = 30000;     ///< cap on a fetch's max_wait_ms
  int32_t fetch_purgatory_max_per_partition = 1000; ///< parked fetches per partition
  int64_t producer_id_expiration_ms = 86400000;     ///< idle idempotent producers forgotten
  bool auto_create_topics_enable = true; ///< Kafka clients' Metadata creates unknown topics

  // [cluster]
  std::vector<voter> quorum_voters;      ///< controller.quorum.voters, required
  int64_t broker_session_timeout_ms = 9000;
  int64_t broker_heartbeat_interval_ms = 2000;
  int64_t controller_election_timeout_ms = 1000;
  int64_t metadata_snapshot_interval_entries = 1000;
  int64_t replica_lag_time_max_ms = 30000;
  int32_t replica_fetch_max_bytes = 1048576;
  bool replica_fetch_sessions = false;
  bool unclean_leader_election_enable = false;
  int32_t offsets_topic_num_partitions = 8;
  int32_t offsets_topic_replication_factor = 3;
  int32_t transaction_state_log_num_partitions = 8;
  int32_t transaction_state_log_replication_factor = 3;
  int32_t transaction_state_log_min_isr = 2;
  int64_t transaction_max_timeout_ms = 900000;
  int64_t transactional_id_expiration_ms = 604800000;
  int64_t group_initial_rebalance_delay_ms = 3000;
  int32_t offset_metadata_max_bytes = 4096; ///< longer commit metadata: OFFSET_METADATA_TOO_LARGE
  int32_t group_max_size = 1000;            ///< members per group: GROUP_MAX_SIZE_REACHED
  int64_t middleman_heartbeat_interval_ms = 500;
  int64_t middleman_connection_timeout_ms = 3000;
  int64_t request_timeout_ms = 30000;
  int32_t max_broker_partitions = 1000;
  int32_t num_scheduler_threads = 0; // 0: one per core
  int32_t num_io_threads = 2;
  int32_t max_open_segment_files = 0; // 0: 3/4 of RLIMIT_NOFILE

  // [log]
  log_config log_defaults;

  bool has_role(node_role r) const;
  /// The voter with this id, or nullptr.
  const voter* find_voter(int32_t id) const;
};

} // namespace al::config
