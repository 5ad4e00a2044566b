// partition_log's durability (see partition_log.hpp and
// docs/formats/segment.md, "Durability" and "Rolling"): the flush policy,
// flush(), the deferred roll syncs and segment deletes an I/O worker runs
// (issue 15).
#include <algorithm>

#include "storage/file.hpp"
#include "storage/log_filename.hpp"
#include "storage/partition_log.hpp"

namespace al {

status partition_log::apply_flush_policy(int64_t now_ms, append_info& info) {
  int64_t unflushed = log_end_offset_ - flushed_offset_;
  bool by_count = unflushed >= config_.flush_messages;
  bool by_time = unflushed > 0 && config_.flush_ms != log_config::never &&
                 now_ms - last_flush_ms_ >= config_.flush_ms;
  if (by_count && defer_roll_syncs_) {
    // The acknowledgement promises the fsync (flush.messages), so it waits
    // for it; the I/O worker runs it, not the scheduler thread this runs on.
    if (auto st = want_durable(log_end_offset_); !st)
      return st;
    last_flush_ms_ = now_ms;
    info.durable_upto = log_end_offset_;
  } else if (by_count) {
    if (auto st = flush(); !st)
      return st;
    last_flush_ms_ = now_ms;
    info.flushed = true;
  } else if (by_time) {
    auto in_line = flush_for_time(now_ms);
    if (!in_line)
      return in_line.error();
    info.flushed = *in_line;
  }
  info.flushed_offset = flushed_offset_;
  return status::ok();
}

result<bool> partition_log::flush_for_time(int64_t now_ms) {
  // flush.ms promises no acknowledgement: with deferred syncs the I/O
  // worker does it, and the flushed offset moves when it comes back.
  if (auto st = defer_roll_syncs_ ? queue_active_flush() : flush(); !st)
    return st;
  last_flush_ms_ = now_ms;
  return !defer_roll_syncs_;
}

status partition_log::flush() {
  if (auto st = txns_.sync(); !st) // entries added since, maybe after their marker's fsync
    return st;
  if (unsynced_truncation_ != 0) { // a cut whose job is still out: settled here
    if (auto st = active().flush(); !st)
      return st;
    if (auto st = fsync_directory(dir_); !st)
      return st;
    unsynced_truncation_ = 0;
  }
  if (flushed_offset_ == log_end_offset_ && pending_syncs_.empty())
    return status::ok();
  if (auto st = sync_pending_segments(); !st)
    return st;
  if (auto st = active().flush(); !st)
    return st;
  flushed_offset_ = log_end_offset_;
  return status::ok();
}

result<segment_sync_job> partition_log::new_sync_job(const segment& seg, int64_t upto) {
  auto log = seg.duplicate_log();
  if (!log)
    return log.error();
  segment_sync_job job;
  job.id = next_sync_id_++;
  job.log = std::make_shared<file>(std::move(*log));
  job.base_offset = seg.base_offset();
  job.upto = upto;
  return job;
}

status partition_log::queue_active_flush(bool truncation) {
  auto job = new_sync_job(active(), log_end_offset_);
  if (!job)
    return job.error();
  job->active_flush = true;
  job->truncations = truncations_;
  if (truncation) {
    job->truncation = true;
    job->dir = dir_; // the unlinked segments
    unsynced_truncation_ = truncations_;
  }
  cover_txn_index(*job);
  sync_jobs_.push_back(std::move(*job));
  ++active_flushes_;
  return status::ok();
}

status partition_log::want_durable(int64_t upto) {
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  if (!defer_roll_syncs_)
    return flush();
  durable_wanted_ = std::min(std::max(durable_wanted_, upto), log_end_offset_);
  return continue_durable();
}

status partition_log::continue_durable() {
  durable_wanted_ = std::min(durable_wanted_, log_end_offset_); // a truncation cut it
  if (closed_ || active_flushes_ > 0 || flushed_offset_ >= durable_wanted_)
    return status::ok();
  prune_pending();
  if (!pending_syncs_.empty() && pending_syncs_.front().second <= flushed_offset_)
    return status::ok(); // that segment's job comes back first and calls this again
  return queue_active_flush();
}

status partition_log::queue_sync(segment& seg, int64_t upto) {
  auto job = new_sync_job(seg, upto);
  if (!job)
    return job.error();
  job->index_paths = {seg.index_path(), seg.time_index_path()};
  job->dir = dir_;
  cover_txn_index(*job);
  pending_syncs_.emplace_back(job->id, job->base_offset);
  sync_jobs_.push_back(std::move(*job));
  return status::ok();
}

std::vector<segment_sync_job> partition_log::take_sync_jobs() {
  std::vector<segment_sync_job> out;
  out.swap(sync_jobs_);
  return out;
}

void partition_log::prune_pending() {
  if (segments_.empty()) {
    pending_syncs_.clear();
    return;
  }
  auto gone = [&](const std::pair<uint64_t, int64_t>& p) {
    auto i = segment_index_for(p.second);
    return segments_[i]->base_offset() != p.second || i + 1 == segments_.size();
  };
  pending_syncs_.erase(std::remove_if(pending_syncs_.begin(), pending_syncs_.end(), gone),
                       pending_syncs_.end());
}

status partition_log::sync_pending_segments() {
  prune_pending();
  if (pending_syncs_.empty())
    return status::ok();
  for (const auto& [id, base] : pending_syncs_) {
    segment& seg = *segments_[segment_index_for(base)];
    if (auto st = seg.flush(); !st)
      return st;
    if (auto st = fsync_path(seg.index_path()); !st)
      return st;
    if (auto st = fsync_path(seg.time_index_path()); !st)
      return st;
  }
  if (auto st = fsync_directory(dir_); !st)
    return st;
  pending_syncs_.clear(); // their jobs, when they come back, find nothing
  return status::ok();
}

status partition_log::segment_synced(const segment_sync_job& job) {
  if (job.active_flush) {
    active_flushes_ = std::max(active_flushes_ - 1, 0);
    if (job.truncation && job.truncations == unsynced_truncation_)
      unsynced_truncation_ = 0;
    // Everything below upto was in the active segment or before it; closed
    // segments still waiting for their own job keep the offset below them.
    // After a cut, offsets below upto may have been written anew: no move.
    if (!closed_ && job.truncations == truncations_) {
      prune_pending();
      advance_flushed(job.upto);
    }
    return continue_durable();
  }
  auto it = std::find_if(pending_syncs_.begin(), pending_syncs_.end(),
                         [&](const auto& p) { return p.first == job.id; });
  if (closed_ || it == pending_syncs_.end())
    return continue_durable(); // settled by a flush or a truncation meanwhile
  pending_syncs_.erase(it);
  auto i = segment_index_for(job.base_offset);
  if (segments_[i]->base_offset() == job.base_offset && i + 1 < segments_.size())
    segments_[i]->mark_synced();
  prune_pending();
  // Earlier segments were synced before, and this one now.
  synced_upto_ = std::max(synced_upto_, job.upto);
  advance_flushed(synced_upto_);
  return continue_durable();
}

void partition_log::advance_flushed(int64_t durable) {
  // Never past the oldest closed segment still waiting for its sync.
  if (!pending_syncs_.empty())
    durable = std::min(durable, pending_syncs_.front().second);
  flushed_offset_ = std::min(std::max(flushed_offset_, durable), log_end_offset_);
}

status run_segment_sync(const segment_sync_job& job) {
  if (auto st = job.log->fdatasync(); !st)
    return st;
  for (const auto& path : job.index_paths)
    if (auto st = fsync_path(path); !st)
      return st;
  return job.dir.empty() ? status::ok() : fsync_directory(job.dir);
}

result<bool> partition_log::maybe_flush(int64_t now_ms) {
  latest_now_ms_ = std::max(latest_now_ms_, now_ms);
  if (config_.flush_ms == log_config::never || now_ms - last_flush_ms_ < config_.flush_ms ||
      flushed_offset_ == log_end_offset_)
    return false;
  if (auto done = flush_for_time(now_ms); !done)
    return done.error();
  return true;
}

status partition_log::drop_files(segment& seg) {
  txns_.forget(seg.base_offset()); // closed before the segment deletes or renames it
  if (!defer_deletes_)
    return seg.remove_files();
  return seg.rename_for_delete(doomed_);
}

status partition_log::sync_drops() {
  return defer_deletes_ ? status::ok() : fsync_directory(dir_);
}

file_delete_job partition_log::take_delete_job() {
  file_delete_job job;
  job.dir = dir_;
  job.paths.swap(doomed_);
  return job;
}

status run_file_delete(const file_delete_job& job) {
  for (const auto& path : job.paths)
    if (auto st = remove_file(path); !st)
      return st;
  return fsync_directory(job.dir);
}

} // namespace al

