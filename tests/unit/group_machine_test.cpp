// Scenario tests for the group coordinator machine. Each test reads as a
// short story: members join, sync, heartbeat, commit, time passes.
#include <catch2/catch.hpp>

#include <algorithm>

#include "actors/group/group_limits.hpp"
#include "actors/group/group_machine.hpp"

using namespace al;

namespace {

using tps = std::vector<topic_partition>;

// Drives one group_machine: numbers requests, collects responses and
// persist effects, and moves a virtual clock.
struct group_driver {
  group_machine m;
  int64_t now = 0;
  group_request_id next_request = 1;
  std::vector<group_response> responses;
  std::vector<persist_offsets_effect> persists;
  std::vector<persist_group_effect> group_writes;
  std::vector<group_event> events;

  explicit group_driver(int32_t initial_delay_ms = 0, partition_counts topics = {{"orders", 6}})
    : m(group_config{"g", 6000, 300000, initial_delay_ms, "s"}, std::move(topics), {}, 0) {}
  explicit group_driver(group_config config) : m(std::move(config), {{"orders", 6}}, {}, 0) {}

  void drain() {
    auto r = m.take_ready();
    for (auto& x : r.responses)
      responses.push_back(std::move(x));
    for (auto& x : r.persist)
      persists.push_back(std::move(x));
    for (auto& x : r.persist_group)
      group_writes.push_back(std::move(x));
    for (auto& x : r.events)
      events.push_back(std::move(x));
  }

  // The response to `id`, if the machine has emitted it (removed when taken).
  template <class T>
  std::optional<T> take(group_request_id id) {
    drain();
    for (auto it = responses.begin(); it != responses.end(); ++it)
      if (request_id_of(*it) == id) {
        auto out = std::get<T>(*it);
        responses.erase(it);
        return out;
      }
    return std::nullopt;
  }

  join_group_request join_req(const std::string& member, std::vector<std::string> topics,
                              const std::string& protocol = "range", int32_t session = 10000,
                              int32_t rebalance = 30000) {
    return join_group_request{next_request++, member, "client", "10.0.0.1", session, rebalance,
                              "consumer",
                              {group_protocol{protocol, member_subscription{topics, {}, -1}}}};
  }
  // First join round trip (MEMBER_ID_REQUIRED), then the real join; returns
  // the member id and the request id whose response is held for the rebalance.
  std::pair<std::string, group_request_id> join_new(std::vector<std::string> topics = {"orders"},
                                                    const std::string& protocol = "range") {
    auto first = join_req("", topics, protocol);
    m.on_join(first, now);
    auto r = take<join_group_response>(first.request_id);
    REQUIRE(r);
    REQUIRE(r->error == errc::member_id_required);
    auto second = join_req(r->member_id, topics, protocol);
    m.on_join(second, now);
    return {r->member_id, second.request_id};
  }
  group_request_id rejoin(const std::string& member, std::vector<std::string> topics = {"orders"},
                          const std::string& protocol = "range") {
    auto req = join_req(member, topics, protocol);
    m.on_join(req, now);
    return req.request_id;
  }
  /// SyncGroup; a sync held for the generation's metadata write gets the
  /// write acknowledged (written) first.
  sync_group_response sync(const std::string& member, int32_t generation) {
    auto id = send_sync(member, generation);
    if (auto r = take<sync_group_response>(id))
      return *r;
    write_group(errc::none);
    return *take<sync_group_response>(id);
  }
  group_request_id send_sync(const std::string& member, int32_t generation) {
    auto id = next_request++;
    m.on_sync(sync_group_request{id, member, generation}, now);
    return id;
  }
  /// Feeds the outcome of every group metadata write emitted so far.
  void write_group(errc append_error) {
    drain();
    REQUIRE_FALSE(group_writes.empty());
    auto writes = std::move(group_writes);
    group_writes.clear();
    for (auto& w : writes)
      m.on_persisted(w.persist_id, append_error, now);
  }
  errc heartbeat(const std::string& member, int32_t generation) {
    auto id = next_request++;
    m.on_heartbeat(heartbeat_request{id, member, generation}, now);
    return take<heartbeat_response>(id)->error;
  }
  errc leave(const std::string& member) {
    auto id = next_request++;
    m.on_leave(leave_group_request{id, member}, now);
    return take<leave_group_response>(id)->error;
  }
  // Commits and, if accepted, persists; returns the final reply's error.
  errc commit(const std::string& member, int32_t generation, topic_partition tp, int64_t offset,
              errc persist_result = errc::none) {
    auto id = next_request++;
    m.on_offset_commit(offset_commit_request{id, member, generation, {{tp, {offset, "md"}}}},
                       now);
    if (auto early = take<offset_commit_response>(id))
      return early->error;
    REQUIRE(persists.size() == 1);
    auto effect = persists.front();
    persists.clear();
    CHECK(effect.generation_id == generation);
    m.on_persisted(effect.persist_id, persist_result, now);
    return take<offset_commit_response>(id)->error;
  }
  void advance(int64_t ms) {
    now += ms;
    m.tick(now);
  }
};

topic_partition orders(int32_t p) { return topic_partition{"orders", p}; }

// A and B stable in generation 2, each holding 3 of the 6 partitions.
std::pair<std::string, std::string> two_stable_members(group_driver& d) {
  auto [a, a_join] = d.join_new();
  REQUIRE(d.take<join_group_response>(a_join)->generation_id == 1);
  d.sync(a, 1);
  auto [b, b_join] = d.join_new();
  CHECK(d.heartbeat(a, 1) == errc::rebalance_in_progress);
  auto a_rejoin = d.rejoin(a);
  REQUIRE(d.take<join_group_response>(a_rejoin)->generation_id == 2);
  REQUIRE(d.take<join_group_response>(b_join)->generation_id == 2);
  d.sync(a, 2);
  d.sync(b, 2);
  REQUIRE(d.m.state() == group_state::stable);
  return {a, b};
}

} // namespace

