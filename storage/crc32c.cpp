#include "storage/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace al {
namespace {

constexpr uint32_t poly = 0x82F63B78u; // reflected Castagnoli polynomial

// 8 tables for slicing-by-8.
struct tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s)
        t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
};

const tables& get_tables() {
  static const tables tbl;
  return tbl;
}

#if defined(__x86_64__)
// The crc32 instruction has a latency of 3 cycles but a throughput of one
// per cycle, so one dependent chain runs at a third of the possible speed.
// Long inputs run as three independent chains over adjacent blocks, then
// combine: for the raw (uninverted) CRC, crc(A || B) = shift(crc(A), |B|)
// ^ crc(B with a zero start), where shift(c, n) is c run over n zero bytes.
// shift is linear in c, so a 4 x 256 table per block size does it.
constexpr size_t long_block = 1024; // bytes per chain per round
constexpr size_t short_block = 128;

struct shift_table {
  std::array<std::array<uint32_t, 256>, 4> t{};
  uint32_t apply(uint32_t c) const {
    return t[0][c & 0xFF] ^ t[1][(c >> 8) & 0xFF] ^ t[2][(c >> 16) & 0xFF] ^ t[3][c >> 24];
  }
};

__attribute__((target("sse4.2"))) uint32_t raw_over_zeros(uint32_t c, size_t n) {
  uint64_t x = c;
  for (size_t i = 0; i < n / 8; ++i)
    x = _mm_crc32_u64(x, 0);
  return static_cast<uint32_t>(x);
}

shift_table make_shift_table(size_t n) {
  uint32_t bit[32];
  for (int k = 0; k < 32; ++k)
    bit[k] = raw_over_zeros(1u << k, n);
  shift_table s;
  for (int i = 0; i < 4; ++i)
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t v = 0;
      for (int j = 0; j < 8; ++j)
        if (b & (1u << j))
          v ^= bit[8 * i + j];
      s.t[i][b] = v;
    }
  return s;
}

/// Three chains over [p, p + 3 * block) starting from raw crc c.
template <size_t block>
__attribute__((target("sse4.2"))) uint64_t crc_three_ways(const uint8_t* p, uint64_t c,
                                                          const shift_table& shift) {
  uint64_t c0 = c;
  uint64_t c1 = 0;
  uint64_t c2 = 0;
  for (size_t i = 0; i < block; i += 8) {
    uint64_t v0;
    uint64_t v1;
    uint64_t v2;
    std::memcpy(&v0, p + i, 8);
    std::memcpy(&v1, p + block + i, 8);
    std::memcpy(&v2, p + 2 * block + i, 8);
    c0 = _mm_crc32_u64(c0, v0);
    c1 = _mm_crc32_u64(c1, v1);
    c2 = _mm_crc32_u64(c2, v2);
  }
  uint32_t r = shift.apply(static_cast<uint32_t>(c0)) ^ static_cast<uint32_t>(c1);
  return shift.apply(r) ^ static_cast<uint32_t>(c2);
}

__attribute__((target("sse4.2"))) uint32_t crc32c_hw(const uint8_t* p, size_t n, uint32_t crc) {
  static const shift_table long_shift = make_shift_table(long_block);
  static const shift_table short_shift = make_shift_table(short_block);
  uint64_t c = ~crc;
  for (; n >= 3 * long_block; n -= 3 * long_block, p += 3 * long_block)
    c = crc_three_ways<long_block>(p, c, long_shift);
  for (; n >= 3 * short_block; n -= 3 * short_block, p += 3 * short_block)
    c = crc_three_ways<short_block>(p, c, short_shift);
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = _mm_crc32_u8(c32, *p++);
    --n;
  }
  return ~c32;
}

bool detect_hw() { return __builtin_cpu_supports("sse4.2"); }
#else
bool detect_hw() { return false; }
#endif

} // namespace

uint32_t crc32c_table(const void* data, size_t size, uint32_t crc) {
  const auto& t = get_tables().t;
  auto p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (size >= 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, p, 4); // little-endian hosts only (x86_64, aarch64)
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
        t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size-- > 0)
    c = t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

bool crc32c_hardware() {
  static const bool hw = detect_hw();
  return hw;
}

uint32_t crc32c(const void* data, size_t size, uint32_t crc) {
#if defined(__x86_64__)
  if (crc32c_hardware())
    return crc32c_hw(static_cast<const uint8_t*>(data), size, crc);
#endif
  return crc32c_table(data, size, crc);
}

} // namespace al
