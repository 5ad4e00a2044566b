#pragma once
// Kafka's five batch compression codecs, applied to the records section of a
// RecordBatch v2 (everything after the 61-byte header). Wire formats, as Kafka
// clients write them (docs/formats/record-batch.md, "Compression"):
//
//   gzip    RFC 1952 gzip stream (zlib's gzip wrapper); concatenated members ok
//   snappy  raw snappy block (librdkafka), or xerial framing (Java clients):
//             0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, int32 version, int32 compat,
//             then repeated [int32 big-endian length][raw snappy block]
//           read: both, told apart by the magic; write: raw unless asked.
//   lz4     LZ4 frame format (magic 0x184D2204), independent 64 KiB blocks,
//           no content size, as Kafka >= 0.10 and librdkafka write it. The
//           pre-0.10 Kafka variant with a wrong header checksum is rejected.
//   zstd    zstd frame(s); decoded as a stream since the frame may not say
//           its content size.
//
// Decompression stops with MESSAGE_TOO_LARGE as soon as the output would pass
// `max_output_bytes` (garbage: CORRUPT_MESSAGE): a zip bomb cannot exhaust
// memory. The output buffer grows by doubling, so a failed attempt holds at
// most about 1.5 times the bound at once.
#include <cstddef>
#include <cstdint>

#include "storage/batch_header.hpp"
#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

/// Default bound on one batch's decompressed records when reading a log
/// (Kafka's default max.message.bytes is ~1 MiB compressed; 256 MiB leaves
/// room for 250:1).
constexpr size_t default_max_decompressed_bytes = size_t(256) << 20;

/// Bound on the decompressed records of a batch a producer sends: 4 times
/// its topic's max.message.bytes, but at least 64 MiB (text compresses about
/// 10:1) and at most default_max_decompressed_bytes.
constexpr size_t produce_max_decompressed_bytes(int64_t max_message_bytes) {
  constexpr size_t floor = size_t(64) << 20;
  size_t scaled = max_message_bytes > 0 ? size_t(max_message_bytes) * 4 : 0;
  return scaled < floor                            ? floor
         : scaled > default_max_decompressed_bytes ? default_max_decompressed_bytes
                                                   : scaled;
}

struct compress_options {
  /// Codec level; 0 means the library's default (Kafka's default too).
  int level = 0;
  /// Snappy only: write xerial framing (as Java clients) instead of a raw block.
  bool snappy_xerial = false;
};

/// Appends `codec`-compressed `in` to `out`. compression::none copies.
status compress(compression codec, byte_view in, bytes& out, const compress_options& opts = {});

/// Appends the decompressed form of `in` to `out`; fails with CORRUPT_MESSAGE
/// (message names `where` and the codec) on malformed input, with
/// MESSAGE_TOO_LARGE when more than `max_output_bytes` would be appended.
status decompress(compression codec, byte_view in, bytes& out,
                  size_t max_output_bytes = default_max_decompressed_bytes,
                  const std::string& where = "batch");

/// Whether `in` starts with the xerial snappy stream header.
bool is_xerial_snappy(byte_view in);

} // namespace al