TEST_CASE("one member: join, sync, stable, owns every partition", "[group]") {
  group_driver d;
  auto [a, join] = d.join_new();
  auto r = d.take<join_group_response>(join);
  REQUIRE(r);
  CHECK(r->error == errc::none);
  CHECK(r->generation_id == 1);
  CHECK(r->leader_id == a);
  CHECK(r->protocol_name == "range");
  CHECK(r->members == std::vector<std::string>{a});
  CHECK(d.m.state() == group_state::completing_rebalance);
  auto s = d.sync(a, 1);
  CHECK(s.error == errc::none);
  CHECK(s.assignment == tps{orders(0), orders(1), orders(2), orders(3), orders(4), orders(5)});
  CHECK(d.m.state() == group_state::stable);
  CHECK(d.heartbeat(a, 1) == errc::none);
}

TEST_CASE("a second member triggers a rebalance, partitions split without overlap", "[group]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  CHECK(d.m.generation_id() == 2);
  auto sa = d.sync(a, 2).assignment, sb = d.sync(b, 2).assignment;
  CHECK(sa.size() == 3);
  CHECK(sb.size() == 3);
  for (auto& x : sa)
    CHECK(std::find(sb.begin(), sb.end(), x) == sb.end());
}

TEST_CASE("join responses wait for the rebalance to complete", "[group]") {
  group_driver d;
  auto [a, a_join] = d.join_new();
  d.take<join_group_response>(a_join);
  d.sync(a, 1);
  auto [b, b_join] = d.join_new();
  CHECK_FALSE(d.take<join_group_response>(b_join)); // held until A rejoins
  CHECK(d.m.state() == group_state::preparing_rebalance);
  d.rejoin(a);
  CHECK(d.take<join_group_response>(b_join)->generation_id == 2);
}

TEST_CASE("initial rebalance delay holds the first join for late members", "[group]") {
  group_driver d(3000);
  auto [a, a_join] = d.join_new();
  d.advance(1000);
  auto [b, b_join] = d.join_new(); // extends the delay to t=4000
  CHECK(d.m.next_deadline_ms() == 4000);
  d.advance(2999);
  CHECK_FALSE(d.take<join_group_response>(a_join));
  d.advance(1);
  CHECK(d.take<join_group_response>(a_join)->generation_id == 1);
  CHECK(d.take<join_group_response>(b_join)->generation_id == 1);
}

TEST_CASE("a commit with a stale generation gets ILLEGAL_GENERATION", "[group]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  CHECK(d.commit(a, 1, orders(0), 10) == errc::illegal_generation);
  CHECK(d.commit(a, 3, orders(0), 10) == errc::illegal_generation);
  CHECK(d.commit(a, 2, orders(0), 10) == errc::none);
  auto fetched = d.m.fetch_offsets({orders(0), orders(1)});
  REQUIRE(fetched);
  CHECK(fetched->at(orders(0)).offset == 10);
  CHECK(fetched->at(orders(0)).generation_id == 2);
  CHECK(fetched->at(orders(1)).offset == -1);
}

TEST_CASE("the commit reply waits for persistence, a failed write is reported", "[group]") {
  group_driver d;
  auto [a, join] = d.join_new();
  d.sync(a, 1);
  d.m.on_offset_commit(offset_commit_request{99, a, 1, {{orders(1), {5, ""}}}}, d.now);
  CHECK_FALSE(d.take<offset_commit_response>(99));
  REQUIRE(d.persists.size() == 1);
  CHECK(d.persists[0].offsets.at(orders(1)).offset == 5);
  d.m.on_persisted(d.persists[0].persist_id, errc::kafka_storage_error, d.now);
  CHECK(d.take<offset_commit_response>(99)->error == errc::coordinator_not_available);
  CHECK(d.m.fetch_offsets({orders(1)})->at(orders(1)).offset == -1);
}

