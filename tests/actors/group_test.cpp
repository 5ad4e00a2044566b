// Consumer groups through the broker under the deterministic scheduler:
// FindCoordinator creates __consumer_offsets, join/sync/heartbeat/leave are
// routed to the group coordinator actor, commits become records in the
// offsets topic (and rows in meta.db), and a restarted node reloads them.
#include <catch2/catch.hpp>

#include <functional>

#include "actors/broker/client_gateway_actor.hpp"
#include "actors/group/group_coordinator_actor.hpp"
#include "actors/group/group_limits.hpp"
#include "actors/group/group_placement.hpp"
#include "actors/group/offsets_record.hpp"
#include "actors/store/store_api.hpp"
#include "node_fixture.hpp"

using namespace al;
using namespace al::test;

namespace {

using tps = std::vector<topic_partition>;

/// A node (controller, broker, store) on a data dir that may outlive it.
struct group_node {
  test_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::string dir;
  controller_api controller;
  broker_api broker;
  store_api store;
  std::vector<caf::actor> requesters;

  explicit group_node(std::string data_dir,
                      const std::function<void(broker_setup&)>& adjust = {})
    : sys(cfg),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
      dir(std::move(data_dir)) {
    spdlog::set_level(spdlog::level::warn);
    std::filesystem::create_directories(dir);
    store = sys.spawn(store_actor, dir + "/meta.db");
    controller_setup cs;
    cs.node_id = 1;
    cs.data_dir = dir;
    cs.cluster_id = "test-cluster";
    cs.defaults = topic_defaults{1, 1};
    controller = sys.spawn(controller_actor, cs);
    sched.run();
    broker_setup bs;
    bs.node_id = 1;
    bs.host = "127.0.0.1";
    bs.port = 9999;
    bs.data_dir = dir;
    bs.controller = controller;
    bs.io_threads = 0;
    bs.incarnation = 1;
    bs.offsets_topic_num_partitions = 3;
    bs.group_initial_rebalance_delay_ms = 0;
    bs.store = store;
    if (adjust)
      adjust(bs);
    broker = sys.spawn(broker_actor, bs);
    sched.run();
  }

  ~group_node() {
    for (auto& a : requesters)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    caf::anon_send_exit(broker, caf::exit_reason::kill);
    caf::anon_send_exit(controller, caf::exit_reason::kill);
    caf::anon_send_exit(store, caf::exit_reason::kill);
    sched.run();
  }

  /// Sends a request from a fresh actor; the reply lands in the returned
  /// slot whenever it comes (held joins answer later).
  template <class T, class Handle, class... Ts>
  std::shared_ptr<reply<T>> send(const Handle& h, Ts... xs) {
    auto out = std::make_shared<reply<T>>();
    requesters.push_back(sys.spawn([=](caf::event_based_actor* a) {
      a->request(h, caf::infinite, xs...)
        .then(
          [out](T& v) {
            out->value = std::move(v);
            out->answered = true;
          },
          [out](caf::error& e) {
            out->error = std::move(e);
            out->answered = true;
          });
    }));
    return out;
  }

  /// send() and run until idle.
  template <class T, class Handle, class... Ts>
  reply<T> ask(const Handle& h, Ts... xs) {
    auto r = send<T>(h, xs...);
    sched.run();
    return *r;
  }

  void advance(int64_t ms) {
    sched.advance_time(std::chrono::milliseconds(ms));
    sched.run();
  }

