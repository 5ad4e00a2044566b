// Relay generations (Kafka's classic group protocol, docs/groups.md "Who
// computes the assignment"): members that joined with client_assigns send
// opaque metadata; the leader gets everyone's in its JoinGroup response and
// brings everyone's assignment in its SyncGroup; the coordinator relays the
// bytes, persists them as they are and decodes them only for protocol type
// "consumer".
#include <catch2/catch.hpp>

#include "actors/group/consumer_protocol.hpp"
#include "actors/group/group_limits.hpp"
#include "actors/group/group_machine.hpp"
#include "actors/group/group_metadata_record.hpp"
#include "actors/group/offsets_record.hpp"

using namespace al;

namespace {

using tps = std::vector<topic_partition>;
topic_partition orders(int32_t p) { return topic_partition{"orders", p}; }

bytes blob(std::initializer_list<uint8_t> b) { return bytes(b); }

// Drives one group_machine with a virtual clock; 10 s sessions, 30 s
// rebalance timeouts, 3 s initial delay (so members joining together land
// in generation 1).
struct relay_driver {
  group_machine m;
  int64_t now = 0;
  group_request_id next_request = 1;
  std::vector<group_response> responses;
  std::vector<persist_group_effect> group_writes;

  explicit relay_driver(int32_t initial_delay_ms = 3000)
    : m(group_config{"g", 6000, 300000, initial_delay_ms, "s"}, {{"orders", 6}}, {}, 0) {}

  void drain() {
    auto r = m.take_ready();
    for (auto& x : r.responses)
      responses.push_back(std::move(x));
    for (auto& x : r.persist_group)
      group_writes.push_back(std::move(x));
  }
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

  /// A Kafka wire member's JoinGroup: (name, metadata) pairs.
  join_group_request kafka_join(const std::string& member,
                                std::vector<std::pair<std::string, bytes>> protocols,
                                const std::string& type = "consumer") {
    join_group_request req;
    req.request_id = next_request++;
    req.member_id = member;
    req.client_id = "kafka";
    req.client_host = "10.0.0.9";
    req.session_timeout_ms = 10000;
    req.rebalance_timeout_ms = 30000;
    req.protocol_type = type;
    for (auto& [name, metadata] : protocols) {
      group_protocol p;
      p.name = name;
      p.metadata = metadata;
      req.protocols.push_back(std::move(p));
    }
    req.client_assigns = true;
    return req;
  }
  /// One of our CAF clients' JoinGroup: a decoded subscription to orders.
  join_group_request caf_join(const std::string& member, const std::string& protocol = "range") {
    join_group_request req;
    req.request_id = next_request++;
    req.member_id = member;
    req.client_id = "caf";
    req.client_host = "10.0.0.1";
    req.session_timeout_ms = 10000;
    req.rebalance_timeout_ms = 30000;
    group_protocol p;
    p.name = protocol;
    p.subscription = member_subscription{{"orders"}, {}, -1};
    req.protocols = {p};
    return req;
  }
  /// MEMBER_ID_REQUIRED, then the join with the id; returns the id and the
  /// request whose response is held for the rebalance.
  std::pair<std::string, group_request_id> join_new(join_group_request req) {
    req.member_id.clear();
    m.on_join(req, now);
    auto r = take<join_group_response>(req.request_id);
    REQUIRE(r);
    REQUIRE(r->error == errc::member_id_required);
    req.request_id = next_request++;
    req.member_id = r->member_id;
    m.on_join(req, now);
    return {r->member_id, req.request_id};
  }
  errc join_error(join_group_request req) {
    m.on_join(req, now);
    auto r = take<join_group_response>(req.request_id);
    REQUIRE(r);
    return r->error;
  }
  group_request_id send_sync(const std::string& member, int32_t generation,
                             std::vector<std::pair<std::string, bytes>> assignments = {}) {
    sync_group_request req;
    req.request_id = next_request++;
    req.member_id = member;
    req.generation_id = generation;
    req.assignments = std::move(assignments);
    m.on_sync(req, now);
    return req.request_id;
  }
  void write_group(errc append_error) {
    drain();
    REQUIRE(group_writes.size() == 1);
    auto w = group_writes.front();
    group_writes.clear();
    m.on_persisted(w.persist_id, append_error, now);
  }
  errc heartbeat(const std::string& member, int32_t generation) {
    auto id = next_request++;
    m.on_heartbeat(heartbeat_request{id, member, generation}, now);
    return take<heartbeat_response>(id)->error;
  }
  void advance(int64_t ms) {
    now += ms;
    m.tick(now);
  }
};

struct two_kafka_members {
  std::string a, b;
  join_group_response a_join, b_join;
};

/// Two Kafka members with opaque metadata in generation 1; A (the smaller
/// id, first to join) leads.
two_kafka_members join_two(relay_driver& d, bytes meta_a, bytes meta_b,
                           const std::string& type = "consumer") {
  auto [a, a_req] = d.join_new(d.kafka_join("", {{"range", meta_a}}, type));
  auto [b, b_req] = d.join_new(d.kafka_join("", {{"range", meta_b}}, type));
  d.advance(3000);
  auto ja = d.take<join_group_response>(a_req);
  auto jb = d.take<join_group_response>(b_req);
  REQUIRE(ja);
  REQUIRE(jb);
  REQUIRE(ja->error == errc::none);
  REQUIRE(jb->error == errc::none);
  REQUIRE(d.m.state() == group_state::completing_rebalance);
  return {a, b, *ja, *jb};
}

} // namespace

