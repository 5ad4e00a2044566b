// The bench's log-bucketed latency histogram (bench/actorlog_bench/histogram.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "bench/actorlog_bench/histogram.hpp"

using al::bench::log_histogram;

namespace {

/// The exact percentile as the histogram defines it: the ceil(p*n)-th smallest.
uint64_t exact_percentile(std::vector<uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  auto rank = size_t(std::ceil(p / 100.0 * double(v.size()) - 1e-7));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

} // namespace

TEST_CASE("histogram: an empty histogram reports zeros", "[histogram]") {
  log_histogram h;
  CHECK(h.count() == 0);
  CHECK(h.min() == 0);
  CHECK(h.max() == 0);
  CHECK(h.mean() == 0.0);
  CHECK(h.percentile(50) == 0);
  CHECK(h.percentile(99.9) == 0);
}

TEST_CASE("histogram: small values are exact", "[histogram]") {
  log_histogram h(8);
  for (uint64_t v = 1; v <= 100; ++v)
    h.record(v);
  CHECK(h.count() == 100);
  CHECK(h.min() == 1);
  CHECK(h.max() == 100);
  CHECK(h.mean() == Approx(50.5));
  CHECK(h.percentile(50) == 50);
  CHECK(h.percentile(99) == 99);
  CHECK(h.percentile(100) == 100);
  CHECK(h.percentile(0) == 1);
}

TEST_CASE("histogram: buckets tile the whole uint64 range without gaps", "[histogram]") {
  for (int bits : {1, 3, 8, 12}) {
    log_histogram h(bits);
    INFO("sub_bits " << bits);
    CHECK(h.bucket_low(0) == 0);
    for (size_t i = 0; i + 1 < h.bucket_count(); ++i) {
      REQUIRE(h.bucket_high(i) + 1 == h.bucket_low(i + 1));
      REQUIRE(h.index_of(h.bucket_low(i)) == i);
      REQUIRE(h.index_of(h.bucket_high(i)) == i);
    }
    CHECK(h.bucket_high(h.bucket_count() - 1) == UINT64_MAX);
    CHECK(h.index_of(UINT64_MAX) == h.bucket_count() - 1);
  }
}

TEST_CASE("histogram: percentiles are within the stated relative error", "[histogram]") {
  std::mt19937_64 rng(42);
  // Latency-like: log-normal around 200 us with a heavy tail, in ns.
  std::lognormal_distribution<double> dist(std::log(200'000.0), 1.2);
  std::vector<uint64_t> values;
  log_histogram h(8);
  for (int i = 0; i < 100'000; ++i) {
    auto v = uint64_t(dist(rng)) + 1;
    values.push_back(v);
    h.record(v);
  }
  const double bound = 1.0 / 128; // 2^-(S-1)
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    auto exact = exact_percentile(values, p);
    auto got = h.percentile(p);
    INFO("p" << p << " exact " << exact << " got " << got);
    CHECK(got >= exact); // the bucket's highest value
    CHECK(double(got - exact) <= bound * double(exact));
  }
  CHECK(h.percentile(100) == *std::max_element(values.begin(), values.end()));
  CHECK(h.min() == *std::min_element(values.begin(), values.end()));
}

TEST_CASE("histogram: percentiles never decrease", "[histogram]") {
  std::mt19937_64 rng(7);
  log_histogram h;
  for (int i = 0; i < 10'000; ++i)
    h.record(rng() % 50'000'000);
  uint64_t last = 0;
  for (double p = 0; p <= 100; p += 0.5) {
    auto v = h.percentile(p);
    CHECK(v >= last);
    last = v;
  }
}

TEST_CASE("histogram: merge equals recording everything in one", "[histogram]") {
  std::mt19937_64 rng(3);
  log_histogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    auto v = rng() % 10'000'000;
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  log_histogram empty;
  a.merge(empty);
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.min() == all.min());
  CHECK(a.max() == all.max());
  CHECK(a.mean() == Approx(all.mean()));
  for (double p : {50.0, 99.0, 99.9})
    CHECK(a.percentile(p) == all.percentile(p));
  empty.merge(all);
  CHECK(empty.percentile(99) == all.percentile(99));
  CHECK(empty.min() == all.min());
  log_histogram coarse(4);
  CHECK_THROWS(coarse.merge(all));
}

TEST_CASE("histogram: counts, extremes and reset", "[histogram]") {
  log_histogram h;
  h.record(1000, 999);
  h.record(UINT64_MAX);
  CHECK(h.count() == 1000);
  CHECK(h.percentile(99.9) <= 1000 + 1000 / 128);
  CHECK(h.percentile(100) == UINT64_MAX);
  h.record(5, 0); // no-op
  CHECK(h.min() == 1000);
  h.reset();
  CHECK(h.count() == 0);
  CHECK(h.percentile(50) == 0);
  h.record(0);
  CHECK(h.min() == 0);
  CHECK(h.percentile(100) == 0);
  CHECK_THROWS(log_histogram(0));
  CHECK_THROWS(log_histogram(17));
}
