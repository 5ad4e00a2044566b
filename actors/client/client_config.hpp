#pragma once
// Producer and consumer settings with Kafka's names and defaults, parsed
// from string properties ("acks" -> "all") like Kafka's Properties. An
// unknown key or a bad value is an error naming the key (Kafka only warns
// on unknown keys; a typo that silently does nothing is worse).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/protocol/messages.hpp"
#include "storage/batch_header.hpp"
#include "storage/status.hpp"

namespace al {

using properties = std::map<std::string, std::string>;

struct server_address {
  std::string host;
  uint16_t port = 0;
};

/// Parses "host:port,host:port".
result<std::vector<server_address>> parse_bootstrap_servers(const std::string& text);

struct producer_config {
  std::vector<server_address> bootstrap_servers;
  std::string client_id = "actorlog-producer";
  acks_mode acks = acks_mode::all;
  int64_t linger_ms = 5;                 // Kafka 3.x: 0; 4.0: 5
  int32_t batch_size = 16384;
  compression compression_type = compression::none;
  int32_t retries = 2147483647;
  int64_t retry_backoff_ms = 100;
  int64_t delivery_timeout_ms = 120000;
  int64_t request_timeout_ms = 30000;
  int32_t max_in_flight_requests_per_connection = 5; // per broker, as Kafka's
  int32_t max_request_size = 1048576;    // bytes of batches in one produce request
  bool enable_idempotence = true;
  int64_t buffer_memory = 32 << 20;
  int64_t metadata_max_age_ms = 300000;
  int64_t max_block_ms = 60000; // send() waits this long for an unknown topic's metadata
  /// Transactions (issue 16): set, the producer is transactional
  /// (init_transactions, begin/commit/abort_transaction); requires
  /// idempotence.
  std::string transactional_id;
  int64_t transaction_timeout_ms = 60000;
};

struct consumer_config {
  std::vector<server_address> bootstrap_servers;
  std::string client_id = "actorlog-consumer";
  std::string group_id;                  // empty: no group (assign() only)
  bool enable_auto_commit = true;
  int64_t auto_commit_interval_ms = 5000;
  std::string auto_offset_reset = "latest"; // earliest | latest | none
  int32_t max_poll_records = 500;
  int64_t max_poll_interval_ms = 300000;
  int64_t session_timeout_ms = 45000;
  int64_t heartbeat_interval_ms = 3000;
  int32_t fetch_min_bytes = 1;
  int32_t fetch_max_wait_ms = 500;
  int32_t max_partition_fetch_bytes = 1048576;
  int64_t request_timeout_ms = 30000;
  int64_t retry_backoff_ms = 100;
  std::string partition_assignment_strategy = "range"; // range | roundrobin | sticky | cooperative-sticky
  /// read_uncommitted: up to the HW, aborted records included (Kafka's
  /// default); read_committed: up to the last stable offset, aborted
  /// transactions skipped (issue 16).
  std::string isolation_level = "read_uncommitted";
};

/// INVALID_CONFIG naming the key: "producer config acks: \"2\" is not one of all, -1, 0, 1".
result<producer_config> parse_producer_config(const properties& props);
result<consumer_config> parse_consumer_config(const properties& props);

} // namespace al
