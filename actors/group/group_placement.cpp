#include "actors/group/group_placement.hpp"

#include "storage/assert.hpp"

namespace al {

namespace {

constexpr uint32_t replacement = 0xFFFD;

/// Decodes one code point at `i` (advancing it); invalid input yields U+FFFD
/// and consumes one byte.
uint32_t next_code_point(std::string_view s, size_t& i) {
  auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++i;
    return replacement;
  }
  if (i + len > s.size()) {
    ++i;
    return replacement;
  }
  for (size_t k = 1; k < len; ++k) {
    auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return replacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i; // overlong, out of range or a surrogate: invalid
    return replacement;
  }
  i += len;
  return cp;
}

} // namespace

int32_t java_string_hash(std::string_view utf8) {
  uint32_t h = 0; // unsigned: wraps like Java's int
  auto add = [&h](uint32_t unit) { h = h * 31u + unit; };
  for (size_t i = 0; i < utf8.size();) {
    auto cp = next_code_point(utf8, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      add(0xD800 + (cp >> 10));
      add(0xDC00 + (cp & 0x3FF));
    } else {
      add(cp);
    }
  }
  return static_cast<int32_t>(h);
}

int32_t offsets_partition_for(std::string_view group_id, int32_t partitions) {
  AL_ASSERT(partitions > 0, partitions);
  return kafka_abs(java_string_hash(group_id)) % partitions;
}

} // namespace al
