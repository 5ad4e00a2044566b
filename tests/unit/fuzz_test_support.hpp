#pragma once
// Shared by the decoder fuzz tests (*_fuzz_test.cpp): seeded damage of valid
// encodings, LevelDB-style (flip, overwrite, cut, extend, splice), the
// exhaustive passes (every cut, every field set to an extreme value) and a
// bounded fuzz loop that names its seed and run on any failure, abort
// included. Each *_fuzz_test.cpp is its own binary: include this header
// from exactly one .cpp per binary (it replaces the global operator new).
//
// Seeds: a fixed default, so every run checks the same inputs;
// AL_TEST_SEED=<n> (as in record_batch_corrupt_test) explores other seeds
// and replays a failure.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "storage/bytes.hpp"
#include "storage/crc32c.hpp"

namespace al::test {

// --- allocation guard ---------------------------------------------------------
// A length field must never turn into a huge allocation: the fuzz loops
// check the largest single request a decode made against this bound.

inline constexpr size_t max_decode_allocation = 16u << 20;
inline size_t largest_allocation = 0; // since reset_largest_allocation()

inline void reset_largest_allocation() { largest_allocation = 0; }

// --- seeds and the abort reporter ---------------------------------------------

inline constexpr uint32_t default_fuzz_seed = 20240611;

inline uint32_t fuzz_seed() {
  if (const char* env = std::getenv("AL_TEST_SEED"))
    return uint32_t(std::stoul(env));
  return default_fuzz_seed;
}

inline volatile uint32_t fuzz_current_seed = 0;
inline volatile uint64_t fuzz_current_run = 0;
inline void (*fuzz_previous_abort_handler)(int) = SIG_DFL; // Catch2's, which reports the test

extern "C" inline void fuzz_on_abort(int) { // an AL_ASSERT inside a decoder
  char msg[160];
  auto s = (unsigned long)fuzz_current_seed;
  int n = std::snprintf(msg, sizeof msg,
                        "fuzz: abort in run %llu of seed %lu, rerun with AL_TEST_SEED=%lu\n",
                        (unsigned long long)fuzz_current_run, s, s);
  if (n > 0)
    (void)!write(2, msg, size_t(n));
  auto previous = fuzz_previous_abort_handler;
  if (previous != SIG_DFL && previous != SIG_IGN && previous != SIG_ERR)
    previous(SIGABRT);
}

struct fuzz_budget {
  size_t max_runs = 5000;
  // Wall time only caps a slow machine (sanitizers, valgrind); the runs
  // done are the first ones of the same seed's sequence, never others.
  std::chrono::milliseconds max_time{1500};
};

/// Calls `run(rng, i)` for i = 0, 1, ... within `budget`, with one rng
/// seeded by fuzz_seed(); a failed check names the seed and the run.
/// Returns how many runs were done.
template <class Run>
size_t fuzz_loop(const fuzz_budget& budget, Run&& run) {
  const uint32_t seed = fuzz_seed();
  fuzz_current_seed = seed;
  INFO("seed " << seed << " (rerun with AL_TEST_SEED=" << seed << ")");
  std::mt19937 rng(seed);
  fuzz_previous_abort_handler = std::signal(SIGABRT, fuzz_on_abort);
  auto deadline = std::chrono::steady_clock::now() + budget.max_time;
  size_t i = 0;
  for (; i < budget.max_runs; ++i) {
    if (i % 64 == 0 && std::chrono::steady_clock::now() >= deadline)
      break;
    fuzz_current_run = i;
    INFO("run " << i);
    run(rng, i);
  }
  std::signal(SIGABRT, fuzz_previous_abort_handler);
  if (i < budget.max_runs)
    WARN("time cap: " << i << " of " << budget.max_runs << " runs of seed " << seed);
  return i;
}

// --- damage -------------------------------------------------------------------

/// How a format protects its bytes. With a trailing CRC32C over every byte
/// before it, damaged bytes are usually resealed, so that the field decoding
/// rather than the checksum has to catch the damage.
enum class trailer { none, crc32c };

inline void reseal(bytes& b, trailer t) {
  if (t == trailer::crc32c && b.size() >= 4)
    store_be<uint32_t>(b.data() + b.size() - 4, crc32c(b.data(), b.size() - 4));
}

/// Values a `width`-byte length, count or integer field is most likely
/// to be mishandled with: 0, 1, all ones (-1, max unsigned), the signed max
/// and min, a large count (max >> 8) and 2^(8 * (width - 1)).
inline std::vector<uint64_t> extreme_values(size_t width) {
  uint64_t all = width == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * width)) - 1;
  return {0, 1, all, all >> 1, uint64_t{1} << (8 * width - 1), all >> 8,
          uint64_t{1} << (8 * width - 8)};
}

