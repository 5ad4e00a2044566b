#pragma once
// Error codes of actorlog. Values mirror Apache Kafka's protocol error codes
// wherever Kafka has one, so a Kafka user reads the same names. Kafka's
// UNKNOWN_SERVER_ERROR (-1) is 255 here because CAF error codes are uint8_t
// and 0 must mean "no error".
#include <cstdint>
#include <string_view>

namespace al {

enum class errc : uint8_t {
  none = 0,
  offset_out_of_range = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  invalid_fetch_size = 4,
  leader_not_available = 5,
  not_leader_or_follower = 6,
  request_timed_out = 7,
  broker_not_available = 8,
  replica_not_available = 9,
  message_too_large = 10,
  offset_metadata_too_large = 12,
  network_exception = 13,
  coordinator_load_in_progress = 14,
  coordinator_not_available = 15,
  not_coordinator = 16,
  invalid_topic_exception = 17,
  record_list_too_large = 18,
  not_enough_replicas = 19,
  not_enough_replicas_after_append = 20,
  invalid_required_acks = 21,
  illegal_generation = 22,
  inconsistent_group_protocol = 23,
  invalid_group_id = 24,
  unknown_member_id = 25,
  invalid_session_timeout = 26,
  rebalance_in_progress = 27,
  invalid_commit_offset_size = 28,
  topic_authorization_failed = 29,
  cluster_authorization_failed = 31,
  invalid_timestamp = 32,
  unsupported_version = 35,
  topic_already_exists = 36,
  invalid_partitions = 37,
  invalid_replication_factor = 38,
  invalid_replica_assignment = 39,
  invalid_config = 40,
  not_controller = 41,
  invalid_request = 42,
  unsupported_for_message_format = 43,
  policy_violation = 44,
  out_of_order_sequence_number = 45,
  duplicate_sequence_number = 46,
  invalid_producer_epoch = 47,
  invalid_txn_state = 48,
  invalid_producer_id_mapping = 49,
  invalid_transaction_timeout = 50,
  concurrent_transactions = 51,
  transaction_coordinator_fenced = 52,
  producer_fenced = 90,
  transactional_id_not_found = 105,
  unsupported_compression_type = 76,
  kafka_storage_error = 56,
  unknown_producer_id = 59,
  non_empty_group = 68,
  group_id_not_found = 69,
  fetch_session_id_not_found = 70,
  fenced_leader_epoch = 74,
  stale_broker_epoch = 77,
  unknown_leader_epoch = 75,
  offset_not_available = 78,
  member_id_required = 79,
  group_max_size_reached = 81,
  invalid_record = 87,
  unstable_offset_commit = 88,
  throttling_quota_exceeded = 89,
  unknown_topic_id = 100,
  invalid_update_version = 119,
  ineligible_replica = 120,
  unknown_server_error = 255,
};

/// Kafka's upper-case name of the code, e.g. "NOT_LEADER_OR_FOLLOWER".
std::string_view to_string(errc code);

/// Whether a client may retry the request unchanged (Kafka's RetriableException).
bool is_retriable(errc code);

} // namespace al
