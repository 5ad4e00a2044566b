#pragma once
// Offsets committed inside a transaction (issue 16; Kafka's
// TxnOffsetCommit and the pending transactional offsets of its
// GroupMetadata), for one group. A consume-transform-produce application
// commits its consumed offsets with its output: the offsets are written to
// __consumer_offsets in the producer's transaction, stay invisible to
// OffsetFetch while it is open, and take effect only when the COMMIT
// marker reaches the group's offsets partition; an ABORT drops them.
// Pure: no CAF, no I/O, no clock. The group coordinator will own one next
// to its group_machine (not wired yet).
//
// Ordering, as Kafka's completePendingTxnOffsetCommit: every commit record
// has its offset in __consumer_offsets. A transactional offset committed
// by the marker takes effect only if no plain OffsetCommit for that
// partition was written after it; the later record wins.
#include <cstdint>
#include <map>
#include <set>

#include "actors/group/group_messages.hpp"

namespace al {

class txn_offsets_machine {
public:
  /// A TxnOffsetCommit's records were appended at `record_offset` in
  /// __consumer_offsets: pending under the producer until its marker.
  void on_txn_commit_appended(int64_t producer_id, const group_offsets& offsets,
                              int64_t record_offset);
  /// A plain OffsetCommit was appended at `record_offset` (the group
  /// machine installs it itself; this only remembers where it was written).
  void on_plain_commit_appended(const group_offsets& offsets, int64_t record_offset);
  /// The producer's marker reached the offsets partition. COMMIT: the
  /// pending offsets that no later plain commit superseded, to install as
  /// committed; ABORT: nothing. The producer has nothing pending after.
  group_offsets on_marker(int64_t producer_id, bool commit);
  /// OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT for a
  /// partition with pending transactional offsets (KIP-447).
  bool has_pending(const topic_partition& tp) const;
  /// Producers with offsets pending (their transactions are open).
  std::set<int64_t> producers() const;
  /// The group was deleted or unloaded.
  void clear();

private:
  struct pending_row {
    group_offset offset;
    int64_t record_offset = -1;
  };
  std::map<int64_t, std::map<topic_partition, pending_row>> pending_; // by producer id
  std::map<topic_partition, int64_t> plain_record_; // latest plain commit's record offset
};

} // namespace al
