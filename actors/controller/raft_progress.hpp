#pragma once
// A leader's view of one follower's log (Raft §5.3 nextIndex/matchIndex),
// with etcd-raft's three sending modes:
//   probe:     next is a guess; one append in flight until an answer comes
//              back (a rejection moves next down, an acceptance switches
//              to replicate);
//   replicate: the follower is in sync; appends are pipelined (next moves
//              ahead optimistically) while at most max_inflight_messages
//              appends' worth of entries is unacknowledged;
//   snapshot:  next fell below the leader's log start; an InstallSnapshot
//              is in flight and appends wait for its answer.
#include <cstdint>

namespace al {

enum class raft_progress_mode : uint8_t { probe, replicate, snapshot };

struct raft_progress {
  int64_t match = 0; // highest index known to match the leader's log
  int64_t next = 1;  // next index to send
  raft_progress_mode mode = raft_progress_mode::probe;
  bool probe_sent = false;      // probe: an append is in flight
  int64_t pending_snapshot = 0; // snapshot: index of the snapshot sent
  int32_t snapshot_ticks = 0;   // snapshot: ticks since it was sent (resend when stale)
  bool recent_active = false;   // heard from since the last check-quorum round
  int32_t stalled_ticks = 0;    // replicate: ticks behind without match moving
  int64_t sent_commit = 0;      // commit index the follower can know from our appends
};

} // namespace al
