#pragma once
// Reading and writing the files behind the sparse indexes. An index lives
// in memory; its file is a copy written on segment roll, flush and close,
// either by appending the entries added since the last write or, after a
// truncation, by rewriting it whole. Both indexes share this: the raw file
// access, which entries the file holds (index_sync), and loading and
// flushing fixed-size big-endian entries (load_index_entries,
// flush_index_entries).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/bytes.hpp"
#include "storage/file.hpp"
#include "storage/status.hpp"

namespace al {

/// The file's bytes, or nullopt when it does not exist.
result<std::optional<bytes>> read_index_file(const std::string& path);

/// A broken or missing index file: corrupt_message "<path>: <why>".
status broken_index(const std::string& path, const std::string& why);

class index_sync;

/// Removes the index file at `path`; the next flush rewrites it (`sync`).
status remove_index_file(const std::string& path, index_sync& sync);

/// Which entries an index's file holds: the first `persisted` ones, unless
/// a truncation or clear made it differ in more than missing new entries.
class index_sync {
public:
  /// The first entry the next flush writes (0: the file is rewritten whole).
  size_t first_unwritten() const { return rewrite_ ? 0 : persisted_; }
  /// Whether the file already holds all `count` entries.
  bool up_to_date(size_t count) const { return !rewrite_ && persisted_ == count; }
  /// The file holds exactly the first `count` entries (after load or flush).
  void written(size_t count) {
    persisted_ = count;
    rewrite_ = false;
  }
  /// The entries were cut to `count`.
  void truncated(size_t count) {
    if (persisted_ > count)
      rewrite_ = true;
  }
  /// The file no longer matches (entries cleared, file removed).
  void invalidate() { rewrite_ = true; }

private:
  size_t persisted_ = 0;
  bool rewrite_ = true;
};

/// Drops the entries whose relative offset is >= offset - base_offset
/// (entries ordered by relative_offset); tells `sync`.
template <class Entry>
void truncate_index_entries(std::vector<Entry>& entries, int64_t base_offset, int64_t offset,
                            index_sync& sync) {
  int64_t rel = offset - base_offset;
  auto it = std::find_if(entries.begin(), entries.end(),
                         [rel](const Entry& e) { return int64_t(e.relative_offset) >= rel; });
  if (it == entries.end())
    return;
  entries.erase(it, entries.end());
  sync.truncated(entries.size());
}

/// Replaces `entries` by those of the index file at `path`, `entry_size`
/// bytes each, read by `decode(const uint8_t*)` and checked by
/// `check(entry, entries before it)`, which says what is wrong with it (""
/// when nothing); the file then holds them all (`sync`). A missing file, a
/// size that is no multiple of entry_size or a failed check is broken_index,
/// and `entries` stay as they were.
template <class Entry, class Decode, class Check>
status load_index_entries(const std::string& path, size_t entry_size, Decode decode, Check check,
                          std::vector<Entry>& entries, index_sync& sync) {
  auto data = read_index_file(path);
  if (!data)
    return data.error();
  if (!*data)
    return broken_index(path, "missing");
  const bytes& b = **data;
  if (b.size() % entry_size != 0)
    return broken_index(path, "size " + std::to_string(b.size()) + " is not a multiple of " +
                                std::to_string(entry_size));
  std::vector<Entry> loaded;
  loaded.reserve(b.size() / entry_size);
  for (size_t pos = 0; pos < b.size(); pos += entry_size) {
    Entry e = decode(&b[pos]);
    if (std::string why = check(e, loaded); !why.empty())
      return broken_index(path, "entry " + std::to_string(loaded.size()) + " " + why);
    loaded.push_back(e);
  }
  entries = std::move(loaded);
  sync.written(entries.size());
  return status::ok();
}

/// Brings the index file at `path` up to date with `entries`, `entry_size`
/// bytes each written by `encode(uint8_t*, entry)`: appends the new ones, or
/// rewrites it whole when `sync` says so; fsyncs.
template <class Entry, class Encode>
status flush_index_entries(const std::string& path, const std::vector<Entry>& entries,
                           size_t entry_size, index_sync& sync, bool durable, Encode encode) {
  if (sync.up_to_date(entries.size()))
    return status::ok();
  size_t from = sync.first_unwritten();
  bytes buf((entries.size() - from) * entry_size);
  for (size_t i = from; i < entries.size(); ++i)
    encode(&buf[(i - from) * entry_size], entries[i]);
  if (auto st = overwrite_file(path, buf, from * entry_size, durable); !st)
    return st;
  sync.written(entries.size());
  return status::ok();
}

} // namespace al
