#include "kafka/protocol/wire.hpp"

#include <cstring>

namespace al::kafka {

namespace {

status corrupt(std::string msg) { return {errc::corrupt_message, std::move(msg)}; }

template <class U>
U load_be(const uint8_t* p) {
  U v = 0;
  for (size_t i = 0; i < sizeof(U); ++i)
    v = U(v << 8) | U(p[i]);
  return v;
}

template <class U>
void store_be(std::vector<uint8_t>& out, U v) {
  for (size_t i = sizeof(U); i-- > 0;)
    out.push_back(uint8_t(v >> (8 * i)));
}

} // namespace

bool records_view::operator==(const records_view& o) const {
  if (is_null || o.is_null)
    return is_null == o.is_null;
  return size == o.size && (size == 0 || std::memcmp(data, o.data, size) == 0);
}

// ---- reader ----------------------------------------------------------------

status reader::need(size_t n, const char* what) const {
  if (n <= remaining())
    return status::ok();
  return corrupt(std::string(what) + " needs " + std::to_string(n) + " bytes, "
                 + std::to_string(remaining()) + " remaining");
}

#define AL_KAFKA_READ_FIXED(fn, T, U, what)                                                        \
  status reader::fn(T& v) {                                                                        \
    if (auto s = need(sizeof(U), what); !s)                                                        \
      return s;                                                                                    \
    v = T(load_be<U>(p_));                                                                         \
    p_ += sizeof(U);                                                                               \
    return status::ok();                                                                           \
  }
AL_KAFKA_READ_FIXED(read_int8, int8_t, uint8_t, "int8")
AL_KAFKA_READ_FIXED(read_int16, int16_t, uint16_t, "int16")
AL_KAFKA_READ_FIXED(read_int32, int32_t, uint32_t, "int32")
AL_KAFKA_READ_FIXED(read_int64, int64_t, uint64_t, "int64")
AL_KAFKA_READ_FIXED(read_uint16, uint16_t, uint16_t, "uint16")
AL_KAFKA_READ_FIXED(read_uint32, uint32_t, uint32_t, "uint32")
#undef AL_KAFKA_READ_FIXED

status reader::read_float64(double& v) {
  uint64_t bits = 0;
  if (auto s = need(8, "float64"); !s)
    return s;
  bits = load_be<uint64_t>(p_);
  p_ += 8;
  std::memcpy(&v, &bits, sizeof v);
  return status::ok();
}

status reader::read_bool(bool& v) {
  if (auto s = need(1, "bool"); !s)
    return s;
  v = *p_++ != 0;
  return status::ok();
}

status reader::read_uuid(uuid& v) {
  if (auto s = need(16, "uuid"); !s)
    return s;
  std::memcpy(v.bytes.data(), p_, 16);
  p_ += 16;
  return status::ok();
}

status reader::read_unsigned_varint(uint32_t& v) {
  uint32_t out = 0;
  for (int i = 0; i < 5; ++i) {
    if (p_ + i >= end_)
      return corrupt("unsigned varint truncated");
    uint8_t b = p_[i];
    if (i == 4 && (b & 0xf0) != 0)
      return corrupt("unsigned varint too long");
    out |= uint32_t(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      p_ += i + 1;
      v = out;
      return status::ok();
    }
  }
  return corrupt("unsigned varint too long");
}

status reader::read_varint(int32_t& v) {
  uint32_t u = 0;
  if (auto s = read_unsigned_varint(u); !s)
    return s;
  v = int32_t((u >> 1) ^ (~(u & 1) + 1));
  return status::ok();
}

status reader::read_varlong(int64_t& v) {
  uint64_t out = 0;
  for (int i = 0; i < 10; ++i) {
    if (p_ + i >= end_)
      return corrupt("varlong truncated");
    uint8_t b = p_[i];
    if (i == 9 && (b & 0xfe) != 0)
      return corrupt("varlong too long");
    out |= uint64_t(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      p_ += i + 1;
      v = int64_t((out >> 1) ^ (~(out & 1) + 1));
      return status::ok();
    }
  }
  return corrupt("varlong too long");
}

// Length prefix: classic int16 (strings) or int32 (bytes, arrays), or compact
// unsigned varint N+1. -1 means null. Not yet checked against remaining().
status reader::read_length(int64_t& len, bool compact, bool wide, const char* what) {
  if (compact) {
    uint32_t u = 0;
    if (auto s = read_unsigned_varint(u); !s)
      return corrupt(std::string("compact ") + what + " length: " + s.message());
    len = int64_t(u) - 1;
    return status::ok();
  }
  if (wide) {
    int32_t n = 0;
    if (auto s = read_int32(n); !s)
      return corrupt(std::string(what) + " length: " + s.message());
    len = n;
  } else {
    int16_t n = 0;
    if (auto s = read_int16(n); !s)
      return corrupt(std::string(what) + " length: " + s.message());
    len = n;
  }
  if (len < -1)
    return corrupt(std::string(what) + " length " + std::to_string(len) + " is negative");
  return status::ok();
}

namespace {
status too_long(bool compact, const char* what, int64_t len, size_t remaining) {
  return corrupt(std::string(compact ? "compact " : "") + what + " length " + std::to_string(len)
                 + " exceeds " + std::to_string(remaining) + " remaining bytes");
}
status null_not_allowed(bool compact, const char* what) {
  return corrupt(std::string("null ") + (compact ? "compact " : "") + what
                 + " in a non-nullable field");
}
} // namespace

status reader::read_nullable_string(std::optional<std::string>& v, bool compact) {
  int64_t len = 0;
  if (auto s = read_length(len, compact, false, "string"); !s)
    return s;
  if (len < 0) {
    v.reset();
    return status::ok();
  }
  if (size_t(len) > remaining())
    return too_long(compact, "string", len, remaining());
  v.emplace(reinterpret_cast<const char*>(p_), size_t(len));
  p_ += len;
  return status::ok();
}

status reader::read_string(std::string& v, bool compact) {
  std::optional<std::string> tmp;
  if (auto s = read_nullable_string(tmp, compact); !s)
    return s;
  if (!tmp)
    return null_not_allowed(compact, "string");
  v = std::move(*tmp);
  return status::ok();
}

status reader::read_nullable_bytes(std::optional<std::vector<uint8_t>>& v, bool compact) {
  int64_t len = 0;
  if (auto s = read_length(len, compact, true, "bytes"); !s)
    return s;
  if (len < 0) {
    v.reset();
    return status::ok();
  }
  if (size_t(len) > remaining())
    return too_long(compact, "bytes", len, remaining());
  v.emplace(p_, p_ + len);
  p_ += len;
  return status::ok();
}

status reader::read_bytes(std::vector<uint8_t>& v, bool compact) {
  std::optional<std::vector<uint8_t>> tmp;
  if (auto s = read_nullable_bytes(tmp, compact); !s)
    return s;
  if (!tmp)
    return null_not_allowed(compact, "bytes");
  v = std::move(*tmp);
  return status::ok();
}

status reader::read_records(records_view& v, bool compact) {
  int64_t len = 0;
  if (auto s = read_length(len, compact, true, "records"); !s)
    return s;
  if (len < 0) {
    v = records_view::null();
    return status::ok();
  }
  if (size_t(len) > remaining())
    return too_long(compact, "records", len, remaining());
  v = records_view::of(p_, size_t(len));
  p_ += len;
  return status::ok();
}

status reader::read_array_length(int32_t& n, bool compact, size_t min_element_size) {
  int64_t len = 0;
  if (auto s = read_length(len, compact, true, "array"); !s)
    return s;
  if (len > 0 && uint64_t(len) * min_element_size > remaining())
    return corrupt(std::string(compact ? "compact " : "") + "array length " + std::to_string(len)
                   + " exceeds " + std::to_string(remaining()) + " remaining bytes");
  n = int32_t(len);
  return status::ok();
}

status reader::read_tag_header(uint32_t& tag, uint32_t& size) {
  if (auto s = read_unsigned_varint(tag); !s)
    return corrupt("tag: " + s.message());
  if (auto s = read_unsigned_varint(size); !s)
    return corrupt("tag " + std::to_string(tag) + " size: " + s.message());
  if (size > remaining())
    return corrupt("tag " + std::to_string(tag) + " size " + std::to_string(size) + " exceeds "
                   + std::to_string(remaining()) + " remaining bytes");
  return status::ok();
}

status reader::skip_tagged_fields() {
  uint32_t count = 0;
  if (auto s = read_unsigned_varint(count); !s)
    return corrupt("tagged field count: " + s.message());
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t tag = 0;
    uint32_t size = 0;
    if (auto s = read_tag_header(tag, size); !s)
      return s;
    p_ += size;
  }
  return status::ok();
}

