// consumer_member_machine: the consumer's side of the group protocol, driven
// by hand (the coordinator's answers are written out here; the cluster
// simulation runs it against the real group_machine).
#include <catch2/catch.hpp>

#include "actors/client/consumer_member_machine.hpp"

using namespace al;
using phase = consumer_member_machine::phase;
using tps = std::vector<topic_partition>;

namespace {

consumer_member_config config_for(const std::string& assignor) {
  consumer_member_config c;
  c.group_id = "g";
  c.client_id = "c1";
  c.client_host = "h";
  c.assignor = assignor;
  c.session_timeout_ms = 10000;
  c.heartbeat_interval_ms = 1000;
  c.max_poll_interval_ms = 30000;
  c.request_timeout_ms = 5000;
  c.retry_backoff_ms = 100;
  return c;
}

const topic_partition t0{"t", 0}, t1{"t", 1}, t2{"t", 2};

join_group_response join_answer(errc e, int32_t generation, std::string protocol,
                                std::string member_id) {
  join_group_response r;
  r.error = e;
  r.generation_id = generation;
  r.protocol_name = std::move(protocol);
  r.leader_id = r.member_id = std::move(member_id);
  return r;
}

struct member {
  consumer_member_machine m;
  int64_t now = 1000;
  member_ready r;

  explicit member(const std::string& assignor = "range") : m(config_for(assignor)) {}

  member_ready& take() { return r = m.take_ready(); }
  template <class T>
  const T& sent(size_t i = 0) {
    REQUIRE(r.requests.size() > i);
    REQUIRE(std::holds_alternative<T>(r.requests[i].body));
    return std::get<T>(r.requests[i].body);
  }
  uint64_t seq(size_t i = 0) { return r.requests.at(i).seq; }
  void answer(size_t i, group_response resp) { m.on_response(seq(i), resp, now); }
  void at(int64_t t) {
    now = t;
    m.tick(now);
  }
  /// The next heartbeat goes out and is answered with `e`; returns what follows.
  member_ready& heartbeat_answered(errc e) {
    at(now + m.config().heartbeat_interval_ms);
    take();
    answer(0, heartbeat_response{0, e});
    return take();
  }
  /// subscribe and find the coordinator: the first JoinGroup is in `r`.
  void first_join() {
    m.subscribe({"t"}, now);
    take();
    m.coordinator_found(now);
    take();
  }
  /// subscribe, find, join (MEMBER_ID_REQUIRED first), sync: stable with `assignment`.
  void join(const tps& assignment, int32_t generation = 1) {
    m.subscribe({"t"}, now);
    take();
    REQUIRE(r.find_coordinator);
    REQUIRE(r.requests.empty());
    m.coordinator_found(now);
    take();
    CHECK(sent<join_group_request>().member_id.empty());
    answer(0, join_answer(errc::member_id_required, -1, "", "m-1"));
    take();
    CHECK(sent<join_group_request>().member_id == "m-1"); // KIP-394: again with the id
    answer(0, join_answer(errc::none, generation, m.config().assignor, "m-1"));
    take();
    CHECK(sent<sync_group_request>().generation_id == generation);
    CHECK(m.state() == phase::syncing);
    answer(0, sync_group_response{0, errc::none, m.config().assignor, assignment});
    take();
    REQUIRE(m.state() == phase::stable);
  }
};

} // namespace

TEST_CASE("a member finds the coordinator, joins with the id it is given, syncs, heartbeats",
          "[consumer_member]") {
  member c;
  c.join({t0, t1}, 3);
  REQUIRE(c.r.events.size() == 1);
  CHECK(c.r.events[0].what == rebalance_event::kind::assigned);
  CHECK(c.r.events[0].partitions == tps{t0, t1});
  CHECK(c.r.fetched == tps{t0, t1});
  CHECK(c.m.generation() == 3);
  CHECK(c.m.next_deadline_ms() == c.now + 1000); // the first heartbeat
  c.at(c.now + 999);
  CHECK(c.take().requests.empty());
  c.at(c.now + 1);
  c.take();
  auto hb_seq = c.seq();
  CHECK(c.sent<heartbeat_request>().generation_id == 3);
  CHECK(c.sent<heartbeat_request>().member_id == "m-1");
  c.at(c.now + 1000); // the last one still in flight: none more
  CHECK(c.take().requests.empty());
  c.m.on_response(hb_seq, heartbeat_response{0, errc::none}, c.now);
  c.at(c.now + 1000);
  CHECK(c.take().requests.size() == 1);
}

