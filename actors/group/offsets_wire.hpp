#pragma once
// Kafka's classic (non-flexible) encoding, as the records of
// __consumer_offsets use it: big-endian integers, string = int16 length +
// UTF-8 bytes (length -1: null), bytes = int32 length + bytes (-1: null),
// array = int32 count + elements. Shared by offsets_record.cpp and
// group_metadata_record.cpp, and by actors/txn/txn_record.cpp for the
// records of __transaction_state.
#include <algorithm>
#include <string>

#include "storage/assert.hpp"
#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al::offsets_wire {

template <class T>
void put(bytes& out, T value) {
  auto at = out.size();
  out.resize(at + sizeof(T));
  store_be<T>(out.data() + at, value);
}

// Never a client's unchecked string: group ids, member ids, topics and
// metadata pass group_limits.hpp's checks (far below INT16_MAX) before they
// reach a record, and loaded ones were decoded from int16-length strings.
inline void put_string(bytes& out, const std::string& s) {
  AL_ASSERT(s.size() <= size_t(INT16_MAX), s.size());
  put<int16_t>(out, int16_t(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

/// A nullable string written as null (-1) when empty.
inline void put_nullable_string(bytes& out, const std::string& s) {
  if (s.empty())
    return put<int16_t>(out, -1);
  put_string(out, s);
}

inline void put_bytes(bytes& out, const bytes& b) {
  AL_ASSERT(b.size() <= size_t(INT32_MAX), b.size());
  put<int32_t>(out, int32_t(b.size()));
  out.insert(out.end(), b.begin(), b.end());
}

/// Bounds-checked reads; every failure names the field ("<what>: truncated
/// at <field> (byte <pos> of <size>)").
struct reader {
  byte_view in;
  size_t pos = 0;
  const char* what;

  size_t left() const { return in.size - pos; }

  status fail(const char* field) const {
    return {errc::corrupt_message, std::string(what) + ": truncated at " + field + " (byte " +
                                     std::to_string(pos) + " of " + std::to_string(in.size) +
                                     ")"};
  }
  template <class T>
  result<T> get(const char* field) {
    if (left() < sizeof(T))
      return fail(field);
    auto v = load_be<T>(in.data + pos);
    pos += sizeof(T);
    return v;
  }
  /// A string; with `nullable`, length -1 reads as "".
  result<std::string> get_string(const char* field, bool nullable = false) {
    auto len = get<int16_t>(field);
    if (!len)
      return len.error();
    if (nullable && *len == -1)
      return std::string{};
    if (*len < 0 || left() < size_t(*len))
      return fail(field);
    std::string s(reinterpret_cast<const char*>(in.data + pos), size_t(*len));
    pos += size_t(*len);
    return s;
  }
  /// Nullable bytes, as a view into the input (null reads as empty).
  result<byte_view> get_bytes(const char* field) {
    auto len = get<int32_t>(field);
    if (!len)
      return len.error();
    if (*len == -1)
      return byte_view{in.data + pos, 0};
    if (*len < 0 || left() < size_t(*len))
      return fail(field);
    auto out = in.sub(pos, size_t(*len));
    pos += size_t(*len);
    return out;
  }
  /// An array count, refused when the rest of the input cannot hold that
  /// many elements of at least `min_element_bytes` (no huge reservations).
  result<size_t> get_count(const char* field, size_t min_element_bytes) {
    auto n = get<int32_t>(field);
    if (!n)
      return n.error();
    if (*n < 0 || size_t(*n) > left() / std::max<size_t>(min_element_bytes, 1))
      return fail(field);
    return size_t(*n);
  }
};

} // namespace al::offsets_wire
