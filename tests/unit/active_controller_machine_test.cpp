// active_controller_machine: registration (fence a restarted broker first),
// sessions, unfencing, reconciliation one batch at a time, AlterPartition
// as a compare-and-set, and losing leadership. A `quorum` stands in for
// Raft: it applies the machine's proposals to a metadata_machine in order,
// when the test says so, and reports each outcome back.
#include <catch2/catch.hpp>

#include <deque>

#include "actors/controller/active_controller_machine.hpp"

using namespace al;

namespace {

constexpr int64_t session_ms = 1000;

struct quorum {
  metadata_machine meta;
  active_controller_machine m{{session_ms, false}};
  std::deque<controller_proposal> log; // proposed, not yet applied
  std::vector<registration_answer> registered;
  std::vector<alter_answer> altered;
  std::vector<metadata_command> applied;
  int64_t offset = 0, now = 0;

  quorum() { m.activate(meta.image(), now); }

  void collect() {
    while (m.has_ready()) {
      auto rd = m.ready();
      for (auto& p : rd.proposals)
        log.push_back(p);
      registered.insert(registered.end(), rd.registrations.begin(), rd.registrations.end());
      altered.insert(altered.end(), rd.alters.begin(), rd.alters.end());
    }
  }
  /// Commits and applies what is proposed (and what that leads to), in order.
  void commit_all() {
    collect();
    while (!log.empty()) {
      auto p = log.front();
      log.pop_front();
      auto st = meta.apply(p.cmd, offset++);
      applied.push_back(p.cmd);
      m.on_proposal_done(p.id, st, meta.image(), now);
      collect();
    }
  }
  void apply_directly(const metadata_command& cmd) { REQUIRE(meta.apply(cmd, offset++)); }
  void register_broker(uint64_t request, int32_t id, int64_t incarnation) {
    broker_description b{id, "127.0.0.1", uint16_t(9100 + id), false, 0, "", 0};
    m.on_register(request, b, incarnation, meta.image(), now);
    commit_all();
  }
  const partition_description& partition(int32_t p = 0) {
    return meta.find_topic("t")->partitions[size_t(p)];
  }
  bool fenced(int32_t id) { return meta.image().brokers.at(id).fenced; }
};

/// Three brokers registered (incarnation 1), topic t with one partition on
/// all three, led by broker 1.
quorum cluster_of_three() {
  quorum q;
  for (int32_t b = 1; b <= 3; ++b)
    q.register_broker(uint64_t(b), b, 1);
  create_topic_request t;
  t.name = "t";
  t.partitions = 1;
  t.replication_factor = 3;
  auto plan = q.meta.plan_create_topic(t, {}, "id");
  REQUIRE(plan);
  q.apply_directly(*plan);
  REQUIRE(q.partition().leader == 1);
  q.registered.clear();
  q.applied.clear();
  return q;
}

template <class T>
bool is(const metadata_command& c) {
  return std::holds_alternative<T>(c);
}

} // namespace

TEST_CASE("a registration is answered once applied, the same one again at once", "[controller]") {
  quorum q;
  broker_description b{1, "h", 9101, false, 0, "", 0};
  q.m.on_register(7, b, 1, q.meta.image(), 0);
  q.collect();
  REQUIRE(q.log.size() == 1);
  CHECK(is<register_broker_cmd>(q.log.front().cmd));
  CHECK(q.registered.empty()); // not before it is in the image
  q.commit_all();
  REQUIRE(q.registered.size() == 1);
  CHECK(q.registered[0].request == 7);
  CHECK(q.registered[0].result.is_ok());
  q.m.on_register(8, b, 1, q.meta.image(), 0);
  q.collect();
  CHECK(q.log.empty());
  REQUIRE(q.registered.size() == 2);
  CHECK(q.registered[1].request == 8);
}