TEST_CASE("relay: the leader gets every member's metadata, followers wait for its SyncGroup, "
          "each member gets exactly its bytes",
          "[group][relay]") {
  relay_driver d;
  auto meta_a = blob({0xA1, 0xA2}), meta_b = blob({0xB1});
  auto [a, b, ja, jb] = join_two(d, meta_a, meta_b);
  CHECK(d.m.relay());
  CHECK(ja.leader_id == a);
  CHECK(jb.leader_id == a);
  CHECK(ja.generation_id == 1);
  CHECK(ja.protocol_name == "range");
  CHECK(ja.protocol_type == "consumer");
  CHECK(ja.members == std::vector<std::string>{a, b});
  CHECK(ja.member_metadata == std::vector<join_member>{{a, meta_a}, {b, meta_b}});
  CHECK(jb.members.empty()); // followers get no member list (as Kafka)
  CHECK(jb.member_metadata.empty());

  // B's sync parks: there is no assignment yet, so nothing is written.
  auto b_sync = d.send_sync(b, 1, {{b, blob({0xEE})}}); // a follower's list is ignored
  CHECK_FALSE(d.take<sync_group_response>(b_sync));
  CHECK(d.group_writes.empty());
  CHECK(d.m.assignment().empty());

  auto asg_a = blob({1, 2, 3}), asg_b = blob({4, 5});
  auto a_sync = d.send_sync(a, 1, {{a, asg_a}, {b, asg_b}});
  // The leader's sync has the generation written; nobody is answered before.
  CHECK_FALSE(d.take<sync_group_response>(a_sync));
  CHECK_FALSE(d.take<sync_group_response>(b_sync));
  REQUIRE(d.group_writes.size() == 1);
  auto md = d.group_writes.front().metadata;
  CHECK(md.protocol_type == "consumer");
  CHECK(md.leader_id == a);
  REQUIRE(md.members.size() == 2);
  CHECK(md.members[0].subscription_bytes == meta_a);
  CHECK(md.members[0].assignment_bytes == asg_a);
  CHECK(md.members[1].subscription_bytes == meta_b);
  CHECK(md.members[1].assignment_bytes == asg_b);

  d.write_group(errc::none);
  CHECK(d.m.state() == group_state::stable);
  auto ra = d.take<sync_group_response>(a_sync), rb = d.take<sync_group_response>(b_sync);
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(ra->error == errc::none);
  CHECK(rb->error == errc::none);
  CHECK(ra->assignment_bytes == asg_a);
  CHECK(rb->assignment_bytes == asg_b);
  CHECK(rb->protocol_name == "range");
  CHECK(rb->protocol_type == "consumer");
  CHECK(ra->assignment.empty()); // not a ConsumerProtocolAssignment: nothing decoded
  CHECK(rb->assignment.empty());

  // A sync in Stable hands out the same bytes again.
  auto again = d.send_sync(b, 1);
  CHECK(d.take<sync_group_response>(again)->assignment_bytes == asg_b);
  // Describe carries the raw bytes for Kafka's DescribeGroups.
  auto desc = d.m.describe();
  REQUIRE(desc.members.size() == 2);
  CHECK(desc.members[0].metadata == meta_a);
  CHECK(desc.members[0].assignment_bytes == asg_a);
  CHECK(desc.members[1].metadata == meta_b);
  CHECK(desc.members[1].assignment_bytes == asg_b);
}