/// Writes the low `width` bytes of `v` big-endian at `pos` (width 1, 2, 4
/// or 8; the field must fit).
inline void store_field(bytes& b, size_t pos, size_t width, uint64_t v) {
  for (size_t i = 0; i < width; ++i)
    b[pos + width - 1 - i] = uint8_t(v >> (8 * i));
}

inline bytes random_bytes(std::mt19937& rng, size_t max_size) {
  bytes b(rng() % (max_size + 1));
  for (auto& x : b)
    x = uint8_t(rng());
  return b;
}

/// One random damage of `b` (which may be empty), then a reseal in 3 of 4 cases.
inline void damage(bytes& b, std::mt19937& rng, trailer t) {
  auto at = [&] { return b.empty() ? size_t{0} : size_t(rng() % b.size()); };
  switch (rng() % 8) {
    case 0: // flip 1..4 bits
      for (size_t n = 1 + rng() % 4; n > 0 && !b.empty(); --n)
        b[at()] ^= uint8_t(1u << (rng() % 8));
      break;
    case 1: // change 1..4 bytes
      for (size_t n = 1 + rng() % 4; n > 0 && !b.empty(); --n)
        b[at()] = uint8_t(rng());
      break;
    case 2: // cut the tail off
      b.resize(at());
      break;
    case 3: { // extend with garbage
      auto extra = random_bytes(rng, 32);
      b.insert(b.end(), extra.begin(), extra.end());
      break;
    }
    case 4: { // a 1/2/4/8-byte field set to an extreme value
      size_t width = size_t{1} << (rng() % 4);
      if (b.size() >= width) {
        auto v = extreme_values(width);
        store_field(b, rng() % (b.size() - width + 1), width, v[rng() % v.size()]);
      }
      break;
    }
    case 5: { // drop a range from the middle
      size_t from = at();
      size_t n = std::min(b.size() - from, size_t(1 + rng() % 16));
      b.erase(b.begin() + long(from), b.begin() + long(from + n));
      break;
    }
    case 6: { // repeat a range (a list one element longer than its count)
      size_t from = at();
      size_t n = std::min(b.size() - from, size_t(1 + rng() % 32));
      bytes piece(b.begin() + long(from), b.begin() + long(from + n));
      b.insert(b.begin() + long(at()), piece.begin(), piece.end());
      break;
    }
    default: // insert random bytes
      auto extra = random_bytes(rng, 8);
      b.insert(b.begin() + long(at()), extra.begin(), extra.end());
  }
  if (rng() % 4 != 0)
    reseal(b, t);
}

// --- exhaustive passes --------------------------------------------------------

/// Every prefix of `b` (resealed too when sealed), and `b` extended by 1, 4
/// and 64 bytes of zeros and of 0xff.
template <class Check>
void for_each_cut_and_extension(const bytes& b, trailer t, Check&& check) {
  for (size_t n = 0; n < b.size(); ++n) {
    bytes cut(b.begin(), b.begin() + long(n));
    check(cut);
    if (t != trailer::none && n >= 4) {
      reseal(cut, t);
      check(cut);
    }
  }
  for (size_t extra : {1, 4, 64}) {
    for (uint8_t fill : {0x00, 0xff}) {
      bytes longer = b;
      longer.insert(longer.end(), extra, fill);
      check(longer);
      reseal(longer, t);
      check(longer);
    }
  }
}

/// `b` with each 1/2/4/8-byte window, at every position, set to each of
/// its extreme_values() (resealed when sealed): every length, count and
/// integer field of the encoding is among the windows.
template <class Check>
void for_each_extreme_field(const bytes& b, trailer t, Check&& check) {
  for (size_t width : {1, 2, 4, 8})
    for (size_t pos = 0; pos + width <= b.size(); ++pos)
      for (uint64_t v : extreme_values(width)) {
        bytes x = b;
        store_field(x, pos, width, v);
        reseal(x, t);
        check(x);
      }
}

} // namespace al::test

// Replaces the global operator new of this test binary to record the
// largest request. Every form that can pair with these deletes is replaced
// (ASan checks the pairing). Out of line: inlined, GCC pairs the malloc
// with a built-in operator new and warns (-Wmismatched-new-delete).
__attribute__((noinline)) void* operator new(size_t n) {
  if (n > al::test::largest_allocation)
    al::test::largest_allocation = n;
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc{};
}
__attribute__((noinline)) void* operator new(size_t n, const std::nothrow_t&) noexcept {
  if (n > al::test::largest_allocation)
    al::test::largest_allocation = n;
  return std::malloc(n ? n : 1);
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { operator delete(p); }