  void create_topic(const std::string& name, int32_t partitions) {
    create_topic_request req{name, partitions, 1, {}};
    REQUIRE(ask<topic_description>(broker, create_topic_atom::value, req));
  }
};

std::string fresh_dir() {
  static int n = 0;
  auto dir = (std::filesystem::temp_directory_path() /
              ("al-group-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
               .string();
  std::filesystem::remove_all(dir);
  return dir;
}

struct dir_guard {
  std::string dir = fresh_dir();
  ~dir_guard() { std::filesystem::remove_all(dir); }
};

join_group_request join_req(const std::string& member_id, const std::string& protocol = "range",
                            std::vector<std::string> topics = {"orders"}) {
  join_group_request r;
  r.member_id = member_id;
  r.client_id = "c";
  r.client_host = "h";
  r.session_timeout_ms = 10000;
  r.rebalance_timeout_ms = 30000;
  r.protocols = {group_protocol{protocol, member_subscription{std::move(topics), {}, -1}}};
  return r;
}

/// A member as a test drives it.
struct member {
  std::string id;
  int32_t generation = -1;
  tps assignment;
};

/// MEMBER_ID_REQUIRED round trip, then the real join (answered later when
/// other members must rejoin first).
std::shared_ptr<reply<join_group_response>> start_join(group_node& n, const std::string& group,
                                                       member& m,
                                                       const std::string& protocol = "range") {
  if (m.id.empty()) {
    auto first = n.ask<join_group_response>(n.broker, join_group_atom::value, group,
                                            join_req("", protocol));
    REQUIRE(first);
    REQUIRE(first.value->error == errc::member_id_required);
    m.id = first.value->member_id;
  }
  auto r = n.send<join_group_response>(n.broker, join_group_atom::value, group,
                                       join_req(m.id, protocol));
  n.sched.run();
  return r;
}

void finish_join(group_node& n, const std::string& group, member& m,
                 const reply<join_group_response>& joined) {
  REQUIRE(joined);
  REQUIRE(joined.value->error == errc::none);
  m.generation = joined.value->generation_id;
  auto synced = n.ask<sync_group_response>(n.broker, sync_group_atom::value, group,
                                           sync_group_request{0, m.id, m.generation});
  REQUIRE(synced);
  REQUIRE(synced.value->error == errc::none);
  m.assignment = synced.value->assignment;
}

errc heartbeat(group_node& n, const std::string& group, const member& m) {
  auto r = n.ask<heartbeat_response>(n.broker, group_heartbeat_atom::value, group,
                                     heartbeat_request{0, m.id, m.generation});
  REQUIRE(r);
  return r.value->error;
}

errc commit(group_node& n, const std::string& group, const member& m, const topic_partition& tp,
            int64_t offset) {
  offset_commit_request req{0, m.id, m.generation, {{tp, offset_and_metadata{offset, "md", 3}}}};
  auto r = n.ask<offset_commit_response>(n.broker, offset_commit_atom::value, group, req);
  REQUIRE(r);
  return r.value->error;
}

int64_t committed(group_node& n, const std::string& group, const topic_partition& tp) {
  auto r = n.ask<group_offsets>(n.broker, offset_fetch_atom::value, group, tps{tp});
  REQUIRE(r);
  return r.value->at(tp).offset;
}

topic_partition orders(int32_t p) { return {"orders", p}; }

} // namespace

TEST_CASE("FindCoordinator creates the compacted offsets topic and names this broker",
          "[group]") {
  dir_guard d;
  group_node n(d.dir);
  auto before = n.ask<join_group_response>(n.broker, join_group_atom::value, std::string{"g"},
                                           join_req(""));
  CHECK(before.code() == errc::coordinator_not_available); // no offsets topic yet
  auto found = n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"});
  REQUIRE(found);
  CHECK(found.value->node_id == 1);
  CHECK(found.value->host == "127.0.0.1");
  CHECK(found.value->port == 9999);
  CHECK(found.value->partition == offsets_partition_for("g", 3));
  auto t = n.ask<std::vector<topic_description>>(n.broker, describe_topics_atom::value,
                                                 std::vector<std::string>{offsets_topic_name});
  REQUIRE(t);
  REQUIRE(t.value->size() == 1);
  CHECK(t.value->front().partitions.size() == 3);
  CHECK(t.value->front().configs.at("cleanup.policy") == "compact");
  CHECK(t.value->front().partitions[0].replicas.size() == 1); // min(3, live brokers)
  auto empty = n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{});
  CHECK(empty.code() == errc::invalid_group_id);
}

TEST_CASE("join, sync and heartbeat through the broker, a newcomer's join is held",
          "[group]") {
  dir_guard d;
  group_node n(d.dir);
  n.create_topic("orders", 4);
  REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
  member a, b;
  auto ja = start_join(n, "g", a);
  REQUIRE(ja->answered); // alone: the join phase ends at once (no initial delay)
  finish_join(n, "g", a, *ja);
  CHECK(a.generation == 1);
  CHECK(a.assignment == tps{orders(0), orders(1), orders(2), orders(3)});
  CHECK(heartbeat(n, "g", a) == errc::none);

  auto jb = start_join(n, "g", b);
  CHECK_FALSE(jb->answered); // held until a rejoins
  CHECK(heartbeat(n, "g", a) == errc::rebalance_in_progress);
  auto ja2 = start_join(n, "g", a);
  REQUIRE(ja2->answered);
  REQUIRE(jb->answered);
  finish_join(n, "g", a, *ja2);
  finish_join(n, "g", b, *jb);
  CHECK(a.generation == 2);
  CHECK(b.generation == 2);
  CHECK(a.assignment.size() == 2);
  CHECK(b.assignment.size() == 2);
  CHECK(heartbeat(n, "g", a) == errc::none);

  auto desc = n.ask<group_description>(n.broker, describe_group_atom::value, std::string{"g"});
  REQUIRE(desc);
  CHECK(desc.value->state == group_state::stable);
  CHECK(desc.value->members.size() == 2);
  auto list = n.ask<std::vector<group_listing>>(n.broker, list_groups_atom::value);
  REQUIRE(list);
  REQUIRE(list.value->size() == 1);
  CHECK(list.value->front().group_id == "g");
  CHECK(list.value->front().members == 2);

  // b stops heartbeating: its session (10 s) expires, a must rejoin and gets all.
  for (int i = 0; i < 4; ++i) {
    n.advance(3000);
    (void)heartbeat(n, "g", a);
  }
  auto ja3 = start_join(n, "g", a);
  REQUIRE(ja3->answered);
  finish_join(n, "g", a, *ja3);
  CHECK(a.generation == 3);
  CHECK(a.assignment.size() == 4);
  CHECK(heartbeat(n, "g", b) == errc::unknown_member_id);
}

TEST_CASE("a commit from a stale generation is fenced with ILLEGAL_GENERATION", "[group]") {
  dir_guard d;
  group_node n(d.dir);
  n.create_topic("orders", 2);
  REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
  member a, b;
  finish_join(n, "g", a, *start_join(n, "g", a));
  CHECK(commit(n, "g", a, orders(0), 10) == errc::none);
  CHECK(committed(n, "g", orders(0)) == 10);
  auto jb = start_join(n, "g", b);
  auto ja = start_join(n, "g", a);
  member stale = a; // a's view before the new generation
  finish_join(n, "g", a, *ja);
  finish_join(n, "g", b, *jb);
  CHECK(commit(n, "g", stale, orders(0), 99) == errc::illegal_generation);
  CHECK(committed(n, "g", orders(0)) == 10);
  CHECK(commit(n, "g", member{"nobody", a.generation, {}}, orders(0), 99) ==
        errc::unknown_member_id);
  CHECK(commit(n, "g", a, a.assignment.front(), 20) == errc::none);
  CHECK(committed(n, "g", a.assignment.front()) == 20);
  // Negative offsets are refused outright.
  offset_commit_request bad{0, a.id, a.generation, {{orders(1), offset_and_metadata{-5, ""}}}};
  auto r = n.ask<offset_commit_response>(n.broker, offset_commit_atom::value, std::string{"g"},
                                         bad);
  CHECK(r.code() == errc::invalid_request);
}

TEST_CASE("commits are records of __consumer_offsets and a restarted node reloads them",
          "[group]") {
  dir_guard d;
  int32_t generation = 0;
  {
    group_node n(d.dir);
    n.create_topic("orders", 2);
    REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
    member a;
    finish_join(n, "g", a, *start_join(n, "g", a));
    CHECK(commit(n, "g", a, orders(0), 42) == errc::none);
    CHECK(commit(n, "g", a, orders(1), 7) == errc::none);
    CHECK(commit(n, "g", a, orders(0), 43) == errc::none);
    generation = a.generation;
    // The offsets partition holds one record per commit and partition.
    auto p = offsets_partition_for("g", 3);
    auto f = n.ask<fetch_response>(n.broker, fetch_atom::value,
                                   node_fixture::fetch_req(offsets_topic_name, p, 0));
    REQUIRE(f);
    offsets_loader loader;
    REQUIRE(loader.apply(byte_view{f.value->records}, 0));
    CHECK(loader.records() == 4); // the three commits and generation 1's metadata
    CHECK(loader.groups().at("g").max_generation == a.generation);
    auto g = loader.groups().at("g");
    CHECK(g.offsets.at(orders(0)).offset == 43);
    CHECK(g.offsets.at(orders(0)).metadata == "md");
    CHECK(g.offsets.at(orders(0)).leader_epoch == 3);
    CHECK(g.offsets.at(orders(0)).generation_id == generation);
    // ... and meta.db has the queryable view.
    auto rows = n.ask<std::vector<committed_offset>>(n.store, offset_fetch_atom::value,
                                                     std::string{"g"});
    REQUIRE(rows);
    REQUIRE(rows.value->size() == 2);
    CHECK(rows.value->at(0).offset == 43);
    CHECK(rows.value->at(1).offset == 7);
  }
  // Remove the SQLite view: the offsets must come back from the log alone.
  std::filesystem::remove(d.dir + "/meta.db");
  std::filesystem::remove(d.dir + "/meta.db-wal");
  std::filesystem::remove(d.dir + "/meta.db-shm");
  group_node n(d.dir);
  CHECK(committed(n, "g", orders(0)) == 43);
  CHECK(committed(n, "g", orders(1)) == 7);
  auto all = n.ask<group_offsets>(n.broker, offset_fetch_atom::value, std::string{"g"}, tps{});
  REQUIRE(all);
  CHECK(all.value->size() == 2);
  // Generations continue above the reloaded ones.
  member a;
  finish_join(n, "g", a, *start_join(n, "g", a));
  CHECK(a.generation > generation);
  // Loading rewrote the SQLite view.
  auto rows = n.ask<std::vector<committed_offset>>(n.store, offset_fetch_atom::value,
                                                   std::string{"g"});
  REQUIRE(rows);
  CHECK(rows.value->size() == 2);
}

TEST_CASE("a reloaded coordinator continues after the last generation written, not the last "
          "committed",
          "[group][load]") {
  dir_guard d;
  {
    group_node n(d.dir);
    n.create_topic("orders", 2);
    REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
    member a;
    finish_join(n, "g", a, *start_join(n, "g", a));
    CHECK(commit(n, "g", a, orders(0), 5) == errc::none); // generation 1's commit
    member b;
    auto b_join = start_join(n, "g", b); // held until A rejoins
    auto a_join = start_join(n, "g", a);
    finish_join(n, "g", a, *a_join);
    finish_join(n, "g", b, *b_join);
    REQUIRE(a.generation == 2); // written by its first SyncGroup; nothing committed in it
  }
  group_node n(d.dir);
  CHECK(committed(n, "g", orders(0)) == 5);
  member c;
  finish_join(n, "g", c, *start_join(n, "g", c));
  CHECK(c.generation == 3); // generation 2 was handed out once: never again
}

TEST_CASE("delete and reset offsets need a group without members", "[group]") {
  dir_guard d;
  {
    group_node n(d.dir);
    n.create_topic("orders", 1);
    REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
    member a;
    finish_join(n, "g", a, *start_join(n, "g", a));
    CHECK(commit(n, "g", a, orders(0), 5) == errc::none);
    offset_commit_map reset{{orders(0), offset_and_metadata{0, ""}}};
    auto refused = n.ask<offset_commit_response>(n.broker, alter_offsets_atom::value,
                                                 std::string{"g"}, reset);
    CHECK(refused.code() == errc::non_empty_group);
    auto del = n.ask<bool>(n.broker, delete_group_atom::value, std::string{"g"});
    CHECK(del.code() == errc::non_empty_group);
    auto left = n.ask<leave_group_response>(n.broker, leave_group_atom::value, std::string{"g"},
                                            leave_group_request{0, a.id});
    REQUIRE(left);
    CHECK(left.value->error == errc::none);
    auto done = n.ask<offset_commit_response>(n.broker, alter_offsets_atom::value,
                                              std::string{"g"}, reset);
    REQUIRE(done);
    CHECK(done.value->error == errc::none);
    CHECK(committed(n, "g", orders(0)) == 0);
    auto deleted = n.ask<bool>(n.broker, delete_group_atom::value, std::string{"g"});
    REQUIRE(deleted);
    CHECK(*deleted.value);
    auto gone = n.ask<group_description>(n.broker, describe_group_atom::value, std::string{"g"});
    CHECK(gone.code() == errc::group_id_not_found);
    CHECK(committed(n, "g", orders(0)) == -1);
    auto again = n.ask<bool>(n.broker, delete_group_atom::value, std::string{"g"});
    CHECK(again.code() == errc::group_id_not_found);
  }
  // The tombstones keep it deleted after a restart.
  group_node n(d.dir);
  CHECK(committed(n, "g", orders(0)) == -1);
  auto list = n.ask<std::vector<group_listing>>(n.broker, list_groups_atom::value);
  REQUIRE(list);
  CHECK(list.value->empty());
}

// ---- hostile and oversized input (group_limits.hpp) -------------------------

namespace {

/// The coordinator of `group`, as a client learns it: the sender of a reply.
group_coordinator_api coordinator_of(group_node& n, const std::string& group) {
  auto out = std::make_shared<caf::strong_actor_ptr>();
  auto broker = n.broker;
  n.requesters.push_back(n.sys.spawn([=](caf::event_based_actor* a) {
    a->request(broker, caf::infinite, offset_fetch_atom::value, group, tps{})
      .then([=](group_offsets&) { *out = a->current_sender(); }, [](caf::error&) {});
  }));
  n.sched.run();
  REQUIRE(*out);
  return caf::actor_cast<group_coordinator_api>(*out);
}

reply<offset_commit_response> commit_map(group_node& n, const std::string& group,
                                         offset_commit_map offsets) {
  return n.ask<offset_commit_response>(n.broker, offset_commit_atom::value, group,
                                       offset_commit_request{0, "", -1, std::move(offsets)});
}

/// Four partitions of 4000-byte metadata: more than 8000 bytes in one batch.
offset_commit_map oversized_commit() {
  offset_commit_map out;
  for (int32_t p = 0; p < 4; ++p)
    out[orders(p)] = offset_and_metadata{1, std::string(4000, 'm'), -1};
  return out;
}

void small_max_message_bytes(broker_setup& bs) { bs.log_defaults.max_message_bytes = 8000; }

} // namespace

TEST_CASE("a 40 000-character group id, topic or metadata gets an error, not an abort",
          "[group][limits]") {
  dir_guard d;
  group_node n(d.dir);
  n.create_topic("orders", 2);
  REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
  std::string huge(40000, 'g');
  offset_commit_map one{{orders(0), offset_and_metadata{1, "", -1}}};
  CHECK(commit_map(n, huge, one).code() == errc::invalid_group_id);
  CHECK(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, huge).code() ==
        errc::invalid_group_id);
  CHECK(n.ask<offset_commit_response>(n.broker, alter_offsets_atom::value, huge, one).code() ==
        errc::invalid_group_id);
  // Straight to the coordinator (its handle reaches clients): the same answer.
  auto c = coordinator_of(n, "g");
  CHECK(n.ask<offset_commit_response>(c, offset_commit_atom::value, huge,
                                      offset_commit_request{0, "", -1, one})
          .code() == errc::invalid_group_id);
  CHECK(n.ask<group_description>(c, describe_group_atom::value, huge).code() ==
        errc::invalid_group_id);

