// Assignors: Kafka's documented examples for range and roundrobin, sticky
// movement counts, and a seeded randomized check (seed printed on failure,
// AL_SEED=N replays one seed).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <set>

#include "actors/group/assignor_machine.hpp"

using namespace al;

namespace {

using tps = std::vector<topic_partition>;

topic_partition tp(const std::string& topic, int32_t partition) {
  return topic_partition{topic, partition};
}

member_subscription sub(std::vector<std::string> topics, tps owned = {}, int32_t gen = 1) {
  return member_subscription{std::move(topics), std::move(owned), gen};
}

std::string show(const group_assignment& a) {
  std::string out;
  for (auto& [id, list] : a) {
    out += id + ":[";
    for (auto& x : list)
      out += x.topic + "p" + std::to_string(x.partition) + " ";
    out += "] ";
  }
  return out;
}

// Partitions whose owner differs from the member that validly owned them.
size_t moved(const member_subscriptions& before, const group_assignment& after) {
  std::map<topic_partition, std::string> now;
  for (auto& [id, list] : after)
    for (auto& x : list)
      now[x] = id;
  size_t n = 0;
  for (auto& [id, s] : before)
    for (auto& x : s.owned_partitions)
      if (now.count(x) && now[x] != id)
        ++n;
  return n;
}

member_subscriptions with_owned(const member_subscriptions& subs, const group_assignment& a) {
  auto next = subs;
  for (auto& [id, s] : next) {
    auto it = a.find(id);
    s.owned_partitions = it == a.end() ? tps{} : it->second;
  }
  return next;
}

} // namespace

TEST_CASE("range: Kafka's example, 2 members, 2 topics of 3", "[assignor]") {
  member_subscriptions m{{"C0", sub({"t0", "t1"})}, {"C1", sub({"t0", "t1"})}};
  auto a = assign_range(m, {{"t0", 3}, {"t1", 3}});
  CHECK(a["C0"] == tps{tp("t0", 0), tp("t0", 1), tp("t1", 0), tp("t1", 1)});
  CHECK(a["C1"] == tps{tp("t0", 2), tp("t1", 2)});
}

TEST_CASE("roundrobin: Kafka's example, 2 members, 2 topics of 3", "[assignor]") {
  member_subscriptions m{{"C0", sub({"t0", "t1"})}, {"C1", sub({"t0", "t1"})}};
  auto a = assign_roundrobin(m, {{"t0", 3}, {"t1", 3}});
  CHECK(a["C0"] == tps{tp("t0", 0), tp("t0", 2), tp("t1", 1)});
  CHECK(a["C1"] == tps{tp("t0", 1), tp("t1", 0), tp("t1", 2)});
}

TEST_CASE("roundrobin: Kafka's example with different subscriptions", "[assignor]") {
  member_subscriptions m{{"C0", sub({"t0"})}, {"C1", sub({"t0", "t1"})},
                         {"C2", sub({"t0", "t1", "t2"})}};
  auto a = assign_roundrobin(m, {{"t0", 1}, {"t1", 2}, {"t2", 3}});
  CHECK(a["C0"] == tps{tp("t0", 0)});
  CHECK(a["C1"] == tps{tp("t1", 0)});
  CHECK(a["C2"] == tps{tp("t1", 1), tp("t2", 0), tp("t2", 1), tp("t2", 2)});
}

TEST_CASE("range: different subscriptions split each topic among its subscribers",
          "[assignor]") {
  member_subscriptions m{{"C0", sub({"t0"})}, {"C1", sub({"t0", "t1"})}};
  auto a = assign_range(m, {{"t0", 3}, {"t1", 2}});
  CHECK(a["C0"] == tps{tp("t0", 0), tp("t0", 1)});
  CHECK(a["C1"] == tps{tp("t0", 2), tp("t1", 0), tp("t1", 1)});
}

TEST_CASE("more members than partitions: extra members get nothing", "[assignor]") {
  member_subscriptions m{{"C0", sub({"t"})}, {"C1", sub({"t"})}, {"C2", sub({"t"})}};
  partition_counts counts{{"t", 2}};
  for (auto kind : {assignor_kind::range, assignor_kind::roundrobin, assignor_kind::sticky}) {
    INFO(to_string(kind));
    auto a = run_assignor(kind, m, counts);
    REQUIRE(a.size() == 3);
    CHECK(a["C0"] == tps{tp("t", 0)});
    CHECK(a["C1"] == tps{tp("t", 1)});
    CHECK(a["C2"].empty());
  }
}