namespace al {

status run_spare_files(const spare_files_job& job) {
  for (const char* name : spare_file_names) {
    auto f = file::open(join_path(job.dir, name), open_mode::create);
    if (!f)
      return f.error();
    if (auto st = f->close(); !st)
      return st;
  }
  return status::ok();
}

spare_files_job partition_log::take_spare_job() {
  spare_files_job job;
  if (spare_wanted_) {
    spare_wanted_ = false;
    job.dir = dir_;
  }
  return job;
}

void partition_log::spare_files_ready(bool ok) {
  spare_asked_ = false;
  spare_ready_ = ok && !closed_;
}

void partition_log::maybe_ask_spare(int64_t now_ms) {
  if (!defer_roll_syncs_ || spare_ready_ || spare_asked_ || closed_)
    return;
  const segment& seg = active();
  bool half_full = seg.size_bytes() >= uint64_t(config_.segment_bytes) / 2;
  bool half_old = config_.segment_ms != log_config::never && !seg.empty() &&
                  now_ms - seg.created_ms() >= config_.segment_ms / 2;
  if (!half_full && !half_old)
    return;
  spare_asked_ = spare_wanted_ = true;
}

void partition_log::use_spare_files(const segment& out, int64_t next_base) {
  spare_ready_ = false;
  const std::string targets[] = {join_path(dir_, log_file_name(next_base)), out.index_path(),
                                 out.time_index_path()};
  for (size_t i = 0; i < 3; ++i) {
    // A failed rename leaves the roll to create that file itself.
    if (!path_exists(targets[i]))
      (void)rename_file(join_path(dir_, spare_file_names[i]), targets[i]);
  }
}

} // namespace al