TEST_CASE("relay: a member missing from the leader's assignments gets empty bytes",
          "[group][relay]") {
  relay_driver d;
  auto [a, b, ja, jb] = join_two(d, blob({1}), blob({2}));
  auto b_sync = d.send_sync(b, 1);
  auto mine = encode_assignment({orders(0)});
  auto a_sync = d.send_sync(a, 1, {{a, mine}, {"nobody", blob({9})}});
  d.write_group(errc::none);
  auto rb = d.take<sync_group_response>(b_sync);
  REQUIRE(rb);
  CHECK(rb->error == errc::none);
  CHECK(rb->assignment_bytes.empty());
  CHECK(rb->assignment.empty());
  CHECK(d.take<sync_group_response>(a_sync)->assignment == tps{orders(0)});
  CHECK(d.m.assignment().at(b).empty());
  CHECK(d.m.assignment().count("nobody") == 0);
}

TEST_CASE("relay: consumer-protocol bytes are decoded, bytes that do not decode give an empty "
          "list",
          "[group][relay]") {
  relay_driver d;
  auto [a, b, ja, jb] =
    join_two(d, encode_subscription({{"orders"}, {}, -1}), blob({0xFF, 0x00, 0x13}));
  // A Kafka consumer's subscription decodes, so describe shows its topics.
  CHECK(d.m.describe().members[0].topics == std::vector<std::string>{"orders"});
  auto garbage = blob({0x00, 0x00, 0x7F});
  auto a_sync = d.send_sync(a, 1, {{a, encode_assignment({orders(1), orders(0)})}, {b, garbage}});
  auto b_sync = d.send_sync(b, 1);
  d.write_group(errc::none);
  auto ra = d.take<sync_group_response>(a_sync), rb = d.take<sync_group_response>(b_sync);
  REQUIRE(ra);
  REQUIRE(rb);
  CHECK(ra->assignment == tps{orders(1), orders(0)}); // as the leader sent it
  CHECK(rb->error == errc::none);
  CHECK(rb->assignment_bytes == garbage);
  CHECK(rb->assignment.empty());
  CHECK(d.m.assignment().at(a) == tps{orders(1), orders(0)});
}

TEST_CASE("relay: a non-consumer protocol type (Connect) relays bytes without decoding",
          "[group][relay]") {
  relay_driver d;
  // Valid consumer-protocol bytes, to show they are not decoded here.
  auto meta = encode_subscription({{"orders"}, {}, -1});
  auto [a, b, ja, jb] = join_two(d, meta, meta, "connect");
  CHECK(ja.protocol_type == "connect");
  CHECK(ja.member_metadata == std::vector<join_member>{{a, meta}, {b, meta}});
  CHECK(d.m.describe().members[0].topics.empty());
  auto asg = encode_assignment({orders(0)});
  auto b_sync = d.send_sync(b, 1);
  auto a_sync = d.send_sync(a, 1, {{a, asg}, {b, asg}});
  d.write_group(errc::none);
  auto rb = d.take<sync_group_response>(b_sync);
  REQUIRE(rb);
  CHECK(rb->assignment_bytes == asg);
  CHECK(rb->assignment.empty());
  CHECK(rb->protocol_type == "connect");
  CHECK(d.take<sync_group_response>(a_sync)->assignment.empty());
  CHECK(d.m.assignment().at(a).empty());
  // Our CAF clients speak only "consumer": they cannot join a Connect group.
  CHECK(d.join_error(d.caf_join("")) == errc::inconsistent_group_protocol);
}

