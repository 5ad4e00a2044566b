#pragma once
// Kafka RecordBatch v2 (magic 2) header: layout, parsing, validation and the
// two fields a broker stamps in place (base offset, partition leader epoch),
// which the CRC does not cover. Format: docs/formats/record-batch.md.
//
//   offset size field
//        0    8 baseOffset              (not covered by CRC)
//        8    4 batchLength = bytes after this field
//       12    4 partitionLeaderEpoch    (not covered by CRC)
//       16    1 magic (=2)
//       17    4 crc  = CRC32C(bytes 21 .. end)
//       21    2 attributes
//       23    4 lastOffsetDelta
//       27    8 baseTimestamp
//       35    8 maxTimestamp
//       43    8 producerId
//       51    2 producerEpoch
//       53    4 baseSequence
//       57    4 recordsCount
//       61      records (possibly compressed)
#include <cstdint>
#include <string>

#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

namespace batch_layout {
constexpr size_t base_offset = 0;
constexpr size_t batch_length = 8;
constexpr size_t partition_leader_epoch = 12;
constexpr size_t magic = 16;
constexpr size_t crc = 17;
constexpr size_t attributes = 21;
constexpr size_t last_offset_delta = 23;
constexpr size_t base_timestamp = 27;
constexpr size_t max_timestamp = 35;
constexpr size_t producer_id = 43;
constexpr size_t producer_epoch = 51;
constexpr size_t base_sequence = 53;
constexpr size_t records_count = 57;
constexpr size_t header_size = 61;
/// Bytes before batchLength's count starts (baseOffset + batchLength).
constexpr size_t log_overhead = 12;
} // namespace batch_layout

constexpr int8_t current_magic = 2;
constexpr int64_t no_producer_id = -1;
constexpr int16_t no_producer_epoch = -1;
constexpr int32_t no_sequence = -1;
constexpr int32_t no_partition_leader_epoch = -1;

enum class compression : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

/// "none", "gzip", "snappy", "lz4", "zstd" (Kafka's compression.type names).
const char* to_string(compression c);
/// Parses a compression.type name; false if unknown.
bool parse_compression(std::string_view name, compression& out);

namespace batch_attr {
constexpr int16_t compression_mask = 0x07;
constexpr int16_t log_append_time = 0x08;
constexpr int16_t transactional = 0x10;
constexpr int16_t control = 0x20;
constexpr int16_t delete_horizon = 0x40;
} // namespace batch_attr

struct batch_header {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = no_partition_leader_epoch;
  int8_t magic = current_magic;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = no_producer_id;
  int16_t producer_epoch = no_producer_epoch;
  int32_t base_sequence = no_sequence;
  int32_t records_count = 0;

  /// Total bytes of the batch on disk / on the wire.
  size_t size_in_bytes() const { return batch_layout::log_overhead + size_t(batch_length); }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
  int64_t next_offset() const { return last_offset() + 1; }
  compression codec() const { return compression(attributes & batch_attr::compression_mask); }
  bool is_transactional() const { return attributes & batch_attr::transactional; }
  bool is_control() const { return attributes & batch_attr::control; }
  bool has_producer_id() const { return producer_id >= 0; }
  /// Sequence number of the last record (wraps like Kafka's at INT32_MAX).
  int32_t last_sequence() const;
};

/// Reads the header fields without validating anything beyond the size.
/// Requires bytes.size >= batch_layout::header_size.
batch_header read_batch_header(const uint8_t* bytes);

/// Parses and checks the header of the batch starting at `bytes`: enough
/// bytes for the header, magic 2, a batchLength that covers the header and
/// fits in `bytes`, a sane lastOffsetDelta and record count. Does not check
/// the CRC. `where` names the source in errors (e.g. "00000.log position 4096").
result<batch_header> parse_batch_header(byte_view in, const std::string& where = "batch");

/// CRC32C over attributes..end, as stored in the crc field.
uint32_t compute_batch_crc(byte_view batch);

/// Full header-level validation: parse_batch_header plus the CRC.
result<batch_header> validate_batch(byte_view in, const std::string& where = "batch");

/// Broker-side stamping: these fields are outside the CRC, so the payload
/// and the CRC stay untouched.
void stamp_base_offset(uint8_t* batch, int64_t base_offset);
void stamp_partition_leader_epoch(uint8_t* batch, int32_t epoch);

/// Rewrites the crc field from the current bytes (after building a batch).
void write_batch_crc(uint8_t* batch, size_t size);

} // namespace al