TEST_CASE("a failed commit append is answered with Kafka's commit codes", "[group]") {
  CHECK(commit_error_for(errc::none) == errc::none);
  CHECK(commit_error_for(errc::message_too_large) == errc::invalid_commit_offset_size);
  CHECK(commit_error_for(errc::record_list_too_large) == errc::invalid_commit_offset_size);
  CHECK(commit_error_for(errc::not_leader_or_follower) == errc::not_coordinator);
  CHECK(commit_error_for(errc::not_enough_replicas) == errc::not_enough_replicas);
  CHECK(commit_error_for(errc::request_timed_out) == errc::coordinator_not_available);
}

TEST_CASE("commits during a rebalance", "[group]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  auto c_join = d.join_new().second;
  // PreparingRebalance: generation 2 still owns its partitions, so A may
  // commit what it processed before rejoining.
  CHECK(d.commit(a, 2, orders(0), 7) == errc::none);
  d.rejoin(a);
  d.rejoin(b);
  REQUIRE(d.take<join_group_response>(c_join));
  REQUIRE(d.m.state() == group_state::completing_rebalance);
  CHECK(d.commit(a, 3, orders(0), 8) == errc::rebalance_in_progress);
  CHECK(d.commit(a, 2, orders(0), 8) == errc::illegal_generation);
}

TEST_CASE("a member without heartbeats for session.timeout.ms is removed", "[group]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  for (int i = 0; i < 3; ++i) {
    d.advance(3000);
    CHECK(d.heartbeat(a, 2) == errc::none);
  }
  CHECK(d.m.is_member(b)); // 9 s of silence < 10 s
  d.advance(1000);
  CHECK_FALSE(d.m.is_member(b));
  CHECK(d.m.state() == group_state::preparing_rebalance);
  CHECK(d.heartbeat(b, 2) == errc::unknown_member_id);
  CHECK(d.heartbeat(a, 2) == errc::rebalance_in_progress);
  auto r = d.rejoin(a);
  CHECK(d.take<join_group_response>(r)->generation_id == 3);
  CHECK(d.sync(a, 3).assignment.size() == 6);
}

TEST_CASE("a member that joins while a crashed member's session runs gets everything",
          "[group]") {
  // A is stable, then crashes (no leave, no heartbeats). B joins right away:
  // its join is held until A's session expires, then answered with the next
  // generation, which gives B every partition.
  group_driver d;
  auto [a, a_join] = d.join_new();
  REQUIRE(d.take<join_group_response>(a_join)->generation_id == 1);
  REQUIRE(d.sync(a, 1).assignment.size() == 6);
  CHECK(d.commit(a, 1, orders(0), 42) == errc::none);
  d.advance(1000);
  auto [b, b_join] = d.join_new();
  CHECK(d.m.state() == group_state::preparing_rebalance);
  d.advance(8999); // A's last sign of life: its sync at 0 (10 s session)
  CHECK(d.m.is_member(a));
  CHECK_FALSE(d.take<join_group_response>(b_join));
  d.advance(1);
  CHECK_FALSE(d.m.is_member(a));
  auto r = d.take<join_group_response>(b_join);
  REQUIRE(r);
  CHECK(r->error == errc::none);
  CHECK(r->generation_id == 2);
  CHECK(r->leader_id == b);
  CHECK(d.m.state() == group_state::completing_rebalance);
  CHECK(d.sync(b, 2).assignment.size() == 6);
  CHECK(d.m.state() == group_state::stable);
  auto offsets = d.m.fetch_offsets({orders(0)});
  REQUIRE(offsets);
  CHECK(offsets->at(orders(0)).offset == 42);
  // B keeps its membership by heartbeating.
  for (int i = 0; i < 5; ++i) {
    d.advance(3000);
    CHECK(d.heartbeat(b, 2) == errc::none);
  }
  CHECK(d.m.state() == group_state::stable);
}

TEST_CASE("members that do not rejoin within the rebalance timeout are dropped", "[group]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  auto c_join = d.join_new().second;
  d.rejoin(a);
  for (int i = 0; i < 9; ++i) { // B heartbeats but never rejoins
    d.advance(3000);
    CHECK(d.heartbeat(b, 2) == errc::rebalance_in_progress);
  }
  CHECK(d.m.state() == group_state::preparing_rebalance);
  d.advance(2999);
  CHECK(d.m.is_member(b));
  d.advance(1); // 30 s rebalance timeout
  CHECK(d.m.state() == group_state::completing_rebalance);
  CHECK_FALSE(d.m.is_member(b));
  CHECK(d.take<join_group_response>(c_join)->generation_id == 3);
}

TEST_CASE("leave triggers a rebalance, the last member leaving empties the group", "[group]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  CHECK(d.leave(b) == errc::none);
  CHECK(d.m.state() == group_state::preparing_rebalance);
  CHECK(d.leave(b) == errc::unknown_member_id);
  d.rejoin(a);
  CHECK(d.sync(a, 3).assignment.size() == 6);
  CHECK(d.leave(a) == errc::none);
  CHECK(d.m.state() == group_state::empty);
  CHECK(d.m.generation_id() == 4);
}

