#include "storage/segment.hpp"

#include <algorithm>
#include <limits>

#include "storage/log_filename.hpp"
#include "storage/open_file_cache.hpp"

namespace al {
namespace {

status scan_error(scan_result r, const std::string& problem) {
  return status{r == scan_result::io_error ? errc::kafka_storage_error : errc::corrupt_message,
                problem};
}

} // namespace

segment::segment(std::string dir, int64_t base_offset, int32_t index_interval_bytes, file log)
  : dir_(std::move(dir)), base_offset_(base_offset), index_interval_bytes_(index_interval_bytes),
    log_(std::move(log)),
    offset_index_(join_path(dir_, index_file_name(base_offset)), base_offset),
    time_index_(join_path(dir_, time_index_file_name(base_offset)), base_offset),
    next_offset_(base_offset), offset_of_max_timestamp_(base_offset) {}

result<std::unique_ptr<segment>> segment::create(const std::string& dir, int64_t base_offset,
                                                 int32_t index_interval_bytes, int64_t now_ms,
                                                 bool index_files) {
  AL_ASSERT(base_offset >= 0, dir, base_offset);
  auto f = file::open(join_path(dir, log_file_name(base_offset)), open_mode::create_truncate,
                      open_file_cache::process());
  if (!f)
    return f.error();
  std::unique_ptr<segment> seg{
    new segment(dir, base_offset, index_interval_bytes, std::move(f.value()))};
  if (index_files)
    if (auto st = seg->flush_indexes(); !st)
      return st;
  seg->created_ms_ = now_ms;
  return seg;
}

result<std::unique_ptr<segment>> segment::open(const std::string& dir, int64_t base_offset,
                                               int32_t index_interval_bytes, int64_t now_ms) {
  auto f = file::open(join_path(dir, log_file_name(base_offset)), open_mode::read_write,
                      open_file_cache::process());
  if (!f)
    return f.error();
  std::unique_ptr<segment> seg{
    new segment(dir, base_offset, index_interval_bytes, std::move(f.value()))};
  if (auto st = seg->read_created_ms(now_ms); !st)
    return st;
  return seg;
}

status segment::read_created_ms(int64_t now_ms) {
  created_ms_ = now_ms;
  if (log_.size() < batch_layout::header_size)
    return status::ok();
  uint8_t head[batch_layout::header_size];
  auto got = log_.pread(head, sizeof(head), 0);
  if (!got)
    return got.error();
  auto h = read_batch_header(head);
  // A producer's timestamp: one in the future would hold off segment.ms
  // until then, so it counts as now at most.
  if (h.magic == current_magic && h.max_timestamp >= 0)
    created_ms_ = std::min(h.max_timestamp, now_ms);
  return status::ok();
}

void segment::reset_state() {
  offset_index_.clear();
  time_index_.clear();
  next_offset_ = base_offset_;
  max_timestamp_ = -1;
  offset_of_max_timestamp_ = base_offset_;
  bytes_since_index_entry_ = 0;
}

void segment::track_batch(uint64_t position, const batch_header& h) {
  AL_ASSERT(position <= std::numeric_limits<uint32_t>::max(), log_.path(), position);
  AL_ASSERT(h.base_offset >= next_offset_, log_.path(), h.base_offset, next_offset_);
  if (h.max_timestamp > max_timestamp_) {
    max_timestamp_ = h.max_timestamp;
    offset_of_max_timestamp_ = h.base_offset;
  }
  // Like Kafka: an entry once more than index.interval.bytes were written
  // since the last one, so the first batch of a segment never gets one.
  if (bytes_since_index_entry_ > uint64_t(index_interval_bytes_)) {
    offset_index_.append(h.base_offset, uint32_t(position));
    if (max_timestamp_ >= 0)
      time_index_.maybe_append(max_timestamp_, offset_of_max_timestamp_);
    bytes_since_index_entry_ = 0;
  }
  bytes_since_index_entry_ += h.size_in_bytes();
  next_offset_ = h.next_offset();
}

status segment::load() {
  if (auto st = offset_index_.load(log_.size()); !st)
    return st;
  if (auto st = time_index_.load(); !st)
    return st;
  return scan_tail();
}

status segment::scan_tail() {
  offset_index::position_hint hint{base_offset_, 0};
  if (!offset_index_.empty())
    hint = offset_index_.lookup(base_offset_ + offset_index_.entries().back().relative_offset);
  next_offset_ = hint.offset;
  max_timestamp_ = time_index_.last_timestamp();
  offset_of_max_timestamp_ =
    time_index_.empty() ? base_offset_ : base_offset_ + time_index_.entries().back().relative_offset;
  auto s = scan(scan_mode::headers, hint.position, hint.offset);
  scan_result r;
  bool first = !offset_index_.empty(); // an entry must point at a batch start
  while ((r = s.next()) == scan_result::batch) {
    const auto& h = s.header();
    if (first && h.base_offset != hint.offset)
      return status{errc::corrupt_message,
                    offset_index_.path() + ": last entry says offset " +
                      std::to_string(hint.offset) + " but the batch there starts at " +
                      std::to_string(h.base_offset)};
    first = false;
    if (h.max_timestamp > max_timestamp_) {
      max_timestamp_ = h.max_timestamp;
      offset_of_max_timestamp_ = h.base_offset;
    }
    next_offset_ = h.next_offset();
  }
  if (r != scan_result::end)
    return scan_error(r, s.problem());
  if (offset_of_max_timestamp_ >= std::max(next_offset_, base_offset_ + 1))
    return status{errc::corrupt_message, time_index_.path() + ": offset " +
                                           std::to_string(offset_of_max_timestamp_) +
                                           " is past the log's end " +
                                           std::to_string(next_offset_)};
  bytes_since_index_entry_ = log_.size() - hint.position;
  return status::ok();
}

result<segment_scan> segment::recover() {
  reset_state();
  // What was read may sit only in the page cache (a process crash without
  // an OS crash): the next flush() must fsync it.
  unsynced_ = true;
  auto s = scan(scan_mode::full);
  scan_result r;
  while ((r = s.next()) == scan_result::batch)
    track_batch(s.position(), s.header());
  if (r == scan_result::io_error)
    return scan_error(r, s.problem());
  segment_scan out;
  out.stop = r;
  out.valid_bytes = s.next_position();
  out.dropped_bytes = log_.size() - out.valid_bytes;
  if (r != scan_result::end)
    out.problem = s.problem();
  if (out.dropped_bytes > 0) {
    if (auto st = log_.truncate(out.valid_bytes); !st)
      return st;
    if (auto st = log_.fsync(); !st)
      return st;
  }
  // The rebuilt indexes stay in memory (reset_state marked their files for
  // a rewrite): the files are written on roll, flush and close, and a
  // recovery always rebuilds them from the log, so writing (and fsyncing)
  // them here bought nothing but two fsyncs per partition on every start
  // (issue 15: restart of 10 000 partitions).
  return out;
}

batch_scanner segment::scan(scan_mode mode, uint64_t position, int64_t first_offset) const {
  return batch_scanner(log_, position, log_.size(), base_offset_,
                       first_offset < 0 ? base_offset_ : first_offset, mode);
}

status segment::append(byte_view batch, const batch_header& h, int64_t now_ms) {
  AL_ASSERT(batch.size == h.size_in_bytes(), batch.size, h.size_in_bytes());
  AL_ASSERT(h.base_offset >= next_offset_, log_.path(), h.base_offset, next_offset_);
  AL_ASSERT(h.last_offset() - base_offset_ <= std::numeric_limits<int32_t>::max(), log_.path(),
            h.last_offset());
  uint64_t position = log_.size();
  if (auto st = log_.append(batch); !st) {
    (void)log_.truncate(position); // a partial write must not stay behind
    return st;
  }
  if (position == 0)
    created_ms_ = now_ms;
  unsynced_ = true;
  track_batch(position, h);
  return status::ok();
}

result<std::optional<segment_batch>> segment::find_batch(int64_t offset) const {
  if (offset >= next_offset_)
    return std::optional<segment_batch>{};
  auto hint = offset_index_.lookup(offset);
  auto s = scan(scan_mode::headers, hint.position, hint.offset);
  scan_result r;
  while ((r = s.next()) == scan_result::batch)
    if (s.header().last_offset() >= offset)
      return std::optional<segment_batch>{segment_batch{s.position(), s.header()}};
  if (r != scan_result::end)
    return scan_error(r, s.problem());
  return std::optional<segment_batch>{};
}

result<std::optional<segment_batch>> segment::find_by_timestamp(int64_t timestamp) const {
  if (empty() || timestamp > max_timestamp_)
    return std::optional<segment_batch>{};
  auto hint = offset_index_.lookup(time_index_.lookup(timestamp));
  auto s = scan(scan_mode::headers, hint.position, hint.offset);
  scan_result r;
  while ((r = s.next()) == scan_result::batch)
    if (s.header().max_timestamp >= timestamp)
      return std::optional<segment_batch>{segment_batch{s.position(), s.header()}};
  if (r != scan_result::end)
    return scan_error(r, s.problem());
  return std::optional<segment_batch>{};
}

result<segment_read> segment::read_batches(uint64_t position, size_t max_bytes,
                                            int64_t max_offset, bool min_one,
                                            bytes& out) const {
  namespace L = batch_layout;
  AL_ASSERT(position <= log_.size(), log_.path(), position);
  segment_read res;
  size_t start = out.size();
  size_t want = size_t(std::min<uint64_t>(max_bytes, log_.size() - position));
  // One read of up to max_bytes, then cut it at the last whole batch.
  out.resize(start + std::max(want, min_one ? L::header_size : size_t(0)));
  auto got = log_.pread(out.data() + start, out.size() - start, position);
  if (!got) {
    out.resize(start);
    return got.error();
  }
  size_t avail = *got;
  size_t used = 0;
  bool stopped = false;
  while (used + L::header_size <= avail) {
    auto h = read_batch_header(out.data() + start + used);
    if (h.magic != current_magic || h.batch_length < int32_t(L::header_size - L::log_overhead)) {
      out.resize(start);
      return status{errc::corrupt_message, log_.path() + " position " +
                                             std::to_string(position + used) +
                                             ": not a batch header"};
    }
    if (h.last_offset() >= max_offset) {
      stopped = true;
      break;
    }
    size_t size = h.size_in_bytes();
    if (used + size > want) {
      if (used > 0 || !min_one) {
        stopped = true;
        break;
      }
      // min_one: the first batch is returned whole even past max_bytes.
      out.resize(start + size);
      if (auto st = log_.pread(out.data() + start + avail, size - avail, position + avail);
          !st || *st != size - avail) {
        out.resize(start);
        return st ? status{errc::kafka_storage_error, log_.path() + ": short read"} : st.error();
      }
      avail = size;
    }
    used += size;
    res.next_offset = h.next_offset();
  }
  out.resize(start + used);
  res.bytes = used;
  res.more = stopped || position + used < log_.size();
  return res;
}

status segment::truncate_to(int64_t offset, bool sync) {
  auto found = find_batch(offset);
  if (!found)
    return found.error();
  if (!*found)
    return status::ok();
  const auto& cut = **found;
  if (auto st = log_.truncate(cut.position); !st)
    return st;
  offset_index_.truncate_to_offset(cut.header.base_offset);
  time_index_.truncate_to_offset(cut.header.base_offset);
  if (auto st = scan_tail(); !st)
    return st;
  unsynced_ = true;
  return sync ? flush() : status::ok();
}

status segment::flush() {
  if (!unsynced_)
    return status::ok();
  if (auto st = log_.fdatasync(); !st)
    return st;
  unsynced_ = false;
  return status::ok();
}

status segment::flush_indexes(bool durable) {
  if (auto st = offset_index_.flush(durable); !st)
    return st;
  return time_index_.flush(durable);
}

status segment::on_roll() {
  if (max_timestamp_ >= 0)
    time_index_.maybe_append(max_timestamp_, offset_of_max_timestamp_);
  if (auto st = flush(); !st)
    return st;
  return flush_indexes();
}

status segment::seal() {
  if (max_timestamp_ >= 0)
    time_index_.maybe_append(max_timestamp_, offset_of_max_timestamp_);
  return flush_indexes(false);
}

result<file> segment::duplicate_log() const { return log_.duplicate(); }

std::string segment::index_path() const { return join_path(dir_, index_file_name(base_offset_)); }

std::string segment::time_index_path() const {
  return join_path(dir_, time_index_file_name(base_offset_));
}

std::string segment::txn_index_path() const {
  return join_path(dir_, txn_index_file_name(base_offset_));
}

status segment::close() {
  if (!log_.is_open())
    return status::ok();
  if (auto st = flush_indexes(); !st)
    return st;
  if (auto st = flush(); !st)
    return st;
  return log_.close();
}

void segment::discard() { (void)log_.close(); }

status segment::remove_files() {
  if (auto st = log_.close(); !st)
    return st;
  if (auto st = offset_index_.remove_file(); !st)
    return st;
  if (auto st = time_index_.remove_file(); !st)
    return st;
  if (auto st = remove_file(txn_index_path()); !st)
    return st;
  return remove_file(log_.path());
}

status segment::rename_for_delete(std::vector<std::string>& renamed) {
  std::string log_path = log_.path();
  if (auto st = log_.close(); !st)
    return st;
  for (const auto& path : {log_path, index_path(), time_index_path(), txn_index_path()}) {
    if (!path_exists(path))
      continue;
    auto doomed = path + deleted_suffix;
    if (auto st = rename_file(path, doomed); !st)
      return st;
    renamed.push_back(std::move(doomed));
  }
  return status::ok();
}

status segment::replace_log(const std::string& swap_path) {
  // Index files go first: if we crash after the rename, recovery finds the
  // new .log without indexes and rebuilds them; stale ones never survive.
  if (auto st = offset_index_.remove_file(); !st)
    return st;
  if (auto st = time_index_.remove_file(); !st)
    return st;
  std::string path = log_.path();
  if (auto st = log_.close(); !st)
    return st;
  if (auto st = rename_file(swap_path, path); !st)
    return st;
  if (auto st = fsync_directory(dir_); !st)
    return st;
  auto f = file::open(path, open_mode::read_write, open_file_cache::process());
  if (!f)
    return f.error();
  log_ = std::move(f.value());
  auto scanned = recover();
  if (!scanned)
    return scanned.error();
  if (scanned->stop != scan_result::end)
    return status{errc::corrupt_message, "compacted " + path + ": " + scanned->problem};
  return flush_indexes(); // a closed segment's index files are trusted on open
}

} // namespace al
