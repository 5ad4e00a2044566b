#include "storage/partition_log.hpp"

#include <algorithm>

#include "storage/batch_header.hpp"
#include "storage/batch_scanner.hpp"
#include "storage/file.hpp"
#include "storage/record_batch.hpp"

namespace al {

partition_log::partition_log(std::string dir, const log_config& config, int64_t now_ms)
  : dir_(std::move(dir)), config_(config), txns_(dir_), last_flush_ms_(now_ms),
    latest_now_ms_(now_ms) {}

partition_log::~partition_log() { (void)close(); }

void partition_log::check_invariants() const {
  AL_ASSERT(!segments_.empty(), dir_);
  AL_ASSERT(log_start_offset_ <= log_end_offset_ && flushed_offset_ <= log_end_offset_, dir_,
            log_start_offset_, flushed_offset_, log_end_offset_);
  AL_ASSERT(log_end_offset_ == active().next_offset(), dir_, log_end_offset_,
            active().next_offset());
  // The log start lies in the first segment (advance_log_start deletes the
  // ones wholly below it).
  AL_ASSERT(segments_.front()->base_offset() <= log_start_offset_, dir_, log_start_offset_,
            segments_.front()->base_offset());
  AL_ASSERT(segments_.size() == 1 || log_start_offset_ < segments_[1]->base_offset(), dir_,
            log_start_offset_, segments_[1]->base_offset());
  AL_ASSERT(txns_.all().empty() || txns_.all().back().last_offset < log_end_offset_, dir_,
            txns_.all().empty() ? -1 : txns_.all().back().last_offset, log_end_offset_);
}

void partition_log::set_config(const log_config& config) {
  AL_ASSERT(config.validate().is_ok(), config.validate().to_string());
  config_ = config;
}

uint64_t partition_log::size_bytes() const {
  uint64_t total = 0;
  for (const auto& s : segments_)
    total += s->size_bytes();
  return total;
}

std::vector<segment_info> partition_log::segments() const {
  std::vector<segment_info> out;
  for (const auto& s : segments_)
    out.push_back({s->base_offset(), s->next_offset(), s->size_bytes(), s->max_timestamp(),
                   s->log_path()});
  return out;
}

size_t partition_log::segment_index_for(int64_t offset) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](int64_t o, const auto& s) { return o < s->base_offset(); });
  return it == segments_.begin() ? 0 : size_t(it - segments_.begin()) - 1;
}

result<append_info> partition_log::append(bytes& batch, int64_t now_ms) {
  auto h = validate_batch(batch, "produced batch");
  if (!h)
    return h.error();
  return append_validated(batch, *h, now_ms);
}

result<append_info> partition_log::append_validated(bytes& batch, const batch_header& checked,
                                                    int64_t now_ms) {
  latest_now_ms_ = std::max(latest_now_ms_, now_ms);
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  if (batch.size() > size_t(config_.max_message_bytes))
    return status{errc::message_too_large,
                  "batch of " + std::to_string(batch.size()) +
                    " bytes exceeds max.message.bytes " +
                    std::to_string(config_.max_message_bytes)};
  // Kafka's RecordBatchTooLargeException: no segment could hold it.
  if (batch.size() > uint64_t(config_.segment_bytes))
    return status{errc::record_list_too_large,
                  "batch of " + std::to_string(batch.size()) + " bytes exceeds segment.bytes " +
                    std::to_string(config_.segment_bytes)};
  AL_ASSERT(batch.size() >= batch_layout::header_size, batch.size());
  auto h = checked;
  if (h.size_in_bytes() != batch.size())
    return status{errc::corrupt_message, "produced batch: " +
                                           std::to_string(batch.size() - h.size_in_bytes()) +
                                           " bytes after the batch"};
  if (h.records_count == 0 || h.last_offset_delta != h.records_count - 1)
    return status{errc::corrupt_message,
                  "produced batch: lastOffsetDelta " + std::to_string(h.last_offset_delta) +
                    " does not fit " + std::to_string(h.records_count) + " records"};
  int64_t original_base = h.base_offset;
  h.base_offset = log_end_offset_;
  stamp_base_offset(batch.data(), h.base_offset);
  append_info info;
  auto st = append_checked(batch, h, now_ms, info);
  if (st)
    st = apply_flush_policy(now_ms, info);
  if (!st) {
    if (info.base_offset < 0)
      stamp_base_offset(batch.data(), original_base);
    return st;
  }
  return info;
}

