#pragma once
// Data types of the controller quorum's Raft: log entries, the durable hard
// state, snapshots and the messages voters exchange. Plain data, no CAF: the
// controller actor wraps raft_message in its own envelope later.
// Protocol and the persist-before-send order: docs/raft.md.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "storage/bytes.hpp"

namespace al {

/// A voter's id: its node.id from controller.quorum.voters.
using raft_node_id = int32_t;
constexpr raft_node_id raft_no_node = -1;

/// One log entry. Index 1 is the first entry; index 0 / term 0 is the
/// empty log before it. A leader's no-op at the start of its term has empty
/// data; every other entry carries one encoded metadata command.
struct raft_entry {
  int64_t index = 0;
  int64_t term = 0;
  bytes data;
};

inline bool operator==(const raft_entry& a, const raft_entry& b) {
  return a.index == b.index && a.term == b.term && a.data == b.data;
}
inline bool operator!=(const raft_entry& a, const raft_entry& b) { return !(a == b); }

/// What a voter must persist (and fsync) before it answers anyone: its term,
/// whom it voted for in that term, and how far it knows the log committed.
struct raft_hard_state {
  int64_t term = 0;
  raft_node_id voted_for = raft_no_node;
  int64_t commit = 0;
};

inline bool operator==(const raft_hard_state& a, const raft_hard_state& b) {
  return a.term == b.term && a.voted_for == b.voted_for && a.commit == b.commit;
}
inline bool operator!=(const raft_hard_state& a, const raft_hard_state& b) { return !(a == b); }

/// The last entry a snapshot covers. {0, 0}: no snapshot.
struct raft_snapshot_meta {
  int64_t index = 0;
  int64_t term = 0;
};

/// State of the applied commands up to meta.index, in a format Raft never
/// looks into (the controller stores its metadata image there).
struct raft_snapshot {
  raft_snapshot_meta meta;
  bytes data;
};

/// Message types. Every `*_resp` answers the request of the same name.
enum class raft_msg : uint8_t {
  pre_vote,         // "would you vote for me at term+1?": changes no state (§9.6)
  pre_vote_resp,
  vote,             // RequestVote (§5.2)
  vote_resp,
  append,           // AppendEntries with entries (§5.3); may be empty to carry commit
  append_resp,
  heartbeat,        // leader liveness + commit index, no log consistency check
  heartbeat_resp,
  install_snapshot, // InstallSnapshot (§7) for a follower behind the leader's log start
};

const char* to_string(raft_msg type);

/// One message between voters. Fields beyond type/from/to/term are used
/// per type as commented; the others stay at their defaults.
struct raft_message {
  raft_msg type = raft_msg::heartbeat;
  raft_node_id from = raft_no_node;
  raft_node_id to = raft_no_node;
  /// Sender's term. For pre_vote: the term the sender would campaign in
  /// (its term + 1); a granted pre_vote_resp echoes it.
  int64_t term = 0;
  /// pre_vote/vote: index and term of the candidate's last entry.
  /// append: index and term of the entry just before `entries`.
  /// append_resp with reject: the rejected append's log_index.
  int64_t log_index = 0;
  int64_t log_term = 0;
  std::vector<raft_entry> entries; // append
  int64_t commit = 0;              // append, heartbeat: leader's commit index (capped)
  bool reject = false;             // *_resp
  /// append_resp accepted: the follower's log matches the leader's up to here.
  int64_t match_index = 0;
  /// append_resp rejected: where the leader should probe next (fast
  /// backtracking, §5.3 "optimization"): the follower's last index whose
  /// term is <= log_term, and that entry's term.
  int64_t hint_index = 0;
  int64_t hint_term = 0;
  std::shared_ptr<const raft_snapshot> snapshot; // install_snapshot
};

/// "append 1->2 term 3 log 7/2 entries 8..9 commit 7", for logs and test output.
std::string describe(const raft_message& m);

} // namespace al