TEST_CASE("eager: the member revokes everything before it rejoins, then claims what it had",
          "[consumer_member]") {
  member c("range");
  c.join({t0, t1}, 1);
  auto& r = c.heartbeat_answered(errc::rebalance_in_progress);
  CHECK(r.requests.empty()); // no JoinGroup before the polling thread revoked
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].what == rebalance_event::kind::revoked);
  CHECK(r.events[0].partitions == tps{t0, t1});
  CHECK(r.stop_fetching == tps{t0, t1});
  auto revocation = r.events[0].revocation;
  CHECK(c.m.state() == phase::revoking);
  c.m.revoke_done(revocation + 7, c.now); // not ours: ignored
  CHECK(c.take().requests.empty());
  c.m.revoke_done(revocation, c.now);
  c.take();
  CHECK(c.r.fetched == tps{});
  CHECK(c.m.owned().empty());
  auto& sub = c.sent<join_group_request>().protocols.at(0).subscription;
  CHECK(sub.owned_partitions == tps{t0, t1}); // the sticky assignors' claims
  CHECK(sub.generation_id == 1);
}

TEST_CASE("cooperative: the member rejoins owning its partitions, only what it loses is revoked",
          "[consumer_member]") {
  member c("cooperative-sticky");
  c.join({t0, t1}, 1);
  c.heartbeat_answered(errc::rebalance_in_progress);
  CHECK(c.r.events.empty());
  CHECK(c.m.state() == phase::joining);
  CHECK(c.sent<join_group_request>().protocols.at(0).subscription.owned_partitions ==
        tps{t0, t1});
  c.answer(0, join_answer(errc::none, 2, "cooperative-sticky", "m-1"));
  c.take();
  c.answer(0, sync_group_response{0, errc::none, "cooperative-sticky", {t1, t2}});
  c.take();
  REQUIRE(c.r.events.size() == 2);
  CHECK(c.r.events[0].what == rebalance_event::kind::revoked);
  CHECK(c.r.events[0].partitions == tps{t0});
  CHECK(c.r.events[1].what == rebalance_event::kind::assigned);
  CHECK(c.r.events[1].partitions == tps{t2}); // only what is new
  CHECK(c.r.events[1].owned == tps{t1, t2});
}

TEST_CASE("commits are fenced by the generation they were made in", "[consumer_member]") {
  member c;
  c.join({t0}, 4);
  offset_commit_map offsets{{t0, offset_and_metadata{42, "", -1}}};
  auto id = c.m.commit(offsets, c.now);
  c.take();
  CHECK(c.sent<offset_commit_request>().generation_id == 4);
  CHECK(c.sent<offset_commit_request>().member_id == "m-1");
  c.answer(0, offset_commit_response{0, errc::none, {}});
  c.take();
  REQUIRE(c.r.commits.size() == 1);
  CHECK(c.r.commits[0].id == id);
  CHECK(c.r.commits[0].result.is_ok());

  SECTION("a commit while joining fails here, without a request") {
    c.heartbeat_answered(errc::illegal_generation);
    CHECK(c.m.state() == phase::joining);
    c.m.commit(offsets, c.now);
    c.take();
    CHECK(c.r.requests.empty());
    REQUIRE(c.r.commits.size() == 1);
    CHECK(c.r.commits[0].result.code() == errc::rebalance_in_progress);
    CHECK(c.m.commits_failed() == 1);
  }
  SECTION("a retry after the member moved to a newer generation fails ILLEGAL_GENERATION") {
    c.at(c.now + 1000);
    c.take();
    auto heartbeat = c.seq();
    c.m.commit(offsets, c.now);
    c.take();
    c.m.on_response(c.seq(), offset_commit_response{0, errc::not_coordinator, {}}, c.now);
    c.take();
    CHECK(c.r.forget_coordinator);
    CHECK(c.r.commits.empty()); // retried after retry.backoff.ms
    // Before the retry is due the member is fenced and joins generation 5.
    c.m.on_response(heartbeat, heartbeat_response{0, errc::illegal_generation}, c.now);
    c.take();
    CHECK(c.r.find_coordinator);
    c.m.coordinator_found(c.now);
    c.take();
    c.answer(0, join_answer(errc::none, 5, "range", "m-1"));
    c.take();
    c.answer(0, sync_group_response{0, errc::none, "range", {t0}});
    c.take();
    CHECK(c.m.generation() == 5);
    c.at(c.now + 100); // the commit's retry is due
    c.take();
    for (auto& q : c.r.requests)
      CHECK(!std::holds_alternative<offset_commit_request>(q.body));
    REQUIRE(c.r.commits.size() == 1);
    CHECK(c.r.commits[0].result.code() == errc::illegal_generation);
  }
}