TEST_CASE("relay: the protocol is the one most members prefer among those all support",
          "[group][relay]") {
  relay_driver d;
  auto [a, a_req] = d.join_new(d.kafka_join("", {{"x", {}}, {"y", {}}, {"z", {}}}));
  auto [b, b_req] = d.join_new(d.kafka_join("", {{"z", {}}, {"y", {}}}));
  auto [c, c_req] = d.join_new(d.kafka_join("", {{"z", {}}, {"x", {}}, {"y", {}}}));
  d.advance(3000);
  // x is not B's, so A votes for y; B and C vote for z.
  CHECK(d.take<join_group_response>(a_req)->protocol_name == "z");
  CHECK(d.take<join_group_response>(b_req)->protocol_name == "z");
  CHECK(d.take<join_group_response>(c_req)->protocol_name == "z");
  CHECK(d.m.protocol_name() == "z");
}

TEST_CASE("relay: INCONSISTENT_GROUP_PROTOCOL for another protocol type or no common protocol",
          "[group][relay]") {
  relay_driver d;
  auto [a, a_req] = d.join_new(d.kafka_join("", {{"x", {1}}, {"y", {2}}}));
  CHECK(d.join_error(d.kafka_join("", {{"x", {1}}}, "connect")) ==
        errc::inconsistent_group_protocol);
  CHECK(d.join_error(d.kafka_join("", {{"w", {1}}})) == errc::inconsistent_group_protocol);
  // A CAF member's "range" is not among the group's candidates either.
  CHECK(d.join_error(d.caf_join("")) == errc::inconsistent_group_protocol);
  // One in common is enough.
  auto [b, b_req] = d.join_new(d.kafka_join("", {{"w", {1}}, {"y", {2}}}));
  d.advance(3000);
  CHECK(d.take<join_group_response>(b_req)->protocol_name == "y");
  // Before the member id is handed out, needing no group: no protocols, or
  // an empty protocol type (as Kafka).
  CHECK(d.join_error(d.kafka_join("", {})) == errc::inconsistent_group_protocol);
  CHECK(d.join_error(d.kafka_join("", {{"y", {}}}, "")) == errc::inconsistent_group_protocol);
  auto unknown_name = d.kafka_join("", {{"my-assignor", {}}});
  CHECK(check_join_request(unknown_name, 6000, 300000)); // names are the members' business
  unknown_name.client_assigns = false;
  CHECK(check_join_request(unknown_name, 6000, 300000).code() ==
        errc::inconsistent_group_protocol);
}

TEST_CASE("relay: SyncGroup v5's protocol type and name must be the group's", "[group][relay]") {
  relay_driver d;
  auto follower = join_two(d, blob({1}), blob({2})).b;
  auto sync = [&](const std::string& type, const std::string& name) {
    sync_group_request req;
    req.request_id = d.next_request++;
    req.member_id = follower;
    req.generation_id = 1;
    req.protocol_type = type;
    req.protocol_name = name;
    d.m.on_sync(req, d.now);
    return req.request_id;
  };
  CHECK(d.take<sync_group_response>(sync("connect", ""))->error ==
        errc::inconsistent_group_protocol);
  CHECK(d.take<sync_group_response>(sync("consumer", "roundrobin"))->error ==
        errc::inconsistent_group_protocol);
  auto ok = sync("consumer", "range");
  CHECK_FALSE(d.take<sync_group_response>(ok)); // parked for the leader, as any sync
}

