#include "storage/batch_header.hpp"

#include <limits>

#include "storage/crc32c.hpp"

namespace al {

const char* to_string(compression c) {
  switch (c) {
    case compression::none: return "none";
    case compression::gzip: return "gzip";
    case compression::snappy: return "snappy";
    case compression::lz4: return "lz4";
    case compression::zstd: return "zstd";
  }
  return "unknown";
}

bool parse_compression(std::string_view name, compression& out) {
  for (auto c : {compression::none, compression::gzip, compression::snappy, compression::lz4,
                 compression::zstd}) {
    if (name == to_string(c)) {
      out = c;
      return true;
    }
  }
  return false;
}

int32_t batch_header::last_sequence() const {
  if (base_sequence < 0)
    return no_sequence;
  int64_t last = int64_t(base_sequence) + last_offset_delta;
  if (last > std::numeric_limits<int32_t>::max())
    last -= int64_t(std::numeric_limits<int32_t>::max()) + 1;
  return static_cast<int32_t>(last);
}

batch_header read_batch_header(const uint8_t* p) {
  namespace L = batch_layout;
  batch_header h;
  h.base_offset = load_be<int64_t>(p + L::base_offset);
  h.batch_length = load_be<int32_t>(p + L::batch_length);
  h.partition_leader_epoch = load_be<int32_t>(p + L::partition_leader_epoch);
  h.magic = static_cast<int8_t>(p[L::magic]);
  h.crc = load_be<uint32_t>(p + L::crc);
  h.attributes = load_be<int16_t>(p + L::attributes);
  h.last_offset_delta = load_be<int32_t>(p + L::last_offset_delta);
  h.base_timestamp = load_be<int64_t>(p + L::base_timestamp);
  h.max_timestamp = load_be<int64_t>(p + L::max_timestamp);
  h.producer_id = load_be<int64_t>(p + L::producer_id);
  h.producer_epoch = load_be<int16_t>(p + L::producer_epoch);
  h.base_sequence = load_be<int32_t>(p + L::base_sequence);
  h.records_count = load_be<int32_t>(p + L::records_count);
  return h;
}

result<batch_header> parse_batch_header(byte_view in, const std::string& where) {
  namespace L = batch_layout;
  if (in.size < L::header_size)
    return status{errc::corrupt_message,
                  where + ": " + std::to_string(in.size) +
                    " bytes left, less than the 61-byte batch header"};
  auto h = read_batch_header(in.data);
  if (h.magic != current_magic)
    return status{errc::corrupt_message,
                  where + ": magic " + std::to_string(int(h.magic)) + ", expected 2"};
  if (h.batch_length < int32_t(L::header_size - L::log_overhead))
    return status{errc::corrupt_message,
                  where + ": batchLength " + std::to_string(h.batch_length) +
                    " is shorter than the batch header"};
  if (h.size_in_bytes() > in.size)
    return status{errc::corrupt_message, where + ": batchLength " +
                                           std::to_string(h.batch_length) +
                                           " runs past the end (" +
                                           std::to_string(in.size) + " bytes available)"};
  if (h.records_count < 0 || h.last_offset_delta < 0 ||
      (h.records_count > 0 && h.last_offset_delta < h.records_count - 1))
    return status{errc::corrupt_message,
                  where + ": record count " + std::to_string(h.records_count) +
                    " does not fit lastOffsetDelta " + std::to_string(h.last_offset_delta)};
  // last_offset()/next_offset() must not overflow (a client's base offset
  // is overwritten by the leader, but the header is read before that).
  if (h.base_offset < 0 ||
      h.base_offset > std::numeric_limits<int64_t>::max() - 1 - int64_t(h.last_offset_delta))
    return status{errc::corrupt_message,
                  where + ": baseOffset " + std::to_string(h.base_offset) + " + lastOffsetDelta " +
                    std::to_string(h.last_offset_delta) + " is not a valid offset range"};
  if ((h.attributes & batch_attr::compression_mask) > int16_t(compression::zstd))
    return status{errc::unsupported_compression_type,
                  where + ": compression code " +
                    std::to_string(h.attributes & batch_attr::compression_mask)};
  return h;
}

uint32_t compute_batch_crc(byte_view batch) {
  AL_ASSERT(batch.size >= batch_layout::header_size, batch.size);
  return crc32c(batch.data + batch_layout::attributes, batch.size - batch_layout::attributes);
}

result<batch_header> validate_batch(byte_view in, const std::string& where) {
  auto h = parse_batch_header(in, where);
  if (!h)
    return h;
  auto crc = compute_batch_crc(in.sub(0, h->size_in_bytes()));
  if (crc != h->crc) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), ": CRC mismatch (stored 0x%08x, computed 0x%08x)", h->crc,
                  crc);
    return status{errc::corrupt_message, where + buf};
  }
  return h;
}

void stamp_base_offset(uint8_t* batch, int64_t base_offset) {
  store_be<int64_t>(batch + batch_layout::base_offset, base_offset);
}

void stamp_partition_leader_epoch(uint8_t* batch, int32_t epoch) {
  store_be<int32_t>(batch + batch_layout::partition_leader_epoch, epoch);
}

void write_batch_crc(uint8_t* batch, size_t size) {
  store_be<uint32_t>(batch + batch_layout::crc, compute_batch_crc({batch, size}));
}

} // namespace al
