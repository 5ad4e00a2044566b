#include "actors/controller/raft_memory_storage.hpp"

#include <algorithm>

namespace al {

int64_t raft_memory_storage::last_index() const {
  return entries_.empty() ? (snapshot_ ? snapshot_->meta.index : 0) : entries_.back().index;
}

void raft_memory_storage::save(const raft_ready& rd) {
  if (rd.snapshot) {
    AL_ASSERT(rd.snapshot->meta.index > (snapshot_ ? snapshot_->meta.index : 0),
              rd.snapshot->meta.index);
    snapshot_ = rd.snapshot;
    entries_.clear();
  }
  if (rd.truncate_from > 0) {
    AL_ASSERT(rd.truncate_from <= last_index(), "truncating what is not stored",
              rd.truncate_from, last_index());
    AL_ASSERT(rd.truncate_from > hard_state_.commit, "truncating committed entries",
              rd.truncate_from, hard_state_.commit);
    while (!entries_.empty() && entries_.back().index >= rd.truncate_from)
      entries_.pop_back();
  }
  if (rd.hard_state) {
    AL_ASSERT(rd.hard_state->term >= hard_state_.term, rd.hard_state->term, hard_state_.term);
    hard_state_ = *rd.hard_state;
  }
  for (const raft_entry& e : rd.entries) {
    AL_ASSERT(e.index == last_index() + 1, "entries must continue the log", e.index, last_index());
    AL_ASSERT(e.term <= hard_state_.term, e.term, hard_state_.term);
    entries_.push_back(e);
  }
}

void raft_memory_storage::save_snapshot(std::shared_ptr<const raft_snapshot> snap) {
  AL_ASSERT(snap && snap->meta.index <= last_index(), last_index());
  auto covered = std::find_if(entries_.begin(), entries_.end(),
                              [&](const raft_entry& e) { return e.index > snap->meta.index; });
  AL_ASSERT(covered == entries_.begin() || std::prev(covered)->term == snap->meta.term);
  entries_.erase(entries_.begin(), covered);
  snapshot_ = std::move(snap);
}

raft_persisted raft_memory_storage::persisted() const {
  return raft_persisted{hard_state_, snapshot_, entries_, 0};
}

} // namespace al