  // A long topic and long metadata are refused per partition; the rest is committed.
  topic_partition long_topic{std::string(40000, 't'), 0};
  auto mixed = commit_map(n, "g", {{orders(0), {5, std::string(40000, 'm'), -1}},
                                   {long_topic, {5, "", -1}},
                                   {orders(1), {6, "", -1}}});
  REQUIRE(mixed);
  CHECK(mixed.value->error == errc::offset_metadata_too_large);
  CHECK(mixed.value->partition_errors ==
        std::map<topic_partition, errc>{{orders(0), errc::offset_metadata_too_large},
                                        {long_topic, errc::invalid_topic_exception}});
  CHECK(committed(n, "g", orders(0)) == -1);
  CHECK(committed(n, "g", orders(1)) == 6);
  // Unknown topics and partitions beyond the count (C5).
  auto unknown = commit_map(n, "g", {{topic_partition{"nope", 0}, {1, "", -1}},
                                     {orders(2), {1, "", -1}}});
  REQUIRE(unknown);
  CHECK(unknown.value->error == errc::unknown_topic_or_partition);
  CHECK(unknown.value->partition_errors.size() == 2);
  // The admin reset of offsets checks the same.
  offset_commit_map reset{{orders(1), offset_and_metadata{0, std::string(4097, 'm'), -1}}};
  auto altered = n.ask<offset_commit_response>(n.broker, alter_offsets_atom::value,
                                               std::string{"g"}, reset);
  REQUIRE(altered);
  CHECK(altered.value->error == errc::offset_metadata_too_large);
  CHECK(committed(n, "g", orders(1)) == 6);
  // The node still serves.
  CHECK(commit(n, "g", member{}, orders(0), 9) == errc::none);
  CHECK(committed(n, "g", orders(0)) == 9);
}