result<append_info> partition_log::append_as_follower(byte_view batches, int64_t now_ms) {
  latest_now_ms_ = std::max(latest_now_ms_, now_ms);
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  std::vector<batch_header> headers;
  int64_t expected = log_end_offset_;
  for (size_t pos = 0; pos < batches.size;) {
    auto h = validate_batch(batches.sub(pos, batches.size - pos),
                            "replicated batch at position " + std::to_string(pos));
    if (!h)
      return h.error();
    if (h->base_offset < expected)
      return status{errc::offset_out_of_range,
                    "replicated batch base offset " + std::to_string(h->base_offset) +
                      " is below the expected " + std::to_string(expected)};
    expected = h->next_offset();
    pos += h->size_in_bytes();
    headers.push_back(*h);
  }
  append_info info;
  size_t pos = 0;
  for (const auto& h : headers) {
    append_info one;
    if (auto st = append_checked(batches.sub(pos, h.size_in_bytes()), h, now_ms, one); !st)
      return st;
    if (info.base_offset < 0)
      info.base_offset = one.base_offset;
    info.last_offset = one.last_offset;
    info.max_timestamp = std::max(info.max_timestamp, one.max_timestamp);
    info.rolled |= one.rolled;
    pos += h.size_in_bytes();
  }
  if (auto st = apply_flush_policy(now_ms, info); !st)
    return st;
  return info;
}

status partition_log::append_checked(byte_view batch, const batch_header& h, int64_t now_ms,
                                     append_info& info) {
  AL_ASSERT(h.base_offset >= log_end_offset_, h.base_offset, log_end_offset_);
  if (auto st = maybe_roll(h, now_ms, info.rolled); !st)
    return st;
  if (auto st = active().append(batch, h, now_ms); !st)
    return st;
  log_end_offset_ = h.next_offset();
  info.base_offset = h.base_offset;
  info.last_offset = h.last_offset();
  info.max_timestamp = h.max_timestamp;
  check_invariants();
  return status::ok();
}

status partition_log::maybe_roll(const batch_header& h, int64_t now_ms, bool& rolled) {
  const segment& seg = active();
  bool offset_overflow =
    h.last_offset() - seg.base_offset() > std::numeric_limits<int32_t>::max();
  bool full = !seg.empty() && seg.size_bytes() + h.size_in_bytes() > uint64_t(config_.segment_bytes);
  bool old = !seg.empty() && now_ms - seg.created_ms() >= config_.segment_ms;
  if (!offset_overflow && !full && !old) {
    maybe_ask_spare(now_ms);
    return status::ok();
  }
  rolled = true;
  return roll(h.base_offset, now_ms);
}

status partition_log::roll(int64_t base_offset, int64_t now_ms) {
  AL_ASSERT(base_offset >= log_end_offset_, base_offset, log_end_offset_);
  if (defer_roll_syncs_) {
    // No fsync here (issue 15): the indexes go to the page cache, the new
    // segment is created, and a job fsyncs the outgoing one and the folder
    // later. Until it has, flushed_offset_ (the recovery point) stays at or
    // below the outgoing segment's base, so a crash before it scans that
    // segment on open.
    segment& out = active();
    if (spare_ready_)
      use_spare_files(out, base_offset); // no new inode here (issue 15)
    if (auto st = out.seal(); !st)
      return st;
    auto seg = segment::create(dir_, base_offset, config_.index_interval_bytes, now_ms, false);
    if (!seg)
      return seg.error();
    if (auto st = queue_sync(out, base_offset); !st)
      return st;
    flushed_offset_ = std::min(flushed_offset_, out.base_offset());
    segments_.push_back(std::move(seg.value()));
    log_end_offset_ = base_offset;
    return status::ok();
  }
  // The outgoing segment is fsynced here, so every closed segment is
  // durable and recovery only has to distrust the last one.
  if (auto st = active().on_roll(); !st)
    return st;
  if (auto st = txns_.sync(); !st)
    return st;
  flushed_offset_ = log_end_offset_;
  auto seg = segment::create(dir_, base_offset, config_.index_interval_bytes, now_ms);
  if (!seg)
    return seg.error();
  if (auto st = fsync_directory(dir_); !st)
    return st;
  segments_.push_back(std::move(seg.value()));
  log_end_offset_ = base_offset;
  flushed_offset_ = std::max(flushed_offset_, log_end_offset_);
  return status::ok();
}

