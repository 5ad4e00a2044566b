#pragma once
// Stable storage of one controller voter (CAF-free): the Raft log kept as the
// Kafka-format metadata log `<data.dir>/__cluster_metadata-0` (readable by
// `actorlog dump-log`), plus quorum-state and `<index>-<term>.snapshot`
// files in the same directory (raft_state_files.hpp).
//
// Mapping: Raft index i is Kafka offset i - 1 (so the log starts at offset
// 0 like every Kafka log); one entry = one RecordBatch holding one record,
// partitionLeaderEpoch = the entry's term, value = the entry's data (empty
// for a leader's no-op), null key. One batch per entry because
// partition_log truncates whole batches and Raft cuts at any index.
//
// After installing a snapshot from the leader the log is emptied and a
// marker entry (index = snapshot index, its term, record header
// "raft-marker: snapshot") is written, so recovery can tell entries that
// follow the snapshot from leftovers of an install a crash interrupted.
//
// Snapshots taken locally (save_snapshot): the newest `snapshots_kept` files
// stay; the log keeps every entry from the older kept snapshot's index on
// (whole segments below it are deleted, and the log rolls a segment at each
// snapshot so that the next one can drop it). So recovery can fall back to
// the older snapshot when the newest file is damaged.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/controller/raft_machine.hpp"
#include "storage/partition_log.hpp"

namespace al {

class raft_storage {
public:
  static int64_t offset_of(int64_t index) { return index - 1; }
  static int64_t index_of(int64_t offset) { return offset + 1; }

  /// Opens (creating if needed) the metadata log and state files in `dir`.
  static result<std::unique_ptr<raft_storage>> open(const std::string& dir, int64_t now_ms);

  static constexpr size_t snapshots_kept = 2;

  /// Extra check of a snapshot's data (e.g. that it decodes), run on each
  /// candidate during recovery.
  using snapshot_check = std::function<status(const raft_snapshot&)>;

  /// What raft_machine needs after a restart: the newest usable snapshot
  /// (a damaged one, or one failing `check`, is renamed to *.corrupt and
  /// reported in `warnings`, naming the file; the next older one is tried),
  /// then the log after it. Repairs the log after a crash in the middle of
  /// a snapshot install (see the file comment).
  result<raft_persisted> recover(int64_t now_ms, std::vector<std::string>* warnings = nullptr,
                                 const snapshot_check& check = {});

  /// Carries out the storage part of `rd`: snapshot (file, then log
  /// reset), quorum-state, truncation, entries, fsync when rd.must_sync.
  /// Each step is durable before the next, so recover() finds a usable
  /// state after a crash anywhere in between. A commit-only hard state
  /// change (must_sync false) is not written: a restart learns it again.
  status save(const raft_ready& rd, int64_t now_ms);

  /// Stores a snapshot the caller took (before raft_machine::compact): the
  /// file, durably; older files beyond `snapshots_kept` are deleted, and
  /// the log segments below the older kept snapshot (see the file comment).
  status save_snapshot(const raft_snapshot& snap, int64_t now_ms);

  const partition_log& log() const { return *log_; }
  const std::string& dir() const { return dir_; }

  /// Reads the entries from `from_index` to the end of the log.
  result<std::vector<raft_entry>> read_entries(int64_t from_index) const;

private:
  raft_storage(std::string dir, std::unique_ptr<partition_log> log)
    : dir_(std::move(dir)), log_(std::move(log)) {}
  status reset_to(raft_snapshot_meta meta, int64_t now_ms);
  /// Deletes every snapshot file but `keep`'s (they no longer anchor the log).
  status remove_snapshots_except(raft_snapshot_meta keep);
  /// The newest snapshot file that reads, checks and anchors the log,
  /// with the entries after it; nullptr snapshot when there is none.
  result<raft_persisted> recover_from_snapshots(int64_t now_ms, std::vector<std::string>* warnings,
                                                const snapshot_check& check);
  status append_entries(const std::vector<raft_entry>& entries, int64_t now_ms);

  std::string dir_;
  std::unique_ptr<partition_log> log_;
};

} // namespace al
