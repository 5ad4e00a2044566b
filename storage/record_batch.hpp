#pragma once
// Records inside a Kafka RecordBatch v2: decoding a whole batch into record
// views, and building a batch from records. Grammar, attribute bits and a
// worked example: docs/formats/record-batch.md. The 61-byte header itself
// lives in batch_header.hpp, the codecs in compression.hpp.
//
//   Record =>
//     length          varint   bytes after this field
//     attributes      int8     unused, 0
//     timestampDelta  varlong  timestamp - batch baseTimestamp
//     offsetDelta     varint   offset - batch baseOffset
//     keyLength       varint   -1 = null key
//     key             byte[keyLength]
//     valueLength     varint   -1 = null value (a tombstone)
//     value           byte[valueLength]
//     headerCount     varint
//     Header* =>  headerKeyLength varint (>= 0), headerKey byte[],
//                 headerValueLength varint (-1 = null), headerValue byte[]
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/batch_header.hpp"
#include "storage/bytes.hpp"
#include "storage/compression.hpp"
#include "storage/status.hpp"

namespace al {

struct record_header {
  std::string_view key;
  std::optional<byte_view> value; ///< nullopt = null header value
};

/// One record of a decoded batch. Views point into decoded_batch::payload,
/// or into the input batch when it was not compressed.
struct record_view {
  int64_t offset = 0;
  /// CreateTime from the record, or the batch's maxTimestamp when the batch
  /// has LogAppendTime (as Kafka reports it).
  int64_t timestamp = 0;
  std::optional<byte_view> key;   ///< nullopt = null key
  std::optional<byte_view> value; ///< nullopt = tombstone
  std::vector<record_header> headers;
};

/// A batch with every record decoded. Move-only: the record views point into
/// `payload`, whose buffer a move keeps but a copy would not.
struct decoded_batch {
  batch_header header;
  bytes payload; ///< decompressed record bytes (empty when uncompressed)
  std::vector<record_view> records;

  decoded_batch() = default;
  decoded_batch(decoded_batch&&) = default;
  decoded_batch& operator=(decoded_batch&&) = default;
  decoded_batch(const decoded_batch&) = delete;
  decoded_batch& operator=(const decoded_batch&) = delete;
};

struct decode_options {
  /// Bound on the decompressed records section (MESSAGE_TOO_LARGE beyond).
  size_t max_decompressed_bytes = default_max_decompressed_bytes;
  /// Tools that want to look inside a batch with a bad CRC may turn this off.
  bool verify_crc = true;
};

/// Decodes the batch at the start of `batch` (bytes after its batchLength
/// are not looked at). Validates header + CRC, decompresses, decodes every
/// record: lengths checked against bounds, record count must match the
/// header, offset deltas strictly increasing and within lastOffsetDelta
/// (gaps allowed: compaction keeps original offsets), no bytes left over.
/// `where` names file + position in errors. The input must outlive the
/// result when the batch is uncompressed.
result<decoded_batch> decode_batch(byte_view batch, const std::string& where = "batch");
result<decoded_batch> decode_batch(byte_view batch, const decode_options& opts,
                                   const std::string& where = "batch");

/// What a leader checks in a producer's batch beyond its header (Kafka's
/// LogValidator): the same as decode_batch, plus the producer-facing limits
/// below. The defaults check nothing more than decode_batch does.
struct record_validation {
  /// A compacted topic: every record needs a key (INVALID_RECORD).
  bool require_keys = false;
  /// max.message.bytes: a larger batch is refused with MESSAGE_TOO_LARGE
  /// before its CRC is computed or anything is decompressed.
  size_t max_batch_bytes = std::numeric_limits<size_t>::max();
  /// Bound on the decompressed records (MESSAGE_TOO_LARGE beyond).
  size_t max_decompressed_bytes = default_max_decompressed_bytes;
  /// message.timestamp.before.max.ms / after.max.ms: a CreateTime record
  /// (or the batch's maxTimestamp) outside [now_ms - before, now_ms + after]
  /// is refused with INVALID_TIMESTAMP; -1 (no timestamp) is not checked.
  int64_t now_ms = 0;
  int64_t timestamp_before_max_ms = std::numeric_limits<int64_t>::max();
  int64_t timestamp_after_max_ms = std::numeric_limits<int64_t>::max();
};

/// Validates a batch exactly as decode_batch does (header, CRC, every record
/// within bounds, dense enough deltas, nothing left over) without building
/// record views: an uncompressed batch is walked in place and nothing is
/// allocated; a compressed one is decompressed into `scratch` (cleared
/// first; keep it across calls to reuse its capacity). Then the limits of
/// `opts`, with Kafka's codes (MESSAGE_TOO_LARGE, INVALID_RECORD,
/// INVALID_TIMESTAMP).
result<batch_header> validate_records(byte_view batch, const record_validation& opts,
                                      bytes& scratch, const std::string& where = "batch");

/// The producer sequence of the record at `offset_delta` (Kafka wraps it at
/// INT32_MAX), or no_sequence when the batch has none.
int32_t record_sequence(const batch_header& h, int32_t offset_delta);

struct batch_options {
  compression codec = compression::none;
  int64_t producer_id = no_producer_id;
  int16_t producer_epoch = no_producer_epoch;
  int32_t base_sequence = no_sequence;
  int32_t partition_leader_epoch = no_partition_leader_epoch;
  int64_t base_offset = 0;
  bool transactional = false;
  /// Sets the LogAppendTime attribute bit (readers then take every record's
  /// timestamp from maxTimestamp); used when rebuilding such a batch.
  bool log_append_time = false;
};

/// An allocator whose resize() leaves new bytes uninitialised (they are
/// written right after): zero-filling each record's bytes on resize was
/// 11 % of a producer's CPU appending small records to 10 000 partitions.
template <class T>
struct uninitialized_allocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = uninitialized_allocator<U>;
  };
  uninitialized_allocator() = default;
  template <class U>
  uninitialized_allocator(const uninitialized_allocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

/// Builds one RecordBatch v2 at a time. Records are encoded straight into one
/// reused buffer: after warm-up, append() allocates nothing. Timestamps:
/// baseTimestamp = first record's, maxTimestamp = the largest; records carry
/// deltas. An empty build() has count 0 and timestamps -1 (Kafka's NO_TIMESTAMP).
class batch_builder {
public:
  explicit batch_builder(batch_options opts = {});

  /// Appends with offset delta = previous + 1 (0 for the first record).
  void append(int64_t timestamp, std::optional<byte_view> key, std::optional<byte_view> value,
              const std::vector<record_header>& headers = {});

  /// Appends with an explicit offset delta, which must exceed the previous
  /// one (compaction keeps original offsets, so deltas can have gaps).
  void append_with_offset_delta(int32_t offset_delta, int64_t timestamp,
                                std::optional<byte_view> key, std::optional<byte_view> value,
                                const std::vector<record_header>& headers = {});

  size_t record_count() const { return size_t(count_); }
  /// Bytes of the batch so far, header included, before compression.
  size_t estimated_size() const { return buf_.size(); }
  bool empty() const { return count_ == 0; }

  /// The finished batch: header filled, records compressed, CRC set. The
  /// builder is then reset (same options, buffer capacity kept) for reuse.
  bytes build();

private:
  void reset();

  batch_options opts_;
  /// 61 header bytes (filled by build) + uncompressed records
  std::vector<uint8_t, uninitialized_allocator<uint8_t>> buf_;
  int32_t count_ = 0;
  int32_t last_offset_delta_ = -1;
  int64_t base_timestamp_ = -1;
  int64_t max_timestamp_ = -1;
};

} // namespace al