TEST_CASE("unknown members are told so", "[group]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  CHECK(d.heartbeat("ghost", 2) == errc::unknown_member_id);
  CHECK(d.sync("ghost", 2).error == errc::unknown_member_id);
  CHECK(d.commit("ghost", 2, orders(0), 1) == errc::unknown_member_id);
  CHECK(d.leave("ghost") == errc::unknown_member_id);
  auto r = d.rejoin("ghost");
  CHECK(d.take<join_group_response>(r)->error == errc::unknown_member_id);
}

TEST_CASE("commits without membership are accepted only while Empty", "[group]") {
  group_driver d;
  CHECK(d.commit("", -1, orders(2), 42) == errc::none);
  CHECK(d.m.fetch_offsets({})->at(orders(2)).offset == 42);
  auto [a, join] = d.join_new();
  CHECK(d.commit("", -1, orders(2), 43) == errc::unknown_member_id);
}

TEST_CASE("join validation: session timeout and protocols", "[group]") {
  group_driver d;
  auto bad = d.join_req("", {"orders"}, "range", 1000);
  d.m.on_join(bad, d.now);
  CHECK(d.take<join_group_response>(bad.request_id)->error == errc::invalid_session_timeout);
  auto unknown = d.join_req("", {"orders"}, "my-assignor");
  d.m.on_join(unknown, d.now);
  CHECK(d.take<join_group_response>(unknown.request_id)->error ==
        errc::inconsistent_group_protocol);
  auto [a, join] = d.join_new({"orders"}, "range");
  auto other = d.join_req("", {"orders"}, "roundrobin");
  d.m.on_join(other, d.now);
  CHECK(d.take<join_group_response>(other.request_id)->error ==
        errc::inconsistent_group_protocol);
}

TEST_CASE("rebalance triggers: partitions added, subscription changed", "[group]") {
  group_driver d(0, {{"orders", 6}, {"fills", 2}});
  auto [a, b] = two_stable_members(d);
  auto same = d.rejoin(a); // same subscription: no rebalance, current generation
  CHECK(d.take<join_group_response>(same)->generation_id == 2);
  CHECK(d.m.state() == group_state::stable);
  auto owning = d.join_req(a, {"orders"}); // only the owned-partitions hint differs
  owning.protocols[0].subscription.owned_partitions = d.sync(a, 2).assignment;
  d.m.on_join(owning, d.now);
  CHECK(d.take<join_group_response>(owning.request_id)->generation_id == 2);
  CHECK(d.m.state() == group_state::stable);
  d.m.on_topic_partitions("fills", 4, d.now); // not subscribed: nothing happens
  CHECK(d.m.state() == group_state::stable);
  d.m.on_topic_partitions("orders", 8, d.now);
  CHECK(d.m.state() == group_state::preparing_rebalance);
  d.rejoin(a);
  d.rejoin(b);
  CHECK(d.sync(a, 3).assignment.size() + d.sync(b, 3).assignment.size() == 8);
  d.rejoin(b, {"orders", "fills"});
  CHECK(d.m.state() == group_state::preparing_rebalance);
  d.rejoin(a);
  CHECK(d.sync(b, 4).assignment.size() == 4 + 4); // orders 4 of 8 plus fills 0..3
}

TEST_CASE("describe shows members, assignments and committed offsets", "[group]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  CHECK(d.commit(b, 2, orders(4), 100) == errc::none);
  auto desc = d.m.describe();
  CHECK(desc.state == group_state::stable);
  CHECK(desc.protocol_type == "consumer");
  CHECK(desc.protocol_name == "range");
  CHECK(desc.generation_id == 2);
  REQUIRE(desc.members.size() == 2);
  CHECK(desc.members[0].client_host == "10.0.0.1");
  CHECK(desc.members[0].topics == std::vector<std::string>{"orders"});
  CHECK(desc.members[0].assignment.size() + desc.members[1].assignment.size() == 6);
  CHECK(desc.offsets.at(orders(4)).offset == 100);
  CHECK(to_string(desc.state) == "Stable");
}

TEST_CASE("unload: pending joins get NOT_COORDINATOR, then the group is Dead", "[group]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  auto c_join = d.join_new().second;
  d.m.unload(d.now);
  CHECK(d.take<join_group_response>(c_join)->error == errc::not_coordinator);
  CHECK(d.m.state() == group_state::dead);
  CHECK(d.heartbeat(a, 2) == errc::coordinator_not_available);
  CHECK(d.commit(a, 2, orders(0), 1) == errc::coordinator_not_available);
  CHECK(d.m.fetch_offsets({}).error().code() == errc::coordinator_not_available);
}