TEST_CASE("relay: a mixed group, the Kafka member leads and assigns to the CAF member",
          "[group][relay]") {
  relay_driver d(0);
  // C (ours) alone: a server-side generation that C leads.
  auto [c, c_req] = d.join_new(d.caf_join(""));
  auto jc = d.take<join_group_response>(c_req);
  REQUIRE(jc);
  CHECK(jc->leader_id == c);
  CHECK_FALSE(d.m.relay());
  auto c_sync = d.send_sync(c, 1);
  d.write_group(errc::none);
  auto rc = d.take<sync_group_response>(c_sync);
  REQUIRE(rc);
  CHECK(rc->assignment.size() == 6);
  CHECK(rc->assignment_bytes == encode_assignment(rc->assignment)); // server-side: encoded
  CHECK_FALSE(d.group_writes.size());

  // K (Kafka, prefers cooperative-sticky but supports range) joins.
  auto k_meta = encode_subscription({{"orders"}, {}, -1});
  auto [k, k_req] =
    d.join_new(d.kafka_join("", {{"cooperative-sticky", blob({7})}, {"range", k_meta}}));
  CHECK(d.heartbeat(c, 1) == errc::rebalance_in_progress);
  auto c_rejoin = d.caf_join(c);
  d.m.on_join(c_rejoin, d.now);
  auto jk = d.take<join_group_response>(k_req);
  jc = d.take<join_group_response>(c_rejoin.request_id);
  REQUIRE(jk);
  REQUIRE(jc);
  CHECK(d.m.relay());
  CHECK(jk->generation_id == 2);
  CHECK(jk->protocol_name == "range"); // the only one both support
  CHECK(jk->leader_id == k);           // the member that assigns leads
  CHECK(jc->leader_id == k);
  CHECK(jc->member_metadata.empty());
  // K sees C's subscription as a ConsumerProtocolSubscription.
  CHECK(jk->member_metadata ==
        std::vector<join_member>{{c, encode_subscription({{"orders"}, {}, -1})}, {k, k_meta}});

  // Heartbeats while waiting for the leader are fine (as Kafka).
  d.advance(1000);
  CHECK(d.heartbeat(c, 2) == errc::none);
  c_sync = d.send_sync(c, 2);
  CHECK_FALSE(d.take<sync_group_response>(c_sync));
  auto for_c = encode_assignment({orders(0), orders(1), orders(2)});
  auto for_k = encode_assignment({orders(3), orders(4), orders(5)});
  auto k_sync = d.send_sync(k, 2, {{c, for_c}, {k, for_k}});
  d.write_group(errc::none);
  rc = d.take<sync_group_response>(c_sync);
  REQUIRE(rc);
  CHECK(rc->assignment == tps{orders(0), orders(1), orders(2)}); // decoded for our client
  CHECK(rc->assignment_bytes == for_c);
  CHECK(d.take<sync_group_response>(k_sync)->assignment_bytes == for_k);
  CHECK(d.m.assignment().at(k) == tps{orders(3), orders(4), orders(5)});
  auto desc = d.m.describe();
  CHECK(desc.members[0].metadata == encode_subscription({{"orders"}, {}, -1}));
  CHECK(desc.members[0].assignment == tps{orders(0), orders(1), orders(2)});

  // The leader rejoining a Stable group asks for a new assignment (as Kafka);
  // C rejoining unchanged gets the current generation back.
  auto same = d.caf_join(c);
  d.m.on_join(same, d.now);
  CHECK(d.take<join_group_response>(same.request_id)->generation_id == 2);
  CHECK(d.m.state() == group_state::stable);
  d.m.on_join(d.kafka_join(k, {{"cooperative-sticky", blob({7})}, {"range", k_meta}}), d.now);
  CHECK(d.m.state() == group_state::preparing_rebalance);

  // Once K is gone, generations are server-side again and C leads.
  leave_group_request leave{d.next_request++, k};
  d.m.on_leave(leave, d.now);
  auto c_again = d.caf_join(c);
  d.m.on_join(c_again, d.now);
  auto j3 = d.take<join_group_response>(c_again.request_id);
  REQUIRE(j3);
  CHECK(j3->generation_id == 3);
  CHECK(j3->leader_id == c);
  CHECK_FALSE(d.m.relay());
  CHECK(d.m.assignment().at(c).size() == 6);
}

TEST_CASE("relay: a leader that never syncs is removed by its session timeout, the group "
          "rebalances",
          "[group][relay]") {
  relay_driver d;
  auto [a, b, ja, jb] = join_two(d, blob({1}), blob({2}));
  auto b_sync = d.send_sync(b, 1);
  for (int i = 0; i < 3; ++i) {
    d.advance(3000);
    CHECK(d.heartbeat(b, 1) == errc::none);
  }
  CHECK(d.m.is_member(a)); // 9 s of silence < 10 s
  CHECK_FALSE(d.take<sync_group_response>(b_sync));
  CHECK(d.m.next_deadline_ms() == 3000 + 10000); // A's session (the join answered at 3000)
  d.advance(1000);
  CHECK_FALSE(d.m.is_member(a));
  CHECK(d.m.state() == group_state::preparing_rebalance);
  CHECK(d.take<sync_group_response>(b_sync)->error == errc::rebalance_in_progress);
  CHECK(d.group_writes.empty());
  auto rejoin = d.kafka_join(b, {{"range", blob({2})}});
  d.m.on_join(rejoin, d.now);
  auto j = d.take<join_group_response>(rejoin.request_id);
  REQUIRE(j);
  CHECK(j->generation_id == 2);
  CHECK(j->leader_id == b);
  CHECK(j->member_metadata == std::vector<join_member>{{b, blob({2})}});
}

