// Decoding the records section of a RecordBatch v2 (grammar in record_batch.hpp).
// Every length is checked against the bytes that are actually there before it
// is used, and each record is parsed inside its own `length` bytes, so a
// corrupt batch ends in CORRUPT_MESSAGE, never in an overread.
#include <algorithm>
#include <limits>

#include "storage/record_batch.hpp"
#include "storage/varint.hpp"

namespace al {

namespace {

/// Smallest possible record: length, attributes, timestampDelta, offsetDelta,
/// keyLength, valueLength, headerCount, one byte each.
constexpr size_t min_record_size = 7;
/// Smallest possible header: keyLength 0 and valueLength -1, one byte each.
constexpr size_t min_header_size = 2;

/// Client fields (baseOffset, baseTimestamp) plus deltas: two's complement
/// wrap instead of signed overflow; a nonsense result is caught by the checks.
int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

/// a + b for b >= 0, stopping at INT64_MAX.
int64_t saturating_add(int64_t a, int64_t b) {
  return a > std::numeric_limits<int64_t>::max() - b ? std::numeric_limits<int64_t>::max()
                                                     : a + b;
}

/// Reads the fields of one record inside [p, end); on failure `problem`
/// says which field and why.
class field_reader {
public:
  field_reader(const uint8_t* p, const uint8_t* end) : p_(p), end_(end) {}

  const uint8_t* pos() const { return p_; }
  size_t left() const { return size_t(end_ - p_); }
  const std::string& problem() const { return problem_; }

  bool int8(const char* field, int8_t& out) {
    if (p_ == end_)
      return fail(field, "is missing");
    out = static_cast<int8_t>(*p_++);
    return true;
  }

  bool varint(const char* field, int32_t& out) {
    auto e = read_varint(p_, end_, out);
    return e == varint_error::none || fail(field, std::string("varint is ") + to_string(e));
  }

  bool varlong(const char* field, int64_t& out) {
    auto e = read_varlong(p_, end_, out);
    return e == varint_error::none || fail(field, std::string("varlong is ") + to_string(e));
  }

  /// A varint length then that many bytes; -1 means null when `nullable`.
  bool sized_bytes(const char* field, bool nullable, std::optional<byte_view>& out) {
    int32_t len = 0;
    if (!varint(field, len))
      return false;
    if (len == -1 && nullable) {
      out.reset();
      return true;
    }
    if (len < 0)
      return fail(field, "length " + std::to_string(len) + " is negative");
    if (size_t(len) > left())
      return fail(field, "length " + std::to_string(len) + " runs past the record (" +
                           std::to_string(left()) + " bytes left)");
    out = byte_view{p_, size_t(len)};
    p_ += len;
    return true;
  }

