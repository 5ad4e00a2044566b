#pragma once
// The controller's apply step: a pure state machine (no CAF, no I/O, no
// clock). It holds the cluster metadata image, turns admin requests into
// validated commands (plan_*), and applies committed commands in log order.
// apply() re-validates, so a command that raced another one in the log is
// rejected at apply time with the same error the planner would give.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "actors/controller/metadata_commands.hpp"
#include "actors/protocol/admin_messages.hpp"

namespace al {

struct metadata_image {
  std::map<std::string, topic_description> topics;
  std::map<int32_t, broker_description> brokers;
  std::map<int32_t, int64_t> broker_incarnations;
  int64_t last_offset = -1; // offset of the last applied command
  int64_t next_producer_id = 0;
};

/// What changed in the image since the last metadata_machine::take_delta():
/// the controller's push to its node's broker (issue 15: a push of the whole
/// image, 10 000 partitions, cost a copy and a walk over every partition for
/// each batch of applied commands). Topics created or altered (partitions
/// added, configs) come whole, as they are now; partitions whose leader or
/// ISR changed come alone (an election storm over one 10 000-partition
/// topic sends the partitions elected, not the topic); deleted topics by
/// name; the brokers, incarnations and counters whole (a few entries).
/// `full`: `topics` holds every topic and replaces the receiver's (the
/// first delta, and the one after a restore).
struct metadata_delta {
  bool full = true;
  std::map<std::string, topic_description> topics;
  std::map<std::string, std::vector<partition_description>> partitions; // by topic
  std::vector<std::string> deleted;
  std::map<int32_t, broker_description> brokers;
  std::map<int32_t, int64_t> broker_incarnations;
  int64_t last_offset = -1;
  int64_t next_producer_id = 0;
};

struct topic_defaults {
  int32_t num_partitions = 1;
  int32_t replication_factor = 1;
  /// Partitions one CreateTopics/CreatePartitions request may add (Kafka
  /// refuses more than 10 000 with POLICY_VIOLATION).
  int32_t max_partitions_per_request = 10000;
  /// Partition replicas one broker may host (max.broker.partitions, after
  /// KIP-578); a request that would place more on any broker is refused.
  int32_t max_broker_partitions = 1000;
};

/// Kafka's topic name rule: 1..249 chars of [a-zA-Z0-9._-], not "." or "..".
status validate_topic_name(const std::string& name);

/// POLICY_VIOLATION when adding `count` partitions is more than one request
/// may add, or when `placed` (replicas per broker of the new partitions)
/// would take a broker past `limits.max_broker_partitions` given what the
/// image already places on it.
status check_partition_limits(const metadata_image& image, int32_t count,
                              const std::vector<std::vector<int32_t>>& placed,
                              const topic_defaults& limits);

class metadata_machine {
public:
  const metadata_image& image() const { return image_; }
  int64_t last_applied_offset() const { return image_.last_offset; }
  const topic_description* find_topic(const std::string& name) const;

  /// Brokers that are registered and not fenced, by id.
  std::vector<int32_t> live_brokers() const;

  result<create_topic_cmd> plan_create_topic(const create_topic_request& req,
                                             const topic_defaults& defaults,
                                             std::string topic_id) const;
  result<create_partitions_cmd> plan_create_partitions(const std::string& name,
                                                       int32_t new_total,
                                                       const topic_defaults& limits) const;
  result<alter_configs_cmd> plan_alter_configs(const alter_topic_request& req) const;
  result<delete_topic_cmd> plan_delete_topic(const std::string& name) const;

  /// Applies the command committed at `offset`. Offsets at or below the last
  /// applied one are skipped (ok), which makes replay after restart safe.
  status apply(const metadata_command& cmd, int64_t offset);

  /// Replaces the image (restore from a snapshot or from the SQLite view).
  void restore(metadata_image image) {
    image_ = std::move(image);
    full_ = true;
  }

  /// The changes applied since the last call (or everything, the first time,
  /// after restore() and after mark_full()).
  metadata_delta take_delta();
  /// The next delta carries the whole image (a new receiver).
  void mark_full() { full_ = true; }

private:
  std::vector<std::vector<int32_t>> assign_replicas(const std::string& name,
                                                    int32_t first_partition, int32_t count,
                                                    int32_t replication_factor) const;
  status apply_one(const register_broker_cmd& c);
  status apply_one(const fence_broker_cmd& c);
  status apply_one(const create_topic_cmd& c);
  status apply_one(const create_partitions_cmd& c);
  status apply_one(const alter_configs_cmd& c);
  status apply_one(const delete_topic_cmd& c);
  status apply_one(const change_partition_cmd& c);
  status apply_one(const allocate_producer_ids_cmd& c);
  status check_added_members(const change_partition_cmd& c,
                             const partition_description& p) const;
  /// Remembers what `cmd` changes for the next delta (metadata_delta.cpp).
  void note_change(const metadata_command& cmd);

  metadata_image image_;
  std::set<std::string> changed_; // topics created, altered or deleted since the last delta
  std::set<std::pair<std::string, int32_t>> changed_partitions_; // leader / ISR changes
  bool full_ = true;
};

} // namespace al

namespace al {
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metadata_image& x) {
  return f(x.topics, x.brokers, x.broker_incarnations, x.last_offset, x.next_producer_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, metadata_delta& x) {
  return f(x.full, x.topics, x.partitions, x.deleted, x.brokers, x.broker_incarnations,
           x.last_offset, x.next_producer_id);
}
} // namespace al
