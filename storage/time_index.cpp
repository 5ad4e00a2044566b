#include "storage/time_index.hpp"

#include <algorithm>
#include <limits>

#include "storage/bytes.hpp"
#include "storage/file.hpp"
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
  int64_t rel = offset - base_offset_;
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [rel](const entry& e) { return int64_t(e.relative_offset) >= rel; });
  if (it == entries_.end())
    return;
  entries_.erase(it, entries_.end());
  if (persisted_ > entries_.size())
    rewrite_ = true;
}

void time_index::clear() {
  entries_.clear();
  rewrite_ = true;
}

status time_index::load() {
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
    return broken("size " + std::to_string(b.size()) + " is not a multiple of 12");
  std::vector<entry> loaded;
  loaded.reserve(b.size() / entry_size);
  for (size_t pos = 0; pos < b.size(); pos += entry_size) {
    entry e{load_be<int64_t>(&b[pos]), load_be<uint32_t>(&b[pos + 8])};
    if (!loaded.empty() && (e.timestamp <= loaded.back().timestamp ||
                            e.relative_offset < loaded.back().relative_offset))
      return broken("entry " + std::to_string(loaded.size()) + " does not increase");
    loaded.push_back(e);
  }
  entries_ = std::move(loaded);
  persisted_ = entries_.size();
  rewrite_ = false;
  return status::ok();
}

status time_index::flush() {
  size_t from = rewrite_ ? 0 : persisted_;
  if (!rewrite_ && from == entries_.size())
    return status::ok();
  bytes buf((entries_.size() - from) * entry_size);
  for (size_t i = from; i < entries_.size(); ++i) {
    store_be<int64_t>(&buf[(i - from) * entry_size], entries_[i].timestamp);
    store_be<uint32_t>(&buf[(i - from) * entry_size + 8], entries_[i].relative_offset);
  }
  if (auto st = write_index_file(path_, buf, from * entry_size); !st)
    return st;
  persisted_ = entries_.size();
  rewrite_ = false;
  return status::ok();
}

status time_index::remove_file() {
  rewrite_ = true;
  return al::remove_file(path_);
}

} // namespace al
