#pragma once
// Snappy as Kafka clients write it: a raw snappy block (librdkafka), or the
// xerial stream framing of snappy-java (Java clients):
//
//   header  0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00   magic, 8 bytes
//           int32 version (1), int32 min compatible version (1), big-endian
//   chunk*  int32 big-endian compressed length, then one raw snappy block
//
// Readers tell the two apart by the magic (as snappy-java itself does); a
// header may repeat between chunks when streams were concatenated.
// compression.hpp is the public entry point; this is its snappy part.
#include <cstddef>
#include <string>

#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

/// Bytes of input per xerial chunk (snappy-java's default block size).
constexpr size_t xerial_chunk_size = 32 * 1024;

void snappy_raw_compress(byte_view in, bytes& out);
void snappy_xerial_compress(byte_view in, bytes& out, size_t chunk_size = xerial_chunk_size);

/// Decodes either form, appending at most `limit` bytes to `out`.
status snappy_decompress(byte_view in, bytes& out, size_t limit, const std::string& where);

} // namespace al