TEST_CASE("assign(): commits go as nobody", "[consumer_member]") {
  member c;
  c.m.commit({{t0, offset_and_metadata{7, "", -1}}}, c.now);
  c.take();
  CHECK(c.r.find_coordinator);
  c.m.coordinator_found(c.now);
  c.take();
  CHECK(c.sent<offset_commit_request>().member_id.empty());
  CHECK(c.sent<offset_commit_request>().generation_id == -1);
}

TEST_CASE("a commit retries coordinator errors until request.timeout.ms", "[consumer_member]") {
  member c;
  c.join({t0}, 1);
  c.m.commit({{t0, offset_and_metadata{7, "", -1}}}, c.now);
  c.take();
  auto start = c.now;
  int attempts = 0;
  while (c.r.commits.empty() && c.now < start + 10000) {
    for (size_t i = 0; i < c.r.requests.size(); ++i)
      if (std::holds_alternative<offset_commit_request>(c.r.requests[i].body)) {
        ++attempts;
        c.answer(i, offset_commit_response{0, errc::coordinator_load_in_progress, {}});
      }
    if (c.r.find_coordinator)
      c.m.coordinator_found(c.now);
    c.take();
    if (c.r.requests.empty() && c.r.commits.empty() && !c.r.find_coordinator)
      c.at(c.now + 50);
  }
  REQUIRE(c.r.commits.size() == 1);
  CHECK(c.r.commits[0].result.code() == errc::coordinator_load_in_progress);
  CHECK(attempts > 10);
  CHECK(c.now <= start + 5000);
}

TEST_CASE("no poll for max.poll.interval.ms: the member leaves, stops heartbeating, "
          "and the next poll rejoins", "[consumer_member]") {
  member c;
  c.join({t0, t1}, 2);
  c.m.poll(c.now);
  auto deadline = c.now + 30000;
  for (int64_t t = c.now + 1000; t < deadline; t += 1000) {
    c.at(t);
    for (size_t i = 0; i < c.take().requests.size(); ++i)
      c.answer(i, heartbeat_response{});
  }
  c.at(deadline);
  c.take();
  CHECK(c.m.state() == phase::left);
  CHECK(c.sent<leave_group_request>().member_id == "m-1");
  REQUIRE(c.r.events.size() == 1);
  CHECK(c.r.events[0].what == rebalance_event::kind::lost);
  CHECK(c.r.fetched == tps{});
  c.answer(0, leave_group_response{});
  c.at(deadline + 60000);
  CHECK(c.take().requests.empty()); // no heartbeat after leaving
  c.m.poll(c.now);
  c.take();
  CHECK(c.sent<join_group_request>().member_id.empty());
}

