#include "group_ledger.hpp"

namespace trading {

group_ledger::group_ledger(std::string group, offset_map start)
  : group_(std::move(group)), start_(start), next_(std::move(start)) {}

std::optional<order> group_ledger::on_record(const al::consumer_record& r, int member) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto start = next_.find(r.partition);
  if (start == next_.end()) // a partition added after the start: read from its beginning
    start = next_.emplace(r.partition, 0).first;
  auto first = start_.find(r.partition);
  if (first != start_.end() && r.offset < first->second) {
    ++totals_.before_run;
    return std::nullopt;
  }
  auto parsed = r.key && r.value ? parse_order(*r.key, *r.value) : std::nullopt;
  if (!parsed) {
    ++totals_.malformed;
    return std::nullopt;
  }
  ++totals_.delivered;
  check_order(*parsed, r.partition, member);
  auto& above = above_[r.partition];
  if (r.offset < start->second || above.count(r.offset)) {
    ++totals_.redelivered;
    return std::nullopt;
  }
  above.insert(r.offset);
  while (!above.empty() && *above.begin() == start->second) {
    above.erase(above.begin());
    ++start->second;
  }
  ++totals_.unique;
  ids_.insert(parsed->id);
  return parsed;
}

void group_ledger::check_order(const order& o, int32_t partition, int member) {
  auto where = partition_of_.emplace(o.symbol, partition).first;
  if (where->second != partition && totals_.ordering_ok) {
    totals_.ordering_ok = false;
    totals_.ordering_violation = o.symbol + " seen on partitions " +
                                 std::to_string(where->second) + " and " +
                                 std::to_string(partition);
  }
  auto& last = last_seq_[{member, o.symbol}];
  if (o.seq <= last && totals_.ordering_ok) {
    totals_.ordering_ok = false;
    totals_.ordering_violation = o.symbol + " seq " + std::to_string(o.seq) + " after seq " +
                                 std::to_string(last) + " (consumer " +
                                 std::to_string(member) + ")";
  }
  last = std::max(last, o.seq);
}

bool group_ledger::covers(const offset_map& end) const {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [p, off] : end) {
    auto i = next_.find(p);
    if (i == next_.end() || i->second < off)
      return false;
  }
  return true;
}

offset_map group_ledger::next_unseen() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return next_;
}

ledger_totals group_ledger::totals() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return totals_;
}

std::set<int64_t> group_ledger::order_ids() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return ids_;
}

} // namespace trading