TEST_CASE("a reloaded group continues its generations and knows its offsets", "[group]") {
  group_offsets stored{{orders(3), group_offset{77, "m", 41, 5}}};
  group_machine m(group_config{"g", 6000, 300000, 0, "s2-", 41}, {{"orders", 6}}, stored, 0);
  CHECK(m.generation_id() == 41);
  CHECK(m.fetch_offsets({orders(3)})->at(orders(3)).offset == 77);
  m.on_join(join_group_request{1, "", "c", "h", 10000, 30000, "consumer",
                               {group_protocol{"range", {{"orders"}, {}, -1}}}},
            0);
  auto id = std::get<join_group_response>(m.take_ready().responses.at(0)).member_id;
  CHECK(id == "c-s2-1");
  m.on_join(join_group_request{2, id, "c", "h", 10000, 30000, "consumer",
                               {group_protocol{"range", {{"orders"}, {}, -1}}}},
            0);
  CHECK(std::get<join_group_response>(m.take_ready().responses.at(0)).generation_id == 42);
}

TEST_CASE("delete_group: only when Empty", "[group]") {
  group_driver d;
  auto [a, join] = d.join_new();
  CHECK(d.m.delete_group(d.now) == errc::non_empty_group);
  d.leave(a);
  CHECK(d.m.delete_group(d.now) == errc::none);
  CHECK(d.m.state() == group_state::dead);
  CHECK(d.m.delete_group(d.now) == errc::group_id_not_found);
}

TEST_CASE("a MEMBER_ID_REQUIRED id that never comes back expires quietly", "[group]") {
  group_driver d;
  auto first = d.join_req("", {"orders"});
  d.m.on_join(first, d.now);
  auto id = d.take<join_group_response>(first.request_id)->member_id;
  CHECK(d.m.next_deadline_ms() == 10000);
  d.advance(10000);
  CHECK(d.m.state() == group_state::empty);
  auto late = d.rejoin(id);
  CHECK(d.take<join_group_response>(late)->error == errc::unknown_member_id);
}

TEST_CASE("cooperative-sticky: revoke first, hand out after everyone synced", "[group]") {
  group_driver d;
  auto [a, a_join] = d.join_new({"orders"}, "cooperative-sticky");
  auto owned_a = d.sync(a, 1).assignment;
  auto [b, b_join] = d.join_new({"orders"}, "cooperative-sticky");
  auto req = d.join_req(a, {"orders"}, "cooperative-sticky");
  req.protocols[0].subscription = member_subscription{{"orders"}, owned_a, 1};
  d.m.on_join(req, d.now);
  CHECK(d.m.revoking().size() == 3);
  auto kept_a = d.sync(a, 2).assignment;
  CHECK(kept_a.size() == 3);
  CHECK(d.sync(b, 2).assignment.empty()); // B waits until A has let go
  CHECK(d.m.state() == group_state::preparing_rebalance); // follow-up round
  req = d.join_req(a, {"orders"}, "cooperative-sticky");
  req.protocols[0].subscription = member_subscription{{"orders"}, kept_a, 2};
  d.m.on_join(req, d.now);
  d.rejoin(b, {"orders"}, "cooperative-sticky");
  CHECK(d.sync(a, 3).assignment == kept_a);
  CHECK(d.sync(b, 3).assignment.size() == 3);
  CHECK(d.m.revoking().empty());
}

// ---- limits on client input (group_limits.hpp) ------------------------------

TEST_CASE("commit: metadata over offset.metadata.max.bytes is refused for its partition only",
          "[group][limits]") {
  group_driver d; // offset.metadata.max.bytes = 4096
  auto id = d.next_request++;
  d.m.on_offset_commit(offset_commit_request{id, "", -1,
                                             {{orders(0), {5, std::string(4097, 'm')}},
                                              {orders(1), {6, std::string(4096, 'm')}}}},
                       d.now);
  CHECK_FALSE(d.take<offset_commit_response>(id)); // orders-1 is being written
  REQUIRE(d.persists.size() == 1);
  CHECK(d.persists[0].offsets.size() == 1);
  CHECK(d.persists[0].offsets.count(orders(1)) == 1);
  d.m.on_persisted(d.persists[0].persist_id, errc::none, d.now);
  auto r = d.take<offset_commit_response>(id);
  REQUIRE(r);
  CHECK(r->error == errc::offset_metadata_too_large);
  CHECK(r->partition_errors ==
        std::map<topic_partition, errc>{{orders(0), errc::offset_metadata_too_large}});
  auto all = d.m.fetch_offsets({});
  REQUIRE(all);
  CHECK(all->size() == 1);
  CHECK(all->at(orders(1)).offset == 6);
}