reader reader::split(size_t n) {
  AL_ASSERT(n <= remaining());
  reader sub(p_, n);
  p_ += n;
  return sub;
}

status reader::skip(size_t n) {
  if (auto s = need(n, "skip"); !s)
    return s;
  p_ += n;
  return status::ok();
}

// ---- writer ----------------------------------------------------------------

void writer::write_int16(int16_t v) { store_be<uint16_t>(out_, uint16_t(v)); }
void writer::write_int32(int32_t v) { store_be<uint32_t>(out_, uint32_t(v)); }
void writer::write_int64(int64_t v) { store_be<uint64_t>(out_, uint64_t(v)); }
void writer::write_uint16(uint16_t v) { store_be<uint16_t>(out_, v); }
void writer::write_uint32(uint32_t v) { store_be<uint32_t>(out_, v); }

void writer::write_float64(double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  store_be<uint64_t>(out_, bits);
}

void writer::write_uuid(const uuid& v) { write_raw(v.bytes.data(), v.bytes.size()); }

void writer::write_unsigned_varint(uint32_t v) {
  while (v >= 0x80) {
    out_.push_back(uint8_t(v | 0x80));
    v >>= 7;
  }
  out_.push_back(uint8_t(v));
}

void writer::write_varint(int32_t v) {
  write_unsigned_varint((uint32_t(v) << 1) ^ uint32_t(v >> 31));
}

