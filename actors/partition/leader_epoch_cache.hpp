#pragma once
// Kafka's leader epoch cache (LeaderEpochFileCache, KIP-101/KIP-279): for
// one replica's log, the offset at which each leader epoch's records start.
//
//   entries: (epoch 0, start 0) (epoch 2, start 40) (epoch 5, start 41)
//   => offsets [0, 40) were written in epoch 0, [40, 41) in epoch 2, and
//      [41, log end) in epoch 5.
//
// Invariant: epochs strictly increase and start offsets never decrease
// along the list (an epoch without records shares its start with the next).
// A leader assigns its epoch at its log end offset when it takes over; a
// follower assigns the epoch of every appended batch that is newer than
// the latest. Truncating the log truncates the cache with it.
#include <cstdint>
#include <string>
#include <vector>

namespace al {

/// Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET.
constexpr int32_t undefined_epoch = -1;
constexpr int64_t undefined_epoch_offset = -1;

struct epoch_entry {
  int32_t epoch = undefined_epoch;
  int64_t start_offset = 0;
  friend bool operator==(const epoch_entry& a, const epoch_entry& b) {
    return a.epoch == b.epoch && a.start_offset == b.start_offset;
  }
};

/// Answer to OffsetsForLeaderEpoch: the largest epoch <= the requested one
/// that this log knows, and the offset where it ends (the start of the next
/// higher epoch, or the log end offset for the latest epoch).
struct epoch_end_offset {
  int32_t epoch = undefined_epoch;
  int64_t end_offset = undefined_epoch_offset;
  bool undefined() const { return end_offset == undefined_epoch_offset; }
  friend bool operator==(const epoch_end_offset& a, const epoch_end_offset& b) {
    return a.epoch == b.epoch && a.end_offset == b.end_offset;
  }
};

class leader_epoch_cache {
public:
  leader_epoch_cache() = default;
  explicit leader_epoch_cache(std::vector<epoch_entry> entries);

  /// Records that `epoch` starts at `start_offset`. An epoch at or below
  /// the latest is ignored (batches of the current epoch keep coming).
  /// Returns whether an entry was added.
  bool assign(int32_t epoch, int64_t start_offset);

  /// Kafka's endOffsetFor(requestedEpoch, logEndOffset).
  epoch_end_offset end_offset_for(int32_t requested_epoch, int64_t log_end_offset) const;

  /// The log was cut to [.., end_offset): drops entries starting at or after it.
  void truncate_from_end(int64_t end_offset);
  /// The log start moved to `start_offset` (retention): drops entries that
  /// end before it and moves the first remaining one's start up to it.
  void truncate_from_start(int64_t start_offset);

  bool empty() const { return entries_.empty(); }
  int32_t latest_epoch() const { return entries_.empty() ? undefined_epoch : entries_.back().epoch; }
  /// Start offset of `epoch` if it has an entry, else undefined_epoch_offset.
  int64_t start_offset_of(int32_t epoch) const;
  const std::vector<epoch_entry>& entries() const { return entries_; }
  /// "0@0 2@40 5@41"
  std::string describe() const;

private:
  void check() const;

  std::vector<epoch_entry> entries_; // sorted by epoch; see the invariant above
};

} // namespace al
