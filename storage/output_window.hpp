#pragma once
// A growing output area for streaming decompressors, with a hard size bound.
// The decoder writes into [next(), next() + room()), reports what it wrote
// with commit(), and asks for more room with grow(). The buffer may grow to
// limit + 1 bytes so that "exactly at the limit" and "past the limit" differ:
// exceeded() is the signal to stop with an error. Growth doubles, so the
// cost is amortised and a small input never allocates its whole limit.
#include <algorithm>
#include <cstddef>

#include "storage/assert.hpp"
#include "storage/bytes.hpp"

namespace al {

class output_window {
public:
  /// Appends to `out` after its current content; `size_hint` is a first guess
  /// of the output size (e.g. a multiple of the input size).
  output_window(bytes& out, size_t limit, size_t size_hint)
    : out_(out), start_(out.size()), written_(0),
      cap_(limit >= max_cap ? max_cap : limit + 1) {
    resize_to(std::max<size_t>(std::min(size_hint, cap_), std::min<size_t>(cap_, 4096)));
  }

  output_window(const output_window&) = delete;
  output_window& operator=(const output_window&) = delete;

  uint8_t* next() { return out_.data() + start_ + written_; }
  size_t room() const { return out_.size() - start_ - written_; }
  size_t written() const { return written_; }

  void commit(size_t n) {
    AL_ASSERT(n <= room(), n, room());
    written_ += n;
  }

  /// Makes room for more output; false when the hard cap is reached.
  bool grow() {
    size_t have = out_.size() - start_;
    if (have >= cap_)
      return false;
    resize_to(std::min(cap_, std::max<size_t>(have * 2, 4096)));
    return true;
  }

  /// Whether the output passed the caller's limit (i.e. reached limit + 1).
  bool exceeded() const { return written_ >= cap_ && cap_ != max_cap; }

  /// Trims `out` to what was written.
  void finish() { out_.resize(start_ + written_); }

private:
  static constexpr size_t max_cap = size_t(1) << 40;

  // Exactly what is asked: vector::resize alone may double the capacity,
  // which near the cap would allocate up to twice the limit.
  void resize_to(size_t total) {
    if (start_ + total > out_.capacity())
      out_.reserve(start_ + total);
    out_.resize(start_ + total);
  }

  bytes& out_;
  size_t start_;
  size_t written_;
  size_t cap_;
};

} // namespace al