void writer::write_varlong(int64_t v) {
  uint64_t u = (uint64_t(v) << 1) ^ uint64_t(v >> 63);
  while (u >= 0x80) {
    out_.push_back(uint8_t(u | 0x80));
    u >>= 7;
  }
  out_.push_back(uint8_t(u));
}

void writer::write_length(int64_t n, bool compact, bool wide) {
  if (compact)
    write_unsigned_varint(uint32_t(n + 1));
  else if (wide)
    write_int32(int32_t(n));
  else
    write_int16(int16_t(n));
}

status writer::write_string(std::string_view v, bool compact) {
  if (!compact && v.size() > 32767)
    return {errc::invalid_request,
            "string of " + std::to_string(v.size()) + " bytes exceeds the int16 length limit"};
  write_length(int64_t(v.size()), compact, false);
  write_raw(reinterpret_cast<const uint8_t*>(v.data()), v.size());
  return status::ok();
}

status writer::write_nullable_string(const std::optional<std::string>& v, bool compact) {
  if (!v) {
    write_length(-1, compact, false);
    return status::ok();
  }
  return write_string(*v, compact);
}

void writer::write_bytes(const std::vector<uint8_t>& v, bool compact) {
  write_length(int64_t(v.size()), compact, true);
  write_raw(v.data(), v.size());
}

void writer::write_nullable_bytes(const std::optional<std::vector<uint8_t>>& v, bool compact) {
  if (!v)
    write_length(-1, compact, true);
  else
    write_bytes(*v, compact);
}

void writer::write_records(const records_view& v, bool compact) {
  if (v.is_null) {
    write_length(-1, compact, true);
    return;
  }
  write_length(int64_t(v.size), compact, true);
  if (v.size > 0)
    write_raw(v.data, v.size);
}

void writer::write_array_length(int64_t n, bool compact) { write_length(n, compact, true); }

// ---- error paths -----------------------------------------------------------

status at_field(const status& s, const char* name) {
  return {s.code(), std::string(name) + ": " + s.message()};
}

status at_struct(const status& s, const char* name) {
  return {s.code(), std::string(name) + "." + s.message()};
}

status at_index(const status& s, const char* name, size_t i, bool struct_element) {
  return {s.code(), std::string(name) + "[" + std::to_string(i) + "]"
                        + (struct_element ? "." : ": ") + s.message()};
}

status at_message(const status& s, const char* api, int16_t version) {
  return {s.code(), std::string(api) + " v" + std::to_string(version) + " " + s.message()};
}

status unsupported_version(const char* api, int16_t version) {
  return {errc::unsupported_version,
          std::string(api) + " v" + std::to_string(version) + ": version not defined"};
}

} // namespace al::kafka
