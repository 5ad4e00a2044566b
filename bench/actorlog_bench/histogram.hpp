#pragma once
// A log-bucketed latency histogram in the style of HdrHistogram: values
// below 2^S are counted exactly; above, every power-of-two range is split
// into 2^(S-1) equal sub-buckets, so a reported value is within 2^-(S-1) of
// the true one (S = 8: 0.8 %). Fixed memory (about 7.5 k counters for the
// whole uint64 range), O(1) record, no allocation after construction.
// CAF-free and header-only so unit tests link it without the bench.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace al::bench {

class log_histogram {
public:
  /// `sub_bits` (S) sets the precision: 2^-(S-1) relative error; 1..16.
  explicit log_histogram(int sub_bits = 8) : sub_bits_(sub_bits) {
    if (sub_bits < 1 || sub_bits > 16)
      throw std::invalid_argument("log_histogram: sub_bits must be 1..16");
    counts_.assign(index_of(UINT64_MAX) + 1, 0);
  }

  void record(uint64_t v, uint64_t n = 1) {
    if (n == 0)
      return;
    counts_[index_of(v)] += n;
    if (total_ == 0 || v < min_)
      min_ = v;
    max_ = std::max(max_, v);
    total_ += n;
    sum_ += double(v) * double(n);
  }

  /// Adds every count of `other`, which must have the same sub_bits.
  void merge(const log_histogram& other) {
    if (other.sub_bits_ != sub_bits_)
      throw std::invalid_argument("log_histogram::merge: different precision");
    if (other.total_ == 0)
      return;
    for (size_t i = 0; i < counts_.size(); ++i)
      counts_[i] += other.counts_[i];
    min_ = total_ == 0 ? other.min_ : std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
    total_ += other.total_;
    sum_ += other.sum_;
  }

  void reset() {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = 0;
    min_ = 0;
    max_ = 0;
    sum_ = 0;
  }

  uint64_t count() const { return total_; }
  /// Exact smallest / largest recorded value (0 when empty).
  uint64_t min() const { return min_; }
  uint64_t max() const { return max_; }
  double mean() const { return total_ == 0 ? 0.0 : sum_ / double(total_); }

  /// The value at percentile `p` (0..100): the highest value of the bucket
  /// holding the ceil(p/100 * count)-th smallest value, clamped to the
  /// exact min and max. 0 when empty.
  uint64_t percentile(double p) const {
    if (total_ == 0)
      return 0;
    p = std::clamp(p, 0.0, 100.0);
    // The epsilon keeps 99.9 % of 1000 at rank 999 despite 0.999 * 1000
    // being 999.0000000000001 in binary floating point.
    auto rank = uint64_t(std::ceil(p / 100.0 * double(total_) - 1e-7));
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank)
        return std::clamp(bucket_high(i), min_, max_);
    }
    return max_;
  }

  int sub_bits() const { return sub_bits_; }
  size_t bucket_count() const { return counts_.size(); }

  /// Bucket of value v: v itself below 2^S; above, (shift * 2^(S-1)) +
  /// (v >> shift) where shift makes v >> shift fall in [2^(S-1), 2^S).
  size_t index_of(uint64_t v) const {
    if (v < (uint64_t(1) << sub_bits_))
      return size_t(v);
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - (sub_bits_ - 1);
    return (size_t(shift) << (sub_bits_ - 1)) + size_t(v >> shift);
  }
  /// Smallest and largest value that land in bucket i.
  uint64_t bucket_low(size_t i) const {
    auto [shift, sub] = split(i);
    return sub << shift;
  }
  uint64_t bucket_high(size_t i) const {
    auto [shift, sub] = split(i);
    return (sub << shift) + ((uint64_t(1) << shift) - 1);
  }

private:
  std::pair<int, uint64_t> split(size_t i) const {
    auto exact = size_t(1) << sub_bits_;
    if (i < exact)
      return {0, uint64_t(i)};
    auto half = size_t(1) << (sub_bits_ - 1);
    // i = shift * half + sub with sub in [half, 2 * half)
    int shift = int(i / half) - 1;
    uint64_t sub = uint64_t(i - size_t(shift) * half);
    return {shift, sub};
  }

  int sub_bits_;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
  double sum_ = 0;
};

} // namespace al::bench
