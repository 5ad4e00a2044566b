#pragma once
// The actor of one partition replica: owns its partition_log and drives a
// replica_machine (replica_machine.hpp). As leader it answers produce,
// fetch and list-offsets, tracks its followers' fetches (HW, ISR changes
// sent to the controller as AlterPartition, acks=all waits); as follower it
// truncates by leader epoch and fetches from the leader's broker. It parks
// long-poll fetches and runs retention, compaction and time-based flushes on
// a timer. Spawn it `detached` in a node: its disk I/O (fsync included) then
// never blocks the shared scheduler threads.
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/fwd.hpp>

#include "actors/partition/deadline_wheel.hpp"
#include "actors/partition/partition_api.hpp"
#include "storage/log_config.hpp"

namespace al {

class hw_checkpoint_table;

struct partition_setup {
  topic_partition tp;
  std::string dir;                  // the partition's folder, e.g. <data.dir>/orders-3
  log_config log;                   // broker defaults with the topic's overrides applied
  config_map topic_configs;         // the overrides themselves (min.insync.replicas, ...)
  int32_t default_min_insync_replicas = 1;
  partition_description state;      // leader, epoch, replicas, ISR from the controller
  int32_t node_id = -1;
  int64_t incarnation = 0;          // this process's broker epoch, sent in follower fetches
  /// The node's broker: follower requests go through it to the leader's
  /// broker, AlterPartition to the controller. Null: a single replica.
  caf::actor broker;
  /// The node's I/O worker this partition uses (io_worker_actor): file
  /// writes that fsync run there, off the scheduler, in the order sent.
  /// Null: written inline (deterministic tests).
  caf::actor io;
  /// The node's replication-offset-checkpoint (hw_checkpoint_files.hpp):
  /// the partition keeps its HW there. Null: the partition makes a table of
  /// its own, in `dir` (tests that run a partition without a broker).
  std::shared_ptr<hw_checkpoint_table> hw_table;
  /// The node's recovery-point-offset-checkpoint (same format): below its
  /// entry the partition's log is known fsynced, so opening it scans only
  /// the segments past it. Null: every closed segment is trusted, and
  /// rolls fsync in line (tests without a broker).
  std::shared_ptr<hw_checkpoint_table> recovery_table;
  /// The node's partition timers (partition_expiry.hpp): long-poll
  /// expiries, housekeeping and replica ticks go to the wheel, the sweeper
  /// sends their messages. Null: the partition arms its own timers (tests
  /// without a broker).
  std::shared_ptr<deadline_wheel<caf::actor>> timer_wheel;
  caf::actor timer_sweeper;
  int64_t replica_lag_time_max_ms = 30000;
  int32_t replica_fetch_max_bytes = 1048576;
  int64_t housekeeping_interval_ms = 1000;
  int64_t retention_check_interval_ms = 300000;
  /// fetch.max.bytes: most bytes one fetch returns whatever the client asks
  /// (a larger first batch is still returned whole, as Kafka does).
  int32_t fetch_max_bytes = 57671680;
  /// fetch.wait.max.ms: a fetch parks at most this long, whatever its
  /// max_wait_ms (Kafka clients give up after request.timeout.ms, 30 s).
  int64_t fetch_wait_max_ms = 30000;
  /// fetch.purgatory.max.per.partition: parked fetches kept at once; the
  /// oldest is answered early (with what there is) to make room.
  int32_t fetch_purgatory_max = 1000;
  /// producer.id.expiration.ms: idempotent producers idle this long are
  /// forgotten (checked every producer_id_expiration_check_ms).
  int64_t producer_id_expiration_ms = 86400000;
  int64_t producer_id_expiration_check_ms = 600000;
};

struct partition_state;

partition_api::behavior_type
partition_actor(partition_api::stateful_pointer<partition_state> self, partition_setup setup);

/// num.io.threads of them per node, detached. Partition actors run on the
/// scheduler's few threads, so nothing that fsyncs may run there: an fsync
/// can take tens to hundreds of ms while the disk writes back other data
/// (on a partition's own thread it once stalled produce and fetch, e2e
/// p99.9 ~80 ms). Opens partitions' logs, writes their producer-state
/// snapshots and leader-epoch checkpoints, runs the middle step of their
/// compactions, and (hw_checkpoint_atom, table) writes the node's HW table.
caf::behavior io_worker_actor(caf::event_based_actor* self);

/// (epoch_checkpoint_atom, epoch_checkpoint_job) to an I/O worker.
using epoch_checkpoint_atom = caf::atom_constant<caf::atom("epochckpt")>;
/// (producer_snapshot_atom, producer_snapshot_job) to an I/O worker.
using producer_snapshot_atom = caf::atom_constant<caf::atom("prodsnap")>;
/// (open_log_atom, open_partition_job) -> std::shared_ptr<opened_partition>.
using open_log_atom = caf::atom_constant<caf::atom("openlog")>;
/// (compaction_atom, compaction_job) -> std::shared_ptr<compaction_done>:
/// the middle step of compaction (reads the planned segments, writes the
/// .cleaned files) off the scheduler; the partition commits the result.
using compaction_atom = caf::atom_constant<caf::atom("compact")>;
/// (remove_dir_atom, path): removes a deleted partition's folder, renamed
/// first to `<dir>.<n>-delete` so a re-created partition never loses its
/// new folder to it (Kafka does the same).
using remove_dir_atom = caf::atom_constant<caf::atom("removedir")>;
/// (segment_sync_atom, segment_sync_job) -> std::string (empty: done, else
/// the error): the fsyncs of a deferred segment roll (partition_log.hpp).
using segment_sync_atom = caf::atom_constant<caf::atom("segsync")>;
/// (delete_files_atom, file_delete_job): deletes segment files retention
/// renamed to `.deleted`, then fsyncs the folder.
using delete_files_atom = caf::atom_constant<caf::atom("delfiles")>;
/// The folder name a deleted partition's files wait under for removal.
std::string deleted_dir_name(const std::string& dir);
/// Whether a data folder entry is such a folder (a crash left it behind).
bool is_deleted_dir_name(const std::string& name);

} // namespace al
