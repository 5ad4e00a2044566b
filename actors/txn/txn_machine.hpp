#pragma once
// The transaction coordinator of one __transaction_state partition as a
// pure state machine (issue 16; Kafka's TransactionCoordinator,
// TransactionMetadata and TransactionStateManager in one CAF-free class).
// The actor feeds it requests, persistence outcomes, marker outcomes,
// producer ids and time (every input carries now_ms, never going back),
// then drains take_ready() and executes it in order: append log entries,
// send WriteTxnMarkers, ask for producer ids, answer requests. No CAF, no
// clock, no I/O: the simulation runs the same class.
//
// States per transactional.id (Kafka's):
//
//   Empty --AddPartitions--> Ongoing --EndTxn(commit)--> PrepareCommit --markers--> CompleteCommit
//                               |   \--EndTxn(abort) / timeout / InitProducerId--> PrepareAbort --markers--> CompleteAbort
//   CompleteCommit/CompleteAbort --AddPartitions--> Ongoing
//   any completed state --expiry--> Dead (forgotten; a tombstone in the log)
//
// Every transition is written to the log first (a txn_log_entry) and takes
// effect only once on_persisted says the append succeeded; until then the
// id has a pending transition and other requests for it get
// CONCURRENT_TRANSACTIONS, as in Kafka. A coordinator that cannot append
// (it lost its partition's leadership) therefore changes nothing.
//
// Fencing (KIP-98 and KIP-890's epoch per transaction):
//  - InitProducerId bumps the epoch (a new producer id when the epoch would
//    pass max_producer_epoch); a producer with an older epoch gets
//    PRODUCER_FENCED from every request, and an ongoing transaction of the
//    old epoch is aborted first (the caller retries on
//    CONCURRENT_TRANSACTIONS).
//  - Every EndTxn and every timeout abort bumps the epoch again: the
//    markers carry the new epoch, so a zombie's late write with the old one
//    is refused by the partition (INVALID_PRODUCER_EPOCH), and EndTxn's
//    answer hands the new epoch to the producer for its next transaction.
//  - A retried EndTxn (the answer was lost) is recognised by the previous
//    epoch and the completed state, and answered again.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/protocol/messages.hpp"
#include "storage/errc.hpp"

