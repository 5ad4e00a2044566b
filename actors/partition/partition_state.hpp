#pragma once
// State of a partition actor (see partition_actor.hpp), and the functions
// its source files share: partition_actor.cpp (requests, housekeeping),
// partition_fetch.cpp (fetches and long polls),
// partition_replica.cpp (driving the replica_machine),
// partition_follower.cpp (the follower's requests and log changes),
// partition_checkpoint.cpp (checkpoints) and partition_io.cpp (opening the
// log, the I/O workers).
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/partition/partition_actor.hpp"
#include "actors/partition/hw_checkpoint_files.hpp"
#include "actors/partition/partition_expiry.hpp"
#include "actors/partition/produce_machine.hpp"
#include "actors/partition/producer_state_store.hpp"
#include "actors/partition/replica_checkpoint_files.hpp"
#include "actors/partition/replica_machine.hpp"
#include "storage/clock.hpp"
#include "storage/partition_log.hpp"

namespace al {

/// A fetch waiting for fetch.min.bytes or fetch.max.wait.ms.
struct parked_fetch {
  fetch_request req;
  caf::typed_response_promise<fetch_response> promise;
  caf::actor_clock::time_point deadline;
  /// The offset it could read up to when last checked (HW, or the log end
  /// for a follower): while that stays, nothing new is visible to it.
  int64_t checked_limit = -1;
  /// The HW when it parked. A follower's fetch is answered when the HW
  /// passes it, so followers learn the HW at once although they wait up to
  /// 5 s for records (follower_max_wait_ms).
  int64_t high_watermark = -1;
};

/// An acks=all produce waiting for the high watermark to pass it, answered
/// REQUEST_TIMED_OUT by the replica tick once its deadline has passed (no
/// timer per request: a pending timer holds the actor alive for its length).
struct waiting_produce {
  caf::typed_response_promise<produce_response> promise;
  produce_response response;
  int64_t deadline_ms = 0; // wall clock
  int64_t durable_upto = 0; // flush.messages: then waits for the fsync too (durable_wait)
};

/// A produce answered once the log is durable up to `upto` (flush.messages
/// reached: the fsync runs on the I/O worker, and every append waiting for
/// one shares the next: partition_log::want_durable).
struct durable_wait {
  caf::typed_response_promise<produce_response> promise;
  produce_response response;
};

struct partition_state {
  partition_setup setup;
  std::string produce_where;              // "produce to <tp>": named in validation errors
  std::unique_ptr<partition_log> log;
  status open_error;                      // the log could not be opened
  /// An fsync of the log failed: produce is refused until the node restarts
  /// and recovery checks the files. After a failed fsync Linux may report
  /// the next one as a success with the data lost ("fsyncgate"), so a failed
  /// log is never trusted with an acknowledgement again. Fetches go on.
  status write_error;
  int64_t high_watermark = 0;             // what consumers may read (the machine's HW)
  std::map<uint64_t, parked_fetch> parked; // by id, i.e. oldest first
  uint64_t next_fetch_id = 1;
  /// When the pending expiry timers fire: one timer covers every parked
  /// fetch due up to 10 ms after it, so there are never many of them.
  std::set<caf::actor_clock::time_point> expiry_timers;
  int64_t last_retention_check_ms = 0;
  /// When the pending housekeeping timers fire (wall clock ms). Housekeeping
  /// runs when something is due (housekeeping_due_ms), not every second:
  /// 10 000 idle partitions ticking each second, plus a replica tick every
  /// 200 ms, cost a node 86 % of a core doing nothing (issue 15).
  std::set<int64_t> housekeeping_timers;
  /// When the armed replica ticks fire (wall clock ms): one per due time
  /// the machine asked for (replica_machine::next_tick_ms), none pending
  /// earlier than the next due.
  std::set<int64_t> replica_tick_timers;
  producer_state_table producers;          // idempotent producers (last 5 batches each)
  /// Voids the snapshot and checkpoint writes queued at the I/O worker when
  /// the log is truncated, restarted or deleted (producer_state_store.hpp).
  std::shared_ptr<snapshot_fence> fence = std::make_shared<snapshot_fence>();
  bool producers_dirty = false;            // changed since the last snapshot
  /// Bytes of producer batches appended since the last snapshot: a
  /// periodic snapshot waits for producer_snapshot_min_bytes of them.
  int64_t unsnapshotted_bytes = 0;
  /// A snapshot is needed whatever the bytes (an open transaction whose
  /// first batches retention deleted).
  bool snapshot_required = false;
  bool compaction_running = false;         // a compaction_job is at the I/O worker
  int64_t last_snapshot_ms = 0;
  int64_t last_producer_expiry_ms = 0;
  // Replication.
  std::unique_ptr<replica_machine> replica; // null while the log cannot be opened
  std::map<uint64_t, waiting_produce> waiting; // acks=all, by ack id
  std::multimap<int64_t, durable_wait> durable_waits; // by the offset they wait for
  /// The follower's fetches and OffsetsForLeaderEpoch requests made while
  /// its log's last cut is not on disk yet (partition_log::
  /// truncation_unsynced): sent when the cut's job is back, as if the
  /// network had delayed them (release_held_requests).
  std::vector<std::function<void()>> held_requests;
  uint64_t next_ack_id = 1;
  std::vector<epoch_entry> saved_epochs;   // what leader-epoch-checkpoint holds
  /// The HW's cell in setup.hw_table (the node's
  /// replication-offset-checkpoint): stored on every change, read by the
  /// table's writes.
  hw_checkpoint_table::cell hw_cell;
  /// The log's flushed offset in setup.recovery_table (null without one).
  hw_checkpoint_table::cell recovery_cell;

