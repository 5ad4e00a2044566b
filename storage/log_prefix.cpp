// partition_log::delete_segments_before, roll_now and
// truncate_fully_and_start_at: dropping a log prefix that something else now
// holds (the controller's metadata snapshots, a leader's log start).
#include "storage/file.hpp"
#include "storage/partition_log.hpp"

namespace al {

result<std::vector<deleted_segment>> partition_log::delete_segments_before(int64_t offset) {
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  std::vector<deleted_segment> deleted;
  // Never the active segment: appends must always have somewhere to go.
  while (segments_.size() > 1 && segments_.front()->next_offset() <= offset) {
    const segment& seg = *segments_.front();
    deleted.push_back({seg.base_offset(), seg.next_offset(), seg.size_bytes(),
                       seg.max_timestamp(), "delete_before"});
    if (auto st = segments_.front()->remove_files(); !st)
      return st;
    segments_.erase(segments_.begin());
    log_start_offset_ = segments_.front()->base_offset();
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
