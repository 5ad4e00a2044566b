#pragma once
// One segment of a partition log: a .log file of record batches (each
// validated and offset-stamped before it gets here) plus its sparse offset
// and time indexes, kept in memory and written to their files on roll,
// flush of indexes and close. Formats and recovery rules:
// docs/formats/segment.md.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/batch_header.hpp"
#include "storage/batch_scanner.hpp"
#include "storage/file.hpp"
#include "storage/offset_index.hpp"
#include "storage/status.hpp"
#include "storage/time_index.hpp"

namespace al {

/// A batch found in a segment: where it starts and its header.
struct segment_batch {
  uint64_t position = 0;
  batch_header header;
};

/// What a full scan of a segment kept and dropped.
struct segment_scan {
  scan_result stop = scan_result::end; // end, torn_tail or corrupt
  uint64_t valid_bytes = 0;            // the segment's size after the scan
  uint64_t dropped_bytes = 0;          // what was truncated after that
  std::string problem;                 // why, when something was dropped
};

/// What read_batches() appended.
struct segment_read {
  size_t bytes = 0;
  int64_t next_offset = -1; // one past the last batch appended, -1 if none
  bool more = false;        // the segment has batches past those returned
};

class segment {
public:
  /// Creates an empty .log for a new segment, and with `index_files` empty
  /// .index/.timeindex files, fsynced (a deferred roll writes them when the
  /// segment is closed: recovery rebuilds missing ones).
  static result<std::unique_ptr<segment>> create(const std::string& dir, int64_t base_offset,
                                                 int32_t index_interval_bytes, int64_t now_ms,
                                                 bool index_files = true);
  /// Opens an existing .log without reading it; follow with load() or
  /// recover().
  static result<std::unique_ptr<segment>> open(const std::string& dir, int64_t base_offset,
                                               int32_t index_interval_bytes, int64_t now_ms);

  /// Fast path for a closed segment: loads and checks both index files and
  /// reads the batch headers after the last index entry. CORRUPT_MESSAGE
  /// means the indexes are missing or broken: call recover().
  status load();
  /// Slow path: parses and CRC-checks every batch, truncates the file after
  /// the last good one and rebuilds both indexes from the batches.
  result<segment_scan> recover();

  /// Appends one validated, stamped batch (`h` is its header). The first
  /// append into an empty segment restarts its segment.ms clock at now_ms.
  status append(byte_view batch, const batch_header& h, int64_t now_ms);
  /// The first batch whose last offset is >= offset, if any.
  result<std::optional<segment_batch>> find_batch(int64_t offset) const;
  /// The first batch whose max timestamp is >= timestamp, if any.
  result<std::optional<segment_batch>> find_by_timestamp(int64_t timestamp) const;
  /// Appends to `out` whole batches starting at `position` (a batch start)
  /// while they fit in max_bytes and their last offset is < max_offset.
  /// With min_one, the first batch is returned even if larger than max_bytes.
  result<segment_read> read_batches(uint64_t position, size_t max_bytes, int64_t max_offset,
                                    bool min_one, bytes& out) const;
  /// Scanner over this segment's batches from `position`, where the batch
  /// with base offset `first_offset` starts (default: the whole segment).
  batch_scanner scan(scan_mode mode, uint64_t position = 0, int64_t first_offset = -1) const;

  /// Removes every batch whose last offset is >= offset (a batch holding
  /// `offset` goes whole) and fsyncs.
  /// `sync`: fdatasync the cut .log before returning; without it the
  /// caller makes the cut durable (partition_log's truncation job).
  status truncate_to(int64_t offset, bool sync = true);
  /// fdatasync of the .log.
  status flush();
  /// Writes both index files (only what changed) and, when `durable`,
  /// fsyncs them.
  status flush_indexes(bool durable = true);
  /// The segment stops being the active one: adds the final time index
  /// entry, fsyncs the log and writes the indexes.
  status on_roll();
  /// on_roll without any fsync: the final time index entry, and the index
  /// files written to the page cache. A segment_sync_job makes it durable.
  status seal();
  /// A descriptor of the .log of its own (for an fsync elsewhere: it stays
  /// valid when this segment closes or deletes the file).
  result<file> duplicate_log() const;
  /// Paths of the two index files, and of the aborted-transaction index
  /// (which partition_log writes; it exists only once it has an entry).
  std::string index_path() const;
  std::string time_index_path() const;
  std::string txn_index_path() const;
  /// The .log was fsynced elsewhere (run_segment_sync) and has not
  /// changed since: close() need not fsync it again.
  void mark_synced() { unsynced_ = false; }
  status close();
  /// Closes the log file without flushing it or writing the indexes
  /// (partition_log::discard: the files are about to be removed).
  void discard();
  /// Closes and deletes the .log, both index files and the .txnindex (the
  /// partition_log closed its descriptor first).
  status remove_files();
  /// Closes the .log and renames it and the index files that exist (the
  /// .txnindex too) to
  /// `<name>.deleted` (no fsync), for an I/O worker to delete; appends the
  /// new paths to `renamed`. Recovery deletes such files it finds.
  status rename_for_delete(std::vector<std::string>& renamed);
  /// Replaces the .log by `swap_path` (a committed compaction output):
  /// drops the index files first, renames, then rebuilds the indexes.
  status replace_log(const std::string& swap_path);

  const std::string& dir() const { return dir_; }
  const std::string& log_path() const { return log_.path(); }
  int64_t base_offset() const { return base_offset_; }
  /// One past the last offset of the last batch; base_offset when empty.
  int64_t next_offset() const { return next_offset_; }
  uint64_t size_bytes() const { return log_.size(); }
  bool empty() const { return log_.size() == 0; }
  /// Largest batch max timestamp, -1 when empty.
  int64_t max_timestamp() const { return max_timestamp_; }
  /// When the first batch was appended (creation time while empty), or on
  /// reopen the first batch's max timestamp (no later than the time of the
  /// reopen); segment.ms counts from here.
  int64_t created_ms() const { return created_ms_; }
  const offset_index& index() const { return offset_index_; }
  const time_index& timestamps() const { return time_index_; }

private:
  segment(std::string dir, int64_t base_offset, int32_t index_interval_bytes, file log);
  void reset_state();
  /// Bookkeeping after a batch is in the file at `position`.
  void track_batch(uint64_t position, const batch_header& h);
  /// Re-derives next offset, max timestamp and index spacing by scanning
  /// headers from the last offset index entry.
  status scan_tail();
  status read_created_ms(int64_t now_ms);

  std::string dir_;
  int64_t base_offset_;
  int32_t index_interval_bytes_;
  file log_;
  offset_index offset_index_;
  time_index time_index_;
  int64_t next_offset_;
  int64_t max_timestamp_ = -1;
  int64_t offset_of_max_timestamp_;
  uint64_t bytes_since_index_entry_ = 0;
  int64_t created_ms_ = 0;
  bool unsynced_ = false; // the .log changed since its last fsync
};

} // namespace al
