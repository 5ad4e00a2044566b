#include "storage/time_index.hpp"

#include <algorithm>
#include <limits>

#include "storage/bytes.hpp"
#include "storage/index_file.hpp"

namespace al {

time_index::time_index(std::string path, int64_t base_offset)
  : path_(std::move(path)), base_offset_(base_offset) {}

void time_index::maybe_append(int64_t timestamp, int64_t offset) {
  int64_t rel = offset - base_offset_;
  AL_ASSERT(rel >= 0 && rel <= std::numeric_limits<uint32_t>::max(), path_, offset);
  if (!entries_.empty()) {
    if (timestamp <= entries_.back().timestamp)
      return;
    AL_ASSERT(uint32_t(rel) >= entries_.back().relative_offset, path_, offset);
  }
  entries_.push_back({timestamp, uint32_t(rel)});
}

int64_t time_index::lookup(int64_t target) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), target,
                             [](int64_t t, const entry& e) { return t < e.timestamp; });
  if (it == entries_.begin())
    return base_offset_;
  return base_offset_ + std::prev(it)->relative_offset;
}

void time_index::truncate_to_offset(int64_t offset) {
  truncate_index_entries(entries_, base_offset_, offset, sync_);
}

void time_index::clear() {
  entries_.clear();
  sync_.invalidate();
}

status time_index::load() {
  auto decode = [](const uint8_t* p) {
    return entry{load_be<int64_t>(p), load_be<uint32_t>(p + 8)};
  };
  auto check = [](const entry& e, const std::vector<entry>& before) -> std::string {
    if (!before.empty() && (e.timestamp <= before.back().timestamp ||
                            e.relative_offset < before.back().relative_offset))
      return "does not increase";
    return "";
  };
  return load_index_entries(path_, entry_size, decode, check, entries_, sync_);
}

status time_index::flush(bool durable) {
  return flush_index_entries(path_, entries_, entry_size, sync_, durable,
                             [](uint8_t* p, const entry& e) {
    store_be<int64_t>(p, e.timestamp);
    store_be<uint32_t>(p + 8, e.relative_offset);
  });
}

status time_index::remove_file() { return remove_index_file(path_, sync_); }

} // namespace al
