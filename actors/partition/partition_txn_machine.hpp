#pragma once
// One partition's view of transactions (issue 16; the transactional half
// of Kafka's ProducerStateManager): which producers have a transaction open
// here and from which offset, the last stable offset (LSO) that
// read_committed consumers stop at, and the transactions aborted here that
// such consumers must skip (Kafka's .txnindex entries). Fed with every
// batch in log order, by the leader's appends, a follower's appends and the
// recovery scan alike. Pure: no CAF, no I/O, no clock.
//
// Control batches (attribute bit 5) hold one control record whose key is
// version int16 (0) and type int16 (0 ABORT, 1 COMMIT), and whose value is
// version int16 (0) and coordinator_epoch int32: Kafka's EndTransactionMarker.
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "storage/batch_header.hpp"
#include "storage/bytes.hpp"
#include "storage/status.hpp"
#include "storage/txn_index.hpp" // aborted_txn

namespace al {

/// What a control batch says.
struct txn_marker {
  bool commit = false;
  int32_t coordinator_epoch = 0;
};

/// The control record of a control batch (uncompressed, as every control
/// batch is), or an error naming what is wrong.
result<txn_marker> decode_txn_marker(byte_view batch);
/// A control batch holding one COMMIT or ABORT marker for the producer,
/// at offset 0 (the log stamps the real one).
bytes build_txn_marker_batch(int64_t producer_id, int16_t producer_epoch, const txn_marker& m,
                             int64_t timestamp_ms);

class partition_txn_machine {
public:
  /// Checks a marker before it is appended: its epoch must not be older
  /// than the newest epoch seen here for the producer (a stale coordinator
  /// or a duplicate from before a bump). A marker of an end that bumped the
  /// epoch (`epoch_bumped`, KIP-890) carries an epoch above its own
  /// records', so it must also not close a transaction open here under its
  /// epoch: that is the next transaction (EndTxn handed the bumped epoch on)
  /// and the marker a late copy of the previous one's. A producer that keeps
  /// its epoch (Kafka's EndTxn v0-4) ends every transaction at that epoch.
  /// INVALID_PRODUCER_EPOCH otherwise.
  status check_marker(const batch_header& h, bool epoch_bumped) const;

  /// A batch now in the log, in log order. A transactional data batch
  /// opens its producer's transaction here unless one is open; a control
  /// batch closes it (an ABORT marker records an aborted_txn, returned, for
  /// the segment's .txnindex). `high_watermark` is the HW at the time, for
  /// the aborted entry's LSO. Non-transactional batches change nothing.
  std::optional<aborted_txn> on_batch(const batch_header& h, const std::optional<txn_marker>& m,
                                      int64_t high_watermark);

  /// The first offset of the oldest open transaction, if any.
  std::optional<int64_t> first_unstable_offset() const;
  /// What read_committed may read up to (exclusive): the HW, or the first
  /// offset of the oldest open transaction when that is lower, but never
  /// below the log start (Kafka's rule: retention may delete the head of an
  /// open transaction; its rest stays unreadable until its marker, and the
  /// LSO stays an offset a consumer can fetch from).
  int64_t last_stable_offset(int64_t high_watermark, int64_t log_start_offset = 0) const;
  /// Aborted transactions that overlap [from, upto): what a read_committed
  /// fetch of that range returns with its records.
  std::vector<aborted_txn> aborted_between(int64_t from, int64_t upto) const;

  /// The log was cut at `offset`: transactions opened at or past it are
  /// forgotten; one whose marker was cut but whose data was not is open
  /// again (from its first offset); aborted entries whose marker was cut go.
  /// Closed transactions are remembered down to the point given to
  /// forget_closed_below; a cut below that point cannot be undone from
  /// memory and sets rebuild_needed() (the owner rescans the log, as Kafka
  /// reloads its producer state after such a truncation).
  void truncate_from(int64_t offset);
  /// Transactions closed below `offset` (the HW: no cut goes below it in
  /// the usual case) are forgotten, keeping memory bounded.
  void forget_closed_below(int64_t offset);
  bool rebuild_needed() const { return rebuild_needed_; }
  /// The log start moved: aborted entries wholly below it go.
  void advance_log_start(int64_t offset);

  size_t open_count() const { return open_.size(); }
  /// Producer id -> first offset of its open transaction.
  const std::map<int64_t, int64_t>& open_transactions() const { return open_; }
  /// From a snapshot: the producer's transaction is open from
  /// `first_offset`; false if it already has one.
  bool restore_open(int64_t producer_id, int64_t first_offset);
  /// From a snapshot: the newest epoch seen for the producer.
  void restore_epoch(int64_t producer_id, int16_t epoch);
  const std::vector<aborted_txn>& aborted() const { return aborted_; }
  std::optional<int64_t> open_since(int64_t producer_id) const;

private:
  /// The producer's transaction is open from `first_offset`.
  void open_at(int64_t producer_id, int64_t first_offset);

  std::map<int64_t, int64_t> open_;           // producer id -> first offset
  std::multimap<int64_t, int64_t> by_first_;  // the same, by first offset (the LSO)
  std::map<int64_t, int16_t> epochs_;         // producer id -> newest epoch seen
  std::vector<aborted_txn> aborted_;          // by last_offset
  struct closed_txn {
    int64_t producer_id;
    int64_t first_offset;
    int64_t marker_offset;
  };
  std::vector<closed_txn> closed_; // closed at or past closed_from_, by marker offset
  int64_t closed_from_ = 0;
  bool rebuild_needed_ = false;
};

} // namespace al