  bool fail(const char* field, const std::string& why) {
    problem_ = std::string(field) + " " + why;
    return false;
  }

private:
  const uint8_t* p_;
  const uint8_t* end_;
  std::string problem_;
};

/// Reads (into *out) or, with out == nullptr, only checks the headers.
bool read_headers(field_reader& in, std::vector<record_header>* out) {
  int32_t count = 0;
  if (!in.varint("headerCount", count))
    return false;
  if (count < 0 || size_t(count) > in.left() / min_header_size)
    return in.fail("headerCount", std::to_string(count) + " cannot fit in the " +
                                    std::to_string(in.left()) + " bytes left");
  if (out)
    out->reserve(size_t(count));
  for (int32_t i = 0; i < count; ++i) {
    std::optional<byte_view> key;
    record_header h;
    if (!in.sized_bytes("headerKey", false, key) || !in.sized_bytes("headerValue", true, h.value))
      return false;
    h.key = key->as_string();
    if (out)
      out->push_back(h);
  }
  return true;
}

/// Parses one record body (the bytes its length field covers).
bool read_record_body(field_reader& in, const batch_header& h, record_view& r,
                      int32_t& offset_delta, bool keep_headers) {
  int8_t attributes = 0;
  int64_t timestamp_delta = 0;
  if (!in.int8("attributes", attributes) || !in.varlong("timestampDelta", timestamp_delta) ||
      !in.varint("offsetDelta", offset_delta) || !in.sized_bytes("key", true, r.key) ||
      !in.sized_bytes("value", true, r.value) ||
      !read_headers(in, keep_headers ? &r.headers : nullptr))
    return false;
  r.offset = wrapping_add(h.base_offset, offset_delta);
  r.timestamp = (h.attributes & batch_attr::log_append_time)
                  ? h.max_timestamp
                  : wrapping_add(h.base_timestamp, timestamp_delta);
  if (in.left() != 0)
    return in.fail("length", "leaves " + std::to_string(in.left()) +
                               " bytes after the last header unread");
  return true;
}

/// Walks every record of a batch's (decompressed) records section, reusing
/// one record_view: `visit(record_view&)` sees each record in turn and may
/// move from it. Record headers are checked always, collected into the view
/// only with `keep_headers`; without, the walk allocates nothing (but the
/// error text on failure).
template <class Visit>
status walk_records(byte_view records, const batch_header& h, const std::string& where,
                    bool keep_headers, Visit&& visit) {
  auto at = [&](size_t i, size_t pos) {
    return where + ": record " + std::to_string(i) + " (byte " + std::to_string(pos) +
           " of the records): ";
  };
  if (size_t(h.records_count) > records.size / min_record_size)
    return {errc::corrupt_message,
            where + ": record count " + std::to_string(h.records_count) + " cannot fit in " +
              std::to_string(records.size) + " bytes of records"};
  const uint8_t* p = records.data;
  const uint8_t* end = records.end();
  int32_t previous_delta = -1;
  record_view r;
  for (int32_t i = 0; i < h.records_count; ++i) {
    size_t pos = size_t(p - records.data);
    field_reader length_in(p, end);
    int32_t length = 0;
    if (!length_in.varint("length", length))
      return {errc::corrupt_message, at(i, pos) + length_in.problem()};
    const uint8_t* body = length_in.pos();
    if (length < 0 || size_t(length) > size_t(end - body))
      return {errc::corrupt_message,
              at(i, pos) + "length " + std::to_string(length) + " runs past the records (" +
                std::to_string(end - body) + " bytes left)"};
    field_reader in(body, body + length);
    r.headers.clear();
    int32_t delta = 0;
    if (!read_record_body(in, h, r, delta, keep_headers))
      return {errc::corrupt_message, at(i, pos) + in.problem()};
    if (delta <= previous_delta || delta > h.last_offset_delta)
      return {errc::corrupt_message,
              at(i, pos) + "offsetDelta " + std::to_string(delta) + " after " +
                std::to_string(previous_delta) + " is not increasing within lastOffsetDelta " +
                std::to_string(h.last_offset_delta)};
    previous_delta = delta;
    if (auto st = visit(r); !st)
      return {st.code(), at(i, pos) + st.message()};
    p = body + length;
  }
  if (p != end)
    return {errc::corrupt_message,
            where + ": " + std::to_string(end - p) + " bytes after the last of " +
              std::to_string(h.records_count) + " records (record count too small?)"};
  return status::ok();
}

/// The records section of a validated header: in place when uncompressed,
/// else decompressed into `scratch` (appended after clearing it).
result<byte_view> records_section(byte_view batch, const batch_header& h, size_t max_bytes,
                                  bytes& scratch, const std::string& where) {
  byte_view records = batch.sub(batch_layout::header_size,
                                h.size_in_bytes() - batch_layout::header_size);
  // An empty batch (compaction removed every record) may keep its codec bit
  // with no compressed stream at all.
  if (h.codec() == compression::none || (h.records_count == 0 && records.empty()))
    return records;
  scratch.clear();
  if (auto st = decompress(h.codec(), records, scratch, max_bytes, where); !st)
    return st;
  return byte_view{scratch};
}

} // namespace

int32_t record_sequence(const batch_header& h, int32_t offset_delta) {
  if (h.base_sequence < 0)
    return no_sequence;
  int64_t seq = int64_t(h.base_sequence) + offset_delta;
  if (seq > std::numeric_limits<int32_t>::max())
    seq -= int64_t(std::numeric_limits<int32_t>::max()) + 1;
  return static_cast<int32_t>(seq);
}

result<decoded_batch> decode_batch(byte_view batch, const std::string& where) {
  return decode_batch(batch, decode_options{}, where);
}

result<decoded_batch> decode_batch(byte_view batch, const decode_options& opts,
                                   const std::string& where) {
  auto h = opts.verify_crc ? validate_batch(batch, where) : parse_batch_header(batch, where);
  if (!h)
    return h.error();
  decoded_batch out;
  out.header = *h;
  auto records = records_section(batch, *h, opts.max_decompressed_bytes, out.payload, where);
  if (!records)
    return records.error();
  out.records.reserve(std::min(size_t(std::max<int32_t>(h->records_count, 0)),
                               records->size / min_record_size));
  auto st = walk_records(*records, out.header, where, true, [&](record_view& r) {
    out.records.push_back(std::move(r));
    return status::ok();
  });
  if (!st)
    return st;
  return out;
}

namespace {

/// Kafka's LogValidator.validateTimestamp for CreateTime: now - before <=
/// timestamp <= now + after, unless the record has no timestamp (-1).
class timestamp_bounds {
public:
  // With now >= 0 and before >= 0, now - before cannot overflow. The
  // default, INT64_MAX, means no bound (as Kafka's wrapping Long arithmetic
  // gives it).
  explicit timestamp_bounds(const record_validation& opts)
    : lowest_(opts.timestamp_before_max_ms == std::numeric_limits<int64_t>::max()
                ? std::numeric_limits<int64_t>::min()
                : std::max<int64_t>(opts.now_ms, 0) -
                    std::max<int64_t>(opts.timestamp_before_max_ms, 0)),
      highest_(saturating_add(std::max<int64_t>(opts.now_ms, 0),
                              std::max<int64_t>(opts.timestamp_after_max_ms, 0))) {}