TEST_CASE("a commit batch too large for the offsets topic gets INVALID_COMMIT_OFFSET_SIZE",
          "[group][limits]") {
  dir_guard d;
  group_node n(d.dir, small_max_message_bytes);
  n.create_topic("orders", 4);
  REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
  auto r = commit_map(n, "g", oversized_commit());
  REQUIRE(r);
  CHECK(r.value->error == errc::invalid_commit_offset_size);
  CHECK_FALSE(is_retriable(r.value->error)); // a consumer does not retry it forever
  CHECK(commit(n, "g", member{}, orders(0), 3) == errc::none);
}

TEST_CASE("appends in flight when a group is deleted never answer its next incarnation",
          "[group][limits]") {
  // B6: the old machine's append (refused: too large) completes after the
  // group was deleted and created again by another commit; that commit must
  // get its own append's outcome.
  dir_guard d;
  group_node n(d.dir, small_max_message_bytes);
  n.create_topic("orders", 4);
  REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
  auto first = n.send<offset_commit_response>(n.broker, offset_commit_atom::value,
                                              std::string{"g"},
                                              offset_commit_request{0, "", -1, oversized_commit()});
  auto deleted = n.send<bool>(n.broker, delete_group_atom::value, std::string{"g"});
  auto second = n.send<offset_commit_response>(
    n.broker, offset_commit_atom::value, std::string{"g"},
    offset_commit_request{0, "", -1, {{orders(0), offset_and_metadata{7, "", -1}}}});
  n.sched.run();
  REQUIRE(first->answered);
  CHECK(deleted->value == std::optional<bool>{true});
  REQUIRE(second->value);
  CHECK(second->value->error == errc::none);
  CHECK(committed(n, "g", orders(0)) == 7);
}