TEST_CASE("unknown topics and empty groups assign nothing", "[assignor]") {
  member_subscriptions m{{"C0", sub({"missing"})}};
  for (auto kind : {assignor_kind::range, assignor_kind::roundrobin, assignor_kind::sticky,
                    assignor_kind::cooperative_sticky}) {
    CHECK(run_assignor(kind, m, {{"t", 4}})["C0"].empty());
    CHECK(run_assignor(kind, {}, {{"t", 4}}).empty());
  }
}

TEST_CASE("assignor names are Kafka's", "[assignor]") {
  CHECK(assignor_from_name("range") == assignor_kind::range);
  CHECK(assignor_from_name("roundrobin") == assignor_kind::roundrobin);
  CHECK(assignor_from_name("sticky") == assignor_kind::sticky);
  CHECK(assignor_from_name("cooperative-sticky") == assignor_kind::cooperative_sticky);
  CHECK_FALSE(assignor_from_name("round-robin"));
}

TEST_CASE("sticky: one of 3 members leaves, only its 3 partitions move", "[assignor][sticky]") {
  partition_counts counts{{"t", 9}};
  member_subscriptions m{{"A", sub({"t"})}, {"B", sub({"t"})}, {"C", sub({"t"})}};
  auto first = assign_sticky(m, counts);
  for (auto& [id, list] : first)
    REQUIRE(list.size() == 3);
  auto before = with_owned(m, first);
  auto after_leave = before;
  after_leave.erase("C");
  auto second = assign_sticky(after_leave, counts);
  INFO(show(second));
  CHECK(moved(after_leave, second) == 0); // A and B keep everything they had
  size_t a = second["A"].size(), b = second["B"].size();
  CHECK(std::max(a, b) == 5);
  CHECK(std::min(a, b) == 4);
  // C's three partitions were the only ones that changed hands.
  size_t changed = 0;
  for (auto& [id, s] : before)
    for (auto& x : s.owned_partitions)
      changed += std::count(second[id].begin(), second[id].end(), x) == 0;
  CHECK(changed == 3);
}

TEST_CASE("sticky: a 4th member joins 3 with 9 partitions, 2 move", "[assignor][sticky]") {
  partition_counts counts{{"t", 9}};
  member_subscriptions m{{"A", sub({"t"})}, {"B", sub({"t"})}, {"C", sub({"t"})}};
  auto next = with_owned(m, assign_sticky(m, counts));
  next["D"] = sub({"t"});
  auto a = assign_sticky(next, counts);
  INFO(show(a));
  CHECK(moved(next, a) == 2); // D needs 2 (9 = 3+2+2+2); nothing else moves
  CHECK(a["D"].size() == 2);
}

TEST_CASE("sticky: a re-run on its own output moves nothing", "[assignor][sticky]") {
  partition_counts counts{{"t0", 5}, {"t1", 3}};
  member_subscriptions m{{"A", sub({"t0"})}, {"B", sub({"t0", "t1"})}, {"C", sub({"t1"})}};
  auto first = assign_sticky(m, counts);
  auto again = assign_sticky(with_owned(m, first), counts);
  CHECK(first == again);
}

TEST_CASE("sticky: conflicting claims go to the higher generation", "[assignor][sticky]") {
  member_subscriptions m{{"A", sub({"t"}, {tp("t", 0), tp("t", 1)}, 3)},
                         {"B", sub({"t"}, {tp("t", 0)}, 4)}};
  auto a = assign_sticky(m, {{"t", 2}});
  CHECK(a["A"] == tps{tp("t", 1)});
  CHECK(a["B"] == tps{tp("t", 0)});
}

TEST_CASE("cooperative-sticky: moved partitions are revoked first, given next round",
          "[assignor][sticky]") {
  partition_counts counts{{"t", 6}};
  member_subscriptions m{{"A", sub({"t"}, {tp("t", 0), tp("t", 1), tp("t", 2)})},
                         {"B", sub({"t"}, {tp("t", 3), tp("t", 4), tp("t", 5)})},
                         {"C", sub({"t"})}};
  auto round1 = assign_cooperative_sticky(m, counts);
  INFO(show(round1.assignment));
  CHECK(round1.revoking.size() == 2);
  CHECK(round1.assignment["C"].empty());
  CHECK(round1.assignment["A"].size() == 2);
  CHECK(round1.assignment["B"].size() == 2);
  auto round2 = assign_cooperative_sticky(with_owned(m, round1.assignment), counts);
  CHECK(round2.revoking.empty());
  CHECK(round2.assignment["C"] == round1.revoking);
}

namespace {

// splitmix64: tiny, portable, so a seed replays the same case everywhere.
struct rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint32_t below(uint32_t n) { return uint32_t(next() % n); }
};

struct random_case {
  member_subscriptions members;
  partition_counts counts;
  bool equal = false;
};

