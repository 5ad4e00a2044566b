#include "storage/errc.hpp"

namespace al {

std::string_view to_string(errc code) {
  switch (code) {
#define AL_ERRC_CASE(name, text) case errc::name: return text;
    AL_ERRC_CASE(none, "NONE")
    AL_ERRC_CASE(offset_out_of_range, "OFFSET_OUT_OF_RANGE")
    AL_ERRC_CASE(corrupt_message, "CORRUPT_MESSAGE")
    AL_ERRC_CASE(unknown_topic_or_partition, "UNKNOWN_TOPIC_OR_PARTITION")
    AL_ERRC_CASE(invalid_fetch_size, "INVALID_FETCH_SIZE")
    AL_ERRC_CASE(leader_not_available, "LEADER_NOT_AVAILABLE")
    AL_ERRC_CASE(not_leader_or_follower, "NOT_LEADER_OR_FOLLOWER")
    AL_ERRC_CASE(request_timed_out, "REQUEST_TIMED_OUT")
    AL_ERRC_CASE(broker_not_available, "BROKER_NOT_AVAILABLE")
    AL_ERRC_CASE(replica_not_available, "REPLICA_NOT_AVAILABLE")
    AL_ERRC_CASE(message_too_large, "MESSAGE_TOO_LARGE")
    AL_ERRC_CASE(offset_metadata_too_large, "OFFSET_METADATA_TOO_LARGE")
    AL_ERRC_CASE(network_exception, "NETWORK_EXCEPTION")
    AL_ERRC_CASE(coordinator_load_in_progress, "COORDINATOR_LOAD_IN_PROGRESS")
    AL_ERRC_CASE(coordinator_not_available, "COORDINATOR_NOT_AVAILABLE")
    AL_ERRC_CASE(not_coordinator, "NOT_COORDINATOR")
    AL_ERRC_CASE(invalid_topic_exception, "INVALID_TOPIC_EXCEPTION")
    AL_ERRC_CASE(record_list_too_large, "RECORD_LIST_TOO_LARGE")
    AL_ERRC_CASE(not_enough_replicas, "NOT_ENOUGH_REPLICAS")
    AL_ERRC_CASE(not_enough_replicas_after_append, "NOT_ENOUGH_REPLICAS_AFTER_APPEND")
    AL_ERRC_CASE(invalid_required_acks, "INVALID_REQUIRED_ACKS")
    AL_ERRC_CASE(illegal_generation, "ILLEGAL_GENERATION")
    AL_ERRC_CASE(inconsistent_group_protocol, "INCONSISTENT_GROUP_PROTOCOL")
    AL_ERRC_CASE(invalid_group_id, "INVALID_GROUP_ID")
    AL_ERRC_CASE(unknown_member_id, "UNKNOWN_MEMBER_ID")
    AL_ERRC_CASE(invalid_session_timeout, "INVALID_SESSION_TIMEOUT")
    AL_ERRC_CASE(rebalance_in_progress, "REBALANCE_IN_PROGRESS")
    AL_ERRC_CASE(invalid_commit_offset_size, "INVALID_COMMIT_OFFSET_SIZE")
    AL_ERRC_CASE(topic_authorization_failed, "TOPIC_AUTHORIZATION_FAILED")
    AL_ERRC_CASE(cluster_authorization_failed, "CLUSTER_AUTHORIZATION_FAILED")
    AL_ERRC_CASE(invalid_timestamp, "INVALID_TIMESTAMP")
    AL_ERRC_CASE(unsupported_version, "UNSUPPORTED_VERSION")
    AL_ERRC_CASE(topic_already_exists, "TOPIC_ALREADY_EXISTS")
    AL_ERRC_CASE(invalid_partitions, "INVALID_PARTITIONS")
    AL_ERRC_CASE(invalid_replication_factor, "INVALID_REPLICATION_FACTOR")
    AL_ERRC_CASE(invalid_replica_assignment, "INVALID_REPLICA_ASSIGNMENT")
    AL_ERRC_CASE(invalid_config, "INVALID_CONFIG")
    AL_ERRC_CASE(not_controller, "NOT_CONTROLLER")
    AL_ERRC_CASE(invalid_request, "INVALID_REQUEST")
    AL_ERRC_CASE(unsupported_for_message_format, "UNSUPPORTED_FOR_MESSAGE_FORMAT")
    AL_ERRC_CASE(policy_violation, "POLICY_VIOLATION")
    AL_ERRC_CASE(out_of_order_sequence_number, "OUT_OF_ORDER_SEQUENCE_NUMBER")
    AL_ERRC_CASE(duplicate_sequence_number, "DUPLICATE_SEQUENCE_NUMBER")
    AL_ERRC_CASE(invalid_producer_epoch, "INVALID_PRODUCER_EPOCH")
    AL_ERRC_CASE(invalid_txn_state, "INVALID_TXN_STATE")
    AL_ERRC_CASE(invalid_producer_id_mapping, "INVALID_PRODUCER_ID_MAPPING")
    AL_ERRC_CASE(invalid_transaction_timeout, "INVALID_TRANSACTION_TIMEOUT")
    AL_ERRC_CASE(concurrent_transactions, "CONCURRENT_TRANSACTIONS")
    AL_ERRC_CASE(transaction_coordinator_fenced, "TRANSACTION_COORDINATOR_FENCED")
    AL_ERRC_CASE(producer_fenced, "PRODUCER_FENCED")
    AL_ERRC_CASE(transactional_id_not_found, "TRANSACTIONAL_ID_NOT_FOUND")
    AL_ERRC_CASE(unsupported_compression_type, "UNSUPPORTED_COMPRESSION_TYPE")
    AL_ERRC_CASE(kafka_storage_error, "KAFKA_STORAGE_ERROR")
    AL_ERRC_CASE(unknown_producer_id, "UNKNOWN_PRODUCER_ID")
    AL_ERRC_CASE(non_empty_group, "NON_EMPTY_GROUP")
    AL_ERRC_CASE(group_id_not_found, "GROUP_ID_NOT_FOUND")
    AL_ERRC_CASE(fetch_session_id_not_found, "FETCH_SESSION_ID_NOT_FOUND")
    AL_ERRC_CASE(unknown_topic_id, "UNKNOWN_TOPIC_ID")
    AL_ERRC_CASE(fenced_leader_epoch, "FENCED_LEADER_EPOCH")
    AL_ERRC_CASE(stale_broker_epoch, "STALE_BROKER_EPOCH")
    AL_ERRC_CASE(invalid_update_version, "INVALID_UPDATE_VERSION")
    AL_ERRC_CASE(ineligible_replica, "INELIGIBLE_REPLICA")
    AL_ERRC_CASE(unknown_leader_epoch, "UNKNOWN_LEADER_EPOCH")
    AL_ERRC_CASE(offset_not_available, "OFFSET_NOT_AVAILABLE")
    AL_ERRC_CASE(member_id_required, "MEMBER_ID_REQUIRED")
    AL_ERRC_CASE(group_max_size_reached, "GROUP_MAX_SIZE_REACHED")
    AL_ERRC_CASE(invalid_record, "INVALID_RECORD")
    AL_ERRC_CASE(throttling_quota_exceeded, "THROTTLING_QUOTA_EXCEEDED")
    AL_ERRC_CASE(unstable_offset_commit, "UNSTABLE_OFFSET_COMMIT")
    AL_ERRC_CASE(unknown_server_error, "UNKNOWN_SERVER_ERROR")
#undef AL_ERRC_CASE
  }
  return "UNKNOWN_ERROR_CODE";
}

bool is_retriable(errc code) {
  switch (code) {
    case errc::corrupt_message: // Kafka retries these: the bytes may be fine next time
    case errc::unknown_topic_or_partition:
    case errc::leader_not_available:
    case errc::not_leader_or_follower:
    case errc::request_timed_out:
    case errc::network_exception:
    case errc::coordinator_load_in_progress:
    case errc::coordinator_not_available:
    case errc::not_coordinator:
    case errc::not_enough_replicas:
    case errc::not_enough_replicas_after_append:
    case errc::offset_not_available:
    case errc::kafka_storage_error:
    case errc::fenced_leader_epoch:
    case errc::unknown_leader_epoch:
    case errc::rebalance_in_progress:
    case errc::throttling_quota_exceeded:
    case errc::unstable_offset_commit:
      return true;
    default:
      return false;
  }
}

} // namespace al
