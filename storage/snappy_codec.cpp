#include "storage/snappy_codec.hpp"

#include <algorithm>
#include <cstring>

#include <snappy.h>

#include "storage/compression.hpp"

namespace al {

namespace {

constexpr uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t xerial_header_size = 16;
constexpr int32_t xerial_version = 1;

const char* chars(const uint8_t* p) { return reinterpret_cast<const char*>(p); }

status corrupt(const std::string& where, const std::string& what) {
  return {errc::corrupt_message, where + ": snappy records " + what};
}

/// Decodes one raw block, appending to `out` while out.size() - start <= limit.
status raw_block(byte_view in, bytes& out, size_t start, size_t limit, const std::string& where) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(chars(in.data), in.size, &n))
    return corrupt(where, "are corrupt (bad snappy block length)");
  // A snappy copy element of 3 bytes expands to at most 64: a block cannot
  // grow more than 64/3 times, so a larger claim is garbage (no allocation).
  if (n / 22 > in.size)
    return corrupt(where, "are corrupt (block claims " + std::to_string(n) + " bytes from " +
                            std::to_string(in.size) + ")");
  size_t used = out.size() - start;
  if (n > limit - used)
    return {errc::message_too_large, where + ": snappy records decompress to more than " +
                                       std::to_string(limit) + " bytes (the limit)"};
  size_t pos = out.size();
  if (pos + n > out.capacity()) // grow as vector would, but never past the limit
    out.reserve(std::min(std::max(out.capacity() * 2, pos + n), start + limit));
  out.resize(pos + n);
  if (!snappy::RawUncompress(chars(in.data), in.size, reinterpret_cast<char*>(out.data() + pos)))
    return corrupt(where, "are corrupt (snappy block does not decode)");
  return status::ok();
}

status xerial_stream(byte_view in, bytes& out, size_t limit, const std::string& where) {
  size_t start = out.size();
  size_t pos = 0;
  while (pos < in.size) {
    size_t left = in.size - pos;
    if (is_xerial_snappy(in.sub(pos, left))) {
      if (left < xerial_header_size)
        return corrupt(where, "are truncated (xerial header)");
      pos += xerial_header_size;
      continue;
    }
    if (left < 4)
      return corrupt(where, "are truncated (xerial chunk length at byte " + std::to_string(pos) +
                              ")");
    auto len = load_be<int32_t>(in.data + pos);
    pos += 4;
    if (len < 0 || size_t(len) > in.size - pos)
      return corrupt(where, "have a xerial chunk of " + std::to_string(len) + " bytes at byte " +
                              std::to_string(pos - 4) + " with only " +
                              std::to_string(in.size - pos) + " left");
    auto st = raw_block(in.sub(pos, size_t(len)), out, start, limit, where);
    if (!st)
      return st;
    pos += size_t(len);
  }
  return status::ok();
}

} // namespace

bool is_xerial_snappy(byte_view in) {
  return in.size >= sizeof(xerial_magic) &&
         std::memcmp(in.data, xerial_magic, sizeof(xerial_magic)) == 0;
}

void snappy_raw_compress(byte_view in, bytes& out) {
  size_t start = out.size();
  out.resize(start + snappy::MaxCompressedLength(in.size));
  size_t n = 0;
  snappy::RawCompress(chars(in.data), in.size, reinterpret_cast<char*>(out.data() + start), &n);
  out.resize(start + n);
}

void snappy_xerial_compress(byte_view in, bytes& out, size_t chunk_size) {
  AL_ASSERT(chunk_size > 0);
  size_t start = out.size();
  out.resize(start + xerial_header_size);
  std::memcpy(out.data() + start, xerial_magic, sizeof(xerial_magic));
  store_be<int32_t>(out.data() + start + 8, xerial_version);
  store_be<int32_t>(out.data() + start + 12, xerial_version);
  for (size_t pos = 0; pos < in.size; pos += chunk_size) {
    size_t len_at = out.size();
    out.resize(len_at + 4);
    snappy_raw_compress(in.sub(pos, std::min(chunk_size, in.size - pos)), out);
    store_be<int32_t>(out.data() + len_at, int32_t(out.size() - len_at - 4));
  }
}

status snappy_decompress(byte_view in, bytes& out, size_t limit, const std::string& where) {
  if (is_xerial_snappy(in))
    return xerial_stream(in, out, limit, where);
  return raw_block(in, out, out.size(), limit, where);
}

} // namespace al