result<bytes> partition_log::read(int64_t offset, size_t max_bytes, int64_t max_offset) const {
  if (offset < log_start_offset_ || offset > log_end_offset_)
    return status{errc::offset_out_of_range,
                  dir_ + ": offset " + std::to_string(offset) + " is outside [" +
                    std::to_string(log_start_offset_) + ", " + std::to_string(log_end_offset_) +
                    "]"};
  bytes out;
  if (offset == log_end_offset_ || max_offset <= offset)
    return out;
  for (size_t i = segment_index_for(offset); i < segments_.size(); ++i) {
    const segment& seg = *segments_[i];
    auto found = seg.find_batch(offset);
    if (!found)
      return found.error();
    if (!*found)
      continue; // offset is past this segment's batches (or in a compaction gap)
    size_t budget = out.size() < max_bytes ? max_bytes - out.size() : 0;
    auto r = seg.read_batches((*found)->position, budget, max_offset, out.empty(), out);
    if (!r)
      return r.error();
    if (r->more || out.size() >= max_bytes)
      break;
  }
  return out;
}

result<uint64_t> partition_log::bytes_readable(int64_t offset, int64_t max_offset) const {
  if (offset < log_start_offset_ || offset >= log_end_offset_ || max_offset <= offset)
    return uint64_t{0};
  uint64_t total = 0;
  for (size_t i = segment_index_for(offset); i < segments_.size(); ++i) {
    const segment& seg = *segments_[i];
    if (seg.base_offset() >= max_offset)
      break;
    // [first batch with last offset >= offset, first with last >= max_offset)
    auto from = seg.find_batch(offset);
    if (!from)
      return from.error();
    if (!*from)
      continue;
    uint64_t end = seg.size_bytes();
    if (max_offset < seg.next_offset()) {
      auto to = seg.find_batch(max_offset);
      if (!to)
        return to.error();
      if (*to)
        end = (*to)->position;
    }
    total += end > (*from)->position ? end - (*from)->position : 0;
    if (end < seg.size_bytes())
      break; // read() stops at the first batch it may not return
  }
  return total;
}

result<std::optional<timestamp_offset>>
partition_log::lookup_by_timestamp(int64_t timestamp) const {
  using found_t = std::optional<timestamp_offset>;
  for (const auto& seg : segments_) {
    if (seg->empty() || seg->max_timestamp() < timestamp || seg->next_offset() <= log_start_offset_)
      continue;
    // The time index gives the first batch that may qualify; a log start
    // inside this segment may come later (Kafka's findOffsetByTimestamp
    // with startingOffset = logStartOffset).
    auto found = seg->find_by_timestamp(timestamp);
    if (!found)
      return found.error();
    if (!*found)
      continue;
    segment_batch from = **found;
    if (from.header.last_offset() < log_start_offset_) {
      auto at_start = seg->find_batch(log_start_offset_);
      if (!at_start)
        return at_start.error();
      if (!*at_start)
        continue;
      from = **at_start;
    }
    auto scanner = seg->scan(scan_mode::headers, from.position, from.header.base_offset);
    while (scanner.next() == scan_result::batch) {
      const batch_header& h = scanner.header();
      if (h.max_timestamp < timestamp)
        continue;
      bytes batch;
      auto read = seg->read_batches(scanner.position(), 0, no_limit, true, batch);
      if (!read)
        return read.error();
      auto decoded = decode_batch(batch, seg->log_path() + " position " +
                                           std::to_string(scanner.position()));
      if (!decoded)
        return decoded.error();
      for (const auto& r : decoded->records)
        if (r.timestamp >= timestamp && r.offset >= log_start_offset_)
          return found_t{timestamp_offset{r.timestamp, r.offset}};
    }
  }
  return found_t{};
}

