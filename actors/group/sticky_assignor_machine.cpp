// Sticky and cooperative-sticky assignors.
//
// Step 1 (both paths): a member keeps a previously owned partition only if
// the partition still exists and the member still subscribes to its topic;
// when two members claim one partition the higher generation wins, then the
// lower member id (deterministic).
// Equal subscriptions: quotas are floor(P/M) for everyone and one extra for
// P%M members; the extras go to the members claiming most, so the number of
// kept partitions, sum(min(claimed, quota)), is the largest possible. Each
// member keeps up to its quota of claims, free partitions fill the gaps.
// Different subscriptions: keep claims, give each free partition (fewest
// eligible members first) to its least loaded eligible member, then move
// partitions from a member to an eligible one holding 2+ fewer until none can
// move (each move lowers the sum of squared counts, so this ends).
#include <algorithm>
#include <set>

#include "actors/group/assignor_machine.hpp"
#include "storage/assert.hpp"

namespace al {

using namespace assignor_detail;

namespace {

using claim_map = std::map<topic_partition, std::string>; // partition -> valid owner

claim_map valid_claims(const member_subscriptions& members,
                       const std::vector<topic_partition>& all) {
  std::set<topic_partition> exists(all.begin(), all.end());
  claim_map owner;
  std::map<topic_partition, int32_t> owner_generation;
  for (auto& [id, sub] : members) { // ascending id: ties keep the lower id
    for (auto& tp : sub.owned_partitions) {
      if (!exists.count(tp) || !subscribes(sub, tp.topic))
        continue;
      auto it = owner_generation.find(tp);
      if (it != owner_generation.end() && it->second >= sub.generation_id)
        continue;
      owner[tp] = id;
      owner_generation[tp] = sub.generation_id;
    }
  }
  return owner;
}

bool equal_subscriptions(const member_subscriptions& members) {
  std::optional<std::set<std::string>> first;
  for (auto& [id, sub] : members) {
    std::set<std::string> topics(sub.topics.begin(), sub.topics.end());
    if (!first)
      first = std::move(topics);
    else if (*first != topics)
      return false;
  }
  return true;
}

group_assignment constrained_assign(const member_subscriptions& members,
                                    const std::vector<topic_partition>& all,
                                    const claim_map& claims) {
  group_assignment owned = empty_assignment(members);
  for (auto& [tp, id] : claims)
    owned[id].push_back(tp); // claims iterate sorted, so each list is sorted
  std::vector<std::string> by_claims;
  for (auto& [id, tps] : owned)
    by_claims.push_back(id);
  std::stable_sort(by_claims.begin(), by_claims.end(), [&](auto& a, auto& b) {
    return owned[a].size() > owned[b].size();
  });
  size_t min_quota = all.size() / members.size();
  size_t extra = all.size() % members.size();
  std::map<std::string, size_t> quota;
  for (size_t rank = 0; rank < by_claims.size(); ++rank)
    quota[by_claims[rank]] = min_quota + (rank < extra ? 1 : 0);

  auto result = empty_assignment(members);
  std::set<topic_partition> taken;
  for (auto& [id, tps] : owned) {
    auto keep = std::min(tps.size(), quota[id]);
    result[id].assign(tps.begin(), tps.begin() + long(keep));
    taken.insert(tps.begin(), tps.begin() + long(keep));
  }
  std::vector<topic_partition> free;
  for (auto& tp : all)
    if (!taken.count(tp))
      free.push_back(tp);
  size_t next = 0;
  for (auto& [id, tps] : result) {
    while (tps.size() < quota[id]) {
      AL_ASSERT(next < free.size(), id, next);
      tps.push_back(free[next++]);
    }
  }
  AL_ASSERT(next == free.size(), next, free.size());
  return result;
}

struct general_state {
  std::map<topic_partition, std::vector<std::string>> eligible;
  std::map<topic_partition, std::string> owner;
  std::map<std::string, size_t> count;

  const std::string& least_loaded(const topic_partition& tp) const {
    auto& ids = eligible.at(tp);
    AL_ASSERT(!ids.empty(), tp.topic, tp.partition);
    auto best = ids.begin(); // ids are sorted: ties go to the lower id
    for (auto it = ids.begin(); it != ids.end(); ++it)
      if (count.at(*it) < count.at(*best))
        best = it;
    return *best;
  }
  void give(const topic_partition& tp, const std::string& id) {
    auto old = owner.find(tp);
    if (old != owner.end())
      --count[old->second];
    owner[tp] = id;
    ++count[id];
  }
};

// Moves partitions towards less loaded eligible members until no move helps.
// Partitions that were not claimed by their owner move first (stickiness).
void balance(general_state& s, const claim_map& claims) {
  std::vector<topic_partition> order;
  for (auto& [tp, id] : s.owner)
    if (!claims.count(tp))
      order.push_back(tp);
  for (auto& [tp, id] : s.owner)
    if (claims.count(tp))
      order.push_back(tp);
  size_t moves = 0;
  for (bool moved = true; moved;) {
    moved = false;
    for (auto& tp : order) {
      auto& from = s.owner.at(tp);
      auto& to = s.least_loaded(tp);
      if (s.count.at(to) + 1 < s.count.at(from)) {
        s.give(tp, to);
        moved = true;
        AL_ASSERT(++moves <= order.size() * order.size() + 1, moves);
      }
    }
  }
}

group_assignment general_assign(const member_subscriptions& members,
                                const std::vector<topic_partition>& all,
                                const claim_map& claims) {
  general_state s;
  for (auto& [id, sub] : members)
    s.count[id] = 0;
  for (auto& tp : all)
    for (auto& [id, sub] : members)
      if (subscribes(sub, tp.topic))
        s.eligible[tp].push_back(id);
  for (auto& [tp, id] : claims)
    s.give(tp, id);
  std::vector<topic_partition> free;
  for (auto& tp : all)
    if (!claims.count(tp))
      free.push_back(tp);
  std::stable_sort(free.begin(), free.end(), [&](auto& a, auto& b) {
    return s.eligible[a].size() < s.eligible[b].size();
  });
  for (auto& tp : free)
    s.give(tp, s.least_loaded(tp));
  balance(s, claims);
  auto result = empty_assignment(members);
  for (auto& [tp, id] : s.owner)
    result[id].push_back(tp);
  return result;
}

} // namespace

group_assignment assign_sticky(const member_subscriptions& members,
                               const partition_counts& partitions) {
  if (members.empty())
    return {};
  auto all = subscribed_partitions(members, partitions);
  auto claims = valid_claims(members, all);
  auto result = equal_subscriptions(members) ? constrained_assign(members, all, claims)
                                             : general_assign(members, all, claims);
  sort_each(result);
  size_t total = 0;
  for (auto& [id, tps] : result)
    total += tps.size();
  AL_ASSERT(total == all.size(), total, all.size());
  return result;
}

cooperative_assignment assign_cooperative_sticky(const member_subscriptions& members,
                                                 const partition_counts& partitions) {
  cooperative_assignment out;
  out.assignment = assign_sticky(members, partitions);
  auto claims = valid_claims(members, subscribed_partitions(members, partitions));
  for (auto& [id, tps] : out.assignment) {
    auto moving = [&, &member = id](const topic_partition& tp) {
      auto it = claims.find(tp);
      return it != claims.end() && it->second != member;
    };
    for (auto& tp : tps)
      if (moving(tp))
        out.revoking.push_back(tp);
    tps.erase(std::remove_if(tps.begin(), tps.end(), moving), tps.end());
  }
  std::sort(out.revoking.begin(), out.revoking.end());
  return out;
}

} // namespace al