namespace al {

enum class txn_state : int8_t {
  empty = 0,
  ongoing = 1,
  prepare_commit = 2,
  prepare_abort = 3,
  complete_commit = 4,
  complete_abort = 5,
  dead = 6,
};
std::string_view to_string(txn_state s);

inline constexpr int16_t max_producer_epoch = 32767;

/// The internal topic the coordinators write (Kafka's name); a
/// transactional.id lives on partition abs(hash(id)) % partitions of it,
/// as in Kafka (offsets_partition_for), and the leader of that partition
/// coordinates it.
inline constexpr const char* txn_state_topic_name = "__transaction_state";

/// What the log holds for one transactional.id (one record per transition,
/// the latest wins; Kafka's TransactionLogValue plus the previous epoch).
struct txn_log_entry {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int64_t previous_producer_id = -1; // before the last bump: recognises a retried EndTxn
  int16_t previous_producer_epoch = -1;
  /// Set while a Prepare* entry's bump exhausted the epoch: the producer
  /// continues with this id at epoch 0 once the transaction completes.
  int64_t next_producer_id = -1;
  int32_t timeout_ms = 60000;
  txn_state state = txn_state::empty;
  std::vector<topic_partition> partitions; // sorted, no duplicates
  int64_t start_ms = -1;                   // when the transaction became Ongoing
  int64_t update_ms = 0;
  bool tombstone = false; // the id expired: forget it
  friend bool operator==(const txn_log_entry& a, const txn_log_entry& b);
};

struct txn_config {
  int32_t max_timeout_ms = 900000;                 // transaction.max.timeout.ms
  int64_t id_expiration_ms = 7 * 24 * 3600 * 1000LL; // transactional.id.expiration.ms
  int64_t marker_retry_backoff_ms = 100;
  /// An AddPartitionsToTxn that arrives while the producer's previous
  /// transaction is still completing (markers going out) waits up to this
  /// long for the completion instead of being refused at once with
  /// CONCURRENT_TRANSACTIONS, which the client retries only after its
  /// backoff (20 ms): the next transaction starts as soon as it may.
  int64_t add_wait_ms = 1000;
};

// ---- requests -------------------------------------------------------------

struct txn_init_request {
  uint64_t request = 0; // the actor's id for the answer
  std::string transactional_id;
  int32_t timeout_ms = 60000;
  /// KIP-360: a producer that knows its id and epoch (after an error) asks
  /// to continue from them; -1 for a fresh start.
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

struct txn_add_partitions_request {
  uint64_t request = 0;
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::vector<topic_partition> partitions;
};

struct txn_end_request {
  uint64_t request = 0;
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  bool commit = true;
  /// KIP-890: the end bumps the epoch and the answer hands on the new one.
  /// false for Kafka clients before it (EndTxn v0-4), which keep their epoch
  /// for the next transaction: the markers carry the current epoch (Kafka's
  /// transaction version 1).
  bool bump_epoch = true;
};

/// What a request gets. producer_id/epoch: InitProducerId's result, and
/// EndTxn's epoch for the next transaction (KIP-890).
struct txn_response {
  uint64_t request = 0;
  errc error = errc::none;
  std::string message;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

// ---- effects --------------------------------------------------------------

/// Append this entry to the partition's log; report with on_persisted(id).
struct txn_persist {
  uint64_t persist_id = 0;
  txn_log_entry entry;
};

/// Write a COMMIT or ABORT marker for (producer_id, producer_epoch) to
/// every partition listed; report each with on_marker_written.
struct txn_write_markers {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  bool commit = false;
  std::vector<topic_partition> partitions;
  /// The end bumped the epoch (previous epoch != this one): the partition
  /// refuses such a marker where a transaction of its epoch is open (a late
  /// copy closing the next transaction).
  bool epoch_bumped = true;
};

/// A new producer id is needed (the controller hands out blocks); report
/// with on_producer_id(ask_id, ...).
struct txn_allocate_producer_id {
  uint64_t ask_id = 0;
};

struct txn_ready {
  std::vector<txn_persist> persists;
  std::vector<txn_write_markers> markers;
  std::vector<txn_allocate_producer_id> producer_id_asks;
  std::vector<txn_response> responses;
  std::vector<std::string> events; // what happened, for the log
  bool empty() const {
    return persists.empty() && markers.empty() && producer_id_asks.empty() && responses.empty() &&
           events.empty();
  }
};

/// `e`'s producer moves to (producer_id, producer_epoch); the one before is
/// kept as the previous producer id and epoch.
void move_producer(txn_log_entry& e, int64_t producer_id, int16_t producer_epoch);
/// The producer id and epoch `e` hands to its producer: the next producer
/// id at epoch 0 while one is set (the epoch was exhausted), else its own.
void hand_on_producer(const txn_log_entry& e, txn_response& r);

/// DescribeTransactions / ListTransactions rows.
struct txn_description {
  std::string transactional_id;
  txn_state state = txn_state::empty;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t timeout_ms = 0;
  int64_t start_ms = -1;
  std::vector<topic_partition> partitions;
  /// DescribeTransactions only: why this id is not described (NOT_COORDINATOR,
  /// COORDINATOR_LOAD_IN_PROGRESS, ...); none when it is.
  errc error = errc::none;
};

// ---- on the wire (clients and brokers send these; `request` is set by the
// coordinator actor) -----------------------------------------------------
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, txn_init_request& x) {
  return f(x.request, x.transactional_id, x.timeout_ms, x.producer_id, x.producer_epoch);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, txn_add_partitions_request& x) {
  return f(x.request, x.transactional_id, x.producer_id, x.producer_epoch, x.partitions);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, txn_end_request& x) {
  return f(x.request, x.transactional_id, x.producer_id, x.producer_epoch, x.commit,
           x.bump_epoch);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, txn_response& x) {
  return f(x.request, x.error, x.message, x.producer_id, x.producer_epoch);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, txn_description& x) {
  return f(x.transactional_id, x.state, x.producer_id, x.producer_epoch, x.timeout_ms, x.start_ms,
           x.partitions, x.error);
}

class txn_machine {
public:
  explicit txn_machine(txn_config config = {});

  // ---- inputs -------------------------------------------------------------
  /// The partition's log read on load, oldest first (the latest entry per
  /// id wins; tombstones forget). Transactions found in PrepareCommit or
  /// PrepareAbort get their markers written again (a coordinator that
  /// crashed or moved mid-commit finishes it); Ongoing ones keep their
  /// timeout from their start.
  void load(const std::vector<txn_log_entry>& log, int64_t now_ms);
  void on_init(const txn_init_request& req, int64_t now_ms);
  void on_add_partitions(const txn_add_partitions_request& req, int64_t now_ms);
  void on_end(const txn_end_request& req, int64_t now_ms);
  /// The append of persist `persist_id` succeeded (none) or failed.
  void on_persisted(uint64_t persist_id, errc error, int64_t now_ms);
  /// One partition's marker is written (none), or failed (it is retried
  /// after marker_retry_backoff_ms; UNKNOWN_TOPIC_OR_PARTITION counts as
  /// written: the partition is gone, nothing there to mark).
  void on_marker_written(const std::string& transactional_id, int64_t producer_id,
                         int16_t producer_epoch, const topic_partition& tp, errc error,
                         int64_t now_ms);
  void on_producer_id(uint64_t ask_id, int64_t producer_id, errc error, int64_t now_ms);
  /// Transaction timeouts (abort), marker retries, id expiry.
  void tick(int64_t now_ms);

