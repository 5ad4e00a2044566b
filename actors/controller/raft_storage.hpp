#pragma once
// Stable storage of one controller voter (CAF-free): the Raft log kept as the
// Kafka-format metadata log `<data.dir>/__cluster_metadata-0` (readable by
// `actorlog dump-log`), plus quorum-state and raft.snapshot in the same
// directory (raft_state_files.hpp).
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
#include <cstdint>
#include <memory>
#include <string>

#include "actors/controller/raft_machine.hpp"
#include "storage/partition_log.hpp"

namespace al {

class raft_storage {
public:
  static int64_t offset_of(int64_t index) { return index - 1; }
  static int64_t index_of(int64_t offset) { return offset + 1; }

  /// Opens (creating if needed) the metadata log and state files in `dir`.
  static result<std::unique_ptr<raft_storage>> open(const std::string& dir, int64_t now_ms);

  /// What raft_machine needs after a restart. Repairs the log after a
  /// crash in the middle of a snapshot install (see the file comment).
  result<raft_persisted> recover(int64_t now_ms);

  /// Carries out the storage part of `rd`: snapshot (file, then log
  /// reset), quorum-state, truncation, entries, fsync when rd.must_sync.
  /// Each step is durable before the next, so recover() finds a usable
  /// state after a crash anywhere in between. A commit-only hard state
  /// change (must_sync false) is not written: a restart learns it again.
  status save(const raft_ready& rd, int64_t now_ms);

  /// Stores a snapshot the caller took (before raft_machine::compact). The
  /// entries it covers stay in the log: partition_log cannot drop a prefix.
  status save_snapshot(const raft_snapshot& snap);

  const partition_log& log() const { return *log_; }
  const std::string& dir() const { return dir_; }

  /// Reads the entries from `from_index` to the end of the log.
  result<std::vector<raft_entry>> read_entries(int64_t from_index) const;

private:
  raft_storage(std::string dir, std::unique_ptr<partition_log> log)
    : dir_(std::move(dir)), log_(std::move(log)) {}
  status reset_to(raft_snapshot_meta meta, int64_t now_ms);
  status append_entries(const std::vector<raft_entry>& entries, int64_t now_ms);

  std::string dir_;
  std::unique_ptr<partition_log> log_;
};

} // namespace al
