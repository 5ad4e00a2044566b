#pragma once
// The two small files a controller voter keeps next to its metadata log
// segments (partition_log ignores names it does not know). Each is replaced
// atomically: write <name>.tmp, fsync, rename over <name>, fsync the
// directory, so a crash leaves the old or the new file, never a torn one.
// All integers big-endian; the CRC32C covers every byte before it.
//
//   quorum-state  (30 bytes): magic "ALQS" u32 | version u16 = 1 |
//                 term i64 | voted_for i32 | commit i64 | crc32c u32
//   raft.snapshot (30 + n):   magic "ALSN" u32 | version u16 = 1 |
//                 index i64 | term i64 | size u32 | data[size] | crc32c u32
#include <memory>
#include <optional>
#include <string>

#include "actors/controller/raft_messages.hpp"
#include "storage/status.hpp"

namespace al {

constexpr const char* quorum_state_file_name = "quorum-state";
constexpr const char* raft_snapshot_file_name = "raft.snapshot";

bytes encode_hard_state(const raft_hard_state& hs);
/// CORRUPT_MESSAGE naming `where` on a bad size, magic, version or CRC.
result<raft_hard_state> decode_hard_state(byte_view in, const std::string& where);
bytes encode_snapshot(const raft_snapshot& snap);
result<raft_snapshot> decode_snapshot(byte_view in, const std::string& where);

/// Replaces dir/name by `contents` atomically and durably (see above).
status write_file_atomically(const std::string& dir, const std::string& name, byte_view contents);

status write_hard_state(const std::string& dir, const raft_hard_state& hs);
/// nullopt when the file does not exist (a voter that never voted).
result<std::optional<raft_hard_state>> read_hard_state(const std::string& dir);
status write_snapshot(const std::string& dir, const raft_snapshot& snap);
/// nullptr when the file does not exist.
result<std::shared_ptr<const raft_snapshot>> read_snapshot(const std::string& dir);

} // namespace al
