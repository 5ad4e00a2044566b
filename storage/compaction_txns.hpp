#pragma once
// Transactions in compaction (issue 16; the part Kafka's cleaner keeps in
// its CleanedTransactionMetadata): which data batches belong to aborted
// transactions, and which transaction markers may go.
//
// Rules:
// - A transactional data batch of producer P whose base offset lies in
//   [first_offset, last_offset] of one of P's aborted transactions (the
//   log's .txnindex entries) is aborted: compaction drops it whole, and its
//   records never enter the key map (an aborted write must not supersede a
//   committed value).
// - A control batch (COMMIT or ABORT marker) may go only when no data batch
//   of its transaction was in the log when the pass began: none of P's
//   transactional data batches lies between P's previous marker and this
//   one. Batches this pass drops still count, so a marker outlives its
//   transaction's data by at least one pass (a restart that rescans the log
//   never finds data without its marker). The caller adds the time rule
//   (delete.retention.ms) and `marker_limit`: markers at or past it stay.
// Pure: fed batch headers in log order, no I/O.
#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "storage/batch_header.hpp"
#include "storage/txn_index.hpp"

namespace al {

class compaction_txns {
public:
  compaction_txns(const std::vector<aborted_txn>& aborted, int64_t marker_limit);

  /// Every batch of the planned segments, in log order (the key-map pass).
  void observe(const batch_header& h);
  /// Whether `h` is a data batch of an aborted transaction.
  bool aborted(const batch_header& h) const;
  /// Whether the control batch at `offset`, observed before, may go
  /// (time rule aside).
  bool marker_removable(int64_t offset) const { return removable_.count(offset) > 0; }

private:
  /// Producer id -> its aborted transactions' [first, last] offsets, by first.
  std::unordered_map<int64_t, std::vector<std::pair<int64_t, int64_t>>> aborted_;
  std::unordered_set<int64_t> pending_;   // producers with data since their last marker
  std::unordered_set<int64_t> removable_; // offsets of markers that may go
  int64_t marker_limit_;
};

} // namespace al
