// partition_log::delete_segments_before, roll_now, advance_log_start and
// truncate_fully_and_start_at: dropping a log prefix that something else now
// holds (the controller's metadata snapshots, a leader's log start).
//
// The log start is the first segment's base unless advance_log_start raised
// it inside the first segment; then the partition folder holds
// `log-start-offset` ("0\n<offset>\n", Kafka keeps the same number in its
// log-start-offset-checkpoint), written durably before anything relies on
// it and removed before a truncation or restart puts the log start below it.
#include <algorithm>
#include <sstream>

#include "storage/file.hpp"
#include "storage/partition_log.hpp"

namespace al {

namespace {

constexpr const char* log_start_file_name = "log-start-offset";

result<int64_t> parse_log_start_file(const std::string& path) {
  auto data = read_whole_file(path);
  if (!data)
    return data.error();
  std::istringstream in{std::string(data->begin(), data->end())};
  int version = -1;
  int64_t offset = -1;
  if (!(in >> version >> offset) || version != 0 || offset < 0)
    return status{errc::corrupt_message,
                  path + ": bad contents (want version 0 and a non-negative offset)"};
  return offset;
}

} // namespace

// Deletes the segments wholly below the log start (never the active one),
// durably. They leave the list before their files go: a failure half way
// leaves orphan files, which recovery removes, never a listed segment
// without its files.
result<std::vector<deleted_segment>> partition_log::delete_segments_below_log_start() {
  std::vector<std::unique_ptr<segment>> doomed;
  while (segments_.size() > 1 && segments_[1]->base_offset() <= log_start_offset_) {
    doomed.push_back(std::move(segments_.front()));
    segments_.erase(segments_.begin());
  }
  std::vector<deleted_segment> deleted;
  for (auto& seg : doomed) {
    deleted.push_back({seg->base_offset(), seg->next_offset(), seg->size_bytes(),
                       seg->max_timestamp(), "log_start"});
    if (auto st = drop_files(*seg); !st)
      return st;
  }
  if (!deleted.empty())
    if (auto st = sync_drops(); !st)
      return st;
  return deleted;
}

result<std::vector<deleted_segment>> partition_log::advance_log_start(int64_t offset) {
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  offset = std::min(offset, log_end_offset_);
  if (offset <= log_start_offset_)
    return std::vector<deleted_segment>{};
  std::string text = "0\n" + std::to_string(offset) + "\n";
  if (auto st = replace_file_durably(dir_, log_start_file_name,
                                     byte_view{reinterpret_cast<const uint8_t*>(text.data()),
                                               text.size()});
      !st)
    return st;
  log_start_offset_ = offset;
  auto deleted = delete_segments_below_log_start();
  if (deleted)
    check_invariants();
  return deleted;
}

status partition_log::remove_log_start_file() {
  auto path = join_path(dir_, log_start_file_name);
  if (!path_exists(path))
    return status::ok();
  if (auto st = remove_file(path); !st)
    return st;
  return fsync_directory(dir_);
}

status partition_log::apply_log_start_file(recovery_report& report) {
  auto path = join_path(dir_, log_start_file_name);
  if (!path_exists(path))
    return status::ok();
  auto offset = parse_log_start_file(path);
  if (!offset) {
    // Written durably (temp file, rename), so only damage gets here: the
    // log start falls back to the first segment's base.
    report.events.push_back({recovery_action::removed_leftover, path, 0, 0,
                             offset.error().message() + "; log start from the first segment"});
    return remove_log_start_file();
  }
  if (*offset <= log_start_offset_)
    return status::ok(); // retention or a prefix deletion has passed it since
  if (*offset > log_end_offset_) {
    // A machine crash tore the tail below the log start: nothing readable
    // is left, so the log restarts empty there (truncate_fully_and_start_at).
    report.events.push_back({recovery_action::restarted_at_log_start, path, 0, size_bytes(),
                             "log end " + std::to_string(log_end_offset_) +
                               " below the log start " + std::to_string(*offset)});
    return truncate_fully_and_start_at(*offset);
  }
  log_start_offset_ = *offset;
  auto deleted = delete_segments_below_log_start();
  return deleted ? status::ok() : deleted.error();
}

result<std::vector<deleted_segment>> partition_log::delete_segments_before(int64_t offset) {
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  std::vector<deleted_segment> deleted;
  // Never the active segment: appends must always have somewhere to go.
  while (segments_.size() > 1 && segments_.front()->next_offset() <= offset) {
    const segment& seg = *segments_.front();
    deleted.push_back({seg.base_offset(), seg.next_offset(), seg.size_bytes(),
                       seg.max_timestamp(), "delete_before"});
    txns_.forget(seg.base_offset());
    if (auto st = segments_.front()->remove_files(); !st)
      return st;
    segments_.erase(segments_.begin());
    log_start_offset_ = std::max(log_start_offset_, segments_.front()->base_offset());
  }
  if (!deleted.empty())
    if (auto st = fsync_directory(dir_); !st)
      return st;
  check_invariants();
  return deleted;
}

status partition_log::truncate_fully_and_start_at(int64_t offset) {
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  if (offset < 0)
    return status{errc::offset_out_of_range,
                  dir_ + ": cannot restart the log at offset " + std::to_string(offset)};
  ++truncations_; // voids compaction plans made before
  synced_upto_ = 0;
  if (auto st = remove_log_start_file(); !st)
    return st;
  if (auto st = remove_segments_from(0, nullptr, ""); !st)
    return st;
  if (auto st = create_first_segment(offset, latest_now_ms_); !st)
    return st;
  check_invariants();
  return status::ok();
}

result<bool> partition_log::roll_now(int64_t now_ms) {
  latest_now_ms_ = std::max(latest_now_ms_, now_ms);
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  if (active().empty())
    return false;
  if (auto st = roll(log_end_offset_, now_ms); !st)
    return st;
  AL_ASSERT(active().empty() && active().base_offset() == log_end_offset_, dir_,
            active().base_offset(), log_end_offset_);
  check_invariants();
  return true;
}

} // namespace al
