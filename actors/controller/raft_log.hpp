#pragma once
// The in-memory Raft log of one voter: a snapshot base (the last compacted
// entry, {0, 0} when none) followed by entries base.index+1 .. last_index.
//
// It also tracks what stable storage holds, in three marks:
//   stable  <= written <= last_index      (once the snapshot base is written)
//   stable:  entries up to here are durable (their ready() was advanced);
//   written: entries up to here were handed to storage in a ready();
//   pending_truncate: storage holds entries from here on that the log no
//            longer has (a conflicting suffix was replaced): cut them first.
// A snapshot installed from the leader replaces the whole log
// (`pending_snapshot`) and bumps `generation`, so an older ready that is
// advanced afterwards cannot mark the new log durable.
#include <cstdint>
#include <optional>
#include <vector>

#include "actors/controller/raft_messages.hpp"

namespace al {

class raft_log {
public:
  raft_log() = default;
  /// The log as restored from storage: everything in it is durable.
  raft_log(raft_snapshot_meta base, std::vector<raft_entry> entries);

  raft_snapshot_meta base() const { return base_; }
  int64_t first_index() const { return base_.index + 1; }
  int64_t last_index() const { return base_.index + int64_t(entries_.size()); }
  int64_t last_term() const { return entries_.empty() ? base_.term : entries_.back().term; }

  /// Term of the entry at `index`; nullopt when compacted away (below the
  /// base) or beyond the last entry. The base itself has a known term.
  std::optional<int64_t> term_at(int64_t index) const;
  bool match_term(int64_t index, int64_t term) const;
  const raft_entry& at(int64_t index) const;
  /// Entries [from, to], at most max_entries and about max_bytes (but at least one).
  std::vector<raft_entry> slice(int64_t from, int64_t to, size_t max_entries,
                                size_t max_bytes) const;

  /// Raft §5.4.1: is a log ending at (last_term, last_index) at least as
  /// up to date as this one?
  bool is_up_to_date(int64_t other_last_term, int64_t other_last_index) const;
  /// The largest index <= index whose term is <= term (the base at worst):
  /// where a leader's and a follower's logs can still agree.
  int64_t find_conflict_by_term(int64_t index, int64_t term) const;

  /// Leader append at last_index + 1.
  void append(int64_t term, bytes data);
  /// Follower append of a leader's entries that follow (prev_index, its term,
  /// already checked): entries already present are kept, the first
  /// conflicting one and everything after it are replaced. Never touches
  /// entries at or below `commit`. Returns the index of the last given entry.
  int64_t append_after(int64_t prev_index, const std::vector<raft_entry>& entries,
                       int64_t commit);
  /// Drops the prefix up to `index` (captured in a snapshot the caller holds).
  void compact(int64_t index);
  /// Replaces the whole log by a snapshot installed from the leader.
  void reset(raft_snapshot_meta base);

  // Durability bookkeeping (see the file comment).
  int64_t stable_index() const { return stable_; }
  int64_t written_index() const { return written_; }
  int64_t pending_truncate() const { return pending_truncate_; }
  bool pending_snapshot() const { return pending_snapshot_; }
  uint64_t generation() const { return generation_; }
  /// Entries not yet handed to storage.
  std::vector<raft_entry> unwritten() const;
  /// A ready() took unwritten(), the truncation point and the snapshot.
  void mark_written();
  /// The ready taken at `generation` holding entries up to `last` is durable.
  void mark_stable(int64_t last, uint64_t generation);

  void check_invariants() const;

private:
  void truncate_from(int64_t index);

  raft_snapshot_meta base_;
  std::vector<raft_entry> entries_; // entries_[i].index == base_.index + 1 + i
  int64_t stable_ = 0;
  int64_t written_ = 0;
  int64_t pending_truncate_ = 0; // 0: none
  bool pending_snapshot_ = false;
  uint64_t generation_ = 0;
};

} // namespace al
