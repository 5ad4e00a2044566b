#pragma once
// The controller's metadata image as snapshot bytes (CAF-free). This is the
// `data` of a Raft snapshot (raft_snapshot): written into
// `<index>-<term>.snapshot` files and sent to followers in install_snapshot.
// Integers big-endian; strings and lists carry a u32 length
// (metadata_codec_io.hpp):
//
//   version u8 = 2 | last_offset i64 | next_producer_id i64 |
//   brokers:  u32 n, n x (id i32 | host str | port u16 | fenced u8 | peer_port u16) |
//   incarnations: u32 n, n x (broker id i32 | incarnation i64) |
//   topics:   u32 n, n x (name str | topic_id str | configs (u32 n, n x (key str | value str)) |
//             partitions: u32 n, n x (partition i32 | leader i32 | leader_epoch i32 |
//                                     partition_epoch i32 | replicas (u32 n, n x i32) |
//                                     isr (u32 n, n x i32))) |
//   crc32c u32 over every byte before it
//
// Partition offsets (log start/end, high watermark) are live values the
// brokers report, not metadata: they are not stored and decode as -1.
// A new field in metadata_image or its parts needs a new version here.
// Version 1 (no peer_port) is still read, with peer_port = port.
#include <string>

#include "actors/controller/metadata_machine.hpp"
#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

/// 3: brokers carry their Kafka listener; 2 and 1 (before the peer
/// listener) still load.
constexpr uint8_t metadata_snapshot_version = 3;

bytes encode_image(const metadata_image& image);
/// CORRUPT_MESSAGE naming `where` and what is wrong: CRC mismatch, unknown
/// version, truncated, trailing bytes, or a map key that disagrees with
/// the entry it names.
result<metadata_image> decode_image(byte_view in, const std::string& where = "metadata snapshot");

} // namespace al