TEST_CASE("records no coordinator writes are skipped when the offsets partition loads",
          "[group][limits]") {
  // A2: what a client could have produced into __consumer_offsets (the
  // client gateway refuses that now; the log may hold it from before).
  dir_guard d;
  {
    group_node n(d.dir);
    n.create_topic("orders", 2);
    REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
    CHECK(commit(n, "g", member{}, orders(0), 5) == errc::none);
    auto key = [](const std::string& group) { return encode_offset_key({group, orders(0)}); };
    auto value = encode_offset_value(group_offset{1, "", 1, 100, -1});
    auto absurd = encode_offset_value(group_offset{1, "", INT32_MAX, 100, -1});
    bytes short_key{0};
    auto empty_group = key(""), g2 = key("g2");
    for (int32_t p = 0; p < 3; ++p) {
      batch_builder b;
      b.append(100, byte_view{empty_group}, byte_view{value});
      b.append(100, byte_view{short_key}, byte_view{value});
      b.append(100, byte_view{g2}, byte_view{absurd});
      produce_request req;
      req.topic = offsets_topic_name;
      req.partition = p;
      req.acks = acks_mode::all;
      req.batch = b.build();
      REQUIRE(n.ask<produce_response>(n.broker, produce_atom::value, req));
    }
  }
  group_node n(d.dir);
  CHECK(committed(n, "g", orders(0)) == 5);
  auto list = n.ask<std::vector<group_listing>>(n.broker, list_groups_atom::value);
  REQUIRE(list);
  REQUIRE(list.value->size() == 1);
  CHECK(list.value->front().group_id == "g");
  member a;
  finish_join(n, "g", a, *start_join(n, "g", a));
  CHECK(a.generation == 1);
}

