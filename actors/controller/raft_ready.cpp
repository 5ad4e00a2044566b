// raft_machine: handing effects out (ready) and learning they were carried
// out (advance). The order the caller must follow is in raft_machine.hpp.
#include "actors/controller/raft_machine.hpp"

#include <algorithm>
#include <cstdint>

namespace al {

namespace {

bool vote_changed(const raft_hard_state& a, const raft_hard_state& b) {
  return a.term != b.term || a.voted_for != b.voted_for;
}

} // namespace

bool raft_machine::has_ready() const {
  if (outstanding_)
    return false;
  raft_hard_state hs{term_, voted_for_, commit_};
  bool can_apply = !log_.pending_snapshot() && std::min(commit_, log_.stable_index()) > applied_;
  return hs != handed_out_ || log_.pending_snapshot() || log_.pending_truncate() != 0 ||
         log_.written_index() < log_.last_index() || !outbox_.empty() || can_apply;
}

raft_ready raft_machine::ready() {
  AL_ASSERT(!outstanding_, "ready() again before advance()");
  raft_ready rd;
  raft_hard_state hs{term_, voted_for_, commit_};
  if (hs != handed_out_)
    rd.hard_state = hs;
  if (log_.pending_snapshot()) {
    AL_ASSERT(snapshot_ && snapshot_->meta.index == log_.base().index);
    rd.snapshot = snapshot_;
  }
  rd.truncate_from = log_.pending_truncate();
  AL_ASSERT(!rd.snapshot || rd.truncate_from == 0, rd.truncate_from);
  rd.entries = log_.unwritten();
  AL_ASSERT(rd.entries.empty() || rd.entries.front().index == log_.written_index() + 1);
  // Term and vote must survive a crash before any message goes out; a
  // commit index alone may be lost (it is learned again from the leader).
  rd.must_sync = vote_changed(hs, handed_out_) || rd.snapshot || rd.truncate_from != 0 ||
                 !rd.entries.empty();
  rd.messages = std::move(outbox_);
  outbox_.clear();
  // Apply only what is committed and durable here: a restart must find
  // every applied entry in its own log or snapshot.
  int64_t apply_to = std::min(commit_, log_.stable_index());
  if (!log_.pending_snapshot() && apply_to > applied_) {
    AL_ASSERT(applied_ >= log_.base().index, applied_, log_.base().index);
    rd.committed = log_.slice(applied_ + 1, apply_to, SIZE_MAX, SIZE_MAX);
  }
  rd.role = role_;
  rd.leader = leader_;
  rd.term = term_;
  handed_out_ = hs;
  log_.mark_written();
  outstanding_ = outstanding_ready{log_.written_index(), log_.generation(),
                                   rd.snapshot ? rd.snapshot->meta.index : 0,
                                   rd.committed.empty() ? applied_ : rd.committed.back().index,
                                   rd.entries.size()};
  return rd;
}

void raft_machine::advance(const raft_ready& rd) {
  AL_ASSERT(outstanding_, "advance() without ready()");
  const outstanding_ready o = *outstanding_;
  outstanding_.reset();
  AL_ASSERT(rd.entries.size() == o.entries, "advance() with another ready", rd.entries.size(),
            o.entries);
  AL_ASSERT((rd.snapshot ? rd.snapshot->meta.index : 0) == o.snapshot_index);
  if (rd.snapshot) {
    AL_ASSERT(rd.committed.empty());
    applied_ = std::max(applied_, o.snapshot_index); // the caller restored from it
  }
  if (!rd.committed.empty()) {
    AL_ASSERT(rd.committed.front().index == applied_ + 1, rd.committed.front().index, applied_);
    applied_ = o.applied;
  }
  log_.mark_stable(o.written, o.generation);
  AL_ASSERT(applied_ <= commit_, applied_, commit_);
  if (role_ == raft_role::leader && maybe_commit()) // our own append counts now
    broadcast_append();
}

} // namespace al