TEST_CASE("a restarted broker is fenced and moved away from before its new incarnation "
          "registers",
          "[controller]") {
  auto q = cluster_of_three();
  q.register_broker(9, 1, 2); // broker 1 restarted: it may have lost unflushed records
  REQUIRE(q.applied.size() >= 3);
  CHECK(is<fence_broker_cmd>(q.applied[0]));
  CHECK(is<change_partition_cmd>(q.applied[1])); // leadership moves off the old incarnation
  CHECK(is<register_broker_cmd>(q.applied[2]));
  CHECK(q.partition().leader != 1);
  CHECK(std::count(q.partition().isr.begin(), q.partition().isr.end(), 1) == 0);
  CHECK_FALSE(q.fenced(1));
  CHECK(q.meta.image().broker_incarnations.at(1) == 2);
  REQUIRE(q.registered.size() == 1);
  CHECK(q.registered[0].result.is_ok());
}

TEST_CASE("a silent broker is fenced after the session timeout, once per timeout",
          "[controller]") {
  auto q = cluster_of_three();
  q.now = session_ms; // every broker had its grace period from activate() at 0
  q.m.on_heartbeat(2, 1, q.meta.image(), q.now);
  q.m.on_heartbeat(3, 1, q.meta.image(), q.now);
  q.m.tick(q.meta.image(), q.now);
  q.commit_all();
  CHECK_FALSE(q.fenced(1)); // exactly the timeout: not yet
  q.now = session_ms + 1;
  q.m.tick(q.meta.image(), q.now);
  q.collect();
  REQUIRE(q.log.size() == 1);
  CHECK(std::get<fence_broker_cmd>(q.log.front().cmd).broker_id == 1);
  q.m.tick(q.meta.image(), q.now + 10); // not proposed twice while it is on its way
  q.collect();
  CHECK(q.log.size() == 1);
  q.commit_all();
  CHECK(q.fenced(1));
  q.m.tick(q.meta.image(), q.now + 20); // reconciliation: a new leader, 1 leaves the ISR
  q.commit_all();
  CHECK(q.partition().leader != 1);
  CHECK(q.partition().isr.size() == 2);
}

TEST_CASE("a fenced broker that heartbeats with its current incarnation is unfenced, an old "
          "incarnation renews nothing",
          "[controller]") {
  auto q = cluster_of_three();
  q.apply_directly(fence_broker_cmd{3, true});
  q.m.on_heartbeat(3, 0, q.meta.image(), 5); // a process older than the registered one
  q.collect();
  CHECK(q.log.empty());
  CHECK(q.m.last_heartbeat(3) == 0); // from activate(), not renewed
  q.m.on_heartbeat(3, 1, q.meta.image(), 6);
  q.m.on_heartbeat(3, 1, q.meta.image(), 7); // one unfencing at a time
  q.collect();
  REQUIRE(q.log.size() == 1);
  CHECK(is<register_broker_cmd>(q.log.front().cmd));
  q.commit_all();
  CHECK_FALSE(q.fenced(3));
  CHECK(q.registered.empty()); // nobody asked: no answer
}

TEST_CASE("reconciliation keeps one batch of elections in flight", "[controller]") {
  auto q = cluster_of_three();
  q.apply_directly(fence_broker_cmd{1, true}); // the leader, fenced by an earlier controller
  q.m.tick(q.meta.image(), 1);
  q.collect();
  REQUIRE(q.log.size() == 1);
  CHECK(q.m.elections_in_flight());
  q.m.tick(q.meta.image(), 2); // the image has not applied it: the plan would repeat
  q.collect();
  CHECK(q.log.size() == 1);
  q.commit_all();
  CHECK_FALSE(q.m.elections_in_flight());
  CHECK(q.partition().leader != 1);
  q.m.tick(q.meta.image(), 3);
  q.collect();
  CHECK(q.log.empty()); // nothing left to do
}