  // ---- outputs ------------------------------------------------------------
  txn_ready take_ready();
  /// Earliest time at which tick() has something to do.
  std::optional<int64_t> next_deadline_ms() const;

  // ---- queries ------------------------------------------------------------
  /// KIP-890 part 1, a partition leader's question before a producer's
  /// transactional batch opens a transaction there: is every partition of
  /// `req` in the ongoing transaction of (producer_id, producer_epoch)?
  /// none when so (as the log holds it: a partition whose add is still
  /// being written is CONCURRENT_TRANSACTIONS, as is a transaction whose
  /// end is being written); INVALID_TXN_STATE when a partition is not in
  /// it or no transaction is ongoing; the producer's errors as for any
  /// request (INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED, ...). Changes
  /// nothing.
  txn_response verify(const txn_add_partitions_request& req) const;
  std::optional<txn_description> describe(const std::string& transactional_id) const;
  /// Every id, or only those in `states` when it is not empty.
  std::vector<txn_description> list(const std::set<txn_state>& states = {}) const;
  size_t size() const { return txns_.size(); }

private:
  struct txn {
    txn_log_entry current;            // what the log holds (committed)
    std::optional<txn_log_entry> pending; // being written
    uint64_t pending_persist = 0;
    /// Who waits for the pending write: answered when it lands.
    std::vector<txn_response> waiting;
    /// Partitions whose marker is not written yet (Prepare* states).
    std::set<topic_partition> markers_left;
    int64_t marker_retry_at = -1;
    /// A write failed: the timeout abort is not tried again before this
    /// (else a coordinator whose appends fail at once retries every tick).
    int64_t write_retry_at = -1;
    /// Waiting for a producer id (producer_id_ask): an InitProducerId, or
    /// an end whose epoch bump exhausted the epoch.
    std::optional<txn_init_request> init_after;
    struct end_after_t {
      bool commit = false;
      std::optional<txn_response> answer; // EndTxn's, none for a timeout
      std::string why;
    };
    std::optional<end_after_t> end_after;
    uint64_t producer_id_ask = 0;
    /// AddPartitionsToTxn waiting for the previous transaction to complete,
    /// with when they stop waiting (config_.add_wait_ms).
    std::vector<std::pair<txn_add_partitions_request, int64_t>> waiting_adds;
  };

  txn* find(const std::string& id);
  /// Checks (pid, epoch) against the committed entry: an error or none.
  txn_response check_producer(const txn& t, uint64_t request, int64_t producer_id,
                              int16_t producer_epoch) const;
  /// Starts writing `next` for `t` (it must have no pending write).
  void persist(txn& t, txn_log_entry next, int64_t now_ms);
  /// Ongoing -> PrepareCommit/PrepareAbort with the epoch bumped (a new
  /// producer id asked for first when the epoch is exhausted). `answer`:
  /// EndTxn's, sent once the Prepare entry is written. `bump` false (an
  /// EndTxn that keeps its epoch): same epoch, previous := current, so a
  /// retry of this end is recognised as one.
  void prepare_end(txn& t, bool commit, std::optional<txn_response> answer, int64_t now_ms,
                   const std::string& why, bool bump = true);
  void ask_producer_id(txn& t);
  void send_markers(txn& t);
  void complete(txn& t, int64_t now_ms);
  /// InitProducerId once nothing is in progress: bump (or new id) and write.
  void finish_init(txn& t, const txn_init_request& req, int64_t now_ms);
  /// Writes `t` as Empty under (producer_id, producer_epoch) with the
  /// request's timeout, and answers the InitProducerId once written.
  void start_producer(txn& t, const txn_init_request& req, int64_t producer_id,
                      int16_t producer_epoch, int64_t now_ms);
  /// Prepare* written (or loaded): the markers go out, or with no partition
  /// the transaction completes at once.
  void begin_markers(txn& t, int64_t now_ms);
  /// When tick() has something to do for `t`, if ever.
  std::optional<int64_t> due_ms(const txn& t) const;
  /// The previous transaction completed (or a waiting add timed out at
  /// `now_ms`): the adds that waited for it go on.
  void release_adds(txn& t, int64_t now_ms, bool timed_out_only);
  void answer(txn_response r) { ready_.responses.push_back(std::move(r)); }
  void event(std::string what) { ready_.events.push_back(std::move(what)); }

  txn_config config_;
  std::map<std::string, txn> txns_;
  std::map<uint64_t, std::string> persists_;     // persist id -> transactional id
  std::map<uint64_t, std::string> pid_asks_;     // ask id -> transactional id
  uint64_t next_persist_ = 1;
  uint64_t next_ask_ = 1;
  txn_ready ready_;
};

} // namespace al