  status check(int64_t timestamp, const char* what) const {
    if (timestamp == -1 || (timestamp >= lowest_ && timestamp <= highest_))
      return status::ok();
    return {errc::invalid_timestamp, std::string(what) + " " + std::to_string(timestamp) +
                                       " is out of range [" + std::to_string(lowest_) + ", " +
                                       std::to_string(highest_) +
                                       "] (message.timestamp.before/after.max.ms)"};
  }

private:
  int64_t lowest_;
  int64_t highest_;
};

} // namespace

result<batch_header> validate_records(byte_view batch, const record_validation& opts,
                                      bytes& scratch, const std::string& where) {
  // Before the CRC and before decompressing (Kafka checks the size first).
  if (batch.size > opts.max_batch_bytes)
    return status{errc::message_too_large,
                  where + ": batch of " + std::to_string(batch.size) +
                    " bytes exceeds max.message.bytes " + std::to_string(opts.max_batch_bytes)};
  auto h = validate_batch(batch, where);
  if (!h)
    return h;
  const bool create_time = !(h->attributes & batch_attr::log_append_time);
  const timestamp_bounds bounds(opts);
  if (create_time)
    if (auto st = bounds.check(h->max_timestamp, "maxTimestamp"); !st)
      return status{st.code(), where + ": " + st.message()};
  auto records = records_section(batch, *h, opts.max_decompressed_bytes, scratch, where);
  if (!records)
    return records.error();
  auto st = walk_records(*records, *h, where, false, [&](const record_view& r) {
    if (opts.require_keys && !r.key)
      return status{errc::invalid_record, "a compacted topic requires a key for every record"};
    if (create_time)
      return bounds.check(r.timestamp, "timestamp");
    return status::ok();
  });
  if (!st)
    return st;
  return h;
}

} // namespace al
