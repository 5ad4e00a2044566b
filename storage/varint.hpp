#pragma once
// Kafka's variable-length integers (protobuf style, zigzag-signed), used by
// every field inside a RecordBatch v2 record. Format:
// docs/formats/record-batch.md, "Varints".
//
//   zigzag(v) = (v << 1) ^ (v >> 63)     0 -> 0, -1 -> 1, 1 -> 2, -2 -> 3 ...
//   then 7 bits per byte, least significant group first, high bit = "more".
//
// A varint (int32) takes 1..5 bytes, a varlong (int64) 1..10. Decoding never
// reads past `end`: a truncated value, a sixth (eleventh) byte, or set bits
// that do not fit the type are errors, not crashes.
#include <cstddef>
#include <cstdint>

#include "storage/bytes.hpp"

namespace al {

constexpr size_t max_varint_size = 5;
constexpr size_t max_varlong_size = 10;

enum class varint_error : uint8_t {
  none = 0,
  truncated, ///< input ended while the high bit still said "more"
  too_long,  ///< more bytes than the type allows, or bits beyond its width
};

/// "truncated", "too long".
const char* to_string(varint_error e);

inline uint32_t zigzag_encode32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
inline uint64_t zigzag_encode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int32_t zigzag_decode32(uint32_t u) {
  return static_cast<int32_t>((u >> 1) ^ (~(u & 1) + 1));
}
inline int64_t zigzag_decode64(uint64_t u) {
  return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

/// Encoded size in bytes (1..5 / 1..10).
size_t varint_size(int32_t v);
size_t varlong_size(int64_t v);

/// Writes at `p`, which must have room for max_varint_size / max_varlong_size
/// bytes; returns the position after the last written byte.
uint8_t* write_varint(uint8_t* p, int32_t v);
uint8_t* write_varlong(uint8_t* p, int64_t v);

/// Appends the encoding to `out`.
void append_varint(bytes& out, int32_t v);
void append_varlong(bytes& out, int64_t v);

/// Decodes from [p, end). On success stores the value, advances `p` and
/// returns varint_error::none; on error leaves `p` and `out` unchanged.
varint_error read_varint(const uint8_t*& p, const uint8_t* end, int32_t& out);
varint_error read_varlong(const uint8_t*& p, const uint8_t* end, int64_t& out);

} // namespace al