TEST_CASE("relay: a leader that heartbeats but never syncs is removed at the rebalance timeout "
          "(Kafka's pending-sync expiry)",
          "[group][relay]") {
  relay_driver d;
  auto [a, b, ja, jb] = join_two(d, blob({1}), blob({2})); // generation 1 at t = 3 s
  auto b_sync = d.send_sync(b, 1);
  for (int i = 0; i < 9; ++i) { // 27 s of heartbeats, A never syncs
    d.advance(3000);
    CHECK(d.heartbeat(a, 1) == errc::none);
  }
  CHECK(d.m.is_member(a));
  CHECK(d.m.state() == group_state::completing_rebalance);
  CHECK(d.m.next_deadline_ms() == 3000 + 30000); // the generation's sync deadline
  d.advance(3000);
  CHECK_FALSE(d.m.is_member(a));
  CHECK(d.m.is_member(b));
  CHECK(d.m.state() == group_state::preparing_rebalance);
  CHECK(d.take<sync_group_response>(b_sync)->error == errc::rebalance_in_progress);
}

TEST_CASE("relay: members that all synced are not removed at the rebalance timeout",
          "[group][relay]") {
  relay_driver d;
  auto [a, b, ja, jb] = join_two(d, blob({1}), blob({2}));
  auto b_sync = d.send_sync(b, 1);
  auto a_sync = d.send_sync(a, 1, {{a, blob({7})}, {b, blob({8})}});
  d.write_group(errc::none);
  CHECK(d.take<sync_group_response>(a_sync)->error == errc::none);
  CHECK(d.take<sync_group_response>(b_sync)->error == errc::none);
  for (int i = 0; i < 15; ++i) { // 45 s, past the 30 s rebalance timeout
    d.advance(3000);
    CHECK(d.heartbeat(a, 1) == errc::none);
    CHECK(d.heartbeat(b, 1) == errc::none);
  }
  CHECK(d.m.state() == group_state::stable);
  CHECK(d.m.is_member(a));
  CHECK(d.m.is_member(b));
}

TEST_CASE("relay: a reloaded coordinator reads a relay generation's bytes back unchanged",
          "[group][relay][offsets]") {
  relay_driver d;
  // Bytes a Kafka client may send: a v3 subscription with user data and a
  // rack (decodes, but our encoder would write v2 without them), and junk.
  bytes v3{0, 3, 0, 0, 0, 1, 0, 6, 'o', 'r', 'd', 'e', 'r', 's', // topics [orders]
           0, 0, 0, 2, 0xCA, 0xFE,                              // user data
           0, 0, 0, 0,                                          // owned: none
           0, 0, 0, 4,                                          // generation 4
           0, 2, 'r', '1'};                                     // rack
  auto junk = blob({0xDE, 0xAD});
  auto [a, b, ja, jb] = join_two(d, v3, junk);
  auto asg_a = encode_assignment({orders(2)});
  d.send_sync(a, 1, {{a, asg_a}, {b, junk}});
  d.drain();
  REQUIRE(d.group_writes.size() == 1);
  auto md = d.group_writes.front().metadata;
  auto value = encode_group_metadata_value(md);
  auto back = decode_group_metadata_value(byte_view{value});
  REQUIRE(back);
  REQUIRE(back->members.size() == 2);
  CHECK(encoded_subscription(back->members[0]) == v3);
  CHECK(back->members[0].subscription.topics == std::vector<std::string>{"orders"});
  CHECK(back->members[0].subscription.generation_id == 4);
  CHECK(encoded_assignment(back->members[0]) == asg_a);
  CHECK(back->members[0].assignment == tps{orders(2)});
  CHECK(encoded_subscription(back->members[1]) == junk);
  CHECK(encoded_assignment(back->members[1]) == junk);
  CHECK(back->members[1].subscription.topics.empty());
  CHECK(encode_group_metadata_value(*back) == value); // byte for byte
  // The loader still takes the generation from it.
  offsets_loader loader;
  auto batch = group_metadata_batch("g", md, 100);
  REQUIRE(loader.apply(byte_view{batch}, 0));
  CHECK(loader.unreadable() == 0);
}