TEST_CASE("odd partition counts, stray errors and exits leave the coordinator serving, "
          "a killed one is replaced",
          "[group][limits]") {
  dir_guard d;
  group_node n(d.dir);
  n.create_topic("orders", 2);
  REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
  CHECK(commit(n, "g", member{}, orders(1), 3) == errc::none);
  auto c = coordinator_of(n, "g");
  // A9: negative, nameless and absurd counts are not believed.
  caf::anon_send(c, metadata_update_atom::value,
                 partition_counts{{"orders", -1}, {"", 5}, {"x", INT32_MAX}});
  n.sched.run();
  CHECK(commit(n, "g", member{}, orders(1), 4) == errc::none); // orders still has 2
  // An error message, an unexpected message and an exit from a stranger.
  auto raw = caf::actor_cast<caf::actor>(c);
  caf::anon_send(raw, caf::make_error(caf::sec::runtime_error));
  caf::anon_send(raw, std::string{"hello"});
  caf::anon_send_exit(raw, caf::exit_reason::user_shutdown);
  n.sched.run();
  CHECK(coordinator_of(n, "g") == c);
  CHECK(committed(n, "g", orders(1)) == 4);
  // exit_reason::kill cannot be trapped: the broker survives and starts a
  // new coordinator on the next request, which reloads the offsets.
  caf::anon_send_exit(raw, caf::exit_reason::kill);
  n.sched.run();
  auto loading = n.ask<group_offsets>(n.broker, offset_fetch_atom::value, std::string{"g"},
                                      tps{});
  CHECK(loading.code() == errc::coordinator_not_available); // retriable: it is loading
  CHECK(committed(n, "g", orders(1)) == 4);
  CHECK_FALSE(coordinator_of(n, "g") == c);
  CHECK(commit(n, "g", member{}, orders(1), 5) == errc::none);
}

TEST_CASE("JoinGroup is checked before a group exists, groups with nothing left are forgotten",
          "[group][limits]") {
  dir_guard d;
  group_node n(d.dir, [](broker_setup& bs) { bs.group_max_size = 1; });
  n.create_topic("orders", 2);
  REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
  auto join_error = [](const reply<join_group_response>& r) {
    return r ? r.value->error : r.code();
  };
  auto describe = [&](const std::string& group) {
    return n.ask<group_description>(n.broker, describe_group_atom::value, group);
  };
  auto bad = join_req("");
  bad.session_timeout_ms = 1000;
  CHECK(join_error(n.ask<join_group_response>(n.broker, join_group_atom::value,
                                              std::string{"new"}, bad)) ==
        errc::invalid_session_timeout);
  CHECK(describe("new").code() == errc::group_id_not_found);
  auto named = join_req("");
  named.client_id = std::string(600, 'c');
  auto r = n.ask<join_group_response>(n.broker, join_group_atom::value, std::string{"new"}, named);
  CHECK(r.code() == errc::invalid_request);
  CHECK(describe_error(r.error).find("client_id") != std::string::npos);
  CHECK(describe("new").code() == errc::group_id_not_found);
  // A member id handed out and never used: the group goes when it expires.
  auto first = n.ask<join_group_response>(n.broker, join_group_atom::value,
                                          std::string{"lonely"}, join_req(""));
  REQUIRE(first);
  CHECK(first.value->error == errc::member_id_required);
  CHECK(describe("lonely"));
  n.advance(10001);
  CHECK(describe("lonely").code() == errc::group_id_not_found);
  // group.max.size = 1
  member a;
  finish_join(n, "g", a, *start_join(n, "g", a));
  auto full = n.ask<join_group_response>(n.broker, join_group_atom::value, std::string{"g"},
                                         join_req(""));
  CHECK(join_error(full) == errc::group_max_size_reached);
  // The last member leaves a group without offsets: it is forgotten.
  auto left = n.ask<leave_group_response>(n.broker, leave_group_atom::value, std::string{"g"},
                                          leave_group_request{0, a.id});
  REQUIRE(left);
  CHECK(describe("g").code() == errc::group_id_not_found);
  auto list = n.ask<std::vector<group_listing>>(n.broker, list_groups_atom::value);
  REQUIRE(list);
  CHECK(list.value->empty());
}

// ---- a coordinator on one replica of its offsets partition (issue 12) --------
// Partition and coordinator actors spawned directly, to give a replica the
// state a node has right after an election: a high watermark that lags its
// log end, or leadership it has lost without hearing of it.

namespace {

struct replica_spec {
  int32_t node = 1;
  int32_t leader = 1;
  int32_t leader_epoch = 0;
  std::vector<int32_t> replicas{1, 2};
  std::vector<int32_t> isr{1};
};

/// Offsets partition replicas and coordinators on them, under the test
/// scheduler; meta.db (the store) is shared, as on one node.
struct coordinator_bench {
  test_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;
  std::string dir;
  store_api store;
  std::vector<caf::actor> spawned;

