#pragma once
// The log of one partition replica: a directory of segments named by base
// offset, the last one active (appends go there). Pure storage engine: no
// threads, no clock (time comes in as now_ms), not thread-safe.
//
// Offsets: first segment base <= log_start_offset <= log_end_offset and
// flushed_offset <= log_end_offset. Appends
// write straight to the active segment's file (no user-space buffer), so
// appended == written; flushed_offset says what is fsynced (Redpanda keeps
// the same invariant between its appended/written/fsynced offsets).
//
// Split by concern: partition_log.cpp (append, read, truncate), log_sync.cpp
// (flush policy, deferred roll syncs and deletes),
// log_recovery.cpp (open), log_retention.cpp, log_prefix.cpp, log_compaction.cpp,
// partition_log_txn.cpp (aborted transactions, each segment's .txnindex).
// File formats and recovery rules: docs/formats/segment.md.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "storage/bytes.hpp"
#include "storage/log_compaction.hpp"
#include "storage/log_config.hpp"
#include "storage/recovery_report.hpp"
#include "storage/segment.hpp"
#include "storage/status.hpp"
#include "storage/txn_index_files.hpp"

namespace al {

struct append_info {
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t max_timestamp = -1;
  bool rolled = false;        // a new segment was started first
  bool flushed = false;       // the log was fsynced after this append
  int64_t flushed_offset = 0; // every offset below this is on disk
  /// flush.messages was reached with deferred syncs: the fsync is queued
  /// (take_sync_jobs) or already at the I/O worker, and an acknowledgement
  /// that promises it waits until flushed_offset() >= durable_upto. 0: no wait.
  int64_t durable_upto = 0;
};

struct timestamp_offset {
  int64_t timestamp = -1;
  int64_t offset = -1;
};

/// A segment removed by retention.
struct deleted_segment {
  int64_t base_offset = 0;
  int64_t next_offset = 0;
  uint64_t size_bytes = 0;
  int64_t max_timestamp = -1;
  std::string reason; // "retention.ms" or "retention.bytes"
};

/// Read-only description of one segment, for tools and tests.
struct segment_info {
  int64_t base_offset = 0;
  int64_t next_offset = 0;
  uint64_t size_bytes = 0;
  int64_t max_timestamp = -1;
  std::string log_path;
};

/// The durable half of a deferred segment roll (issue 15), for an I/O
/// worker: the closed segment's .log through a descriptor of its own (valid
/// even if the segment is deleted meanwhile), its index files (its
/// .txnindex too when it has one) and the folder (which also holds the new
/// segment's name) are fsynced. Then partition_log::segment_synced(job)
/// lets flushed_offset() pass it.
struct segment_sync_job {
  uint64_t id = 0;
  std::shared_ptr<file> log;
  std::vector<std::string> index_paths;
  std::string dir;
  int64_t base_offset = 0; // the closed segment
  int64_t upto = 0;        // its end: the next segment's base offset
  /// A flush.ms flush of the active segment instead (no offset or time
  /// index; its .txnindex when it has one, and the folder when a .txnindex
  /// is new): it covers offsets below `upto` unless the log was cut since
  /// (`truncations`, the log's count when made).
  bool active_flush = false;
  uint64_t truncations = 0;
  /// The job of a truncation (active_flush too): it also fsyncs the
  /// folder, and its return ends partition_log::truncation_unsynced().
  bool truncation = false;
};

/// Segment files retention (or a raised log start) took out of the log,
/// renamed to `<name>.deleted`: an I/O worker deletes them and fsyncs the
/// folder (run_file_delete). Kafka defers these deletes the same way.
struct file_delete_job {
  std::string dir;
  std::vector<std::string> paths;
};
status run_file_delete(const file_delete_job& job);

/// Empty files for the next roll (log_filename.hpp, spare_file_names),
/// created by an I/O worker once the active segment is half full (or half
/// its segment.ms old): the roll renames them into place instead of
/// creating three files (an inode each) on the scheduler's thread. With
/// 10 000 partitions in a folder tree, ext4 took milliseconds per new
/// inode (issue 15).
struct spare_files_job {
  std::string dir;
};
/// Creates (or keeps) the spare files; no fsync (a lost one is made again,
/// a leftover is removed on open). Any thread; touches no partition_log.
status run_spare_files(const spare_files_job& job);

/// Runs a job: fdatasync of the .log, fsync of each index file still there,
/// fsync of the folder. Any thread; touches no partition_log.
status run_segment_sync(const segment_sync_job& job);

class partition_log {
public:
  static constexpr int64_t no_limit = std::numeric_limits<int64_t>::max();
  /// open(): every closed segment was fsynced on roll (the default, and
  /// the rule for logs that never defer their roll syncs).
  static constexpr int64_t trust_closed = no_limit;

