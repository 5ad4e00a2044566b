#pragma once
// The broker actor: one per node, published on the node's peer listener
// (clients reach it through the client gateway). Registers
// with the controller, keeps the latest metadata image, spawns one partition
// actor per hosted partition replica (and stops them when topics go), and
// routes client requests: data requests to partition actors, admin requests
// to the controller.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "actors/broker/broker_api.hpp"
#include "actors/broker/fetch_session_machine.hpp"
#include "actors/broker/txn_verify_machine.hpp"
#include "actors/controller/controller_api.hpp"
#include "actors/group/group_coordinator_api.hpp"
#include "actors/partition/hw_checkpoint_files.hpp"
#include "actors/partition/partition_actor.hpp"
#include "actors/store/store_api.hpp"
#include "actors/txn/txn_coordinator_api.hpp"
#include "actors/txn/txn_machine.hpp"

namespace al {

struct broker_setup {
  int32_t node_id = -1;
  std::string host;
  uint16_t port = 0;                // the client listener (caf.listener)
  uint16_t peer_port = 0;           // the node-to-node listener (peer.listener)
  std::string kafka_host;           // advertised Kafka listener (0 port: none)
  uint16_t kafka_port = 0;
  bool fault_injection_enable = false; // fault.injection.enable: accept link cuts
  std::string data_dir;
  log_config log_defaults;          // broker-level log.* settings
  int32_t default_min_insync_replicas = 1;
  int64_t retention_check_interval_ms = 300000;
  int64_t heartbeat_interval_ms = 2000;
  /// Heartbeats come from a detached actor of their own (a thread) once the
  /// broker is registered, as Kafka's broker lifecycle manager has its own
  /// event queue: a scheduler busy with partitions (10 000 of them opening
  /// their files at once) or a long broker mailbox cannot delay them past
  /// broker.session.timeout.ms and get a live node fenced. Off: the broker's
  /// tick sends them (deterministic tests).
  bool heartbeat_thread = false;
  int64_t incarnation = 0;          // differs on every process start
  int64_t replica_lag_time_max_ms = 30000;
  int32_t replica_fetch_max_bytes = 1048576;
  /// Follower fetches go in fetch sessions (broker_fetch_sessions.cpp;
  /// replica.fetch.sessions, experimental); false: each is forwarded to
  /// the leader's broker on its own.
  bool replica_fetch_sessions = false;
  // client limits of every partition (partition_setup has their meaning)
  int32_t fetch_max_bytes = 57671680;
  int64_t fetch_wait_max_ms = 30000;
  int32_t fetch_purgatory_max = 1000;
  int64_t producer_id_expiration_ms = 86400000;
  controller_api controller;
  /// I/O workers (io_worker_actor, num.io.threads); 0: partitions write
  /// their files inline (deterministic tests).
  int32_t io_threads = 2;
  /// The node's replication-offset-checkpoint and
  /// recovery-point-offset-checkpoint (hw_checkpoint_files.hpp), made by
  /// the node so it can write them one last time after every actor is done
  /// (node::stop); null: the broker makes its own (tests).
  std::shared_ptr<hw_checkpoint_table> hw_table;
  std::shared_ptr<hw_checkpoint_table> recovery_table;
  // consumer groups (Kafka's offsets.topic.* and group.* broker settings)
  int32_t offsets_topic_num_partitions = 8;
  int32_t offsets_topic_replication_factor = 3; // capped at the live brokers
  int32_t group_initial_rebalance_delay_ms = 3000;
  int32_t group_min_session_timeout_ms = 6000;
  int32_t group_max_session_timeout_ms = 1800000;
  int32_t offset_metadata_max_bytes = 4096; // offset.metadata.max.bytes
  int32_t group_max_size = 1000;            // group.max.size
  store_api store;                  // SQLite view of committed offsets; may be null
  // transactions (Kafka's transaction.state.log.* and transaction.* settings)
  int32_t txn_state_num_partitions = 8;
  int32_t txn_state_replication_factor = 3; // capped at the live brokers
  int32_t txn_state_min_isr = 2;            // capped at the replication factor
  txn_config txn;
};

/// An internal topic whose partition leaders host coordinators
/// (broker_groups.cpp): FindCoordinator requests wait while it is created.
struct coordinator_topic_state {
  explicit coordinator_topic_state(std::string topic) : name(std::move(topic)) {}
  std::string name;
  bool creating = false;
  std::vector<std::pair<std::string, caf::typed_response_promise<coordinator_info>>> finding;
};

/// The broker's consumer-group routing (broker_groups.cpp).
struct broker_group_state {
  std::map<int32_t, group_coordinator_api> coordinators; // by __consumer_offsets partition
  partition_counts pushed_counts;   // what the coordinators last got
  coordinator_topic_state topic{"__consumer_offsets"};
  uint64_t coordinators_started = 0;
  /// Cleared when a coordinator terminates (attach_functor; it is not linked,
  /// so even exit_reason::kill cannot reach the broker). By partition.
  std::map<int32_t, std::shared_ptr<std::atomic<bool>>> coordinator_running;
};

/// The broker's transaction coordinators (broker_txn.cpp, issue 16).
struct broker_txn_state {
  std::map<int32_t, txn_coordinator_api> coordinators; // by __transaction_state partition
  /// The leader epoch each was started under: a new epoch (the partition
  /// moved away and back) starts a new coordinator with it.
  std::map<int32_t, int32_t> epochs;
  std::map<int32_t, std::shared_ptr<std::atomic<bool>>> running; // cleared when it ends
  coordinator_topic_state topic{"__transaction_state"};
};

struct hosted_partition {
  partition_api actor;
  partition_description state;
  config_map configs;
};

struct produce_gather; // broker_produce.cpp
struct parked_produce; // broker_produce.cpp

/// Fetch sessions between nodes (broker_fetch_sessions.cpp).
struct broker_fetch_sessions {
  // Follower side: this node's follower fetches, queued per leader node.
  fetch_session_machine machine;
  std::unordered_map<uint64_t, caf::typed_response_promise<fetch_response>> waits;
  uint64_t next_id = 1;
  // Leader side: answers to other nodes' fetches, queued per follower node.
  struct answers_to {
    broker_api to; // the follower node's broker that sent the fetches
    std::vector<fetch_set_answer> answers;
    size_t bytes = 0;
  };
  std::map<int32_t, answers_to> outgoing;
  bool flush_pending = false; // a flush_atom is on its way to the broker
  uint64_t sets_sent = 0, fetches_sent = 0, answer_sets_sent = 0, answers_sent = 0;
};

struct broker_state {
  broker_setup setup;
  metadata_image image;
  std::map<topic_partition, hosted_partition> partitions;
  /// The same partitions' actors, hashed: what data requests look up.
  std::unordered_map<topic_partition, partition_api, topic_partition_hash> routes;
  bool registered = false;
  bool registering = false; // a registration request is on its way
  uint64_t heartbeats_sent = 0;   // by the broker's tick (heartbeat_thread off)
  caf::actor heartbeater;         // heartbeat_thread on, once registered
  broker_group_state groups;
  broker_txn_state txns;
  /// The image held this process's registration when last applied: the
  /// hosted partitions follow it (broker_hosting.cpp).
  bool image_acted = false;
  /// A delta did not fit the image: the controller's whole image is on its
  /// way, and deltas are dropped until it comes.
  bool awaiting_full_image = false;
  std::map<int32_t, broker_api> peers;    // other nodes' brokers (replication)
  std::set<int32_t> connecting;
  /// A node whose connect failed: no new attempt before this time (wall
  /// clock ms), and one warning per streak of failures, not one per retry.
  std::map<int32_t, int64_t> reconnect_at;
  std::set<int32_t> cut_peers;            // fault injection: links dropped
  /// Requests sent on to a peer's broker, by node and id: failed at once
  /// when that connection drops (broker_peer_call.hpp).
  std::map<int32_t, std::map<uint64_t, std::function<void(caf::error)>>> peer_calls;
  uint64_t next_peer_call = 1;
  std::vector<caf::actor> io_workers;     // fsyncing file writes off the scheduler
  /// Every hosted partition's timers (partition_expiry.hpp): long polls,
  /// housekeeping, replica ticks.
  std::shared_ptr<deadline_wheel<caf::actor>> timer_wheel;
  caf::actor timer_sweeper;
  /// Every hosted partition's HW (Kafka's replication-offset-checkpoint),
  /// written every hw_checkpoint_interval_ms on the broker's tick.
  std::shared_ptr<hw_checkpoint_table> hw_table;
  /// Every hosted partition's recovery point (Kafka's
  /// recovery-point-offset-checkpoint), written with the HW table.
  std::shared_ptr<hw_checkpoint_table> recovery_table;
  int64_t last_hw_write_ms = 0;
  /// acks=all produce sets still gathering answers, by id: answered
  /// REQUEST_TIMED_OUT for what is missing at timeout_ms + 1 s (a
  /// partition actor that stops holding an answer never gives it).
  std::map<uint64_t, std::shared_ptr<produce_gather>> produce_sets;
  uint64_t next_produce_set = 1;
  /// KIP-890 part 1 (broker_produce.cpp): a transactional batch that would
  /// open a transaction waits, by token, until the coordinator of its
  /// transactional.id confirms it (txn_verify_machine).
  txn_verify_machine verify;
  std::map<uint64_t, std::shared_ptr<parked_produce>> verify_parked;
  uint64_t next_verify_token = 1;
  broker_fetch_sessions sessions;
  static constexpr const char* name = "broker";
};

/// The hosted partition actor of topic-partition, or UNKNOWN_TOPIC_OR_PARTITION
/// (not in the metadata) / NOT_LEADER_OR_FOLLOWER (not hosted here).
result<partition_api> route_partition(const broker_state& st, const std::string& topic,
                                      int32_t partition);

/// Kafka's ProduceRequest over several partitions (broker_produce.cpp).
caf::result<produce_set_response> on_produce_set(broker_api::stateful_pointer<broker_state> self,
                                                 produce_set_request& req);
void expire_produce_set(broker_api::stateful_pointer<broker_state> self, uint64_t set);
/// The producer id and epoch of a transactional data batch; none for
/// anything else (a control batch from a client is the partition's to
/// refuse, a short or garbled one its validator's).
std::optional<std::pair<int64_t, int16_t>> transactional_producer(const bytes& batch);
/// A marker for `producer_id` goes to the partition now: its transactional
/// batches after this are verified again (txn_verify_machine::on_marker).
void verify_marker(broker_api::stateful_pointer<broker_state> self, const topic_partition& tp,
                   int64_t producer_id);
/// Sends `heartbeat_atom, node, incarnation` to `controller` every
/// interval_ms, from the first message on (broker_heartbeat.cpp).
caf::behavior heartbeat_actor(caf::event_based_actor* self, controller_api controller,
                              int32_t node, int64_t incarnation, int64_t interval_ms);
/// The broker of node `id` when connected (this broker for its own id);
/// otherwise starts connecting and fails: the caller's retry finds it.
result<broker_api> peer_broker(broker_api::stateful_pointer<broker_state> self, int32_t id);
/// Fetch sessions (broker_fetch_sessions.cpp): a local follower's fetch,
/// queued for its leader's node; a follower node's fetches for partitions
/// led here; a leader node's answers; sending what is queued; a lost peer.
caf::result<fetch_response> on_session_fetch(broker_api::stateful_pointer<broker_state> self,
                                             int32_t leader, fetch_request& req);
void on_fetch_set(broker_api::stateful_pointer<broker_state> self, fetch_set_request& req);
void on_fetch_answers(broker_api::stateful_pointer<broker_state> self, fetch_set_response& resp);
void flush_sessions(broker_api::stateful_pointer<broker_state> self);
void on_peer_lost(broker_api::stateful_pointer<broker_state> self, int32_t node);

broker_api::behavior_type broker_actor(broker_api::stateful_pointer<broker_state> self,
                                       broker_setup setup);

} // namespace al
