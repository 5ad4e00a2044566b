#include "storage/open_file_cache.hpp"

#include <unistd.h>

namespace al {

open_file_cache& open_file_cache::process() {
  static open_file_cache cache;
  return cache;
}

void open_file_cache::set_capacity(size_t capacity) {
  std::lock_guard<std::mutex> lock(mu_);
  capacity_ = capacity;
  if (capacity_ == 0)
    return;
  while (ring_.size() > capacity_ && evict_one(nullptr)) {
  }
}

size_t open_file_cache::capacity() const {
  std::lock_guard<std::mutex> lock(mu_);
  return capacity_;
}

size_t open_file_cache::open_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ring_.size();
}

void open_file_cache::opened(file_slot* slot, bool reopen) {
  std::lock_guard<std::mutex> lock(mu_);
  if (capacity_ > 0)
    while (ring_.size() >= capacity_ && evict_one(slot)) {
    }
  slot->cache = this;
  slot->ring_index = ring_.size();
  ring_.push_back(slot);
  slot->referenced.store(true, std::memory_order_relaxed);
  if (reopen)
    reopens_.fetch_add(1, std::memory_order_relaxed);
}

void open_file_cache::closed(file_slot* slot) {
  std::lock_guard<std::mutex> lock(mu_);
  unlink(slot);
}

size_t open_file_cache::shed(size_t n, const file_slot* keep) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t done = 0;
  while (done < n && evict_one(keep))
    ++done;
  return done;
}

void open_file_cache::unlink(file_slot* slot) {
  auto i = slot->ring_index;
  if (i >= ring_.size() || ring_[i] != slot)
    return;
  ring_[i] = ring_.back();
  ring_[i]->ring_index = i;
  ring_.pop_back();
  slot->ring_index = size_t(-1);
  if (hand_ >= ring_.size())
    hand_ = 0;
}

bool open_file_cache::evict_one(const file_slot* keep) {
  // Two passes: the first may only clear reference bits.
  for (size_t step = 0, n = ring_.size(); step < 2 * n && !ring_.empty(); ++step) {
    if (hand_ >= ring_.size())
      hand_ = 0;
    auto* s = ring_[hand_];
    if (s == keep || s->referenced.exchange(false, std::memory_order_relaxed)) {
      ++hand_;
      continue;
    }
    std::unique_lock<std::mutex> in_use(s->m, std::try_to_lock);
    if (!in_use.owns_lock()) { // a thread is reading or writing it
      ++hand_;
      continue;
    }
    ::close(s->fd); // nothing buffered in user space; the page cache keeps the data
    s->fd = -1;
    unlink(s); // the hand now points at the slot moved into this place
    evictions_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  return false;
}

} // namespace al
