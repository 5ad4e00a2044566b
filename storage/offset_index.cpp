#include "storage/offset_index.hpp"

#include <algorithm>
#include <limits>

#include "storage/bytes.hpp"
#include "storage/file.hpp"
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
  int64_t rel = offset - base_offset_;
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [rel](const entry& e) { return int64_t(e.relative_offset) >= rel; });
  if (it == entries_.end())
    return;
  entries_.erase(it, entries_.end());
  if (persisted_ > entries_.size())
    rewrite_ = true;
}

void offset_index::clear() {
  entries_.clear();
  rewrite_ = true;
}

status offset_index::load(uint64_t log_size) {
  auto data = read_index_file(path_);
  if (!data)
    return data.error();
  auto broken = [&](const std::string& why) {
    return status{errc::corrupt_message, path_ + ": " + why};
  };
  if (!*data)
    return broken("missing");
  const bytes& b = **data;
  if (b.size() % entry_size != 0)
    return broken("size " + std::to_string(b.size()) + " is not a multiple of 8");
  std::vector<entry> loaded;
  loaded.reserve(b.size() / entry_size);
  for (size_t pos = 0; pos < b.size(); pos += entry_size) {
    entry e{load_be<uint32_t>(&b[pos]), load_be<uint32_t>(&b[pos + 4])};
    if (!loaded.empty() && (e.relative_offset <= loaded.back().relative_offset ||
                            e.position <= loaded.back().position))
      return broken("entry " + std::to_string(loaded.size()) + " does not increase");
    if (e.position >= log_size)
      return broken("entry " + std::to_string(loaded.size()) + " points to position " +
                    std::to_string(e.position) + ", past the log's " +
                    std::to_string(log_size) + " bytes");
    loaded.push_back(e);
  }
  entries_ = std::move(loaded);
  persisted_ = entries_.size();
  rewrite_ = false;
  return status::ok();
}

status offset_index::flush() {
  size_t from = rewrite_ ? 0 : persisted_;
  if (!rewrite_ && from == entries_.size())
    return status::ok();
  bytes buf((entries_.size() - from) * entry_size);
  for (size_t i = from; i < entries_.size(); ++i) {
    store_be<uint32_t>(&buf[(i - from) * entry_size], entries_[i].relative_offset);
    store_be<uint32_t>(&buf[(i - from) * entry_size + 4], entries_[i].position);
  }
  if (auto st = write_index_file(path_, buf, from * entry_size); !st)
    return st;
  persisted_ = entries_.size();
  rewrite_ = false;
  return status::ok();
}

status offset_index::remove_file() {
  rewrite_ = true;
  return al::remove_file(path_);
}

} // namespace al
