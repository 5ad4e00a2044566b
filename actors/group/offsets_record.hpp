#pragma once
// Records of the internal topic __consumer_offsets (docs/groups.md has the
// byte layout). A committed offset is one record:
//   key   = version int16 (1), group string, topic string, partition int32
//           (Kafka's OffsetCommitKey v1, byte for byte)
//   value = version int16 (3), offset int64, leader_epoch int32,
//           metadata string, commit_timestamp int64 (Kafka's
//           OffsetCommitValue v3), then generation_id int32 (actorlog's)
//   string = int16 length + UTF-8 bytes.
// A null value (tombstone) deletes the key: DeleteGroups writes one per
// offset. The topic is compacted, so the latest record per key survives.
// The partition also holds group metadata records (key version 2,
// group_metadata_record.hpp). offsets_loader replays a partition from its
// start into committed offsets and each group's latest generation.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/group/group_messages.hpp"
#include "storage/bytes.hpp"
#include "storage/record_batch.hpp"
#include "storage/status.hpp"

namespace al {

inline constexpr int16_t offset_key_version = 1;
inline constexpr int16_t offset_value_version = 3;

struct offset_key {
  std::string group_id;
  topic_partition tp;
  friend bool operator==(const offset_key& a, const offset_key& b) {
    return a.group_id == b.group_id && a.tp == b.tp;
  }
};

bytes encode_offset_key(const offset_key& key);
bytes encode_offset_value(const group_offset& value);

/// The key, or nullopt for a record of another kind (Kafka's group metadata
/// key version 2, or a future version): loaders skip those.
result<std::optional<offset_key>> decode_offset_key(byte_view data);
/// A value without the trailing generation_id has generation -1.
result<group_offset> decode_offset_value(byte_view data);

/// One RecordBatch with a record per partition (one batch per commit, so a
/// commit of several partitions lands atomically). `timestamp_ms`: wall clock.
bytes offset_commit_batch(const std::string& group_id, const group_offsets& offsets,
                          int64_t timestamp_ms);
/// One RecordBatch of tombstones, one per partition.
bytes offset_tombstone_batch(const std::string& group_id,
                             const std::vector<topic_partition>& partitions,
                             int64_t timestamp_ms);

/// Rebuilds committed offsets and generations from an offsets partition
/// read from its start.
class offsets_loader {
public:
  struct loaded_group {
    group_offsets offsets;      // live keys only
    int32_t max_generation = 0; // highest generation of any record seen (>= 0),
                                // its generation records included
    bool has_metadata = false;  // a live (not tombstoned) generation record
  };

  /// Records that were skipped rather than applied, by reason.
  struct skip_counts {
    int64_t bad_key = 0;           // no key, undecodable, empty group or topic, partition < 0
    int64_t absurd_generation = 0; // above max_loaded_generation_id
    int64_t total() const { return bad_key + absurd_generation; }
  };

  /// Applies every record at or after `from` in the concatenated batches
  /// `data` (a fetch response). Returns the offset after the last whole
  /// batch; a cut-off batch at the end is left for the next read. Only a
  /// batch that does not decode is an error: a record that no coordinator
  /// writes is skipped and counted, so no record can stop a load.
  result<int64_t> apply(byte_view data, int64_t from);

  /// Groups with at least one live offset. A group with only a generation
  /// record is left out, as a coordinator forgets a group with nothing to
  /// remember (no members, no offsets): its members rejoin anyway.
  std::map<std::string, loaded_group> groups() const;
  /// Groups whose every key has been deleted (tombstoned): DeleteGroups ran.
  std::vector<std::string> deleted_groups() const;
  /// Records applied: offsets, group metadata and their tombstones.
  int64_t records() const { return records_; }
  /// Values that could not be decoded (skipped; the key's next record replaces them).
  int64_t unreadable() const { return unreadable_; }
  const skip_counts& skipped() const { return skipped_; }
  /// Why the first skipped or unreadable record was left out ("" if none).
  const std::string& first_skipped() const { return first_skipped_; }

  /// Offsets committed in a transaction whose marker is not in the log yet
  /// (issue 16): by producer id, the group, its offsets and the commit
  /// record's offset in the partition, in log order.
  struct pending_txn_commit {
    std::string group_id;
    group_offsets offsets;
    int64_t record_offset = -1;
  };
  const std::map<int64_t, std::vector<pending_txn_commit>>& pending_txn_commits() const {
    return pending_;
  }
  /// The record offset of the latest plain commit (or deletion) of a
  /// group's partition, -1 if none: orders it against pending transactional ones.
  int64_t plain_commit_offset(const std::string& group_id, const topic_partition& tp) const;

private:
  /// A transactional commit batch: its records wait for the producer's marker.
  void stash_txn_records(const decoded_batch& batch, int64_t from);
  /// The producer's marker: COMMIT applies what it stashed (unless a later
  /// plain commit of the key was read), ABORT drops it.
  void end_txn(int64_t producer_id, bool commit);
  void apply_record(int64_t offset, const std::optional<byte_view>& key,
                    const std::optional<byte_view>& value);
  void apply_group_metadata(int64_t offset, byte_view key, const std::optional<byte_view>& value);
  void count_unreadable(int64_t offset, const status& why);
  void skip(int64_t& counter, int64_t offset, std::string why);

  std::map<std::string, loaded_group> groups_;
  std::map<int64_t, std::vector<pending_txn_commit>> pending_;
  std::map<std::pair<std::string, topic_partition>, int64_t> plain_at_;
  int64_t records_ = 0;
  int64_t unreadable_ = 0;
  skip_counts skipped_;
  std::string first_skipped_;
};

} // namespace al
