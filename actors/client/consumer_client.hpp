#pragma once
// al::consumer: the consumer as plain C++ (Kafka's KafkaConsumer). Not
// thread-safe, like Kafka's: one thread polls. Fetching, group membership
// and heartbeats run in the background in the consumer actor, so poll()
// usually returns buffered records at once.
//
//   auto c = al::consumer::create(sys, {{"bootstrap.servers", "127.0.0.1:9101"},
//                                       {"group.id", "risk"},
//                                       {"auto.offset.reset", "earliest"}});
//   (*c)->subscribe({"orders"});                 // or assign({{"orders", 0}})
//   for (;;)
//     for (auto& r : (*c)->poll(std::chrono::milliseconds(500))) ...
//
// Rebalance listener callbacks and commit_async callbacks run inside poll()
// (and commit_sync/close), on the polling thread, as in Kafka.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/client/client_config.hpp"
#include "actors/client/consumer_metrics.hpp"
#include "actors/client/consumer_record.hpp"
#include "actors/group/group_messages.hpp"

namespace al {

struct rebalance_event;
struct commit_outcome;

/// Kafka's ConsumerRebalanceListener. Each callback is optional.
struct rebalance_listener {
  /// Before the partitions go (eager: before every rebalance): commit here.
  /// With enable.auto.commit, the consumer has committed them just before.
  std::function<void(const std::vector<topic_partition>&)> on_partitions_revoked;
  /// After the new assignment: positions start at the committed offsets
  /// (else auto.offset.reset); seek() here to start elsewhere.
  std::function<void(const std::vector<topic_partition>&)> on_partitions_assigned;
  /// The partitions were taken away without a revocation (fenced, session or
  /// poll timeout): committing is no longer possible. Empty: on_partitions_revoked.
  std::function<void(const std::vector<topic_partition>&)> on_partitions_lost;
};

/// commit_async completion: the offsets and the outcome.
using commit_callback = std::function<void(const offset_commit_map&, const status&)>;

class consumer {
public:
  static result<std::unique_ptr<consumer>> create(caf::actor_system& sys, const properties& props,
                                                  caf::actor direct_broker = {});
  ~consumer();

  /// Manual assignment (no rebalancing): replaces the assigned partitions.
  /// With group.id, positions start at the group's committed offsets.
  status assign(const std::vector<topic_partition>& partitions);
  /// The current assignment (manual, or the group's latest).
  const std::vector<topic_partition>& assignment() const { return assignment_; }

  /// Joins group.id as a member consuming `topics`; the coordinator assigns
  /// partitions (partition.assignment.strategy). Needs group.id.
  status subscribe(std::vector<std::string> topics, rebalance_listener listener = {});
  /// Leaves the group and gives up every partition.
  void unsubscribe();

  /// Up to max.poll.records records; waits up to `timeout` when none are
  /// buffered. Runs listener callbacks and commit_async callbacks, and the
  /// auto commit (enable.auto.commit) of what earlier polls returned.
  std::vector<consumer_record> poll(std::chrono::milliseconds timeout);

  void seek(const topic_partition& tp, int64_t offset);
  void seek_to_beginning(const std::vector<topic_partition>& tps);
  void seek_to_end(const std::vector<topic_partition>& tps);
  /// The offset of the next record poll() will return for tp.
  result<int64_t> position(const topic_partition& tp);
  void pause(const std::vector<topic_partition>& tps);
  void resume(const std::vector<topic_partition>& tps);

  /// Commits the position of every assigned partition: everything poll()
  /// has returned so far. Blocks until the coordinator has it durably.
  status commit_sync();
  /// Commits these offsets (the next record to read, i.e. last processed + 1).
  status commit_sync(const offset_commit_map& offsets);
  /// Like commit_sync(), without waiting; `done` runs in a later poll().
  void commit_async(commit_callback done = {});
  void commit_async(const offset_commit_map& offsets, commit_callback done = {});
  /// The group's committed offsets of `tps` (partitions without one are left out).
  result<offset_commit_map> committed(const std::vector<topic_partition>& tps);
  /// One partition's committed offset, or -1 when it has none.
  result<int64_t> committed(const topic_partition& tp);

  consumer_metrics metrics();
  /// The last fatal group error poll() saw (e.g. INCONSISTENT_GROUP_PROTOCOL), or ok.
  const status& group_error() const { return group_error_; }

  /// Commits (enable.auto.commit), calls on_partitions_revoked, leaves the
  /// group, stops the actor. Idempotent; the destructor calls it.
  void close();
  caf::actor handle() const { return actor_; }
  const consumer_config& config() const { return cfg_; }

private:
  consumer(caf::actor_system& sys, consumer_config cfg) : sys_(sys), cfg_(std::move(cfg)) {}
  void handle_events(std::vector<rebalance_event>& events);
  status commit_revoked(const rebalance_event& ev);
  void run_callbacks(std::vector<commit_outcome>& outcomes);
  void maybe_auto_commit();
  bool uses_group() const { return !cfg_.group_id.empty(); }

  caf::actor_system& sys_;
  consumer_config cfg_;
  caf::actor actor_;
  std::vector<topic_partition> assignment_;
  bool subscribed_ = false;
  rebalance_listener listener_;
  std::map<uint64_t, commit_callback> callbacks_;
  uint64_t next_callback_ = 0;
  std::chrono::steady_clock::time_point next_auto_commit_{};
  status group_error_;
  bool closed_ = false;
};

/// A batch of records as a consumer actor delivers it.
using record_batch_handler = std::function<void(const std::vector<consumer_record>&)>;

/// An actor-style group member for programs that live in actors: joins
/// group.id consuming `topics`, calls `handler` with each batch as it
/// arrives (on the actor's own thread), and commits the batch's offsets
/// after the handler returns (at-least-once: a crash before the commit
/// redelivers the batch to the next owner). enable.auto.commit is ignored.
/// Stop it with anon_send_exit(actor, exit_reason::user_shutdown): it
/// leaves the group, then quits.
result<caf::actor> spawn_consumer(caf::actor_system& sys, const properties& props,
                                  std::vector<std::string> topics, record_batch_handler handler,
                                  caf::actor direct_broker = {});

} // namespace al
