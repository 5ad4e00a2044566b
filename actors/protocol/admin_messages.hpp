#pragma once
// Admin and metadata messages: topics, partitions, brokers, cluster view.
#include <cstdint>
#include <map>
#include <string>
#include <vector>


namespace al {

using config_map = std::map<std::string, std::string>;

struct create_topic_request {
  std::string name;
  int32_t partitions = -1;          // -1: the cluster's num.partitions
  int32_t replication_factor = -1;  // -1: the cluster's default.replication.factor
  config_map configs;               // per-topic overrides (retention.ms, cleanup.policy, ...)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_topic_request& x) {
  return f(x.name, x.partitions,
           x.replication_factor, x.configs);
}

struct alter_topic_request {
  std::string name;
  int32_t partitions = -1; // new total; -1 = unchanged; fewer than now = INVALID_PARTITIONS
  config_map set_configs;
  std::vector<std::string> delete_configs;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alter_topic_request& x) {
  return f(x.name, x.partitions, x.set_configs,
           x.delete_configs);
}

struct partition_description {
  int32_t partition = 0;
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  /// KIP-497: +1 on every leader or ISR change (fences stale AlterPartition).
  int32_t partition_epoch = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  int64_t log_start_offset = -1; // -1: unknown (leader not reachable)
  int64_t log_end_offset = -1;
  int64_t high_watermark = -1;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partition_description& x) {
  return f(x.partition, x.leader,
           x.leader_epoch, x.partition_epoch, x.replicas, x.isr, x.log_start_offset, x.log_end_offset,
           x.high_watermark);
}

struct topic_description {
  std::string name;
  std::string topic_id;
  config_map configs; // only the topic's overrides
  std::vector<partition_description> partitions;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, topic_description& x) {
  return f(x.name, x.topic_id, x.configs,
           x.partitions);
}

struct broker_description {
  int32_t id = -1;
  std::string host;
  uint16_t port = 0;      ///< actorlog's own clients (caf.listener)
  bool fenced = false;
  uint16_t peer_port = 0; ///< the node-to-node listener (peer.listener)
  /// Kafka clients (advertised.listeners, else listeners); port 0: none.
  std::string kafka_host = {};
  uint16_t kafka_port = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, broker_description& x) {
  return f(x.id, x.host, x.port, x.fenced, x.peer_port, x.kafka_host, x.kafka_port);
}

struct quorum_member {
  int32_t id = -1;
  std::string role; // leader, follower, candidate, unreachable
  int64_t term = 0;
  int64_t commit_index = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, quorum_member& x) {
  return f(x.id, x.role, x.term, x.commit_index);
}

struct cluster_description {
  std::string cluster_id;
  int32_t controller_id = -1;
  int64_t metadata_offset = -1; // last applied metadata log offset
  std::vector<broker_description> brokers;
  std::vector<quorum_member> quorum;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_description& x) {
  return f(x.cluster_id, x.controller_id,
           x.metadata_offset, x.brokers, x.quorum);
}

/// What a client needs to route requests: brokers and per-partition leaders.
struct metadata_request {
  std::vector<std::string> topics; // empty = all
  /// Brokers and controller only, no topics (Kafka's Metadata with an empty
  /// topic list; FindCoordinator and DescribeCluster need the brokers).
  bool brokers_only = false;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metadata_request& x) {
  return f(x.topics, x.brokers_only);
}

struct metadata_response {
  std::vector<broker_description> brokers;
  std::vector<topic_description> topics; // offsets left at -1
  int32_t controller_id = -1;
  int32_t responder_id = -1; // the broker that answered
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metadata_response& x) {
  return f(x.brokers, x.topics, x.controller_id, x.responder_id);
}

} // namespace al
