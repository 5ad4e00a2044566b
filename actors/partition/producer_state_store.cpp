#include "actors/partition/producer_state_store.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <string_view>

#include "storage/file.hpp"
#include "storage/log_scan.hpp"

namespace al {

namespace {

constexpr std::string_view suffix = ".snapshot";
constexpr size_t digits = 20;
/// What versions before multi-snapshot wrote; deleted on load (a one-time
/// full scan rebuilds what it held).
constexpr const char* legacy_name = "producer.snapshot";

std::string snapshot_name(int64_t offset) {
  char buf[digits + 1];
  std::snprintf(buf, sizeof buf, "%020lld", static_cast<long long>(offset));
  return std::string(buf) + std::string(suffix);
}

/// The offset in a snapshot file name, or -1 for any other name.
int64_t parse_snapshot_name(std::string_view name) {
  if (name.size() != digits + suffix.size() || name.substr(digits) != suffix)
    return -1;
  int64_t v = 0;
  for (char c : name.substr(0, digits)) {
    if (c < '0' || c > '9' || v > (INT64_MAX - (c - '0')) / 10)
      return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

/// Whether a snapshot at offset `o` describes a prefix of the log as it is.
bool inside(const partition_log& log, int64_t o) {
  return o >= log.log_start_offset() && o <= log.log_end_offset();
}

status remove_snapshot(const std::string& dir, int64_t o) {
  return remove_file(join_path(dir, snapshot_name(o)));
}

/// Deletes every snapshot outside the log (dropping it from `offsets`),
/// plus leftovers of interrupted writes and the legacy file, and makes that
/// durable.
status remove_stale(const partition_log& log, std::vector<int64_t>& offsets, std::string* note) {
  bool removed = false;
  for (auto o : offsets) {
    if (inside(log, o))
      continue;
    if (auto st = remove_snapshot(log.dir(), o); !st)
      return st;
    removed = true;
    if (note)
      *note += "deleted snapshot at offset " + std::to_string(o) + " (outside the log [" +
               std::to_string(log.log_start_offset()) + ", " +
               std::to_string(log.log_end_offset()) + "]); ";
  }
  offsets.erase(std::remove_if(offsets.begin(), offsets.end(),
                               [&](int64_t o) { return !inside(log, o); }),
                offsets.end());
  auto names = list_directory(log.dir());
  if (!names)
    return names.error();
  for (auto& name : *names) {
    bool leftover = name == legacy_name ||
                    (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0 &&
                     parse_snapshot_name(std::string_view(name).substr(0, name.size() - 4)) >= 0);
    if (!leftover)
      continue;
    if (auto st = remove_file(join_path(log.dir(), name)); !st)
      return st;
    removed = true;
  }
  return removed ? fsync_directory(log.dir()) : status::ok();
}

} // namespace

std::vector<int64_t> producer_snapshot_offsets(const std::string& dir) {
  std::vector<int64_t> out;
  auto names = list_directory(dir);
  if (!names)
    return out;
  for (auto& name : *names)
    if (auto o = parse_snapshot_name(name); o >= 0)
      out.push_back(o);
  std::sort(out.begin(), out.end());
  return out;
}

result<producer_state_table> load_producer_state(partition_log& log, std::string* note,
                                                 int64_t now_ms) {
  std::string said;
  auto offsets = producer_snapshot_offsets(log.dir());
  if (auto st = remove_stale(log, offsets, &said); !st)
    return st;
  producer_state_table table;
  int64_t from = log.log_start_offset();
  bool restored = false;
  for (auto it = offsets.rbegin(); it != offsets.rend() && !restored; ++it) {
    auto path = join_path(log.dir(), snapshot_name(*it));
    auto data = read_whole_file(path);
    auto covers = data ? table.restore(*data, path) : result<int64_t>{data.error()};
    if (covers && *covers != *it)
      covers = status{errc::corrupt_message, path + ": covers offset " + std::to_string(*covers)};
    if (!covers) {
      table = producer_state_table{};
      said += covers.error().to_string() + "; ";
      continue;
    }
    from = *covers;
    restored = true;
    said += "snapshot at offset " + std::to_string(*covers);
  }
  if (!restored)
    said += "no usable snapshot, rebuilt from the log";
  if (note)
    *note = std::move(said);
  // Transaction markers are read whole (one record each): an ABORT found
  // past the snapshot goes to its segment's .txnindex again (a crash may
  // have lost the entry with the page cache; add_aborted ignores one it has).
  status failed;
  auto scanned = for_each_batch_header(log, from, [&](const batch_header& h) {
    if (!failed.is_ok())
      return;
    std::optional<txn_marker> marker;
    if (h.is_control() && h.is_transactional() && h.has_producer_id()) {
      auto batch = log.read(h.base_offset, h.size_in_bytes(), h.next_offset());
      auto m = batch ? decode_txn_marker(byte_view{*batch}) : result<txn_marker>{batch.error()};
      if (!m) {
        failed = status{m.error().code(), log.dir() + ": transaction marker at offset " +
                                             std::to_string(h.base_offset) + ": " +
                                             m.error().message()};
        return;
      }
      marker = *m;
    }
    auto aborted = table.on_append(h, now_ms, marker ? &*marker : nullptr, h.base_offset);
    if (aborted)
      if (auto st = log.add_aborted(*aborted); !st)
        failed = st;
  });
  if (!scanned)
    return scanned;
  if (!failed.is_ok())
    return failed;
  return table;
}

status remove_producer_snapshots(const partition_log& log) {
  auto offsets = producer_snapshot_offsets(log.dir());
  for (auto o : offsets)
    if (auto st = remove_snapshot(log.dir(), o); !st)
      return st;
  return offsets.empty() ? status::ok() : fsync_directory(log.dir());
}

namespace {

/// Keeps the newest snapshot per segment (the segment holding the last
/// offset it covers, which a later roll does not change; one at the log
/// start covers none) and none below the log start; a removal that does not
/// reach the disk leaves an older but still valid snapshot. Snapshots past
/// `covers` are newer than this one (a flush wrote them inline): kept.
status prune_snapshots(const producer_snapshot_job& job) {
  auto in_range = [&](int64_t o) { return o >= job.log_start && o <= job.covers; };
  std::map<int64_t, int64_t> newest; // segment base (-1: covers nothing) -> offset
  auto offsets = producer_snapshot_offsets(job.dir);
  auto group_of = [&](int64_t o) {
    const int64_t last = o - 1;
    if (last < job.log_start)
      return int64_t(-1);
    int64_t base = -1;
    for (auto b : job.segment_bases)
      if (b <= last)
        base = b;
    return base;
  };
  for (auto o : offsets) // ascending: the last one per group wins
    if (in_range(o))
      newest[group_of(o)] = o;
  for (auto o : offsets) {
    if (o > job.covers || (in_range(o) && newest[group_of(o)] == o))
      continue; // kept
    if (auto st = remove_snapshot(job.dir, o); !st)
      return st;
  }
  return status::ok();
}

/// Every .txnindex in `dir` on disk first: a snapshot covering an ABORT
/// marker means the restart will not rescan it, so its .txnindex entry
/// must not be lost with the page cache (issue 16).
status sync_txn_index_files(const std::string& dir) {
  auto names = list_directory(dir);
  if (!names)
    return names.error();
  constexpr std::string_view txn_suffix = ".txnindex";
  for (auto& name : *names)
    if (name.size() > txn_suffix.size() &&
        std::string_view(name).substr(name.size() - txn_suffix.size()) == txn_suffix)
      if (auto st = fsync_path(join_path(dir, name)); !st)
        return st;
  return status::ok();
}

status write_unfenced(const producer_snapshot_job& job) {
  if (auto st = sync_txn_index_files(job.dir); !st)
    return st;
  if (auto st = replace_file_durably(job.dir, snapshot_name(job.covers), byte_view{job.data}); !st)
    return st;
  return prune_snapshots(job);
}

} // namespace

producer_snapshot_job prepare_producer_snapshot(const producer_state_table& table,
                                                const partition_log& log,
                                                std::shared_ptr<snapshot_fence> fence) {
  producer_snapshot_job job;
  job.dir = log.dir();
  job.covers = log.log_end_offset();
  job.data = table.snapshot(job.covers);
  job.log_start = log.log_start_offset();
  for (auto& s : log.segments())
    job.segment_bases.push_back(s.base_offset);
  if (fence) {
    // Only the partition's thread changes the generation: no lock to read it.
    job.generation = fence->generation;
    job.fence = std::move(fence);
  }
  return job;
}

result<bool> write_snapshot_job(const producer_snapshot_job& job) {
  if (!job.fence) {
    if (auto st = write_unfenced(job); !st)
      return st;
    return true;
  }
  status written;
  // False when a truncation, restart or deletion came after it.
  if (!job.fence->if_current(job.generation, [&] { written = write_unfenced(job); }))
    return false;
  if (!written)
    return written;
  return true;
}

status save_producer_state(const producer_state_table& table, const partition_log& log) {
  return write_unfenced(prepare_producer_snapshot(table, log, nullptr));
}

} // namespace al
