#pragma once
// Primitives of the Kafka wire protocol, used by the generated codecs
// (kafka/protocol/generated/). Format: docs/formats/kafka-codecs.md.
//
// All integers are big-endian. Classic strings are int16 length + bytes
// (-1 = null), classic bytes and arrays int32 length + data (-1 = null).
// Compact (flexible-version) strings, bytes and arrays carry an unsigned
// varint of length + 1 (0 = null). Tagged-field sections are an unsigned
// varint count, then per field an unsigned varint tag, an unsigned varint
// size and that many bytes.
//
// `reader` never reads past its end, and refuses a length larger than the
// bytes remaining before it allocates anything: a hostile length costs an
// error, not memory. Errors name the primitive only; the generated code
// prefixes the field path ("topic_data[0].name: ...").
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/status.hpp"

namespace al::kafka {

struct uuid {
  std::array<uint8_t, 16> bytes{};
  bool operator==(const uuid& o) const { return bytes == o.bytes; }
  bool operator!=(const uuid& o) const { return !(*this == o); }
};

/// A RecordBatch blob (type `records`), NOT owned: it points into the buffer
/// the request was decoded from and is valid only as long as that buffer.
/// Produce payloads are never copied by the codec.
struct records_view {
  const uint8_t* data = nullptr;
  size_t size = 0;
  bool is_null = true;

  static records_view null() { return {}; }
  static records_view of(const uint8_t* d, size_t n) { return {d, n, false}; }
  /// Compares the referenced bytes, not the pointers.
  bool operator==(const records_view& o) const;
  bool operator!=(const records_view& o) const { return !(*this == o); }
};

class reader {
public:
  reader(const uint8_t* data, size_t size) : p_(data), end_(data + size), begin_(data) {}
  explicit reader(const std::vector<uint8_t>& buf) : reader(buf.data(), buf.size()) {}

  size_t remaining() const { return size_t(end_ - p_); }
  size_t position() const { return size_t(p_ - begin_); }
  const uint8_t* current() const { return p_; }

  status read_int8(int8_t& v);
  status read_int16(int16_t& v);
  status read_int32(int32_t& v);
  status read_int64(int64_t& v);
  status read_uint16(uint16_t& v);
  status read_uint32(uint32_t& v);
  status read_float64(double& v);
  status read_bool(bool& v);
  status read_uuid(uuid& v);
  status read_unsigned_varint(uint32_t& v);
  status read_varint(int32_t& v);
  status read_varlong(int64_t& v);

  status read_string(std::string& v, bool compact);
  status read_nullable_string(std::optional<std::string>& v, bool compact);
  status read_bytes(std::vector<uint8_t>& v, bool compact);
  status read_nullable_bytes(std::optional<std::vector<uint8_t>>& v, bool compact);
  /// Points `v` into this reader's buffer (no copy).
  status read_records(records_view& v, bool compact);

  /// Array element count; -1 means null. Refused when the count times
  /// `min_element_size` exceeds the bytes remaining.
  status read_array_length(int32_t& n, bool compact, size_t min_element_size);

  /// A tagged field's header; `size` is checked against the bytes remaining.
  status read_tag_header(uint32_t& tag, uint32_t& size);
  /// Reads a tagged-field section and skips every field in it.
  status skip_tagged_fields();
  /// A reader over the next `n` bytes (n <= remaining()), then skips them here.
  reader split(size_t n);
  status skip(size_t n);

private:
  status need(size_t n, const char* what) const;
  status read_length(int64_t& len, bool compact, bool wide, const char* what);

  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
};

class writer {
public:
  explicit writer(std::vector<uint8_t>& out) : out_(out) {}

  size_t size() const { return out_.size(); }
  std::vector<uint8_t>& buffer() { return out_; }

  void write_int8(int8_t v) { out_.push_back(uint8_t(v)); }
  void write_int16(int16_t v);
  void write_int32(int32_t v);
  void write_int64(int64_t v);
  void write_uint16(uint16_t v);
  void write_uint32(uint32_t v);
  void write_float64(double v);
  void write_bool(bool v) { out_.push_back(v ? 1 : 0); }
  void write_uuid(const uuid& v);
  void write_unsigned_varint(uint32_t v);
  void write_varint(int32_t v);
  void write_varlong(int64_t v);

  /// Fails (invalid_request) when a classic string exceeds 32767 bytes.
  status write_string(std::string_view v, bool compact);
  status write_nullable_string(const std::optional<std::string>& v, bool compact);
  void write_bytes(const std::vector<uint8_t>& v, bool compact);
  void write_nullable_bytes(const std::optional<std::vector<uint8_t>>& v, bool compact);
  /// Appends the referenced bytes.
  void write_records(const records_view& v, bool compact);
  /// `n` = -1 writes null.
  void write_array_length(int64_t n, bool compact);
  void write_raw(const uint8_t* data, size_t n) { out_.insert(out_.end(), data, data + n); }

private:
  void write_length(int64_t n, bool compact, bool wide);

  std::vector<uint8_t>& out_;
};

/// "name: msg" for a failed leaf field.
status at_field(const status& s, const char* name);
/// "name.msg" for a failed field inside a struct field.
status at_struct(const status& s, const char* name);
/// "name[i].msg" (struct elements) or "name[i]: msg" (primitive elements).
status at_index(const status& s, const char* name, size_t i, bool struct_element);
/// "Produce v9 msg".
status at_message(const status& s, const char* api, int16_t version);
status unsupported_version(const char* api, int16_t version);

} // namespace al::kafka
