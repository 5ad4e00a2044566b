#pragma once
// A FIFO of bytes for one direction of a guarded connection: appended at
// the back by read(2), consumed at the front by write(2). Grows by
// doubling without zero-filling, and moves the unread rest to the front
// only once the consumed part is larger than it (amortised O(1) per byte).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace al::guard {

class byte_queue {
public:
  const uint8_t* data() const { return buf_.get() + head_; }
  size_t size() const { return tail_ - head_; }
  bool empty() const { return head_ == tail_; }
  size_t capacity() const { return cap_; }

  /// Room for at least `n` more bytes at the back; returns where they go.
  uint8_t* prepare(size_t n) {
    if (cap_ - tail_ < n) {
      if (head_ > 0 && cap_ - size() >= n && head_ >= size()) {
        std::memmove(buf_.get(), data(), size());
      } else {
        size_t cap = cap_ == 0 ? 4096 : cap_;
        while (cap - size() < n)
          cap *= 2;
        std::unique_ptr<uint8_t[]> grown{new uint8_t[cap]};
        if (size() > 0)
          std::memcpy(grown.get(), data(), size());
        buf_ = std::move(grown);
        cap_ = cap;
      }
      tail_ -= head_;
      head_ = 0;
    }
    return buf_.get() + tail_;
  }
  /// `n` bytes were written at prepare()'s pointer.
  void commit(size_t n) { tail_ += n; }
  /// Drops `n` bytes from the front.
  void consume(size_t n) {
    head_ += n;
    if (head_ == tail_)
      head_ = tail_ = 0;
  }
  /// Frees the buffer when it is empty and larger than `keep` (an idle
  /// connection that once carried a big frame holds no memory).
  void shrink_if_empty(size_t keep) {
    if (empty() && cap_ > keep) {
      buf_.reset();
      cap_ = 0;
    }
  }

private:
  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_ = 0;
  size_t head_ = 0;
  size_t tail_ = 0;
};

} // namespace al::guard
