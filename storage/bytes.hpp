#pragma once
// Byte buffers and views, and big-endian field access (Kafka's wire order).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace al {

using bytes = std::vector<uint8_t>;

/// A non-owning view of bytes (C++17 has no std::span).
struct byte_view {
  const uint8_t* data = nullptr;
  size_t size = 0;

  byte_view() = default;
  byte_view(const uint8_t* d, size_t n) : data(d), size(n) {}
  byte_view(const bytes& b) : data(b.data()), size(b.size()) {}
  explicit byte_view(std::string_view s)
    : data(reinterpret_cast<const uint8_t*>(s.data())), size(s.size()) {}

  bool empty() const { return size == 0; }
  const uint8_t* begin() const { return data; }
  const uint8_t* end() const { return data + size; }
  byte_view sub(size_t pos, size_t n) const { return {data + pos, n}; }
  std::string_view as_string() const {
    return {reinterpret_cast<const char*>(data), size};
  }
};

inline bool operator==(byte_view a, byte_view b) {
  return a.size == b.size && (a.size == 0 || std::memcmp(a.data, b.data, a.size) == 0);
}
inline bool operator!=(byte_view a, byte_view b) { return !(a == b); }

template <class T>
T load_be(const uint8_t* p) {
  static_assert(std::is_integral_v<T>);
  std::make_unsigned_t<T> v = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    v = static_cast<std::make_unsigned_t<T>>((v << 8) | p[i]);
  return static_cast<T>(v);
}

template <class T>
void store_be(uint8_t* p, T value) {
  static_assert(std::is_integral_v<T>);
  auto v = static_cast<std::make_unsigned_t<T>>(value);
  for (size_t i = sizeof(T); i-- > 0;) {
    p[i] = static_cast<uint8_t>(v & 0xFF);
    v = static_cast<std::make_unsigned_t<T>>(v >> 8);
  }
}

} // namespace al
