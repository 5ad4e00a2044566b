#include "storage/batch_scanner.hpp"

#include <algorithm>
#include <limits>

namespace al {
namespace {
// Full scans stream whole segments; header scans after an index lookup
// usually cover about index.interval.bytes, so they read less at a time.
constexpr size_t full_read_chunk = 64 * 1024;
constexpr size_t header_read_chunk = 8 * 1024;
} // namespace

const char* to_string(scan_result r) {
  switch (r) {
    case scan_result::batch: return "batch";
    case scan_result::end: return "end";
    case scan_result::torn_tail: return "torn tail";
    case scan_result::corrupt: return "corruption";
    case scan_result::io_error: return "I/O error";
  }
  return "unknown";
}

batch_scanner::batch_scanner(const file& f, uint64_t start, uint64_t end, int64_t segment_base,
                             int64_t first_offset, scan_mode mode)
  : file_(f), end_(end), segment_base_(segment_base), expected_offset_(first_offset),
    mode_(mode), position_(start), next_position_(start) {
  AL_ASSERT(start <= end, f.path(), start, end);
  AL_ASSERT(first_offset >= segment_base, f.path(), first_offset, segment_base);
}

scan_result batch_scanner::fail(scan_result r, std::string why) {
  problem_ = file_.path() + " position " + std::to_string(position_) + ": " + std::move(why);
  return r;
}

bool batch_scanner::load(uint64_t pos, size_t n) {
  if (pos >= buf_start_ && pos + n <= buf_start_ + buf_len_)
    return true;
  size_t chunk = mode_ == scan_mode::full ? full_read_chunk : header_read_chunk;
  size_t len = size_t(std::min<uint64_t>(std::max(n, chunk), end_ - pos));
  AL_ASSERT(len >= n, pos, n, end_);
  if (buf_.size() < len)
    buf_.resize(len);
  auto got = file_.pread(buf_.data(), len, pos);
  if (!got || *got < n) {
    buf_len_ = 0;
    problem_ = got ? file_.path() + ": file shrank below " + std::to_string(pos + n)
                   : got.error().message();
    return false;
  }
  buf_start_ = pos;
  buf_len_ = *got;
  return true;
}

scan_result batch_scanner::check_offsets() {
  if (header_.base_offset < expected_offset_)
    return fail(scan_result::corrupt, "base offset " + std::to_string(header_.base_offset) +
                                        " is below the expected " +
                                        std::to_string(expected_offset_));
  if (header_.last_offset() - segment_base_ > std::numeric_limits<int32_t>::max())
    return fail(scan_result::corrupt, "last offset " + std::to_string(header_.last_offset()) +
                                        " is too far from the segment base " +
                                        std::to_string(segment_base_));
  return scan_result::batch;
}

scan_result batch_scanner::next() {
  namespace L = batch_layout;
  batch_ = {};
  position_ = next_position_;
  if (position_ == end_)
    return scan_result::end;
  uint64_t left = end_ - position_;
  if (left < L::header_size)
    return fail(scan_result::torn_tail, std::to_string(left) +
                                          " bytes left, less than a 61-byte batch header");
  if (!load(position_, L::header_size))
    return scan_result::io_error;
  header_ = read_batch_header(at(position_));
  if (header_.magic != current_magic)
    return fail(scan_result::corrupt, "magic " + std::to_string(int(header_.magic)) +
                                        ", expected 2");
  if (header_.batch_length < int32_t(L::header_size - L::log_overhead))
    return fail(scan_result::corrupt, "batchLength " + std::to_string(header_.batch_length) +
                                        " is shorter than the batch header");
  size_t size = header_.size_in_bytes();
  if (size > left)
    return fail(scan_result::torn_tail, "batchLength " + std::to_string(header_.batch_length) +
                                          " runs past the end of the file (" +
                                          std::to_string(left) + " bytes left)");
  if (mode_ == scan_mode::full) {
    if (!load(position_, size))
      return scan_result::io_error;
    byte_view whole{at(position_), size};
    auto checked = validate_batch(whole, file_.path() + " position " + std::to_string(position_));
    if (!checked) {
      problem_ = checked.error().message();
      return scan_result::corrupt;
    }
    batch_ = whole;
  }
  if (auto r = check_offsets(); r != scan_result::batch)
    return r;
  expected_offset_ = header_.next_offset();
  next_position_ = position_ + size;
  return scan_result::batch;
}

} // namespace al
