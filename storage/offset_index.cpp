#include "storage/offset_index.hpp"

#include <algorithm>
#include <limits>

#include "storage/bytes.hpp"
#include "storage/index_file.hpp"

namespace al {

offset_index::offset_index(std::string path, int64_t base_offset)
  : path_(std::move(path)), base_offset_(base_offset) {}

void offset_index::append(int64_t offset, uint32_t position) {
  int64_t rel = offset - base_offset_;
  AL_ASSERT(rel >= 0 && rel <= std::numeric_limits<uint32_t>::max(), path_, offset);
  if (!entries_.empty()) {
    AL_ASSERT(uint32_t(rel) > entries_.back().relative_offset, path_, offset);
    AL_ASSERT(position > entries_.back().position, path_, position);
  }
  entries_.push_back({uint32_t(rel), position});
}

offset_index::position_hint offset_index::lookup(int64_t target) const {
  if (target < base_offset_ || entries_.empty())
    return {base_offset_, 0};
  int64_t rel = target - base_offset_;
  auto it = std::upper_bound(entries_.begin(), entries_.end(), rel,
                             [](int64_t r, const entry& e) { return r < int64_t(e.relative_offset); });
  if (it == entries_.begin())
    return {base_offset_, 0};
  --it;
  return {base_offset_ + it->relative_offset, it->position};
}

void offset_index::truncate_to_offset(int64_t offset) {
  truncate_index_entries(entries_, base_offset_, offset, sync_);
}

void offset_index::clear() {
  entries_.clear();
  sync_.invalidate();
}

status offset_index::load(uint64_t log_size) {
  auto decode = [](const uint8_t* p) {
    return entry{load_be<uint32_t>(p), load_be<uint32_t>(p + 4)};
  };
  auto check = [&](const entry& e, const std::vector<entry>& before) -> std::string {
    if (!before.empty() && (e.relative_offset <= before.back().relative_offset ||
                            e.position <= before.back().position))
      return "does not increase";
    if (e.position >= log_size)
      return "points to position " + std::to_string(e.position) + ", past the log's " +
             std::to_string(log_size) + " bytes";
    return "";
  };
  return load_index_entries(path_, entry_size, decode, check, entries_, sync_);
}

status offset_index::flush(bool durable) {
  return flush_index_entries(path_, entries_, entry_size, sync_, durable,
                             [](uint8_t* p, const entry& e) {
    store_be<uint32_t>(p, e.relative_offset);
    store_be<uint32_t>(p + 4, e.position);
  });
}

status offset_index::remove_file() { return remove_index_file(path_, sync_); }

} // namespace al
