// Range and round-robin assignors, the shared helpers and the name table.
// Sticky and cooperative-sticky live in sticky_assignor_machine.cpp.
#include "actors/group/assignor_machine.hpp"

#include <algorithm>
#include <set>

#include "storage/assert.hpp"

namespace al {

namespace assignor_detail {

bool subscribes(const member_subscription& s, const std::string& topic) {
  return std::find(s.topics.begin(), s.topics.end(), topic) != s.topics.end();
}

std::vector<topic_partition> subscribed_partitions(const member_subscriptions& members,
                                                   const partition_counts& partitions) {
  std::set<std::string> topics;
  for (auto& [id, sub] : members)
    topics.insert(sub.topics.begin(), sub.topics.end());
  std::vector<topic_partition> all;
  for (auto& topic : topics) {
    auto it = partitions.find(topic);
    if (it == partitions.end())
      continue; // unknown topic: nothing to assign (Kafka logs and skips it)
    for (int32_t p = 0; p < it->second; ++p)
      all.push_back(topic_partition{topic, p});
  }
  AL_ASSERT(std::is_sorted(all.begin(), all.end()));
  return all;
}

group_assignment empty_assignment(const member_subscriptions& members) {
  group_assignment result;
  for (auto& [id, sub] : members)
    result[id];
  return result;
}

void sort_each(group_assignment& a) {
  for (auto& [id, tps] : a)
    std::sort(tps.begin(), tps.end());
}

} // namespace assignor_detail

using namespace assignor_detail;

group_assignment assign_range(const member_subscriptions& members,
                              const partition_counts& partitions) {
  auto result = empty_assignment(members);
  // topic -> its subscribers; std::map keeps member ids sorted.
  std::map<std::string, std::vector<std::string>> subscribers;
  for (auto& [id, sub] : members)
    for (auto& topic : std::set<std::string>(sub.topics.begin(), sub.topics.end()))
      subscribers[topic].push_back(id);
  for (auto& [topic, ids] : subscribers) {
    auto it = partitions.find(topic);
    if (it == partitions.end() || it->second <= 0)
      continue;
    auto n = int32_t(ids.size());
    int32_t per_member = it->second / n;
    int32_t with_extra = it->second % n;
    for (int32_t i = 0; i < n; ++i) {
      int32_t start = per_member * i + std::min(i, with_extra);
      int32_t length = per_member + (i < with_extra ? 1 : 0);
      for (int32_t p = start; p < start + length; ++p)
        result[ids[size_t(i)]].push_back(topic_partition{topic, p});
    }
  }
  sort_each(result);
  return result;
}

group_assignment assign_roundrobin(const member_subscriptions& members,
                                   const partition_counts& partitions) {
  auto result = empty_assignment(members);
  if (members.empty())
    return result;
  std::vector<const std::pair<const std::string, member_subscription>*> circle;
  for (auto& entry : members)
    circle.push_back(&entry);
  size_t next = 0;
  for (auto& tp : subscribed_partitions(members, partitions)) {
    // Some member subscribes to tp.topic (that is why tp is listed), so
    // this loop ends within one turn of the circle.
    size_t tried = 0;
    while (!subscribes(circle[next]->second, tp.topic)) {
      next = (next + 1) % circle.size();
      AL_ASSERT(++tried <= circle.size(), tp.topic);
    }
    result[circle[next]->first].push_back(tp);
    next = (next + 1) % circle.size();
  }
  sort_each(result);
  return result;
}

std::string_view to_string(assignor_kind kind) {
  switch (kind) {
    case assignor_kind::range: return "range";
    case assignor_kind::roundrobin: return "roundrobin";
    case assignor_kind::sticky: return "sticky";
    case assignor_kind::cooperative_sticky: return "cooperative-sticky";
  }
  return "unknown";
}

std::optional<assignor_kind> assignor_from_name(std::string_view name) {
  for (auto kind : {assignor_kind::range, assignor_kind::roundrobin, assignor_kind::sticky,
                    assignor_kind::cooperative_sticky})
    if (to_string(kind) == name)
      return kind;
  return std::nullopt;
}

group_assignment run_assignor(assignor_kind kind, const member_subscriptions& members,
                              const partition_counts& partitions,
                              std::vector<topic_partition>* revoking) {
  if (revoking)
    revoking->clear();
  switch (kind) {
    case assignor_kind::range: return assign_range(members, partitions);
    case assignor_kind::roundrobin: return assign_roundrobin(members, partitions);
    case assignor_kind::sticky: return assign_sticky(members, partitions);
    case assignor_kind::cooperative_sticky: {
      auto coop = assign_cooperative_sticky(members, partitions);
      if (revoking)
        *revoking = std::move(coop.revoking);
      return std::move(coop.assignment);
    }
  }
  AL_ASSERT(false, int(kind));
  return {};
}

} // namespace al
