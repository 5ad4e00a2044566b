// partition_log's aborted transactions (issue 16): each segment's
// .txnindex (txn_index_files), loaded on open, cut with the log and
// deleted with its segment; see docs/formats/segment.md, ".txnindex".
#include <algorithm>

#include "storage/partition_log.hpp"

namespace al {

status partition_log::add_aborted(const aborted_txn& a) {
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  if (a.last_offset < segments_.front()->base_offset() || a.last_offset >= log_end_offset_)
    return status{errc::offset_out_of_range,
                  dir_ + ": ABORT marker at offset " + std::to_string(a.last_offset) +
                    " is outside [" + std::to_string(segments_.front()->base_offset()) + ", " +
                    std::to_string(log_end_offset_) + ")"};
  if (a.first_offset > a.last_offset || a.first_offset < 0)
    return status{errc::invalid_request, dir_ + ": aborted transaction [" +
                                           std::to_string(a.first_offset) + ", " +
                                           std::to_string(a.last_offset) + "]"};
  if (txns_.contains(a.last_offset))
    return status::ok(); // a rescan after a restart found one the file kept
  int64_t base = segments_[segment_index_for(a.last_offset)]->base_offset();
  bool created = false;
  if (auto st = txns_.add(base, a, &created); !st)
    return st;
  // Jobs of this segment not yet taken run after the write: they cover it.
  for (auto& job : sync_jobs_)
    if (job.base_offset == base)
      cover_txn_index(job);
  AL_ASSERT(txns_.contains(a.last_offset) && txns_.has_file(base), dir_, a.last_offset, base);
  return status::ok();
}

std::vector<aborted_txn> partition_log::aborted_between(int64_t from, int64_t upto) const {
  return txns_.between(from, upto);
}

status partition_log::sync_txn_indexes() {
  if (closed_)
    return status{errc::kafka_storage_error, dir_ + ": log is closed"};
  return txns_.sync();
}

void partition_log::cover_txn_index(segment_sync_job& job) const {
  if (!txns_.has_file(job.base_offset))
    return;
  auto path = txns_.path(job.base_offset);
  if (std::find(job.index_paths.begin(), job.index_paths.end(), path) == job.index_paths.end())
    job.index_paths.push_back(std::move(path));
  if (txns_.folder_unsynced())
    job.dir = dir_; // the new file's name
}

status partition_log::load_txn_indexes(const std::vector<int64_t>& bases,
                                       recovery_report& report) {
  for (int64_t base : bases) {
    auto i = segment_index_for(base);
    if (segments_[i]->base_offset() != base)
      continue; // its segment is gone: settle_leftovers or a corrupt predecessor removed it
    if (auto st = txns_.load(base, report); !st)
      return st;
  }
  // A torn or corrupt log tail was cut: the markers past it went with it.
  auto st = txns_.truncate_to(log_end_offset_);
  AL_ASSERT(!st || txns_.all().empty() || txns_.all().back().last_offset < log_end_offset_, dir_,
            log_end_offset_);
  return st;
}

} // namespace al