TEST_CASE("commit: unknown topics, partitions beyond the count and illegal names",
          "[group][limits]") {
  group_driver d; // orders has 6 partitions
  auto id = d.next_request++;
  topic_partition unknown{"nope", 0}, long_name{std::string(250, 't'), 0}, slash{"a/b", 0},
    empty{"", 0};
  d.m.on_offset_commit(offset_commit_request{id, "", -1,
                                             {{unknown, {1, ""}},
                                              {orders(6), {1, ""}},
                                              {long_name, {1, ""}},
                                              {slash, {1, ""}},
                                              {empty, {1, ""}}}},
                       d.now);
  auto r = d.take<offset_commit_response>(id); // nothing to write: answered at once
  REQUIRE(r);
  CHECK(d.persists.empty());
  CHECK(r->error == errc::invalid_topic_exception); // the first partition's ("")
  CHECK(r->partition_errors == std::map<topic_partition, errc>{
                                 {unknown, errc::unknown_topic_or_partition},
                                 {orders(6), errc::unknown_topic_or_partition},
                                 {long_name, errc::invalid_topic_exception},
                                 {slash, errc::invalid_topic_exception},
                                 {empty, errc::invalid_topic_exception}});
  CHECK(d.m.fetch_offsets({})->empty());
  CHECK(d.m.forgettable());
  // A deleted topic (count 0) is unknown too.
  d.m.on_topic_partitions("orders", 0, d.now);
  CHECK(d.commit("", -1, orders(0), 1) == errc::unknown_topic_or_partition);
}

TEST_CASE("join: GROUP_MAX_SIZE_REACHED counts members and handed-out member ids",
          "[group][limits]") {
  group_config cfg{"g", 6000, 300000, 0, "s"};
  cfg.group_max_size = 2;
  group_driver d(cfg);
  auto [a, a_join] = d.join_new();
  auto first = d.join_req("", {"orders"});
  d.m.on_join(first, d.now);
  auto b = d.take<join_group_response>(first.request_id)->member_id; // MEMBER_ID_REQUIRED
  auto third = d.join_req("", {"orders"});
  d.m.on_join(third, d.now);
  CHECK(d.take<join_group_response>(third.request_id)->error == errc::group_max_size_reached);
  d.rejoin(b); // an id handed out before the group filled up still joins
  CHECK(d.m.is_member(b));
  CHECK(d.m.member_count() == 2);
  CHECK(d.leave(a) == errc::none);
  auto fourth = d.join_req("", {"orders"});
  d.m.on_join(fourth, d.now);
  CHECK(d.take<join_group_response>(fourth.request_id)->error == errc::member_id_required);
}

TEST_CASE("join: over-long ids, names and lists are INVALID_REQUEST naming the field",
          "[group][limits]") {
  group_driver d;
  auto base = d.join_req("", {"orders"});
  auto check = [&](auto change) {
    auto req = base;
    change(req);
    return check_join_request(req, 6000, 300000);
  };
  CHECK(check([](join_group_request&) {}));
  auto expect = [](const status& s, errc code, const std::string& field) {
    INFO(s.to_string());
    CHECK(s.code() == code);
    CHECK(s.message().find(field) != std::string::npos);
  };
  expect(check([](auto& r) { r.client_id = std::string(513, 'c'); }), errc::invalid_request,
         "client_id");
  expect(check([](auto& r) { r.client_host = std::string(513, 'h'); }), errc::invalid_request,
         "client_host");
  expect(check([](auto& r) { r.member_id = std::string(1025, 'm'); }), errc::invalid_request,
         "member_id");
  expect(check([](auto& r) { r.protocol_type = std::string(256, 'p'); }), errc::invalid_request,
         "protocol_type");
  expect(check([](auto& r) { r.protocols.resize(17, r.protocols[0]); }), errc::invalid_request,
         "protocols");
  expect(check([](auto& r) { r.protocols[0].name = std::string(256, 'n'); }),
         errc::invalid_request, "protocol name");
  expect(check([](auto& r) { r.protocols[0].subscription.topics.resize(10001, "t"); }),
         errc::invalid_request, "topics");
  expect(check([](auto& r) { r.protocols[0].subscription.topics = {"a/b"}; }),
         errc::invalid_request, "topics");
  expect(check([](auto& r) {
           r.protocols[0].subscription.owned_partitions.resize(100001, orders(0));
         }),
         errc::invalid_request, "owned_partitions");
  expect(check([](auto& r) { r.protocols[0].subscription.owned_partitions = {orders(-1)}; }),
         errc::invalid_request, "owned_partitions");
  expect(check([](auto& r) { r.session_timeout_ms = 1000; }), errc::invalid_session_timeout,
         "session_timeout_ms");
  expect(check([](auto& r) { r.protocol_type = "connect"; }), errc::inconsistent_group_protocol,
         "protocol_type");
  // The machine gives the same answer and keeps nothing.
  auto req = base;
  req.client_id = std::string(513, 'c');
  d.m.on_join(req, d.now);
  CHECK(d.take<join_group_response>(req.request_id)->error == errc::invalid_request);
  CHECK(d.m.forgettable());
}

