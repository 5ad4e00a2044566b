#include "actors/controller/raft_log.hpp"

#include <algorithm>

#include "storage/assert.hpp"

namespace al {

raft_log::raft_log(raft_snapshot_meta base, std::vector<raft_entry> entries)
  : base_(base), entries_(std::move(entries)) {
  AL_ASSERT(base_.index >= 0 && base_.term >= 0, base_.index, base_.term);
  stable_ = written_ = last_index();
  check_invariants();
}

void raft_log::check_invariants() const {
  AL_ASSERT(stable_ <= written_ && written_ <= last_index(), stable_, written_, last_index());
  AL_ASSERT(written_ >= base_.index, written_, base_.index);
  AL_ASSERT(pending_truncate_ == 0 || pending_truncate_ > written_, pending_truncate_, written_);
  if (!entries_.empty()) { // O(1): the ends pin down the dense numbering
    AL_ASSERT(entries_.front().index == base_.index + 1, entries_.front().index, base_.index);
    AL_ASSERT(entries_.back().index == last_index(), entries_.back().index, last_index());
    AL_ASSERT(entries_.front().term >= base_.term, entries_.front().term, base_.term);
  }
}

std::optional<int64_t> raft_log::term_at(int64_t index) const {
  if (index == base_.index)
    return base_.term;
  if (index < base_.index || index > last_index())
    return std::nullopt;
  return at(index).term;
}

bool raft_log::match_term(int64_t index, int64_t term) const {
  auto t = term_at(index);
  return t && *t == term;
}

const raft_entry& raft_log::at(int64_t index) const {
  AL_ASSERT(index > base_.index && index <= last_index(), index, base_.index, last_index());
  const raft_entry& e = entries_[size_t(index - base_.index - 1)];
  AL_ASSERT(e.index == index, e.index, index);
  return e;
}

std::vector<raft_entry> raft_log::slice(int64_t from, int64_t to, size_t max_entries,
                                        size_t max_bytes) const {
  AL_ASSERT(from > base_.index && to <= last_index(), from, to, base_.index, last_index());
  std::vector<raft_entry> out;
  size_t size = 0;
  for (int64_t i = from; i <= to && out.size() < max_entries; ++i) {
    const raft_entry& e = at(i);
    if (!out.empty() && size + e.data.size() > max_bytes)
      break;
    size += e.data.size();
    out.push_back(e);
  }
  return out;
}

bool raft_log::is_up_to_date(int64_t other_last_term, int64_t other_last_index) const {
  return other_last_term > last_term() ||
         (other_last_term == last_term() && other_last_index >= last_index());
}

int64_t raft_log::find_conflict_by_term(int64_t index, int64_t term) const {
  AL_ASSERT(index >= base_.index && index <= last_index(), index, base_.index, last_index());
  while (index > base_.index && at(index).term > term)
    --index;
  return index;
}

void raft_log::append(int64_t term, bytes data) {
  AL_ASSERT(term >= last_term(), term, last_term());
  entries_.push_back(raft_entry{last_index() + 1, term, std::move(data)});
}

int64_t raft_log::append_after(int64_t prev_index, const std::vector<raft_entry>& entries,
                               int64_t commit) {
  AL_ASSERT(prev_index >= base_.index, prev_index, base_.index);
  int64_t last_new = prev_index + int64_t(entries.size());
  for (const raft_entry& e : entries) {
    AL_ASSERT(e.index == ++prev_index, e.index, prev_index);
    if (e.index <= last_index()) {
      if (at(e.index).term == e.term)
        continue; // already here: Log Matching says the same entry
      // A committed entry can never conflict with a current leader's (§5.4).
      AL_ASSERT(e.index > commit, e.index, commit, at(e.index).term, e.term);
      truncate_from(e.index);
    }
    AL_ASSERT(e.term >= last_term(), e.index, e.term, last_term());
    entries_.push_back(e);
  }
  check_invariants();
  return last_new;
}

void raft_log::truncate_from(int64_t index) {
  AL_ASSERT(index > base_.index && index <= last_index(), index, base_.index, last_index());
  entries_.resize(size_t(index - base_.index - 1));
  if (index <= written_) {
    pending_truncate_ = pending_truncate_ == 0 ? index : std::min(pending_truncate_, index);
    written_ = index - 1;
  }
  stable_ = std::min(stable_, index - 1);
}

void raft_log::compact(int64_t index) {
  AL_ASSERT(index > base_.index && index <= stable_, index, base_.index, stable_);
  int64_t term = at(index).term;
  entries_.erase(entries_.begin(), entries_.begin() + (index - base_.index));
  base_ = raft_snapshot_meta{index, term};
  check_invariants();
}

void raft_log::reset(raft_snapshot_meta base) {
  AL_ASSERT(base.index > base_.index, base.index, base_.index);
  base_ = base;
  entries_.clear();
  pending_snapshot_ = true;
  pending_truncate_ = 0; // storage drops its whole log for the snapshot
  written_ = base.index;
  stable_ = 0; // nothing of the new log is durable until the snapshot is
  ++generation_;
  check_invariants();
}

std::vector<raft_entry> raft_log::unwritten() const {
  if (written_ == last_index())
    return {};
  return slice(written_ + 1, last_index(), entries_.size(), SIZE_MAX);
}

void raft_log::mark_written() {
  written_ = last_index();
  pending_truncate_ = 0;
  pending_snapshot_ = false;
  check_invariants();
}

void raft_log::mark_stable(int64_t last, uint64_t generation) {
  if (generation != generation_)
    return; // a snapshot replaced the log since; its own ready will count
  int64_t stable = std::min(last, written_);
  AL_ASSERT(stable >= stable_, stable, stable_, last, written_);
  stable_ = stable;
  check_invariants();
}

} // namespace al