TEST_CASE("fenced: ILLEGAL_GENERATION keeps the member id, UNKNOWN_MEMBER_ID forgets it",
          "[consumer_member]") {
  auto forget = GENERATE(false, true);
  member c;
  c.join({t0}, 2);
  c.heartbeat_answered(forget ? errc::unknown_member_id : errc::illegal_generation);
  REQUIRE(c.r.events.size() == 1);
  CHECK(c.r.events[0].what == rebalance_event::kind::lost);
  CHECK(c.sent<join_group_request>().member_id == (forget ? "" : "m-1"));
  CHECK(c.sent<join_group_request>().protocols.at(0).subscription.owned_partitions.empty());
}

TEST_CASE("stale answers are ignored, a lost join is sent again", "[consumer_member]") {
  member c;
  c.first_join();
  auto first = c.seq();
  SECTION("the connection drops: join again at once") {
    c.m.coordinator_disconnected(c.now);
    c.take();
    CHECK(c.r.forget_coordinator);
    CHECK(c.r.find_coordinator);
    c.m.coordinator_found(c.now);
    c.take();
    c.sent<join_group_request>();
    c.m.on_response(first, join_answer(errc::none, 9, "range", "x"), c.now);
    CHECK(c.m.take_ready().requests.empty()); // the lost join's answer
    CHECK(c.m.state() == phase::joining);
  }
  SECTION("the join times out: the coordinator is forgotten, the join retried") {
    c.at(c.now + 30000 + 5000 + 5000);
    c.take();
    CHECK(c.r.forget_coordinator);
    c.at(c.now + 100);
    CHECK(c.take().find_coordinator);
    c.m.coordinator_not_found(status{errc::coordinator_not_available, "loading"}, c.now);
    c.take();
    c.at(c.now + 100);
    CHECK(c.take().find_coordinator);
  }
}

TEST_CASE("a JoinGroup error the user must fix is fatal", "[consumer_member]") {
  member c;
  c.first_join();
  c.answer(0, join_answer(errc::inconsistent_group_protocol, -1, "", ""));
  c.take();
  CHECK(c.r.fatal.code() == errc::inconsistent_group_protocol);
  CHECK(c.m.state() == phase::idle);
  CHECK(!c.m.next_deadline_ms());
}

TEST_CASE("close leaves the group and reports when the leave is answered", "[consumer_member]") {
  member c;
  SECTION("a member") {
    c.join({t0}, 1);
    c.m.close(c.now);
    c.take();
    CHECK(!c.r.closed);
    CHECK(c.sent<leave_group_request>().member_id == "m-1");
    c.answer(0, leave_group_response{});
    CHECK(c.take().closed);
    c.at(c.now + 5000);
    CHECK(c.take().requests.empty());
  }
  SECTION("not a member") {
    c.m.close(c.now);
    CHECK(c.take().closed);
    CHECK(c.r.requests.empty());
  }
}

TEST_CASE("fenced while revoking: the partitions were handed over as revoked, not lost too",
          "[consumer_member]") {
  member c("range");
  c.join({t0, t1}, 1);
  auto revocation = c.heartbeat_answered(errc::rebalance_in_progress).events.at(0).revocation;
  // Heartbeats go on while the polling thread revokes; this one is fenced.
  c.heartbeat_answered(errc::illegal_generation);
  CHECK(c.r.events.empty());
  CHECK(c.r.fetched == tps{});
  CHECK(c.sent<join_group_request>().protocols.at(0).subscription.owned_partitions.empty());
  auto join = c.seq();
  c.m.revoke_done(revocation, c.now); // late: the member is joining already
  CHECK(c.take().requests.empty());
  c.m.on_response(join, join_answer(errc::none, 2, "range", "m-1"), c.now);
  c.take();
  c.answer(0, sync_group_response{0, errc::none, "range", {t1}});
  c.take();
  // The polling thread gets to the revocation only now: its auto commit is
  // fenced by generation 1, not sent as generation 2 (t0 may be another's).
  c.m.commit({{t0, offset_and_metadata{9, "", -1}}}, c.now, 1);
  c.take();
  CHECK(c.r.requests.empty());
  REQUIRE(c.r.commits.size() == 1);
  CHECK(c.r.commits[0].result.code() == errc::illegal_generation);
}