  explicit coordinator_bench(std::string data_dir)
    : sys(cfg), sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
      dir(std::move(data_dir)) {
    spdlog::set_level(spdlog::level::warn);
    std::filesystem::create_directories(dir);
    store = sys.spawn(store_actor, dir + "/meta.db");
    sched.run();
  }
  ~coordinator_bench() {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    caf::anon_send_exit(store, caf::exit_reason::kill);
    sched.run();
  }

  std::string replica_dir(int32_t node) const {
    return dir + "/n" + std::to_string(node) + "/" + offsets_topic_name + "-0";
  }

  partition_api spawn_replica(const replica_spec& r) {
    partition_setup ps;
    ps.tp = {offsets_topic_name, 0};
    ps.dir = replica_dir(r.node);
    ps.state.leader = r.leader;
    ps.state.leader_epoch = r.leader_epoch;
    ps.state.replicas = r.replicas;
    ps.state.isr = r.isr;
    ps.node_id = r.node;
    ps.incarnation = 1;
    auto p = sys.spawn(partition_actor, ps);
    spawned.push_back(caf::actor_cast<caf::actor>(p));
    sched.run();
    return p;
  }

  group_coordinator_api spawn_coordinator(const partition_api& log, int32_t node,
                                          bool with_store = true) {
    group_coordinator_setup gs;
    gs.node_id = node;
    gs.partition = 0;
    gs.log = log;
    if (with_store)
      gs.store = store;
    gs.group_defaults.initial_rebalance_delay_ms = 0;
    gs.salt = "n" + std::to_string(node) + "-";
    gs.topics = {{"orders", 1}};
    gs.request_timeout_ms = 5000;
    auto c = sys.spawn(group_coordinator_actor, gs);
    spawned.push_back(caf::actor_cast<caf::actor>(c));
    sched.run();
    return c;
  }

  void kill(const caf::actor& a) {
    caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
  }

  template <class T, class Handle, class... Ts>
  std::shared_ptr<reply<T>> send(const Handle& h, Ts... xs) {
    auto out = std::make_shared<reply<T>>();
    spawned.push_back(sys.spawn([=](caf::event_based_actor* a) {
      a->request(h, caf::infinite, xs...)
        .then(
          [out](T& v) {
            out->value = std::move(v);
            out->answered = true;
          },
          [out](caf::error& e) {
            out->error = std::move(e);
            out->answered = true;
          });
    }));
    sched.run();
    return out;
  }

  template <class T, class Handle, class... Ts>
  reply<T> ask(const Handle& h, Ts... xs) {
    return *send<T>(h, xs...);
  }

  /// Virtual time in 100 ms steps (timers re-arm: never all at once).
  void advance(int64_t ms) {
    for (int64_t t = 0; t < ms; t += 100) {
      sched.advance_time(std::chrono::milliseconds(100));
      sched.run();
    }
  }

  errc commit(const group_coordinator_api& c, int64_t offset) { // assign(): no membership
    auto r = ask<offset_commit_response>(
      c, offset_commit_atom::value, std::string{"g"},
      offset_commit_request{0, "", -1, {{orders(0), offset_and_metadata{offset, "", -1}}}});
    REQUIRE(r);
    return r.value->error;
  }

  int64_t committed(const group_coordinator_api& c) {
    auto r = ask<group_offsets>(c, offset_fetch_atom::value, std::string{"g"}, tps{orders(0)});
    REQUIRE(r);
    return r.value->at(orders(0)).offset;
  }

  int64_t stored() { // meta.db's view
    auto rows = ask<std::vector<committed_offset>>(store, offset_fetch_atom::value,
                                                   std::string{"g"});
    REQUIRE(rows);
    REQUIRE(rows.value->size() == 1);
    return rows.value->front().offset;
  }

  /// A member's first join (MEMBER_ID_REQUIRED, then the join with its id).
  member join(const group_coordinator_api& c) {
    member m;
    auto first = ask<join_group_response>(c, join_group_atom::value, std::string{"g"},
                                          join_req(""));
    REQUIRE(first);
    REQUIRE(first.value->error == errc::member_id_required);
    m.id = first.value->member_id;
    auto joined = ask<join_group_response>(c, join_group_atom::value, std::string{"g"},
                                           join_req(m.id));
    REQUIRE(joined);
    REQUIRE(joined.value->error == errc::none);
    m.generation = joined.value->generation_id;
    return m;
  }
};

} // namespace

