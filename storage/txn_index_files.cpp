#include "storage/txn_index_files.hpp"

#include <algorithm>

#include "storage/file.hpp"
#include "storage/log_filename.hpp"
#include "storage/open_file_cache.hpp"

namespace al {
namespace {

bool by_marker(const aborted_txn& a, const aborted_txn& b) { return a.last_offset < b.last_offset; }

} // namespace

txn_index_files::txn_index_files(std::string dir) : dir_(std::move(dir)) {}
txn_index_files::~txn_index_files() = default;

std::string txn_index_files::path(int64_t base) const {
  return join_path(dir_, txn_index_file_name(base));
}

status txn_index_files::load(int64_t base, recovery_report& report) {
  AL_ASSERT(!has_file(base), dir_, base);
  auto at = path(base);
  size_t cut = 0;
  auto ix = txn_index::open(at, &cut, &open_file_cache::process());
  if (!ix && ix.error().code() == errc::corrupt_message) {
    // Derived data: the owner re-adds what its rescan of the log finds.
    auto size = file_size(at);
    report.events.push_back({recovery_action::emptied_txn_index, at, 0, size ? *size : 0,
                             ix.error().message()});
    if (auto emptied = file::open(at, open_mode::create_truncate); !emptied)
      return emptied.error();
    ix = txn_index::open(at, nullptr, &open_file_cache::process());
  }
  if (!ix)
    return ix.error();
  if (cut > 0)
    report.events.push_back({recovery_action::cut_txn_index_tail, at,
                             ix->entries().size() * txn_index::entry_size, cut,
                             "a torn last entry"});
  files_.emplace(base, open_index{std::move(*ix), true});
  rebuild_all();
  return status::ok();
}

status txn_index_files::add(int64_t base, const aborted_txn& a, bool* created) {
  auto it = files_.find(base);
  *created = it == files_.end() && !path_exists(path(base));
  if (it == files_.end()) {
    auto ix = txn_index::open(path(base), nullptr, &open_file_cache::process());
    if (!ix)
      return ix.error();
    it = files_.emplace(base, open_index{std::move(*ix), false}).first;
    folder_unsynced_ |= *created;
  }
  if (auto st = it->second.index.append(a); !st)
    return st;
  it->second.dirty = true;
  all_.insert(std::upper_bound(all_.begin(), all_.end(), a, by_marker), a);
  return status::ok();
}

bool txn_index_files::contains(int64_t last_offset) const {
  auto it = std::lower_bound(all_.begin(), all_.end(), aborted_txn{-1, 0, last_offset, 0},
                             by_marker);
  return it != all_.end() && it->last_offset == last_offset;
}

void txn_index_files::forget(int64_t base) {
  if (files_.erase(base) > 0)
    rebuild_all();
}

status txn_index_files::remove_markers(int64_t base, const std::vector<int64_t>& markers) {
  auto it = files_.find(base);
  if (it == files_.end())
    return status::ok();
  std::vector<aborted_txn> kept;
  for (const auto& a : it->second.index.entries())
    if (std::find(markers.begin(), markers.end(), a.last_offset) == markers.end())
      kept.push_back(a);
  if (kept.size() == it->second.index.entries().size())
    return status::ok();
  files_.erase(it); // closed before its name is taken over
  auto replaced = replace_file_durably(dir_, txn_index_file_name(base),
                                       byte_view{txn_index::encode_entries(kept)});
  // Open again whatever is there now: the new entries, or the old ones.
  auto ix = txn_index::open(path(base), nullptr, &open_file_cache::process());
  if (ix)
    files_.emplace(base, open_index{std::move(*ix), false});
  rebuild_all();
  if (!replaced)
    return replaced;
  return ix ? status::ok() : ix.error();
}

status txn_index_files::truncate_to(int64_t offset, bool sync) {
  if (all_.empty() || all_.back().last_offset < offset)
    return status::ok();
  for (auto& [base, f] : files_) {
    auto before = f.index.entries().size();
    if (auto st = f.index.truncate_to(offset); !st)
      return st;
    if (f.index.entries().size() == before)
      continue;
    // Durable, so an entry cut here cannot come back after a crash to name
    // offsets that the log has written anew (with !sync: before the caller
    // writes anything anew).
    if (!sync) {
      f.dirty = true;
      continue;
    }
    if (auto st = f.index.fsync(); !st)
      return st;
    f.dirty = false;
  }
  rebuild_all();
  return status::ok();
}

status txn_index_files::sync() {
  for (auto& [base, f] : files_) {
    if (!f.dirty)
      continue;
    if (auto st = f.index.fsync(); !st)
      return st;
    f.dirty = false;
  }
  if (!folder_unsynced_)
    return status::ok();
  if (auto st = fsync_directory(dir_); !st)
    return st;
  folder_unsynced_ = false;
  return status::ok();
}

status txn_index_files::close() {
  auto st = sync();
  files_.clear();
  return st;
}

std::vector<aborted_txn> txn_index_files::between(int64_t from, int64_t upto) const {
  // Markers come after their transaction's records: none before `from`
  // can overlap.
  auto it = std::lower_bound(all_.begin(), all_.end(), aborted_txn{-1, 0, from, 0}, by_marker);
  std::vector<aborted_txn> out;
  for (; it != all_.end(); ++it)
    if (overlaps(*it, from, upto))
      out.push_back(*it);
  return out;
}

void txn_index_files::rebuild_all() {
  all_.clear();
  for (const auto& [base, f] : files_)
    all_.insert(all_.end(), f.index.entries().begin(), f.index.entries().end());
  // Each file is in marker order and segments do not overlap, unless a
  // file was damaged in a way its checks cannot see.
  std::stable_sort(all_.begin(), all_.end(), by_marker);
}

} // namespace al
