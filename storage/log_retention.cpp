// partition_log::apply_retention: retention.ms and retention.bytes over
// whole closed segments, oldest first.
#include "storage/file.hpp"
#include "storage/partition_log.hpp"

namespace al {

result<std::vector<deleted_segment>> partition_log::apply_retention(int64_t now_ms,
                                                                    int64_t high_watermark) {
  latest_now_ms_ = std::max(latest_now_ms_, now_ms);
  std::vector<deleted_segment> deleted;
  if (closed_ || !config_.policy.delete_segments)
    return deleted;
  uint64_t total = size_bytes();
  // Never the active segment: appends must always have somewhere to go.
  // Never past the high watermark either (Kafka's rule): a segment goes only
  // when the next one starts at or below it, so the log start never passes
  // the HW and no in-sync follower loses a record it has still to fetch.
  while (segments_.size() > 1 && segments_[1]->base_offset() <= high_watermark) {
    const segment& seg = *segments_.front();
    // Kafka's rules: by the largest timestamp in the segment (not file
    // mtime), and by size only while what remains stays >= retention.bytes.
    const char* reason = nullptr;
    if (config_.retention_ms >= 0 && now_ms - seg.max_timestamp() > config_.retention_ms)
      reason = "retention.ms";
    else if (config_.retention_bytes >= 0 &&
             total - seg.size_bytes() >= uint64_t(config_.retention_bytes))
      reason = "retention.bytes";
    if (!reason)
      break;
    deleted.push_back(
      {seg.base_offset(), seg.next_offset(), seg.size_bytes(), seg.max_timestamp(), reason});
    total -= seg.size_bytes();
    if (auto st = drop_files(*segments_.front()); !st)
      return st;
    segments_.erase(segments_.begin());
    log_start_offset_ = std::max(log_start_offset_, segments_.front()->base_offset());
  }
  if (!deleted.empty())
    if (auto st = sync_drops(); !st)
      return st;
  check_invariants();
  return deleted;
}

} // namespace al