TEST_CASE("group ids: 1 to 255 bytes, else INVALID_GROUP_ID", "[group][limits]") {
  CHECK(check_group_id("g"));
  CHECK(check_group_id(std::string(255, 'g')));
  CHECK(check_group_id("").code() == errc::invalid_group_id);
  CHECK(check_group_id(std::string(256, 'g')).code() == errc::invalid_group_id);
  auto huge = check_group_id(std::string(40000, 'g'));
  CHECK(huge.code() == errc::invalid_group_id);
  CHECK(huge.message().size() < 100); // the id is not echoed
}

TEST_CASE("a negative or absurd partition count is ignored, not an abort", "[group][limits]") {
  group_driver d;
  auto [a, b] = two_stable_members(d);
  d.m.on_topic_partitions("orders", -1, d.now);
  CHECK(d.m.state() == group_state::stable);
  CHECK(d.m.topics().at("orders") == 6);
  d.m.on_topic_partitions("orders", max_topic_partitions + 1, d.now);
  CHECK(d.m.state() == group_state::stable);
  CHECK(d.m.topics().at("orders") == 6);
  CHECK(d.heartbeat(a, 2) == errc::none);
}

TEST_CASE("generations wrap to 1 instead of overflowing", "[group][limits]") {
  group_machine m(group_config{"g", 6000, 300000, 0, "s-", INT32_MAX}, {{"orders", 6}}, {}, 0);
  auto join = [&](group_request_id id, const std::string& member) {
    m.on_join(join_group_request{id, member, "c", "h", 10000, 30000, "consumer",
                                 {group_protocol{"range", {{"orders"}, {}, -1}}}},
              0);
    return std::get<join_group_response>(m.take_ready().responses.at(0));
  };
  auto id = join(1, "").member_id;
  CHECK(join(2, id).generation_id == 1);
}

TEST_CASE("an Empty group with nothing to remember is forgettable", "[group][limits]") {
  group_driver d;
  CHECK(d.m.forgettable());
  auto first = d.join_req("", {"orders"});
  d.m.on_join(first, d.now);
  CHECK_FALSE(d.m.forgettable()); // a member id is out
  d.advance(10000);
  CHECK(d.m.forgettable());
  auto id = d.next_request++;
  d.m.on_offset_commit(offset_commit_request{id, "", -1, {{orders(0), {1, ""}}}}, d.now);
  CHECK_FALSE(d.m.forgettable()); // a commit in flight
  d.drain();
  d.m.on_persisted(d.persists.at(0).persist_id, errc::none, d.now);
  CHECK_FALSE(d.m.forgettable()); // offsets
}

// ---- the assignment goes through the log first (issue 12, item 7) ----------

TEST_CASE("SyncGroup is answered only once the generation's metadata is written",
          "[group][fencing]") {
  group_driver d(3000); // both join generation 1
  auto [a, a_join] = d.join_new();
  auto [b, b_join] = d.join_new();
  d.advance(3000);
  REQUIRE(d.take<join_group_response>(a_join)->generation_id == 1);
  REQUIRE(d.take<join_group_response>(b_join)->generation_id == 1);
  auto sa = d.send_sync(a, 1);
  auto sb = d.send_sync(b, 1);
  CHECK_FALSE(d.take<sync_group_response>(sa));
  CHECK_FALSE(d.take<sync_group_response>(sb));
  CHECK(d.m.state() == group_state::completing_rebalance);
  REQUIRE(d.group_writes.size() == 1); // one write per generation, whoever syncs first
  auto& md = d.group_writes[0].metadata;
  CHECK(d.group_writes[0].group_id == "g");
  CHECK(md.generation_id == 1);
  CHECK(md.protocol_type == "consumer");
  CHECK(md.protocol_name == "range");
  CHECK(md.leader_id == d.m.leader_id());
  REQUIRE(md.members.size() == 2);
  for (auto& mm : md.members) {
    CHECK(mm.assignment == d.m.assignment().at(mm.member_id));
    CHECK(mm.subscription.topics == std::vector<std::string>{"orders"});
    CHECK(mm.session_timeout_ms == 10000);
    CHECK(mm.rebalance_timeout_ms == 30000);
  }
  // Nobody owns anything yet: commits wait for the end of the rebalance.
  CHECK(d.heartbeat(a, 1) == errc::none);
  CHECK(d.commit(a, 1, orders(0), 1) == errc::rebalance_in_progress);
  d.write_group(errc::none);
  CHECK(d.m.state() == group_state::stable);
  auto ra = d.take<sync_group_response>(sa), rb = d.take<sync_group_response>(sb);
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(ra->error == errc::none);
  CHECK(rb->error == errc::none);
  CHECK(ra->assignment.size() + rb->assignment.size() == 6);
  CHECK(d.sync(a, 1).assignment == ra->assignment); // later syncs: at once, no new write
  d.drain();
  CHECK(d.group_writes.empty());
}