// Members with random (or equal) subscriptions, each owning a random share
// of an older partition layout; some owners have left, some topics shrank.
random_case make_case(uint64_t seed) {
  rng r{seed};
  random_case c;
  std::vector<std::string> topics;
  for (uint32_t t = 0, n = 1 + r.below(4); t < n; ++t) {
    topics.push_back("t" + std::to_string(t));
    c.counts[topics.back()] = int32_t(r.below(11));
  }
  c.equal = r.below(2) == 0;
  std::vector<std::string> shared;
  for (auto& t : topics)
    if (r.below(2) == 0 || shared.empty())
      shared.push_back(t);
  std::vector<std::string> owners;
  for (uint32_t m = 0, n = 1 + r.below(8); m < n; ++m) {
    auto id = "m" + std::to_string(m);
    owners.push_back(id);
    auto& s = c.members[id];
    for (auto& t : topics)
      if (!c.equal && (r.below(2) == 0))
        s.topics.push_back(t);
    if (c.equal || s.topics.empty())
      s.topics = c.equal ? shared : std::vector<std::string>{topics[r.below(uint32_t(topics.size()))]};
  }
  owners.push_back("gone-1");
  owners.push_back("gone-2");
  for (auto& t : topics)
    for (int32_t p = 0, old = c.counts[t] + int32_t(r.below(3)); p < old; ++p)
      if (r.below(5) != 0) {
        auto& owner = owners[r.below(uint32_t(owners.size()))];
        if (c.members.count(owner))
          c.members[owner].owned_partitions.push_back(tp(t, p));
      }
  return c;
}

// Upper bound on the partitions any balanced assignment can leave in place
// when subscriptions are equal: quotas floor/ceil, ceil to the biggest owners.
size_t max_keepable(const random_case& c, size_t total) {
  std::vector<size_t> valid;
  for (auto& [id, s] : c.members) {
    size_t n = 0;
    for (auto& x : s.owned_partitions)
      n += assignor_detail::subscribes(s, x.topic) && c.counts.count(x.topic) &&
           x.partition < c.counts.at(x.topic);
    valid.push_back(n);
  }
  std::sort(valid.rbegin(), valid.rend());
  size_t keep = 0, m = c.members.size();
  for (size_t i = 0; i < m; ++i)
    keep += std::min(valid[i], total / m + (i < total % m ? 1 : 0));
  return keep;
}

void check_complete(const random_case& c, const group_assignment& a) {
  auto all = assignor_detail::subscribed_partitions(c.members, c.counts);
  std::map<topic_partition, std::string> owner;
  REQUIRE(a.size() == c.members.size());
  for (auto& [id, list] : a)
    for (auto& x : list) {
      CHECK(owner.count(x) == 0); // no partition twice
      owner[x] = id;
      CHECK(assignor_detail::subscribes(c.members.at(id), x.topic));
    }
  CHECK(owner.size() == all.size());
}

void check_sticky(const random_case& c, const group_assignment& a) {
  check_complete(c, a);
  std::map<std::string, size_t> count;
  for (auto& [id, list] : a)
    count[id] = list.size();
  for (auto& [id, list] : a)
    for (auto& x : list)
      for (auto& [other, s] : c.members)
        if (assignor_detail::subscribes(s, x.topic))
          CHECK(count[other] + 1 >= count[id]); // no move would improve balance
  if (!c.equal)
    return;
  auto [lo, hi] = std::minmax_element(count.begin(), count.end(),
                                      [](auto& x, auto& y) { return x.second < y.second; });
  CHECK(hi->second - lo->second <= 1);
  size_t total = assignor_detail::subscribed_partitions(c.members, c.counts).size();
  size_t claimed = 0;
  for (auto& [id, s] : c.members)
    for (auto& x : s.owned_partitions)
      claimed += std::count(a.at(id).begin(), a.at(id).end(), x);
  CHECK(claimed == max_keepable(c, total)); // moves = valid claims - kept: minimal
}

} // namespace

TEST_CASE("randomized: every assignor is complete, sticky is balanced and minimal",
          "[assignor][random]") {
  uint64_t first = 1, count = 500;
  if (auto* env = std::getenv("AL_SEED")) {
    first = std::strtoull(env, nullptr, 10);
    count = 1;
  }
  for (uint64_t seed = first; seed < first + count; ++seed) {
    INFO("reproduce with AL_SEED=" << seed);
    auto c = make_case(seed);
    check_complete(c, assign_range(c.members, c.counts));
    check_complete(c, assign_roundrobin(c.members, c.counts));
    auto a = assign_sticky(c.members, c.counts);
    INFO(show(a));
    check_sticky(c, a);
    CHECK(assign_sticky(with_owned(c.members, a), c.counts) == a);
  }
}
