#include "actors/group/txn_offsets_machine.hpp"

#include <algorithm>

namespace al {

void txn_offsets_machine::on_txn_commit_appended(int64_t producer_id,
                                                 const group_offsets& offsets,
                                                 int64_t record_offset) {
  auto& rows = pending_[producer_id];
  for (const auto& [tp, o] : offsets)
    rows[tp] = pending_row{o, record_offset}; // a later commit in the transaction replaces
}

void txn_offsets_machine::on_plain_commit_appended(const group_offsets& offsets,
                                                   int64_t record_offset) {
  for (const auto& row : offsets) {
    auto& at = plain_record_[row.first];
    at = std::max(at, record_offset);
  }
}

group_offsets txn_offsets_machine::on_marker(int64_t producer_id, bool commit) {
  group_offsets out;
  auto p = pending_.find(producer_id);
  if (p == pending_.end())
    return out;
  if (commit)
    for (const auto& [tp, row] : p->second) {
      auto plain = plain_record_.find(tp);
      if (plain != plain_record_.end() && plain->second > row.record_offset)
        continue; // a plain commit written later wins
      out[tp] = row.offset;
    }
  pending_.erase(p);
  return out;
}

bool txn_offsets_machine::has_pending(const topic_partition& tp) const {
  for (const auto& [pid, rows] : pending_)
    if (rows.count(tp))
      return true;
  return false;
}

std::set<int64_t> txn_offsets_machine::producers() const {
  std::set<int64_t> out;
  for (const auto& [pid, rows] : pending_)
    out.insert(pid);
  return out;
}

void txn_offsets_machine::clear() {
  pending_.clear();
  plain_record_.clear();
}

} // namespace al