  partition_state() = default;
  partition_state(const partition_state&) = delete;
  partition_state& operator=(const partition_state&) = delete;
  /// Snapshot producer state on the way out, so a restart scans less log.
  /// (The HW is in the node's table, which is written durably when its
  /// last owner lets go.)
  ~partition_state() {
    if (log && producers_dirty)
      (void)save_producer_state(producers, *log);
    // Closed (fsynced) before the node's tables are written for the last
    // time (when their last owner, possibly this setup, lets go).
    if (log && log->close().is_ok() && recovery_cell)
      recovery_cell->store(log->flushed_offset(), std::memory_order_relaxed);
  }

  bool is_leader() const { return replica && replica->role() == replica_role::leader; }
  static constexpr const char* name = "partition";
};

using partition_ptr = partition_api::stateful_pointer<partition_state>;

/// What a partition needs to open its log (on its I/O worker).
struct open_partition_job {
  std::string dir;
  log_config log;
  int64_t recovery_point = partition_log::trust_closed;
};

/// The opened log and what loading it found; `log` is null on failure.
struct opened_partition {
  std::unique_ptr<partition_log> log;
  status error;
  recovery_report report;
  result<producer_state_table> producers{producer_state_table{}};
  std::string producers_note;
};

/// Opens (recovers) the log and loads its producer state (partition_io.cpp).
/// Blocking file work: the I/O worker runs it (io_worker_actor), tests in line. Never
/// throws: an exception becomes `error`.
opened_partition open_partition_files(const open_partition_job& job);

/// A leader-epoch-checkpoint write for the partition's I/O worker, voided
/// when the partition's fence moved (a deleted partition's folder must not
/// get the file back). A write that lands late, or not at all, is safe: a
/// load checks the file against the log and rebuilds one that disagrees.
struct epoch_checkpoint_job {
  std::string dir;
  leader_epoch_cache cache;
  std::shared_ptr<snapshot_fence> fence;
  uint64_t generation = 0;
};

/// Compaction's middle step (run_compaction) for the partition's I/O
/// worker: it reads only the files named in the plan and writes .cleaned
/// files beside them; nothing runs once the fence moved (a deleted
/// partition's folder gets no new files). The partition commits the output
/// (commit_compaction discards it after a truncation or retention).
struct compaction_job {
  compaction_plan plan;
  std::shared_ptr<snapshot_fence> fence;
  uint64_t generation = 0;
};
struct compaction_done {
  result<compaction_output> output{compaction_output{}};
};

/// A write of the node's HW table, for an I/O worker (the broker sends it
/// every hw_checkpoint_interval_ms).
struct hw_table_job {
  std::shared_ptr<hw_checkpoint_table> table;
};

inline std::string where(const partition_state& st) { return to_string(st.setup.tp); }

/// The last stable offset (st.log open): where read_committed fetches and
/// ListOffsets(latest) stop, and what compaction does not pass.
inline int64_t last_stable_offset(const partition_state& st) {
  return st.producers.txns().last_stable_offset(st.high_watermark, st.log->log_start_offset());
}

/// `deleted` segments left the log's head (retention, a raised log start):
/// while a transaction is open, a fresh producer snapshot keeps it open
/// across a restart (snapshots below the new log start are not restored,
/// and a rescan from the log start would not see where it began).
inline void keep_open_transactions(partition_state& st, size_t deleted) {
  if (deleted > 0 && st.producers.txns().open_count() > 0)
    st.producers_dirty = st.snapshot_required = true;
}

// --- partition_actor.cpp ---------------------------------------------------
/// Why the partition takes no write now (cannot open its log, a failed
/// write, no replica state), or none.
caf::error check_writable(const partition_state& st);
/// The topic's min.insync.replicas.
int32_t min_insync_replicas(const partition_state& st);
/// Appends a batch produce_machine admitted (d.what == append): stamps the
/// decision's leader epoch, writes it and feeds the machine's appended()
/// (with `marker` for a transaction marker). Updates d, resp and
/// durable_upto; the error when nothing was written.
caf::error append_admitted(partition_ptr self, produce_machine& machine,
                           const produce_params& params, bytes& batch, const batch_header& header,
                           produce_decision& d, produce_response& resp, int64_t& durable_upto,
                           const txn_marker* marker = nullptr);
/// Answers a produce (or marker) as the machine decided: refuse, now (once
/// durable), or when the ISR has it.
caf::result<produce_response> finish_produce(partition_ptr self, const produce_decision& d,
                                             produce_response resp, int32_t timeout_ms,
                                             int64_t durable_upto);
/// Records that writing to the log failed in a way that leaves its
/// durability unknown (see write_error); logs it once.
void mark_write_failed(partition_state& st, const status& why);
/// NOT_LEADER_OR_FOLLOWER naming the leader this replica knows of.
caf::error not_leader(const partition_state& st);
/// A request failed with an exception (std::bad_alloc, std::system_error,
/// ...): logs it and gives the error to answer with, KAFKA_STORAGE_ERROR.
/// CAF 0.17 would end the actor (and its linked broker) instead.
caf::error on_exception(const partition_state& st, const char* what,
                        std::exception_ptr ex) noexcept;

/// Runs a request handler `f` (returning caf::result<T>): an exception
/// answers KAFKA_STORAGE_ERROR.
template <class T, class F>
caf::result<T> guarded(partition_ptr self, const char* what, F&& f) {
  try {
    return f();
  } catch (...) {
    return on_exception(self->state, what, std::current_exception());
  }
}

/// Runs a handler without an answer (timers, responses to our requests): an
/// exception is logged, and the actor carries on.
template <class F>
void guarded_void(partition_ptr self, const char* what, F&& f) {
  try {
    f();
  } catch (...) {
    (void)on_exception(self->state, what, std::current_exception());
  }
}

// --- partition_fetch.cpp ---------------------------------------------
/// A client's or a follower's fetch: answered now, or parked (long poll).
caf::result<fetch_response> on_fetch(partition_ptr self, fetch_request& req);
/// Answers parked fetches that now have enough data (after an append or a
/// high watermark change).
void wake_parked(partition_ptr self);
/// Answers every parked fetch with `why` (lost leadership, deleted).
void fail_parked(partition_ptr self, const caf::error& why);
/// Answers the parked fetches made under a leader epoch older than
/// `leader_epoch` with FENCED_LEADER_EPOCH (the leader moved to a new epoch).
void fail_parked_before_epoch(partition_ptr self, int32_t leader_epoch);
/// An expiry timer fired (`timer` names it): parked fetches whose wait is
/// over get what there is.
void expire_parked(partition_ptr self, uint64_t timer);

// --- partition_txn.cpp (issue 16) -----------------------------------------
/// WriteTxnMarkers: appends the COMMIT or ABORT control batch on the
/// leader, answered once replicated as acks=all.
caf::result<produce_response> on_txn_marker(partition_ptr self, const txn_marker_request& req);
/// A follower appended `batch` (a producer's, h its header): producer and
/// transaction state count it; an ABORT marker goes to the .txnindex.
void on_batch_appended(partition_ptr self, const batch_header& h, byte_view batch);

// --- partition_replica.cpp -------------------------------------------
/// Builds the replica machine from the opened log and the setup's metadata.
void start_replica(partition_ptr self);
/// Feeds new metadata for this partition to the machine.
void on_replica_metadata(partition_ptr self, const partition_description& d);
/// Executes everything the machine asks for (replica_machine.hpp order).
void run_ready(partition_ptr self);
/// Leader: shows a follower's fetch to the machine (its position moves the
/// HW and the ISR); an error to answer with, or none: read and answer.
caf::error check_follower_fetch(partition_ptr self, const fetch_request& req);
offsets_for_epoch_response on_epoch_query(partition_ptr self, const offsets_for_epoch_request& req);
/// Leader, acks=all: parks the answer under the ack id produce_machine gave
/// the replica machine (st.next_ack_id) until the replica completes it.
caf::result<produce_response> wait_for_isr(partition_ptr self, produce_response resp,
                                           int32_t timeout_ms, int64_t durable_upto);
/// Replica timer: ISR shrink, request timeouts, acks=all deadlines, HW checkpoint.
void replica_tick(partition_ptr self);
/// How long a follower's fetch waits at the leader when there is nothing
/// new. The leader answers it at once when records arrive or its HW moves
/// (wake_parked), so this only sets the idle cost: every partition
/// replica pays a fetch round trip per wait (Kafka's replica.fetch.wait.max.ms
/// is 500 ms, but per broker pair, not per partition). 500 ms cost three
/// idle nodes with 3000 partitions half of each node's CPU (issue 15).
constexpr int32_t follower_max_wait_ms = 5000;
constexpr int64_t replica_request_timeout_ms = 2000;
/// The code a failed fetch or OffsetsForLeaderEpoch reports to the machine:
/// never NONE, a failure without a code counts as a lost connection.
errc replica_request_error(const caf::error& err);
/// Rebuilds the machine from what is on disk (start, or after a failed
/// follower append left the machine ahead of the log).
void reset_machine(partition_ptr self);
// --- partition_follower.cpp ------------------------------------------
/// Cuts the log at `offset` (the machine's truncate_to).
void truncate_log(partition_ptr self, int64_t offset);
/// The leader's log starts past ours: start over, empty, at its log start.
void restart_log(partition_ptr self, int64_t offset);
/// The leader's log start, taken from a fetch answer: what this log kept
/// below it is never read again (Kafka's maybeIncrementLogStartOffset).
void advance_log_start(partition_ptr self, int64_t offset);
void send_epoch_query(partition_ptr self, const offsets_for_epoch_request& req);
/// The next fetch to the leader; its answer is appended and shown to the machine.
void send_fetch(partition_ptr self, const replica_fetch_request& rf);
// --- partition_checkpoint.cpp ----------------------------------------
/// Writes leader-epoch-checkpoint when the cache changed below `end` (the
/// log end when negative): entries at or past it describe no record yet.
/// Called before records are appended (with the end after them), after
/// truncation, and on a role change.
void checkpoint_epochs(partition_ptr self, int64_t end = -1);
/// The HW into the node's table (every change), and the table written
/// durably when `durable` (a flush request).
void checkpoint_hw(partition_ptr self, bool durable);
/// After the log may have rolled, been flushed or cut: hands its queued
/// segment syncs to the I/O worker (in line without one) and stores its
/// flushed offset in the node's recovery-point table.
void after_log_change(partition_ptr self);
/// Sends the requests held while a cut was not on disk, once it is.
void release_held_requests(partition_ptr self);
/// A produce whose fsync (flush.messages) is not done yet waits for it;
/// the others are answered now.
caf::result<produce_response> answer_when_durable(partition_ptr self, produce_response resp,
                                                  int64_t durable_upto);
/// answer_when_durable for a promise made earlier (an acks=all answer the
/// ISR has just confirmed).
void deliver_when_durable(partition_ptr self, produce_response resp, int64_t durable_upto,
                          caf::typed_response_promise<produce_response> promise);
/// Answers the durable_waits the flushed offset now covers, and fails
/// those a truncation cut off.
void deliver_durable(partition_ptr self);
/// How often the producer state is snapshotted while producers write.
constexpr int64_t producer_snapshot_interval_ms = 30000;
/// ... once this many bytes of their batches were appended since the last
/// snapshot. A snapshot only spares a restart's scan of the batch headers
/// after it (the log is the truth), and costs a file, two fsyncs and a
/// rename: 10 000 replicas each snapshotting every 30 s made 330 a second
/// on each of three nodes (bench/RESULTS.md). Kafka snapshots at roll and
/// shutdown only. So a restart after kill -9 scans at most this much, or
/// 30 s of appends, past a partition's newest snapshot.
constexpr int64_t producer_snapshot_min_bytes = 1 << 20;

/// Whether the periodic snapshot is wanted (once its interval passed).
inline bool periodic_snapshot_wanted(const partition_state& st) {
  return st.producers_dirty &&
         (st.snapshot_required || st.unsnapshotted_bytes >= producer_snapshot_min_bytes);
}

/// A snapshot of the table as it stands was taken (or queued).
inline void producer_snapshot_taken(partition_state& st) {
  st.producers_dirty = st.snapshot_required = false;
  st.unsnapshotted_bytes = 0;
}

// --- partition_housekeeping.cpp, partition_replica.cpp (timers) ------
/// Puts a timer on the node's wheel (partition_expiry.hpp), when the
/// partition has one: the sweeper sends what `kind` names (with `key`) at
/// `at`, at most one bucket late. False without a wheel (tests without a
/// broker): the caller arms a CAF timer of its own.
bool arm_on_wheel(partition_ptr self, caf::actor_clock::time_point at, wheel_timer kind,
                  uint64_t key = 0);
/// Makes sure housekeeping runs by `due_ms` (wall clock): one timer per due
/// time, none when an earlier one is pending.
void arm_housekeeping(partition_ptr self, int64_t due_ms);
/// A batch with a producer id was appended (leader or follower): the table
/// changed; once a periodic snapshot is wanted, housekeeping runs for it.
void note_producer_batch(partition_ptr self, size_t batch_bytes);
/// Starts the replica tick if the partition needs one and it is not running.
void arm_replica_tick(partition_ptr self);

} // namespace al

// Local messages to the I/O workers only (never serialized).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::producer_snapshot_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::hw_table_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::epoch_checkpoint_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::open_partition_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::compaction_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::segment_sync_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::file_delete_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::spare_files_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<al::compaction_done>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<al::opened_partition>)