  /// Opens (creating if needed) the log in `dir` and recovers it: leftover
  /// compaction files, torn or corrupt tail, missing indexes. What was
  /// repaired goes to *report when given.
  ///
  /// `recovery_point` (Kafka's): below it the log is known durable, so
  /// closed segments that end at or below it are loaded through their
  /// indexes; every other segment is scanned batch by batch (CRC) and gets
  /// a segment_sync_job. trust_closed: only the last segment is scanned.
  static result<std::unique_ptr<partition_log>> open(const std::string& dir,
                                                     const log_config& config, int64_t now_ms,
                                                     recovery_report* report = nullptr,
                                                     int64_t recovery_point = trust_closed);
  ~partition_log();
  partition_log(const partition_log&) = delete;
  partition_log& operator=(const partition_log&) = delete;

  /// Leader append of one batch from a producer: validates it (magic, CRC,
  /// lengths, dense offset deltas, size <= max.message.bytes), stamps its
  /// base offset (= log end offset) in place, appends, rolls and flushes as
  /// configured. A rejected batch leaves the log and `batch` unchanged.
  result<append_info> append(bytes& batch, int64_t now_ms);
  /// append() for a batch the caller has just validated (validate_records
  /// or validate_batch gave `h`, and the batch has not changed since beyond
  /// the fields the CRC does not cover): the CRC is not computed again.
  result<append_info> append_validated(bytes& batch, const batch_header& h, int64_t now_ms);
  /// Follower append of one or more concatenated batches that already carry
  /// offsets: each base offset must be >= the log end offset (gaps are what
  /// compaction leaves behind, as in Kafka). All are validated first.
  result<append_info> append_as_follower(byte_view batches, int64_t now_ms);

  /// Whole batches holding offsets >= offset whose last offset is
  /// < max_offset (e.g. the high watermark), up to max_bytes, but at least
  /// one batch when one qualifies (Kafka's fetch semantics).
  /// OFFSET_OUT_OF_RANGE below log start or above log end.
  result<bytes> read(int64_t offset, size_t max_bytes, int64_t max_offset = no_limit) const;
  /// How many bytes read(offset, unlimited, max_offset) would return, from
  /// the offset index and batch headers only (no record is read): what a
  /// long-poll fetch compares with its min bytes, as Kafka's DelayedFetch
  /// does with log positions. 0 when nothing qualifies.
  result<uint64_t> bytes_readable(int64_t offset, int64_t max_offset = no_limit) const;
  /// The first record with timestamp >= timestamp (Kafka's ListOffsets),
  /// or nullopt when every record is older.
  result<std::optional<timestamp_offset>> lookup_by_timestamp(int64_t timestamp) const;

