#include "storage/varint.hpp"

namespace al {

namespace {

template <class U>
size_t unsigned_size(U u) {
  size_t n = 1;
  while (u >= 0x80) {
    u >>= 7;
    ++n;
  }
  return n;
}

template <class U>
uint8_t* write_unsigned(uint8_t* p, U u) {
  while (u >= 0x80) {
    *p++ = static_cast<uint8_t>(u | 0x80);
    u >>= 7;
  }
  *p++ = static_cast<uint8_t>(u);
  return p;
}

/// Reads an unsigned base-128 value of `bits` width (32 or 64). The last
/// permitted byte may only carry the bits that are left, without "more".
template <class U>
varint_error read_unsigned(const uint8_t*& p, const uint8_t* end, U& out) {
  constexpr unsigned bits = sizeof(U) * 8;
  constexpr unsigned max_bytes = (bits + 6) / 7;
  constexpr unsigned last_bits = bits - 7 * (max_bytes - 1); // 4 for 32, 1 for 64
  U value = 0;
  const uint8_t* q = p;
  for (unsigned i = 0; i < max_bytes; ++i) {
    if (q == end)
      return varint_error::truncated;
    uint8_t b = *q++;
    if (i == max_bytes - 1) {
      if (b >> last_bits)
        return varint_error::too_long;
      value |= static_cast<U>(b) << (7 * i);
      break;
    }
    value |= static_cast<U>(b & 0x7F) << (7 * i);
    if (!(b & 0x80))
      break;
  }
  out = value;
  p = q;
  return varint_error::none;
}

} // namespace

const char* to_string(varint_error e) {
  switch (e) {
    case varint_error::none: return "ok";
    case varint_error::truncated: return "truncated";
    case varint_error::too_long: return "too long";
  }
  return "unknown";
}

size_t varint_size(int32_t v) { return unsigned_size(zigzag_encode32(v)); }
size_t varlong_size(int64_t v) { return unsigned_size(zigzag_encode64(v)); }

uint8_t* write_varint(uint8_t* p, int32_t v) { return write_unsigned(p, zigzag_encode32(v)); }
uint8_t* write_varlong(uint8_t* p, int64_t v) { return write_unsigned(p, zigzag_encode64(v)); }

void append_varint(bytes& out, int32_t v) {
  uint8_t buf[max_varint_size];
  out.insert(out.end(), buf, write_varint(buf, v));
}

void append_varlong(bytes& out, int64_t v) {
  uint8_t buf[max_varlong_size];
  out.insert(out.end(), buf, write_varlong(buf, v));
}

varint_error read_varint(const uint8_t*& p, const uint8_t* end, int32_t& out) {
  uint32_t u = 0;
  auto e = read_unsigned(p, end, u);
  if (e == varint_error::none)
    out = zigzag_decode32(u);
  return e;
}

varint_error read_varlong(const uint8_t*& p, const uint8_t* end, int64_t& out) {
  uint64_t u = 0;
  auto e = read_unsigned(p, end, u);
  if (e == varint_error::none)
    out = zigzag_decode64(u);
  return e;
}

} // namespace al