TEST_CASE("group metadata records round-trip raw member bytes", "[group][offsets]") {
  group_member_metadata canonical{"m1", "c", "h", 30000, 10000,
                                  member_subscription{{"t"}, {}, -1}, {topic_partition{"t", 0}},
                                  std::nullopt, std::nullopt};
  auto raw = canonical;
  raw.member_id = "m2";
  raw.subscription = {};
  raw.assignment = {};
  raw.subscription_bytes = bytes{1, 2, 3};
  raw.assignment_bytes = bytes{}; // an empty assignment, as Kafka gives a forgotten member
  group_metadata consumer{"consumer", 7, "range", "m1", 1700000000000, {canonical, raw}};
  auto value = encode_group_metadata_value(consumer);
  auto back = decode_group_metadata_value(byte_view{value});
  REQUIRE(back);
  // Bytes that are what encoding the fields gives come back as fields only,
  // so records of server-side generations read back equal.
  CHECK(*back == consumer);
  CHECK(encode_group_metadata_value(*back) == value);

  // The same bytes under a non-consumer protocol type: never decoded.
  group_member_metadata opaque = canonical;
  opaque.subscription = {};
  opaque.assignment = {};
  opaque.subscription_bytes = encode_subscription({{"t"}, {}, -1});
  opaque.assignment_bytes = encode_assignment({topic_partition{"t", 0}});
  group_metadata connect{"connect", 2, "default", "m1", 5, {opaque}};
  auto cvalue = encode_group_metadata_value(connect);
  auto cback = decode_group_metadata_value(byte_view{cvalue});
  REQUIRE(cback);
  CHECK(*cback == connect);
  CHECK(cback->members[0].subscription.topics.empty());
  CHECK(encode_group_metadata_value(*cback) == cvalue);
}

TEST_CASE("server-side generations: records without raw bytes, sync answers carry the "
          "encoded assignment",
          "[group][relay]") {
  relay_driver d(0);
  auto [c, c_req] = d.join_new(d.caf_join(""));
  REQUIRE(d.take<join_group_response>(c_req)->member_metadata.empty());
  auto s = d.send_sync(c, 1);
  d.drain();
  REQUIRE(d.group_writes.size() == 1);
  for (auto& m : d.group_writes.front().metadata.members) {
    CHECK_FALSE(m.subscription_bytes);
    CHECK_FALSE(m.assignment_bytes);
  }
  d.write_group(errc::none);
  auto r = d.take<sync_group_response>(s);
  REQUIRE(r);
  CHECK(r->assignment_bytes == encode_assignment(r->assignment));
  CHECK(d.m.describe().members[0].metadata == encode_subscription({{"orders"}, {}, -1}));
}

TEST_CASE("sync limits: assignments over the bounds are INVALID_REQUEST naming the field",
          "[group][limits]") {
  sync_group_request req;
  req.member_id = "m";
  req.assignments = {{"a", bytes(10)}};
  CHECK(check_sync_request(req));
  auto big = req;
  big.assignments[0].second.resize(max_protocol_metadata_bytes + 1);
  CHECK(check_sync_request(big).code() == errc::invalid_request);
  CHECK(check_sync_request(big).message().find("assignment") != std::string::npos);
  auto long_id = req;
  long_id.assignments[0].first = std::string(max_member_id_bytes + 1, 'x');
  CHECK(check_sync_request(long_id).code() == errc::invalid_request);
  join_group_request join;
  join.client_assigns = true;
  join.protocols = {group_protocol{"x", {}, bytes(max_protocol_metadata_bytes + 1)}};
  auto st = check_join_request(join, 6000, 300000);
  CHECK(st.code() == errc::invalid_request);
  CHECK(st.message().find("protocol metadata") != std::string::npos);
}