  /// Removes every batch whose last offset is >= offset, across segments;
  /// a batch holding `offset` goes whole, so the log end offset becomes the
  /// end of the last batch kept. Below the log start: the log is emptied and
  /// restarts at `offset`. Durable on return, except with deferred syncs:
  /// then one job (take_sync_jobs, `truncation`) fsyncs the kept .log, its
  /// .txnindex and the folder, and truncation_unsynced() is true until it
  /// is back (or a flush() did the same). The emptying case is always in line.
  status truncate_to(int64_t offset);
  /// Kafka's truncateFullyAndStartAt: deletes every segment and restarts the
  /// empty log at `offset` (log start = log end = offset), whatever the old
  /// range was. A follower whose leader's log starts past this log's end
  /// (retention there) has nothing the leader still has. Durable on return.
  status truncate_fully_and_start_at(int64_t offset);
  /// fsyncs the active segment and every closed one whose deferred roll
  /// sync is still pending; flushed_offset becomes log_end_offset.
  status flush();
  /// From now on a roll fsyncs nothing itself: it writes the outgoing
  /// segment's indexes to the page cache and queues a segment_sync_job
  /// (take_sync_jobs) for an I/O worker; flushed_offset() stays below that
  /// segment until segment_synced(). Off by default (tools, tests, the
  /// controller's log): a roll fsyncs in line.
  void defer_roll_syncs(bool on) { defer_roll_syncs_ = on; }
  /// The jobs queued since the last call, oldest first.
  std::vector<segment_sync_job> take_sync_jobs();
  /// From now on segments that retention or a raised log start remove are
  /// renamed to `.deleted` and queued (take_delete_job) instead of being
  /// unlinked in line with a folder fsync.
  void defer_deletes(bool on) { defer_deletes_ = on; }
  /// The files renamed since the last call (paths empty: none).
  file_delete_job take_delete_job();
  /// With deferred syncs: the spare files asked for since the last call
  /// (dir empty: none).
  spare_files_job take_spare_job();
  /// The spare job ran: `ok`, the next roll renames the files into place;
  /// else it creates its files itself, and a later append asks again.
  void spare_files_ready(bool ok);
  /// A job ran without error: the segment is durable. Ignored when a
  /// flush or truncation already settled it. When appends are still waiting
  /// for an fsync (want_durable) that this job did not cover, the next
  /// active_flush job is queued: an error here is from queueing it.
  status segment_synced(const segment_sync_job& job);
  /// Asks for every offset below `upto` to become durable through the I/O
  /// worker: an active_flush job is queued unless one is already out, in
  /// which case the next one goes when it comes back (segment_synced) and
  /// covers every append made meanwhile: group commit, one fsync for many
  /// flush.messages acknowledgements. Without deferred syncs: flush().
  status want_durable(int64_t upto);
  /// With deferred syncs, a truncate_to's cut is on disk only when its job
  /// (take_sync_jobs) has come back: until then this is true, and the
  /// owner writes nothing anew past the cut (a follower holds its fetches).
  bool truncation_unsynced() const { return unsynced_truncation_ != 0; }
  /// flush() if flush.ms has passed since the last flush and data is
  /// unflushed. Returns whether it flushed. With defer_roll_syncs the
  /// fsync is queued as a segment_sync_job (active_flush) instead, and the
  /// flushed offset moves when it comes back (segment_synced).
  result<bool> maybe_flush(int64_t now_ms);

  /// Deletes whole closed segments that retention.ms or retention.bytes
  /// condemns (oldest first, first hit wins); never the active segment, and
  /// only segments entirely below `high_watermark` (the next segment starts
  /// at or below it: Kafka's rule), so no replica still fetching them loses them.
  result<std::vector<deleted_segment>> apply_retention(int64_t now_ms, int64_t high_watermark);

  /// Kafka's DeleteRecords at segment granularity (log_prefix.cpp): deletes
  /// the closed segments whose every offset is below `offset`, oldest first,
  /// never the active one; the log start offset advances to the base of the
  /// first segment kept, so every offset >= `offset` stays readable.
  /// Durable on return. Reason "delete_before" in the result.
  result<std::vector<deleted_segment>> delete_segments_before(int64_t offset);
  /// Kafka's maybeIncrementLogStartOffset (log_prefix.cpp): a follower takes
  /// its leader's log start from every fetch answer, so records it kept
  /// below it (possibly never committed: the leader can no longer say) are
  /// never read again. The log start may fall inside a segment or a batch:
  /// reads below it are OFFSET_OUT_OF_RANGE, a batch that straddles it is
  /// still returned whole. Closed segments wholly below it are deleted
  /// (reason "log_start"). Capped at the log end; at or below the current
  /// log start nothing happens. Durable on return: the offset is in the
  /// log-start-offset file before any segment goes.
  result<std::vector<deleted_segment>> advance_log_start(int64_t offset);
  /// Closes the active segment (fsynced) and starts a new one at the log
  /// end, so that a later delete_segments_before can drop everything
  /// written so far. No-op (false) when the active segment is empty.
  result<bool> roll_now(int64_t now_ms);

