#pragma once
// The two small files a controller voter keeps next to its metadata log
// segments (partition_log ignores names it does not know). Each is replaced
// atomically: write <name>.tmp, fsync, rename over <name>, fsync the
// directory, so a crash leaves the old or the new file, never a torn one.
// All integers big-endian; the CRC32C covers every byte before it.
//
//   quorum-state  (30 bytes): magic "ALQS" u32 | version u16 = 1 |
//                 term i64 | voted_for i32 | commit i64 | crc32c u32
//   <index>-<term>.snapshot (30 + n): magic "ALSN" u32 | version u16 = 1 |
//                 index i64 | term i64 | size u32 | data[size] | crc32c u32
// Snapshot files are named by the last entry they cover, zero-padded
// (00000000000000001000-0000000003.snapshot) so that names sort by index;
// the controller puts its encoded metadata image in `data`
// (metadata_snapshot.hpp).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/controller/raft_messages.hpp"
#include "storage/status.hpp"

namespace al {

constexpr const char* quorum_state_file_name = "quorum-state";
constexpr const char* snapshot_file_suffix = ".snapshot";

/// "<index, 20 digits>-<term, 10 digits>.snapshot".
std::string snapshot_file_name(raft_snapshot_meta meta);
/// The meta a snapshot file name stands for; nullopt for any other name
/// (including the .tmp of an interrupted write).
std::optional<raft_snapshot_meta> parse_snapshot_file_name(const std::string& name);

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
/// Writes dir/snapshot_file_name(snap.meta) atomically and durably.
status write_snapshot(const std::string& dir, const raft_snapshot& snap);
/// The snapshot files in `dir`, newest (highest index) first.
result<std::vector<raft_snapshot_meta>> list_snapshots(const std::string& dir);
/// Reads and checks one snapshot file; CORRUPT_MESSAGE naming the file when
/// it is damaged or its contents disagree with its name.
result<raft_snapshot> read_snapshot(const std::string& dir, raft_snapshot_meta meta);
/// Deletes one snapshot file (the caller fsyncs the directory).
status remove_snapshot(const std::string& dir, raft_snapshot_meta meta);

} // namespace al