status partition_log::truncate_to(int64_t offset) {
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  if (offset >= log_end_offset_)
    return status::ok();
  ++truncations_;
  synced_upto_ = 0; // offsets past the cut will be written anew
  if (offset <= log_start_offset_) { // Kafka: truncateFullyAndStartAt(offset)
    if (auto st = remove_log_start_file(); !st)
      return st;
    if (auto st = remove_segments_from(0, nullptr, ""); !st)
      return st;
    return create_first_segment(offset, latest_now_ms_);
  }
  // With deferred syncs nothing is fsynced here (issue 15): one job makes
  // the cut durable (the kept .log, its .txnindex, the folder) on the I/O
  // worker, and until it is back truncation_unsynced() holds the follower's
  // next fetch, so nothing is written anew past the cut before the cut is
  // on disk.
  bool in_line = !defer_roll_syncs_;
  size_t keep = segment_index_for(offset);
  if (auto st = remove_segments_from(keep + 1, nullptr, "", in_line); !st)
    return st;
  prune_pending(); // the segment cut now is active again: its sync is moot
  if (auto st = active().truncate_to(offset, in_line); !st)
    return st;
  log_end_offset_ = active().next_offset();
  if (auto st = txns_.truncate_to(log_end_offset_, in_line); !st) // the markers cut
    return st;
  flushed_offset_ = std::min(flushed_offset_, log_end_offset_);
  if (in_line) {
    if (auto st = flush(); !st)
      return st;
  } else if (auto st = queue_active_flush(true); !st) {
    return st;
  }
  check_invariants();
  return status::ok();
}

status partition_log::remove_segments_from(size_t first, recovery_report* report,
                                           const std::string& why, bool sync_dir) {
  if (first >= segments_.size())
    return status::ok();
  while (segments_.size() > first) {
    auto& seg = *segments_.back();
    if (report)
      report->events.push_back({recovery_action::deleted_after_corruption, seg.log_path(), 0,
                                seg.size_bytes(), why});
    txns_.forget(seg.base_offset());
    if (auto st = seg.remove_files(); !st)
      return st;
    segments_.pop_back();
  }
  // A base offset may come back (a truncation restarts the log below it):
  // no pending sync may then name a segment it never saw.
  if (segments_.empty())
    pending_syncs_.clear();
  else
    prune_pending();
  return sync_dir ? fsync_directory(dir_) : status::ok();
}

status partition_log::create_first_segment(int64_t base_offset, int64_t now_ms) {
  AL_ASSERT(segments_.empty(), dir_);
  auto seg = segment::create(dir_, base_offset, config_.index_interval_bytes, now_ms);
  if (!seg)
    return seg.error();
  if (auto st = fsync_directory(dir_); !st)
    return st;
  segments_.push_back(std::move(seg.value()));
  log_start_offset_ = log_end_offset_ = flushed_offset_ = base_offset;
  return status::ok();
}

void partition_log::discard() {
  closed_ = true;
  txns_.discard();
  for (auto& seg : segments_)
    seg->discard();
}

status partition_log::close() {
  if (closed_)
    return status::ok();
  // Rolled segments whose sync is pending had their indexes written
  // without fsync: segment::close would find them up to date.
  status first_error = sync_pending_segments();
  closed_ = true;
  for (auto& seg : segments_)
    if (auto st = seg->close(); !st && first_error.is_ok())
      first_error = st;
  if (auto st = txns_.close(); !st && first_error.is_ok())
    first_error = st;
  if (first_error.is_ok())
    flushed_offset_ = log_end_offset_;
  return first_error;
}

} // namespace al