  /// Compaction in one call: plan, run, commit. Only records below
  /// `stable_offset` count: the last stable offset (the high watermark when
  /// no transaction is open); markers at or past `marker_limit` stay (see
  /// log_compaction.hpp).
  result<compaction_stats> compact(int64_t now_ms, int64_t stable_offset,
                                   int64_t marker_limit = no_limit);
  /// Compaction in three steps, so the middle one (which only reads and
  /// writes files named in the plan) can run elsewhere while appends go on.
  compaction_plan plan_compaction(int64_t now_ms, int64_t stable_offset,
                                  int64_t marker_limit = no_limit) const;
  /// Swaps in the cleaned segments whose source is unchanged since the plan.
  result<compaction_stats> commit_compaction(const compaction_plan& plan,
                                             const compaction_output& output);

  /// Aborted transactions (issue 16), kept in memory and in the .txnindex
  /// of the segment holding each ABORT marker (partition_log_txn.cpp).
  ///
  /// Records a transaction aborted by the marker at a.last_offset, already
  /// in the log: OFFSET_OUT_OF_RANGE unless the marker is below the log end
  /// and in a segment; INVALID_REQUEST when first_offset is negative or
  /// past last_offset, or the marker comes before an entry of its segment.
  /// An entry for a marker offset already held is ignored, so a rescan of
  /// the log after a restart may add again what it finds. Written to the
  /// page cache only (the file is created on first use); made durable by
  /// flush(), close(), sync_txn_indexes(), an in-line roll, and every sync
  /// job of its segment made after it or not yet taken when added. The owner
  /// adds the entry before taking the jobs of the append that wrote the
  /// marker, so the job that makes the marker durable covers the entry.
  status add_aborted(const aborted_txn& a);
  /// The entries overlapping [from, upto) (what a read_committed fetch of
  /// those offsets must skip), by marker offset.
  std::vector<aborted_txn> aborted_between(int64_t from, int64_t upto) const;
  /// Every entry, by marker offset.
  const std::vector<aborted_txn>& aborted_txns() const { return txns_.all(); }
  /// fsyncs every .txnindex written since it was opened or last fsynced,
  /// and the folder when one is new (before a producer-state snapshot that
  /// will stop a restart from rescanning the markers below it).
  status sync_txn_indexes();

  /// Writes indexes, fsyncs, closes files. Also done by the destructor.
  status close();
  /// Closes the files without writing or flushing anything: the log is
  /// about to be deleted (a deleted topic's partition fsynced its segment
  /// and wrote both indexes first, which made deleting 10 000 partitions
  /// take most of a node's CPU).
  void discard();

  int64_t log_start_offset() const { return log_start_offset_; }
  int64_t log_end_offset() const { return log_end_offset_; }
  int64_t flushed_offset() const { return flushed_offset_; }
  uint64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  std::vector<segment_info> segments() const;
  const std::string& dir() const { return dir_; }
  const log_config& config() const { return config_; }
  void set_config(const log_config& config);

private:
  partition_log(std::string dir, const log_config& config, int64_t now_ms);
  status recover(int64_t now_ms, recovery_report& report, int64_t recovery_point);
  status recover_segments(const std::vector<int64_t>& bases, int64_t now_ms,
                          recovery_report& report, int64_t recovery_point);
  /// Queues a sync job for closed segment `seg` ending at `upto`.
  status queue_sync(segment& seg, int64_t upto);
  /// Queues an active_flush job up to the log end; `truncation`: the job
  /// of a truncate_to with deferred syncs (it also fsyncs the folder, for
  /// the unlinked segments, and ends truncation_unsynced()).
  status queue_active_flush(bool truncation = false);
  /// A job for `seg` with a descriptor of its own, numbered, ending at `upto`.
  result<segment_sync_job> new_sync_job(const segment& seg, int64_t upto);
  /// flush.ms is due: flush() in line (true), or with deferred syncs an
  /// active_flush job queued (false).
  result<bool> flush_for_time(int64_t now_ms);
  /// Queues the next active_flush job when want_durable asked for more than
  /// is flushed, none is out, and no closed segment's job holds the flushed
  /// offset back (its answer calls this again).
  status continue_durable();
  /// Raises the flushed offset to `durable`, but not past the oldest
  /// closed segment still waiting for its sync, nor past the log end.
  void advance_flushed(int64_t durable);
  /// fsyncs in line every closed segment still waiting for its job.
  status sync_pending_segments();
  /// Drops pending entries whose segment is gone (retention, truncation).
  void prune_pending();
  /// A segment leaving the log by the front: its files are removed, or
  /// renamed and queued with defer_deletes.
  status drop_files(segment& seg);
  /// The folder fsync after drop_files, unless the deletes are deferred.
  status sync_drops();
  /// `sync_dir`: fsync the folder after the unlinks (else the caller's
  /// job does).
  status remove_segments_from(size_t first, recovery_report* report, const std::string& why,
                              bool sync_dir = true);
  /// Loads the .txnindex of every segment that has one (`bases`), then
  /// drops entries past the recovered log end.
  status load_txn_indexes(const std::vector<int64_t>& bases, recovery_report& report);
  /// A job of the segment with a .txnindex fsyncs it (and the folder while
  /// a .txnindex is new).
  void cover_txn_index(segment_sync_job& job) const;
  status create_first_segment(int64_t base_offset, int64_t now_ms);
  // log_prefix.cpp: the log start above the first segment's base.
  status apply_log_start_file(recovery_report& report);
  status remove_log_start_file();
  result<std::vector<deleted_segment>> delete_segments_below_log_start();