TEST_CASE("AlterPartition is a compare-and-set on the partition epoch", "[controller][isr]") {
  auto q = cluster_of_three();
  auto& d = q.partition();
  alter_isr_request shrink;
  shrink.tp = {"t", 0};
  shrink.leader_id = 1;
  shrink.leader_epoch = d.leader_epoch;
  shrink.partition_epoch = d.partition_epoch;
  shrink.new_isr = {1, 2};
  shrink.broker_epochs = {{1, 1}, {2, 1}};
  SECTION("applied: answered with the new epochs once in the image") {
    q.m.on_alter_partition(5, shrink, q.meta.image());
    q.collect();
    CHECK(q.altered.empty());
    q.commit_all();
    REQUIRE(q.altered.size() == 1);
    CHECK(q.altered[0].request == 5);
    CHECK(q.altered[0].response.error == alter_isr_error::none);
    CHECK(q.altered[0].response.isr == std::vector<int32_t>{1, 2});
    CHECK(q.altered[0].response.partition_epoch == q.partition().partition_epoch);
  }
  SECTION("two planned against the same image: the second loses at apply time") {
    q.m.on_alter_partition(5, shrink, q.meta.image());
    auto other = shrink;
    other.new_isr = {1, 3};
    other.broker_epochs = {{1, 1}, {3, 1}};
    q.m.on_alter_partition(6, other, q.meta.image());
    q.commit_all();
    REQUIRE(q.altered.size() == 2);
    CHECK(q.altered[0].response.error == alter_isr_error::none);
    CHECK(q.altered[1].response.error == alter_isr_error::invalid_update_version);
    CHECK(q.partition().isr == std::vector<int32_t>{1, 2});
  }
  SECTION("a stale partition epoch is refused at once") {
    shrink.partition_epoch -= 1;
    q.m.on_alter_partition(5, shrink, q.meta.image());
    q.collect();
    CHECK(q.log.empty());
    REQUIRE(q.altered.size() == 1);
    CHECK(q.altered[0].response.error == alter_isr_error::invalid_update_version);
  }
}

TEST_CASE("losing leadership refuses the waiting requests and forgets the proposals",
          "[controller]") {
  auto q = cluster_of_three();
  broker_description b{4, "h", 9104, false, 0, "", 0};
  q.m.on_register(11, b, 1, q.meta.image(), 0);
  q.collect();
  REQUIRE(q.log.size() == 1);
  q.m.deactivate();
  q.collect();
  REQUIRE(q.registered.size() == 1);
  CHECK(q.registered[0].result.code() == errc::not_controller);
  q.commit_all(); // it commits anyway (a later leader's log kept it): nothing more to do
  CHECK(q.registered.size() == 1);
  q.m.on_register(12, b, 1, q.meta.image(), 0);
  q.collect();
  REQUIRE(q.registered.size() == 2);
  CHECK(q.registered[1].result.code() == errc::not_controller);
  CHECK(q.log.empty());
}

TEST_CASE("a registration of a process older than the registered one is refused, also when it "
          "was planned before its successor registered",
          "[controller]") {
  auto q = cluster_of_three();
  broker_description b{2, "127.0.0.1", 9102, false, 0, "", 0};
  SECTION("older than the image: refused at once") {
    q.apply_directly(register_broker_cmd{2, "127.0.0.1", 9102, 5});
    q.m.on_register(21, b, 4, q.meta.image(), 0);
    q.collect();
    CHECK(q.log.empty());
    REQUIRE(q.registered.size() == 1);
    CHECK(q.registered[0].result.code() == errc::stale_broker_epoch);
  }
  SECTION("planned first, applied after the successor's: refused at apply time") {
    q.m.on_register(21, b, 4, q.meta.image(), 0); // incarnation 4 restarted broker 2 ...
    q.collect();
    REQUIRE(q.log.size() == 1); // its fence of incarnation 1
    q.commit_all();             // ... and is registered
    q.m.on_register(22, b, 6, q.meta.image(), 0); // then 6, while a stale 4 is still planned
    q.collect();
    q.log.push_back({999, register_broker_cmd{2, "127.0.0.1", 9102, 4}}); // late in the log
    q.commit_all();
    CHECK(q.meta.image().broker_incarnations.at(2) == 6);
    CHECK_FALSE(q.fenced(2));
  }
}
