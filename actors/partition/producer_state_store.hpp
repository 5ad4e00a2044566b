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
// - Snapshots are taken from the table as it stands, covering the log end
//   at that moment. The partition's periodic snapshots (every 30 s once a
//   MiB of producer batches came since the last: producer_snapshot_min_bytes)
//   are written by its I/O worker (issue 15); a snapshot_fence keeps a queued one from landing
//   after a truncation: the partition bumps the fence's generation, under
//   its mutex, before it deletes or loads snapshots, and the worker writes
//   a job only while the generation it was prepared under still holds.
// - Kept: per segment, the newest snapshot whose last covered offset lies
//   in it, so a truncation scans about one segment at most. A snapshot below
//   the log start (retention passed it) is deleted, never restored: the
//   batches between it and the log start are gone, so the table it gives
//   would miss them (a producer's sequence would go back). Producers whose
//   batches retention deleted are forgotten, as in Kafka.
#include <cstdint>
#include <memory>
#include <mutex>
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
  partition_log& log, std::string* note,
  int64_t now_ms = producer_state_table::no_clock);

/// Writes a snapshot covering everything below log.log_end_offset(), then
/// deletes the snapshots no longer kept (see above).
status save_producer_state(const producer_state_table& table, const partition_log& log);

/// Orders a partition's file writes done elsewhere (its I/O worker) against
/// its truncations, restarts and deletion: each bumps `generation` under
/// `mutex` before touching the files; a job prepared under an older
/// generation is dropped.
struct snapshot_fence {
  std::mutex mutex;
  uint64_t generation = 0;
  /// Runs `f` (which deletes or rewrites snapshots) after voiding every job
  /// prepared before, while no job is being written.
  template <class F>
  auto advance(F&& f) {
    std::lock_guard<std::mutex> lock{mutex};
    ++generation;
    return f();
  }
  /// Voids every job prepared before (nothing to do on the files).
  void advance() {
    advance([] { return 0; });
  }
  /// The worker's side: runs `f` (a write) only if no advance came after
  /// the job was prepared under `prepared`; whether it ran.
  template <class F>
  bool if_current(uint64_t prepared, F&& f) {
    std::lock_guard<std::mutex> lock{mutex};
    if (generation != prepared)
      return false;
    f();
    return true;
  }
  /// Whether no advance came after `prepared`, for a long job that must
  /// not hold the mutex while it runs (the partition would wait on it).
  bool is_current(uint64_t prepared) {
    std::lock_guard<std::mutex> lock{mutex};
    return generation == prepared;
  }
};

/// A snapshot taken on the partition's thread, written by write_snapshot_job
/// on another one. Plain data: the table's bytes and the log's shape then.
struct producer_snapshot_job {
  std::string dir;
  int64_t covers = 0;
  bytes data;
  int64_t log_start = 0;
  std::vector<int64_t> segment_bases;
  std::shared_ptr<snapshot_fence> fence; // null: written inline, unfenced
  uint64_t generation = 0;
};

/// Takes the snapshot (what save_producer_state writes) without writing it.
producer_snapshot_job prepare_producer_snapshot(const producer_state_table& table,
                                                const partition_log& log,
                                                std::shared_ptr<snapshot_fence> fence);

/// Writes the job's snapshot and prunes as save_producer_state does, unless
/// its fence moved on since it was prepared: then nothing is written and
/// the result is false.
result<bool> write_snapshot_job(const producer_snapshot_job& job);

/// Deletes every snapshot (durably): the log is about to restart at an
/// offset past its end (truncate_fully_and_start_at), and no snapshot of the
/// old history describes the new one.
status remove_producer_snapshots(const partition_log& log);

/// The offsets the snapshot files in `dir` cover, ascending.
std::vector<int64_t> producer_snapshot_offsets(const std::string& dir);

} // namespace al