  status append_checked(byte_view batch, const batch_header& h, int64_t now_ms,
                        append_info& info);
  status maybe_roll(const batch_header& h, int64_t now_ms, bool& rolled);
  status roll(int64_t base_offset, int64_t now_ms);
  status apply_flush_policy(int64_t now_ms, append_info& info);
  /// Index of the segment with the largest base offset <= offset.
  size_t segment_index_for(int64_t offset) const;
  segment& active() { return *segments_.back(); }
  const segment& active() const { return *segments_.back(); }
  void check_invariants() const;

  std::string dir_;
  log_config config_;
  std::vector<std::unique_ptr<segment>> segments_;
  txn_index_files txns_; // each segment's .txnindex, and every entry
  int64_t log_start_offset_ = 0;
  int64_t log_end_offset_ = 0;
  int64_t flushed_offset_ = 0;
  int64_t last_flush_ms_ = 0;
  int64_t latest_now_ms_ = 0; // the latest now_ms seen, for calls that take none
  /// Bumped by every truncate_to: a compaction planned before a truncation
  /// may have seen keys that are gone, so its output is discarded.
  uint64_t truncations_ = 0;
  bool closed_ = false;
  bool defer_roll_syncs_ = false;
  bool defer_deletes_ = false;
  std::vector<std::string> doomed_; // renamed to .deleted, not yet taken
  /// Closed segments whose roll sync has not completed: {job id, base},
  /// oldest first; flushed_offset_ stays at or below the first base.
  std::vector<std::pair<uint64_t, int64_t>> pending_syncs_;
  std::vector<segment_sync_job> sync_jobs_; // not yet taken
  int64_t synced_upto_ = 0; // the highest end of a segment synced by a job since the last cut
  uint64_t next_sync_id_ = 1;
  /// want_durable: the highest offset asked for (never past the log end),
  /// and the active_flush jobs out at the I/O worker.
  int64_t durable_wanted_ = 0;
  int active_flushes_ = 0;
  /// Spare files for the next roll: asked for (a job not taken, or out),
  /// and there.
  bool spare_asked_ = false;
  bool spare_wanted_ = false; // asked, not yet taken
  bool spare_ready_ = false;
  /// Renames the spare files into place for a roll from `out` to a new
  /// segment at `next_base` (deferred syncs, spares ready). A target that
  /// exists is left alone (a segment cut back and rolled again has its
  /// index files).
  void use_spare_files(const segment& out, int64_t next_base);
  /// The active segment is half way to its roll: ask for spare files.
  void maybe_ask_spare(int64_t now_ms);
  /// The truncations_ count of the cut whose job is out (0: none).
  uint64_t unsynced_truncation_ = 0;
};

} // namespace al