TEST_CASE("a new leader's coordinator loads its offsets partition to the log end, past a "
          "lagging high watermark",
          "[group][load]") {
  // Node 1 follows node 2; its HW trails the leader's by a fetch. Node 2
  // dies, node 1 leads epoch 1 with ISR {1,2} and node 2 has not fetched in
  // it, so the HW stays where node 1 heard it. The commit of 20 was
  // acknowledged (acks=all: on every ISR member) and must not be lost.
  // (The two commits are written by node 1 itself, ISR {1}, and the HW
  // checkpoint set back: the log a follower would have.)
  dir_guard d;
  coordinator_bench b(d.dir);
  {
    auto p = b.spawn_replica(replica_spec{1, 1, 0, {1, 2}, {1}});
    auto c = b.spawn_coordinator(p, 1);
    CHECK(b.commit(c, 10) == errc::none);
    CHECK(b.commit(c, 20) == errc::none);
    CHECK(b.stored() == 20);
    b.kill(caf::actor_cast<caf::actor>(c));
    b.kill(caf::actor_cast<caf::actor>(p));
  }
  {
    // As the follower heard it (the replica keeps its own table: no broker).
    hw_checkpoint_table t{b.replica_dir(1)};
    REQUIRE(t.load());
    auto cell = t.attach({offsets_topic_name, 0}, 1);
    REQUIRE(t.write(true));
  }
  auto p = b.spawn_replica(replica_spec{1, 1, 1, {1, 2}, {1, 2}});
  auto before = b.ask<partition_description>(p, stats_atom::value);
  REQUIRE(before);
  REQUIRE(before.value->high_watermark == 1); // the scenario: HW below the log end
  REQUIRE(before.value->log_end_offset == 2);
  // Consumers still stop at the HW; only the node's own log-end readers pass it.
  auto req = node_fixture::fetch_req(offsets_topic_name, 0, 0);
  auto consumer_read = b.ask<fetch_response>(p, fetch_atom::value, req);
  REQUIRE(consumer_read);
  offsets_loader below_hw;
  CHECK(below_hw.apply(byte_view{consumer_read.value->records}, 0).value() == 1);
  req.isolation = fetch_isolation::log_end;
  auto loader_read = b.ask<fetch_response>(p, fetch_atom::value, req);
  REQUIRE(loader_read);
  offsets_loader to_end;
  CHECK(to_end.apply(byte_view{loader_read.value->records}, 0).value() == 2);
  auto c = b.spawn_coordinator(p, 1);
  CHECK(b.committed(c) == 20);
  CHECK(b.stored() == 20); // the view is not overwritten with the older value
}

TEST_CASE("a coordinator on a deposed leader hands out no assignment another coordinator "
          "also hands out",
          "[group][fencing]") {
  // Node 2 leads __consumer_offsets-0 in epoch 2 (ISR {2}); node 1 led epoch
  // 1 with ISR {1,2} and has not heard: its coordinator still serves. Join
  // and sync never touched the log, so both handed out generation 1 with
  // orders-0. Writing the assignment with acks=all first fences node 1: node
  // 2 no longer fetches from it, so the write is never acknowledged.
  dir_guard d;
  coordinator_bench b(d.dir);
  auto deposed = b.spawn_replica(replica_spec{1, 1, 1, {1, 2}, {1, 2}});
  auto current = b.spawn_replica(replica_spec{2, 2, 2, {1, 2}, {2}});
  auto old_coordinator = b.spawn_coordinator(deposed, 1, false);
  auto new_coordinator = b.spawn_coordinator(current, 2, false);
  auto m1 = b.join(old_coordinator);
  auto m2 = b.join(new_coordinator);
  REQUIRE(m1.generation == m2.generation);
  auto s1 = b.send<sync_group_response>(old_coordinator, sync_group_atom::value,
                                        std::string{"g"},
                                        sync_group_request{0, m1.id, m1.generation});
  auto s2 = b.send<sync_group_response>(new_coordinator, sync_group_atom::value,
                                        std::string{"g"},
                                        sync_group_request{0, m2.id, m2.generation});
  b.advance(6000); // the old coordinator's write times out (request timeout 5 s)
  REQUIRE(s1->answered);
  REQUIRE(s2->answered);
  REQUIRE(s2->value);
  CHECK(s2->value->error == errc::none);
  CHECK(s2->value->assignment == tps{orders(0)});
  auto owned_by_m1 = s1->value && s1->value->error == errc::none ? s1->value->assignment : tps{};
  CHECK(owned_by_m1.empty()); // else orders-0 has two owners in one generation
  CHECK((s1->value ? s1->value->error : s1->code()) == errc::not_coordinator);
}

TEST_CASE("the client gateway refuses fetches past the high watermark", "[group][load]") {
  dir_guard d;
  group_node n(d.dir);
  REQUIRE(n.ask<coordinator_info>(n.broker, find_coordinator_atom::value, std::string{"g"}));
  auto gateway = n.sys.spawn(client_gateway_actor, gateway_setup{1, n.broker});
  n.requesters.push_back(caf::actor_cast<caf::actor>(gateway));
  auto req = node_fixture::fetch_req(offsets_topic_name, offsets_partition_for("g", 3), 0);
  CHECK(n.ask<fetch_response>(gateway, fetch_atom::value, req)); // up to the HW: fine
  req.isolation = fetch_isolation::log_end;
  auto refused = n.ask<fetch_response>(gateway, fetch_atom::value, req);
  REQUIRE_FALSE(refused);
  CHECK(refused.code() == errc::cluster_authorization_failed);
}