TEST_CASE("a failed metadata write hands out nothing: NOT_COORDINATOR, then a rebalance",
          "[group][fencing]") {
  group_driver d;
  auto [a, a_join] = d.join_new();
  REQUIRE(d.take<join_group_response>(a_join)->generation_id == 1);
  auto sa = d.send_sync(a, 1);
  // A deposed leader never gets the followers' acks: the append times out.
  d.write_group(errc::request_timed_out);
  auto r = d.take<sync_group_response>(sa);
  REQUIRE(r);
  CHECK(r->error == errc::not_coordinator);
  CHECK(r->assignment.empty());
  CHECK(d.m.state() == group_state::preparing_rebalance);
  CHECK(d.heartbeat(a, 1) == errc::rebalance_in_progress);
  // Back at a coordinator that can write: the next generation completes.
  auto rejoin = d.rejoin(a);
  REQUIRE(d.take<join_group_response>(rejoin)->generation_id == 2);
  CHECK(d.sync(a, 2).assignment.size() == 6);
  CHECK(d.m.state() == group_state::stable);
}

TEST_CASE("the members of a generation whose write failed are told what the log said",
          "[group][fencing]") {
  CHECK(sync_error_for(errc::not_leader_or_follower) == errc::not_coordinator);
  CHECK(sync_error_for(errc::kafka_storage_error) == errc::not_coordinator);
  CHECK(sync_error_for(errc::request_timed_out) == errc::not_coordinator);
  CHECK(sync_error_for(errc::network_exception) == errc::not_coordinator);
  CHECK(sync_error_for(errc::not_enough_replicas) == errc::coordinator_not_available);
  CHECK(sync_error_for(errc::not_enough_replicas_after_append) ==
        errc::coordinator_not_available);
  CHECK(sync_error_for(errc::unknown_topic_or_partition) == errc::coordinator_not_available);
  CHECK(sync_error_for(errc::message_too_large) == errc::unknown_server_error);
}

TEST_CASE("a rebalance during the metadata write voids it, its late outcome is ignored",
          "[group][fencing]") {
  group_driver d;
  auto [a, a_join] = d.join_new();
  d.take<join_group_response>(a_join);
  auto sa = d.send_sync(a, 1);
  d.drain();
  auto stale = d.group_writes;
  d.group_writes.clear();
  REQUIRE(stale.size() == 1);
  auto [b, b_join] = d.join_new(); // generation 1 ends before it was written
  CHECK(d.m.state() == group_state::preparing_rebalance);
  auto r = d.take<sync_group_response>(sa);
  REQUIRE(r);
  CHECK(r->error == errc::rebalance_in_progress);
  auto a_rejoin = d.rejoin(a);
  REQUIRE(d.take<join_group_response>(a_rejoin)->generation_id == 2);
  REQUIRE(d.take<join_group_response>(b_join)->generation_id == 2);
  auto sb = d.send_sync(b, 2);
  // Generation 1's write lands now: it must not complete generation 2.
  d.m.on_persisted(stale[0].persist_id, errc::none, d.now);
  CHECK(d.m.state() == group_state::completing_rebalance);
  CHECK_FALSE(d.take<sync_group_response>(sb));
  d.write_group(errc::none);
  CHECK(d.take<sync_group_response>(sb)->error == errc::none);
  CHECK(d.m.state() == group_state::stable);
}

TEST_CASE("held syncs: a leaving member gets UNKNOWN_MEMBER_ID, unload NOT_COORDINATOR",
          "[group][fencing]") {
  group_driver d(3000);
  auto [a, a_join] = d.join_new();
  auto [b, b_join] = d.join_new();
  d.advance(3000);
  d.take<join_group_response>(a_join);
  d.take<join_group_response>(b_join);
  auto sa = d.send_sync(a, 1);
  auto sb = d.send_sync(b, 1);
  CHECK(d.leave(a) == errc::none);
  CHECK(d.take<sync_group_response>(sa)->error == errc::unknown_member_id);
  CHECK(d.take<sync_group_response>(sb)->error == errc::rebalance_in_progress);
  auto b_rejoin = d.rejoin(b);
  REQUIRE(d.take<join_group_response>(b_rejoin)->generation_id == 2);
  auto sb2 = d.send_sync(b, 2);
  d.m.unload(d.now);
  CHECK(d.take<sync_group_response>(sb2)->error == errc::not_coordinator);
  d.write_group(errc::none); // the write's outcome after unloading changes nothing
  CHECK(d.m.state() == group_state::dead);
}

TEST_CASE("a member waiting for the metadata write is not expired meanwhile",
          "[group][fencing]") {
  group_driver d;
  auto [a, a_join] = d.join_new();
  d.take<join_group_response>(a_join);
  auto sa = d.send_sync(a, 1);
  CHECK_FALSE(d.m.next_deadline_ms()); // nothing to expire while it waits on us
  d.advance(25000); // beyond its 10 s session
  CHECK(d.m.is_member(a));
  d.write_group(errc::none);
  CHECK(d.take<sync_group_response>(sa)->error == errc::none);
  auto deadline = d.m.next_deadline_ms();
  REQUIRE(deadline);
  CHECK(*deadline == d.now + 10000); // the session restarts when it gets its share
}
