// partition_log::open: finishing or discarding interrupted compactions,
// loading closed segments through their indexes, and validating the last
// segment batch by batch. Rules: docs/formats/segment.md, "Recovery".
#include <map>
#include <vector>

#include "storage/file.hpp"
#include "storage/log_filename.hpp"
#include "storage/partition_log.hpp"

namespace al {
namespace {

struct dir_entry {
  bool log = false;
  bool index = false;
  bool time_index = false;
  bool txn_index = false;
  bool cleaned = false;
  bool swap = false;
};

using dir_listing = std::map<int64_t, dir_entry>;

result<dir_listing> read_listing(const std::string& dir, std::vector<std::string>& deleted) {
  auto names = list_directory(dir);
  if (!names)
    return names.error();
  dir_listing out;
  for (const auto& name : *names) {
    if (is_deleted_file_name(name)) {
      deleted.push_back(name);
      continue;
    }
    if (is_spare_file_name(name)) { // made again when the next roll nears; no event:
      if (auto st = remove_file(join_path(dir, name)); !st) // a clean stop leaves them too
        return st;
      continue;
    }
    auto parsed = parse_log_file_name(name);
    if (!parsed)
      continue; // not ours (e.g. a checkpoint file of another component)
    auto& e = out[parsed->base_offset];
    switch (parsed->kind) {
      case log_file_kind::log: e.log = true; break;
      case log_file_kind::index: e.index = true; break;
      case log_file_kind::time_index: e.time_index = true; break;
      case log_file_kind::txn_index: e.txn_index = true; break;
      case log_file_kind::cleaned: e.cleaned = true; break;
      case log_file_kind::swap: e.swap = true; break;
    }
  }
  return out;
}

status remove_reported(const std::string& path, const std::string& why,
                       recovery_report& report) {
  report.events.push_back({recovery_action::removed_leftover, path, 0, 0, why});
  return remove_file(path);
}

/// .cleaned: compaction output never committed, drop it. .swap: committed,
/// so finish it: old indexes go (not the .txnindex: compaction keeps offsets,
/// and wrote it before the commit point), the .swap becomes the .log. Index files without a .log are
/// left over from a deletion that did not finish.
status settle_leftovers(const std::string& dir, dir_listing& listing,
                        const std::vector<std::string>& deleted, recovery_report& report) {
  bool changed = !deleted.empty();
  for (const auto& name : deleted) // retention's, not yet deleted by the I/O worker
    if (auto st = remove_reported(join_path(dir, name), "segment file renamed for deletion",
                                  report);
        !st)
      return st;
  for (auto& [base, e] : listing) {
    if (e.cleaned) {
      changed = true;
      if (auto st = remove_reported(join_path(dir, cleaned_file_name(base)),
                                    "compaction output that was never committed", report);
          !st)
        return st;
    }
    if (e.swap) {
      changed = true;
      auto swap = join_path(dir, swap_file_name(base));
      if (auto st = remove_file(join_path(dir, index_file_name(base))); !st)
        return st;
      if (auto st = remove_file(join_path(dir, time_index_file_name(base))); !st)
        return st;
      if (auto st = rename_file(swap, join_path(dir, log_file_name(base))); !st)
        return st;
      report.events.push_back({recovery_action::completed_swap, swap, 0, 0,
                               "committed compaction output renamed over the .log"});
      e.log = true;
      e.index = e.time_index = false;
    }
    if (!e.log && e.index) {
      changed = true;
      if (auto st = remove_reported(join_path(dir, index_file_name(base)),
                                    "index without a .log", report);
          !st)
        return st;
    }
    if (!e.log && e.time_index) {
      changed = true;
      if (auto st = remove_reported(join_path(dir, time_index_file_name(base)),
                                    "time index without a .log", report);
          !st)
        return st;
    }
    if (!e.log && e.txn_index) {
      changed = true;
      if (auto st = remove_reported(join_path(dir, txn_index_file_name(base)),
                                    "txn index without a .log", report);
          !st)
        return st;
      e.txn_index = false;
    }
  }
  return changed ? fsync_directory(dir) : status::ok();
}

recovery_action truncation_kind(scan_result stop, bool last) {
  // A torn tail is only the normal trace of a crash in a segment not yet
  // known durable (the last one, or one past the recovery point); closed
  // segments below it were fsynced, so a short one is corrupt.
  return stop == scan_result::torn_tail && last ? recovery_action::truncated_torn_tail
                                                : recovery_action::truncated_corruption;
}

} // namespace

result<std::unique_ptr<partition_log>> partition_log::open(const std::string& dir,
                                                           const log_config& config,
                                                           int64_t now_ms,
                                                           recovery_report* report,
                                                           int64_t recovery_point) {
  if (auto st = config.validate(); !st)
    return st;
  if (auto st = make_directories(dir); !st)
    return st;
  std::unique_ptr<partition_log> log{new partition_log(dir, config, now_ms)};
  recovery_report local;
  if (auto st = log->recover(now_ms, report ? *report : local, recovery_point); !st) {
    log->closed_ = true; // nothing half-recovered gets flushed on destruction
    return st;
  }
  log->check_invariants();
  return log;
}

status partition_log::recover(int64_t now_ms, recovery_report& report, int64_t recovery_point) {
  std::vector<std::string> deleted;
  auto listing = read_listing(dir_, deleted);
  if (!listing)
    return listing.error();
  if (auto st = settle_leftovers(dir_, *listing, deleted, report); !st)
    return st;
  std::vector<int64_t> bases;
  for (const auto& [base, e] : *listing)
    if (e.log)
      bases.push_back(base);
  if (bases.empty())
    return create_first_segment(0, now_ms);
  if (auto st = recover_segments(bases, now_ms, report, recovery_point); !st)
    return st;
  // What recovery read of the active segment may still sit only in the
  // page cache (after a process crash without an OS crash): it is not
  // claimed durable. The segment is marked unsynced, so the flush policy,
  // a flush request, the next roll or close fsyncs it; an fsync here cost
  // every partition one on every start (issue 15). Closed segments were
  // fsynced on roll.
  log_start_offset_ = segments_.front()->base_offset();
  log_end_offset_ = active().next_offset();
  std::vector<int64_t> txn_bases;
  for (const auto& [base, e] : *listing)
    if (e.txn_index)
      txn_bases.push_back(base);
  if (auto st = load_txn_indexes(txn_bases, report); !st)
    return st;
  // Closed segments scanned because they are at or past the recovery
  // point may be only in the page cache too: each gets a sync job, and
  // the recovery point stays at the first of them until it has run.
  int64_t durable = active().base_offset();
  for (size_t i = 0; i + 1 < segments_.size(); ++i)
    if (segments_[i + 1]->base_offset() > recovery_point) {
      durable = std::min(durable, segments_[i]->base_offset());
      if (auto st = queue_sync(*segments_[i], segments_[i + 1]->base_offset()); !st)
        return st;
    }
  flushed_offset_ = std::max(log_start_offset_, durable);
  return apply_log_start_file(report);
}

status partition_log::recover_segments(const std::vector<int64_t>& bases, int64_t now_ms,
                                       recovery_report& report, int64_t recovery_point) {
  for (size_t i = 0; i < bases.size(); ++i) {
    bool last = i + 1 == bases.size();
    // Trusted: closed, and ending at or below the recovery point.
    bool trusted = !last && bases[i + 1] <= recovery_point;
    auto opened = segment::open(dir_, bases[i], config_.index_interval_bytes, now_ms);
    if (!opened)
      return opened.error();
    auto seg = std::move(opened.value());
    if (trusted || last) { // a closed segment past the recovery point is scanned anyway
      auto loaded = seg->load();
      if (!loaded && loaded.code() != errc::corrupt_message)
        return loaded;
      if (!loaded)
        report.events.push_back(
          {recovery_action::rebuilt_indexes, seg->log_path(), 0, 0, loaded.message()});
      if (loaded && trusted) {
        segments_.push_back(std::move(seg));
        continue;
      }
    }
    auto scan = seg->recover();
    if (!scan)
      return scan.error();
    if (!last) // a closed segment's index files are trusted on the next open
      if (auto st = seg->flush_indexes(); !st)
        return st;
    if (scan->stop != scan_result::end)
      report.events.push_back({truncation_kind(scan->stop, last || !trusted), seg->log_path(),
                               scan->valid_bytes, scan->dropped_bytes, scan->problem});
    if (!segments_.empty() && segments_.back()->next_offset() > seg->base_offset())
      return status{errc::kafka_storage_error,
                    segments_.back()->log_path() + " ends at offset " +
                      std::to_string(segments_.back()->next_offset()) +
                      ", past the base offset of " + seg->log_path()};
    segments_.push_back(std::move(seg));
    if (scan->stop != scan_result::end && !last) {
      // Offsets after a hole would not be dense: like Kafka, drop the rest.
      for (size_t j = i + 1; j < bases.size(); ++j) {
        auto path = join_path(dir_, log_file_name(bases[j]));
        auto size = file_size(path);
        report.events.push_back({recovery_action::deleted_after_corruption, path, 0,
                                 size ? *size : 0, "follows a corrupt segment"});
        for (const auto& name : {log_file_name(bases[j]), index_file_name(bases[j]),
                                 time_index_file_name(bases[j]), txn_index_file_name(bases[j])})
          if (auto st = remove_file(join_path(dir_, name)); !st)
            return st;
      }
      return fsync_directory(dir_);
    }
  }
  return status::ok();
}

} // namespace al
