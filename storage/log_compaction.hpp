#pragma once
// Log compaction (cleanup.policy=compact): keeps the latest record per key,
// offsets unchanged. Three steps so the expensive middle one can run away
// from the log's owner while appends continue:
//   plan    partition_log::plan_compaction: which files, up to which size
//   run     run_compaction: builds the key -> latest offset map over the
//           planned segments (up to their size at plan time, records below
//           the first uncleanable offset only), then writes each cleanable
//           closed segment's retained records to <base>.log.cleaned and
//           fsyncs it. Reads and writes
//           only files named in the plan; never touches the active segment.
//   commit  partition_log::commit_compaction: for each output whose source
//           is unchanged, drops the .txnindex entries of the ABORT markers
//           it removes (durably, first: an entry left without its marker
//           would make a read_committed consumer skip that producer's later
//           transactions; a marker left without its entry hides nothing, as
//           its data is gone), renames .cleaned -> .swap (the commit point),
//           drops the old indexes, renames .swap over the .log, rebuilds the
//           indexes. A crash leaves .cleaned (deleted on open) or .swap
//           (completed on open).
// Rules: a record survives if it is its key's latest; tombstones (null
// value) survive until segment max timestamp + delete.retention.ms <= now;
// null-key records are dropped (Kafka rejects them at produce time for
// compacted topics, so only a policy change lets them in). Transactions
// (compaction_txns.hpp): data batches of aborted transactions are dropped
// whole and never enter the key map; a marker (control batch) goes once no
// data batch of its transaction was left when the pass began and its
// segment is past delete.retention.ms as for tombstones; the .txnindex
// entry of an ABORT marker goes with it. Each batch is rebuilt with its original base offset,
// last offset delta, producer id/epoch/sequence and leader epoch, so offsets
// never change. Segments whose max timestamp is within
// min.compaction.lag.ms of now are not cleaned.
// Replicas and transactions: only records below the first uncleanable
// offset (the lower of the last stable offset and the active segment's
// base, Kafka's firstUncleanableOffset) enter the key map, and only segments
// entirely below it are cleaned. The LSO is the high watermark, or the
// first offset of the oldest open transaction when lower: an open
// transaction's records, and everything after them, stay as they are until
// its marker is in and the LSO has passed it. A record above the HW may still be truncated away; letting
// it supersede a committed value would lose the key on this replica and make
// replicas differ below the HW (issue 12, item 3).
#include <cstdint>
#include <string>
#include <vector>

#include "storage/status.hpp"
#include "storage/txn_index.hpp"

namespace al {

struct compaction_source {
  int64_t base_offset = 0;
  std::string log_path;
  uint64_t size_bytes = 0;   // read only this far (the active segment grows)
  int64_t max_timestamp = -1;
  bool clean = false;        // a closed segment old enough to rewrite
};

struct compaction_plan {
  std::string dir;
  int64_t now_ms = 0;
  int64_t delete_retention_ms = 0;
  uint64_t truncations = 0;                // the log's truncation count at plan time
  /// Records at or above this offset neither count nor get cleaned.
  int64_t first_uncleanable = INT64_MAX;
  std::vector<compaction_source> segments; // every segment, oldest first
  /// The log's aborted transactions that may hold planned records.
  std::vector<aborted_txn> aborted;
  /// Markers at or past this offset stay (the newest producer snapshot's:
  /// a restart from an older one must find the markers after it).
  int64_t marker_limit = INT64_MAX;
};

struct compaction_stats {
  size_t segments_cleaned = 0;
  size_t segments_skipped = 0; // changed between plan and commit
  uint64_t bytes_before = 0;
  uint64_t bytes_after = 0;
  uint64_t records_kept = 0;
  uint64_t records_removed = 0;    // superseded by a later record of the key
  uint64_t tombstones_removed = 0; // past delete.retention.ms
  uint64_t null_keys_removed = 0;
  uint64_t aborted_removed = 0; // records of aborted transactions
  uint64_t markers_removed = 0; // control batches
};

struct cleaned_segment {
  int64_t base_offset = 0;
  std::string cleaned_path;
  uint64_t source_size = 0;
  uint64_t size_bytes = 0;
  std::vector<int64_t> removed_markers; // offsets of the control batches that went
};

struct compaction_output {
  std::vector<cleaned_segment> segments; // only segments that shrank
  compaction_stats stats;
};

/// Step 2: builds the key map and writes the .cleaned files.
result<compaction_output> run_compaction(const compaction_plan& plan);

} // namespace al
