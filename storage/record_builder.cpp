// batch_builder: encodes records straight into one reused buffer that starts
// with room for the 61-byte header; build() fills the header, compresses the
// records section if asked, and sets the CRC (grammar in record_batch.hpp).
#include <limits>

#include "storage/record_batch.hpp"
#include "storage/varint.hpp"

namespace al {

namespace {

constexpr size_t max_int32 = size_t(std::numeric_limits<int32_t>::max());

int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

/// Encoded size of a varint length plus the bytes (-1 for null).
size_t sized_bytes_size(const std::optional<byte_view>& b) {
  if (!b)
    return varint_size(-1);
  AL_ASSERT(b->size <= max_int32, b->size);
  return varint_size(int32_t(b->size)) + b->size;
}

uint8_t* write_sized_bytes(uint8_t* p, const std::optional<byte_view>& b) {
  if (!b)
    return write_varint(p, -1);
  p = write_varint(p, int32_t(b->size));
  if (b->size > 0)
    std::memcpy(p, b->data, b->size);
  return p + b->size;
}

void write_header(uint8_t* p, const batch_header& h) {
  namespace L = batch_layout;
  store_be<int64_t>(p + L::base_offset, h.base_offset);
  store_be<int32_t>(p + L::batch_length, h.batch_length);
  store_be<int32_t>(p + L::partition_leader_epoch, h.partition_leader_epoch);
  p[L::magic] = static_cast<uint8_t>(h.magic);
  store_be<uint32_t>(p + L::crc, 0);
  store_be<int16_t>(p + L::attributes, h.attributes);
  store_be<int32_t>(p + L::last_offset_delta, h.last_offset_delta);
  store_be<int64_t>(p + L::base_timestamp, h.base_timestamp);
  store_be<int64_t>(p + L::max_timestamp, h.max_timestamp);
  store_be<int64_t>(p + L::producer_id, h.producer_id);
  store_be<int16_t>(p + L::producer_epoch, h.producer_epoch);
  store_be<int32_t>(p + L::base_sequence, h.base_sequence);
  store_be<int32_t>(p + L::records_count, h.records_count);
}

} // namespace

batch_builder::batch_builder(batch_options opts) : opts_(opts) {
  AL_ASSERT(int(opts_.codec) <= int(compression::zstd), int(opts_.codec));
  reset();
}

void batch_builder::reset() {
  buf_.resize(batch_layout::header_size); // capacity stays
  count_ = 0;
  last_offset_delta_ = -1;
  base_timestamp_ = -1;
  max_timestamp_ = -1;
}

void batch_builder::append(int64_t timestamp, std::optional<byte_view> key,
                           std::optional<byte_view> value,
                           const std::vector<record_header>& headers) {
  AL_ASSERT(last_offset_delta_ < std::numeric_limits<int32_t>::max(), last_offset_delta_);
  append_with_offset_delta(last_offset_delta_ + 1, timestamp, key, value, headers);
}

void batch_builder::append_with_offset_delta(int32_t offset_delta, int64_t timestamp,
                                             std::optional<byte_view> key,
                                             std::optional<byte_view> value,
                                             const std::vector<record_header>& headers) {
  AL_ASSERT(offset_delta > last_offset_delta_, offset_delta, last_offset_delta_);
  if (count_ == 0)
    base_timestamp_ = max_timestamp_ = timestamp;
  int64_t timestamp_delta = wrapping_sub(timestamp, base_timestamp_);

  size_t body = 1 + varlong_size(timestamp_delta) + varint_size(offset_delta) +
                sized_bytes_size(key) + sized_bytes_size(value);
  AL_ASSERT(headers.size() <= max_int32, headers.size());
  body += varint_size(int32_t(headers.size()));
  for (const auto& h : headers)
    body += sized_bytes_size(byte_view{h.key}) + sized_bytes_size(h.value);
  AL_ASSERT(body <= max_int32 && buf_.size() + body + max_varint_size <= max_int32, body,
            buf_.size());

  size_t at = buf_.size();
  size_t total = varint_size(int32_t(body)) + body;
  buf_.resize(at + total);
  uint8_t* p = buf_.data() + at;
  p = write_varint(p, int32_t(body));
  *p++ = 0; // record attributes: unused in v2
  p = write_varlong(p, timestamp_delta);
  p = write_varint(p, offset_delta);
  p = write_sized_bytes(p, key);
  p = write_sized_bytes(p, value);
  p = write_varint(p, int32_t(headers.size()));
  for (const auto& h : headers) {
    p = write_sized_bytes(p, byte_view{h.key});
    p = write_sized_bytes(p, h.value);
  }
  AL_ASSERT(p == buf_.data() + buf_.size(), size_t(p - buf_.data()), buf_.size());

  ++count_;
  last_offset_delta_ = offset_delta;
  if (timestamp > max_timestamp_)
    max_timestamp_ = timestamp;
}

bytes batch_builder::build() {
  namespace L = batch_layout;
  bytes out;
  if (opts_.codec == compression::none) {
    out.assign(buf_.begin(), buf_.end()); // one exact-size copy; buf_ keeps its capacity
  } else {
    out.reserve(L::header_size + (buf_.size() - L::header_size) / 2 + 64);
    out.resize(L::header_size);
    if (count_ > 0) {
      auto st = compress(opts_.codec, byte_view{buf_.data() + L::header_size, buf_.size() - L::header_size}, out);
      AL_ASSERT(st.is_ok(), st.to_string());
    }
  }
  AL_ASSERT(out.size() - L::log_overhead <= max_int32, out.size());

  batch_header h;
  h.base_offset = opts_.base_offset;
  h.batch_length = int32_t(out.size() - L::log_overhead);
  h.partition_leader_epoch = opts_.partition_leader_epoch;
  h.attributes = int16_t(int16_t(opts_.codec) |
                         (opts_.transactional ? batch_attr::transactional : int16_t(0)) |
                         (opts_.log_append_time ? batch_attr::log_append_time : int16_t(0)));
  h.last_offset_delta = count_ > 0 ? last_offset_delta_ : 0;
  h.base_timestamp = base_timestamp_;
  h.max_timestamp = max_timestamp_;
  h.producer_id = opts_.producer_id;
  h.producer_epoch = opts_.producer_epoch;
  h.base_sequence = opts_.base_sequence;
  h.records_count = count_;
  write_header(out.data(), h);
  write_batch_crc(out.data(), out.size());
  reset();
  return out;
}

} // namespace al
