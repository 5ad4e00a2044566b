#pragma once
// Persistence of a partition's producer state, Kafka's way: snapshot files
// <partition dir>/<covered offset, 20 digits>.snapshot, each written
// atomically, holding the table for the log below that offset; loading takes
// the newest good one at or below the log end and scans the batch headers
// after it. CAF-free.
//
// Rules (docs/replication.md, "Producer state"):
// - A snapshot on disk covers a prefix of the current log. Whenever the log
//   end is below a snapshot's offset (after a truncation, or after recovery
//   cut a torn tail), load_producer_state deletes it, durably, before the
//   caller can append past that offset again.
// - After a truncation the table is rebuilt with load_producer_state, never
//   trimmed: every batch still in the log is in the dedup window again.
// - Snapshots are written from the table as it stands, covering the log end
//   at that moment, on the partition's own thread: nothing queued can land
//   after a truncation.
// - Kept: per segment, the newest snapshot whose last covered offset lies
//   in it, so a truncation scans about one segment at most. A snapshot below
//   the log start (retention passed it) is deleted, never restored: the
//   batches between it and the log start are gone, so the table it gives
//   would miss them (a producer's sequence would go back). Producers whose
//   batches retention deleted are forgotten, as in Kafka.
#include <cstdint>
#include <string>
#include <vector>

#include "actors/partition/producer_state_machine.hpp"
#include "storage/partition_log.hpp"

namespace al {

/// Rebuilds the table for `log`: deletes every snapshot above the log end
/// or below the log start (fsyncing the directory), then restores the newest
/// valid snapshot in between and scans the log from there (from the log start without one).
/// `note` says what was used. Batches scanned from the log count as written
/// no later than `now_ms` (producer_state_table::on_append). Called on open
/// and after every truncation.
result<producer_state_table> load_producer_state(
  const partition_log& log, std::string* note,
  int64_t now_ms = producer_state_table::no_clock);

/// Writes a snapshot covering everything below log.log_end_offset(), then
/// deletes the snapshots no longer kept (see above).
status save_producer_state(const producer_state_table& table, const partition_log& log);

/// Deletes every snapshot (durably): the log is about to restart at an
/// offset past its end (truncate_fully_and_start_at), and no snapshot of the
/// old history describes the new one.
status remove_producer_snapshots(const partition_log& log);

/// The offsets the snapshot files in `dir` cover, ascending.
std::vector<int64_t> producer_snapshot_offsets(const std::string& dir);

} // namespace al
