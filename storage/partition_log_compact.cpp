// partition_log's side of compaction: planning from the current segments
// and committing cleaned segments by rename (see log_compaction.hpp).
#include <algorithm>

#include "storage/file.hpp"
#include "storage/log_filename.hpp"
#include "storage/partition_log.hpp"

namespace al {

compaction_plan partition_log::plan_compaction(int64_t now_ms, int64_t stable_offset,
                                               int64_t marker_limit) const {
  compaction_plan plan;
  plan.dir = dir_;
  plan.now_ms = now_ms;
  plan.delete_retention_ms = config_.delete_retention_ms;
  plan.truncations = truncations_;
  plan.marker_limit = marker_limit;
  // Kafka's firstUncleanableOffset: nothing at or above the LSO (the HW, or
  // an open transaction's first offset: the HW's records may still be
  // truncated, an open transaction's outcome is unknown) and nothing in the
  // active segment counts.
  plan.first_uncleanable = std::min(stable_offset, active().base_offset());
  // Every abort known: its records below the bound must neither count nor
  // stay. Its marker may be above the bound (outcomes are decided before
  // markers are written, so a marker cut and written again says the same).
  for (const auto& a : aborted_txns())
    if (a.first_offset < plan.first_uncleanable)
      plan.aborted.push_back(a);
  for (size_t i = 0; i < segments_.size(); ++i) {
    const segment& seg = *segments_[i];
    if (seg.base_offset() >= plan.first_uncleanable)
      break; // nothing in it counts: no need to read it
    bool below = seg.next_offset() <= plan.first_uncleanable; // closed and committed
    bool old_enough = seg.max_timestamp() <= now_ms - config_.min_compaction_lag_ms;
    plan.segments.push_back({seg.base_offset(), seg.log_path(), seg.size_bytes(),
                             seg.max_timestamp(),
                             config_.policy.compact && below && old_enough && !seg.empty()});
  }
  return plan;
}

result<compaction_stats> partition_log::commit_compaction(const compaction_plan& plan,
                                                          const compaction_output& output) {
  compaction_stats stats = output.stats;
  for (const auto& cleaned : output.segments) {
    segment* target = nullptr;
    for (size_t i = 0; i + 1 < segments_.size(); ++i)
      if (segments_[i]->base_offset() == cleaned.base_offset)
        target = segments_[i].get();
    // A truncation may have removed keys the plan counted as latest; a
    // retention run may have deleted the source. Either way: discard.
    if (closed_ || plan.truncations != truncations_ || !target ||
        target->size_bytes() != cleaned.source_size) {
      ++stats.segments_skipped;
      if (auto st = remove_file(cleaned.cleaned_path); !st)
        return st;
      continue;
    }
    if (auto st = txns_.remove_markers(cleaned.base_offset, cleaned.removed_markers); !st)
      return st;
    auto swap = join_path(dir_, swap_file_name(cleaned.base_offset));
    if (auto st = rename_file(cleaned.cleaned_path, swap); !st)
      return st;
    if (auto st = fsync_directory(dir_); !st) // the commit point
      return st;
    if (auto st = target->replace_log(swap); !st)
      return st;
    ++stats.segments_cleaned;
    stats.bytes_before += cleaned.source_size;
    stats.bytes_after += cleaned.size_bytes;
  }
  check_invariants();
  return stats;
}

result<compaction_stats> partition_log::compact(int64_t now_ms, int64_t stable_offset,
                                                int64_t marker_limit) {
  latest_now_ms_ = std::max(latest_now_ms_, now_ms);
  auto plan = plan_compaction(now_ms, stable_offset, marker_limit);
  auto output = run_compaction(plan);
  if (!output)
    return output.error();
  return commit_compaction(plan, *output);
}

} // namespace al
