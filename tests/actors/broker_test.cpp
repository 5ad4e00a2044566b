// Broker, controller and partition actors under the deterministic scheduler.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <limits>
#include <thread>

#include "actors/broker/client_gateway_actor.hpp"
#include "actors/partition/partition_expiry.hpp"
#include "actors/partition/producer_state_store.hpp"
#include "actors/partition/replica_checkpoint_files.hpp"
#include "node_fixture.hpp"

using namespace al;
using namespace al::test;

TEST_CASE_METHOD(node_fixture, "produce then fetch returns the records in order", "[broker]") {
  REQUIRE(create_topic("orders", 2));
  auto p1 = produce("orders", 1, batch_of({{"AAPL", "BUY 1"}, {"AAPL", "SELL 2"}}));
  REQUIRE(p1);
  CHECK(p1.value->base_offset == 0);
  CHECK(p1.value->record_count == 2);
  auto p2 = produce("orders", 1, batch_of({{"TCS", "BUY 3"}}));
  REQUIRE(p2);
  CHECK(p2.value->base_offset == 2);
  auto f = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 1, 0));
  REQUIRE(f);
  CHECK(f.value->high_watermark == 3);
  CHECK(values(*f.value) == std::vector<std::string>{"BUY 1", "SELL 2", "BUY 3"});
  // Mid-batch start: the whole batch comes back, the reader skips.
  auto g = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 1, 1));
  REQUIRE(g);
  CHECK(values(*g.value, 1) == std::vector<std::string>{"SELL 2", "BUY 3"});
  // The other partition is empty.
  auto e = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 0, 0));
  REQUIRE(e);
  CHECK(e.value->records.empty());
}

TEST_CASE_METHOD(node_fixture, "a long-poll fetch is answered when data arrives", "[broker]") {
  REQUIRE(create_topic("orders", 1));
  reply<fetch_response> out;
  auto rh = self->request(broker, caf::infinite, fetch_atom::value,
                          fetch_req("orders", 0, 0, 60000));
  sched.run();
  // Parked: no reply yet, and no timer has fired.
  CHECK(self->mailbox().empty());
  REQUIRE(produce("orders", 0, batch_of({{"k", "v1"}})));
  sched.run();
  collect(rh, out);
  REQUIRE(out);
  CHECK(values(*out.value) == std::vector<std::string>{"v1"});
}

TEST_CASE_METHOD(node_fixture, "a long-poll fetch times out empty at fetch.max.wait.ms",
                 "[broker]") {
  REQUIRE(create_topic("orders", 1));
  reply<fetch_response> out;
  auto rh = self->request(broker, caf::infinite, fetch_atom::value,
                          fetch_req("orders", 0, 0, 500));
  sched.run();
  CHECK(self->mailbox().empty());
  sched.advance_time(std::chrono::milliseconds(499));
  sched.run();
  CHECK(self->mailbox().empty());
  // The node's expiry wheel has 10 ms buckets: answered at 500 ms, at most
  // 10 ms later (partition_expiry.hpp).
  int waited = 499;
  while (self->mailbox().empty() && waited < 520) {
    sched.advance_time(std::chrono::milliseconds(1));
    sched.run();
    ++waited;
  }
  CHECK(waited >= 500);
  CHECK(waited <= 510);
  collect(rh, out);
  REQUIRE(out);
  CHECK(out.value->records.empty());
}

TEST_CASE_METHOD(node_fixture, "data requests for unknown partitions fail clearly", "[broker]") {
  REQUIRE(create_topic("orders", 2));
  auto a = produce("nope", 0, batch_of({{"k", "v"}}));
  CHECK(a.code() == errc::unknown_topic_or_partition);
  auto b = produce("orders", 2, batch_of({{"k", "v"}}));
  CHECK(b.code() == errc::unknown_topic_or_partition);
  auto c = produce("orders", -1, batch_of({{"k", "v"}}));
  CHECK(c.code() == errc::unknown_topic_or_partition);
  auto f = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 0, 5));
  CHECK(f.code() == errc::offset_out_of_range);
}

namespace {

produce_set_request set_of(std::vector<std::tuple<std::string, int32_t, bytes>> parts,
                           acks_mode acks = acks_mode::all) {
  produce_set_request req;
  req.acks = acks;
  for (auto& [topic, partition, batch] : parts)
    req.parts.push_back(produce_part{topic, partition, std::move(batch)});
  return req;
}

} // namespace

TEST_CASE_METHOD(node_fixture, "a produce set appends each part in order and answers each on its own",
                 "[broker]") {
  REQUIRE(create_topic("orders", 2));
  auto corrupt = batch_of({{"k", "x"}});
  corrupt[corrupt.size() - 2] ^= 0x40;
  auto req = set_of({{"orders", 0, batch_of({{"a", "1"}, {"a", "2"}})},
                     {"nope", 0, batch_of({{"k", "v"}})},
                     {"orders", 1, batch_of({{"b", "3"}})},
                     {"orders", 0, batch_of({{"a", "4"}})},
                     {"orders", 1, corrupt},
                     {"orders", 7, batch_of({{"k", "v"}})}});
  auto r = ask<produce_set_response>(broker, produce_atom::value, req);
  REQUIRE(r);
  auto& res = r.value->results;
  REQUIRE(res.size() == 6);
  CHECK(res[0].error == errc::none);
  CHECK(res[0].response.base_offset == 0);
  CHECK(res[0].response.record_count == 2);
  CHECK(res[1].error == errc::unknown_topic_or_partition);
  CHECK(res[1].message.find("nope-0") != std::string::npos);
  CHECK(res[2].error == errc::none);
  CHECK(res[2].response.base_offset == 0);
  CHECK(res[3].error == errc::none);
  CHECK(res[3].response.base_offset == 2); // after part 0: parts reach a partition in order
  CHECK(res[4].error == errc::corrupt_message);
  CHECK_FALSE(res[4].message.empty());
  CHECK(res[5].error == errc::unknown_topic_or_partition);
  auto f0 = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 0, 0));
  REQUIRE(f0);
  CHECK(values(*f0.value) == std::vector<std::string>{"1", "2", "4"});
  auto f1 = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 1, 0));
  REQUIRE(f1);
  CHECK(values(*f1.value) == std::vector<std::string>{"3"}); // the corrupt batch left nothing
  // Empty sets are answered empty; a negative timeout is refused.
  auto empty = ask<produce_set_response>(broker, produce_atom::value, produce_set_request{});
  REQUIRE(empty);
  CHECK(empty.value->results.empty());
  auto bad = set_of({{"orders", 0, batch_of({{"k", "v"}})}});
  bad.timeout_ms = -1;
  CHECK(ask<produce_set_response>(broker, produce_atom::value, bad).code() ==
        errc::invalid_request);
}

TEST_CASE_METHOD(node_fixture, "an acks=all produce set is answered at its deadline if a part is not",
                 "[broker]") {
  REQUIRE(create_topic("orders", 1, {{"min.insync.replicas", "1"}}));
  auto req = set_of({{"orders", 0, batch_of({{"k", "v"}})}});
  req.timeout_ms = 200;
  // Answered at once: the only replica is the leader.
  auto r = ask<produce_set_response>(broker, produce_atom::value, req);
  REQUIRE(r);
  CHECK(r.value->results.at(0).error == errc::none);
  // The expiry of an answered set does nothing.
  sched.advance_time(std::chrono::milliseconds(1300));
  sched.run();
  CHECK(self->mailbox().empty());
  // A part still unanswered at timeout_ms + 1 s (the partition has not
  // run yet): the broker answers it REQUEST_TIMED_OUT itself, and the
  // partition's late answer changes nothing.
  auto held = set_of({{"orders", 0, batch_of({{"k", "w"}})}});
  held.timeout_ms = 200;
  auto rh = self->request(broker, caf::infinite, produce_atom::value, held);
  while (sched.prioritize(broker)) // the broker sends the part to the partition
    sched.run_once();
  sched.advance_time(std::chrono::milliseconds(1200));
  while (sched.prioritize(broker)) // the broker's timers, the expiry with them, come first
    sched.run_once();
  REQUIRE_FALSE(self->mailbox().empty());
  reply<produce_set_response> out;
  collect(rh, out);
  REQUIRE(out);
  REQUIRE(out.value->results.size() == 1);
  CHECK(out.value->results[0].error == errc::request_timed_out);
  sched.run();
  CHECK(self->mailbox().empty());
  auto f = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 0, 0));
  REQUIRE(f);
  CHECK(values(*f.value) == std::vector<std::string>{"v", "w"}); // written late, as in Kafka
}

TEST_CASE_METHOD(node_fixture, "the gateway refuses a set's internal-topic parts, not the others",
                 "[broker]") {
  REQUIRE(create_topic("orders", 1));
  auto gateway = sys.spawn(client_gateway_actor, gateway_setup{1, broker});
  auto req = set_of({{"__consumer_offsets", 0, batch_of({{"k", "v"}})},
                     {"orders", 0, batch_of({{"k", "v"}})},
                     {"__transaction_state", 3, batch_of({{"k", "v"}})}});
  auto r = ask<produce_set_response>(gateway, produce_atom::value, req);
  REQUIRE(r);
  REQUIRE(r.value->results.size() == 3);
  CHECK(r.value->results[0].error == errc::invalid_topic_exception);
  CHECK(r.value->results[0].message.find("__consumer_offsets") != std::string::npos);
  CHECK(r.value->results[1].error == errc::none);
  CHECK(r.value->results[1].response.base_offset == 0);
  CHECK(r.value->results[2].error == errc::invalid_topic_exception);
  caf::anon_send_exit(gateway, caf::exit_reason::kill);
  sched.run();
}

TEST_CASE_METHOD(node_fixture, "malformed batches are rejected and leave the log unchanged",
                 "[broker]") {
  REQUIRE(create_topic("orders", 1));
  auto good = batch_of({{"k", "v"}});
  auto flipped = good;
  flipped[flipped.size() - 2] ^= 0x40;
  CHECK(produce("orders", 0, flipped).code() == errc::corrupt_message);
  CHECK(produce("orders", 0, bytes{1, 2, 3}).code() == errc::corrupt_message);
  auto bad_magic = good;
  bad_magic[batch_layout::magic] = 1;
  CHECK(produce("orders", 0, bad_magic).code() == errc::corrupt_message);
  auto ok = produce("orders", 0, good);
  REQUIRE(ok);
  CHECK(ok.value->base_offset == 0);
}

TEST_CASE_METHOD(node_fixture, "admin errors use Kafka's codes", "[broker]") {
  CHECK(create_topic("bad name", 1).code() == errc::invalid_topic_exception);
  CHECK(create_topic("neg", -4).code() == errc::invalid_partitions);
  CHECK(create_topic("cfg", 1, {{"retention.ms", "soon"}}).code() == errc::invalid_config);
  REQUIRE(create_topic("orders", 3));
  CHECK(create_topic("orders", 3).code() == errc::topic_already_exists);
  auto del = ask<bool>(broker, delete_topic_atom::value, std::string{"ghost"});
  CHECK(del.code() == errc::unknown_topic_or_partition);
}

TEST_CASE_METHOD(node_fixture, "partitions only grow, and new ones are usable", "[broker]") {
  REQUIRE(create_topic("orders", 2));
  alter_topic_request shrink;
  shrink.name = "orders";
  shrink.partitions = 1;
  CHECK(ask<topic_description>(broker, alter_topic_atom::value, shrink).code() ==
        errc::invalid_partitions);
  alter_topic_request grow = shrink;
  grow.partitions = 4;
  auto grown = ask<topic_description>(broker, alter_topic_atom::value, grow);
  REQUIRE(grown);
  CHECK(grown.value->partitions.size() == 4);
  auto p = produce("orders", 3, batch_of({{"k", "v"}}));
  REQUIRE(p);
  CHECK(p.value->base_offset == 0);
}

TEST_CASE_METHOD(node_fixture, "describe reports offsets, delete removes data", "[broker]") {
  REQUIRE(create_topic("orders", 1, {{"retention.ms", "1000"}}));
  REQUIRE(produce("orders", 0, batch_of({{"a", "1"}, {"b", "2"}})));
  auto d = ask<std::vector<topic_description>>(broker, describe_topics_atom::value,
                                               std::vector<std::string>{"orders"});
  REQUIRE(d);
  REQUIRE(d.value->size() == 1);
  auto& t = d.value->front();
  CHECK(t.configs.at("retention.ms") == "1000");
  CHECK(t.partitions[0].log_end_offset == 2);
  CHECK(t.partitions[0].leader == 1);
  CHECK(std::filesystem::exists(dir + "/orders-0"));
  auto del = ask<bool>(broker, delete_topic_atom::value, std::string{"orders"});
  REQUIRE(del);
  sched.run();
  CHECK_FALSE(std::filesystem::exists(dir + "/orders-0"));
  CHECK(produce("orders", 0, batch_of({{"a", "1"}})).code() ==
        errc::unknown_topic_or_partition);
}

TEST_CASE_METHOD(node_fixture, "list offsets: earliest, latest, by timestamp", "[broker]") {
  REQUIRE(create_topic("orders", 1));
  batch_builder b;
  b.append(1000, std::nullopt, byte_view{std::string_view{"x"}});
  b.append(2000, std::nullopt, byte_view{std::string_view{"y"}});
  REQUIRE(produce("orders", 0, b.build()));
  auto ask_ts = [&](int64_t ts) {
    return ask<list_offsets_response>(broker, list_offsets_atom::value,
                                      list_offsets_request{"orders", 0, ts});
  };
  CHECK(ask_ts(earliest_timestamp).value->offset == 0);
  CHECK(ask_ts(latest_timestamp).value->offset == 2);
  CHECK(ask_ts(1500).value->offset == 1);
  CHECK(ask_ts(5000).value->offset == -1);
  // Kafka's other special values: -3 max timestamp (KIP-734), -4 earliest
  // local (all is local), -5 latest tiered (nothing is tiered).
  batch_builder later;
  later.append(1500, std::nullopt, byte_view{std::string_view{"z"}});
  REQUIRE(produce("orders", 0, later.build()));
  auto max = ask_ts(-3);
  CHECK(max.value->offset == 1);
  CHECK(max.value->timestamp == 2000);
  CHECK(ask_ts(-4).value->offset == 0);
  CHECK(ask_ts(-5).value->offset == -1);
  CHECK(ask_ts(-6).value->offset == 0); // an ordinary lookup
}

namespace {
bytes idempotent(int64_t pid, int32_t seq, std::vector<std::string> values) {
  batch_options o;
  o.producer_id = pid;
  o.producer_epoch = 0;
  o.base_sequence = seq;
  batch_builder b{o};
  for (auto& v : values)
    b.append(1700000000000, std::nullopt, byte_view{std::string_view{v}});
  return b.build();
}
} // namespace

TEST_CASE_METHOD(node_fixture, "idempotent producer: a retried batch is not written twice",
                 "[broker][idempotence]") {
  REQUIRE(create_topic("orders", 1));
  auto pid = ask<producer_id_response>(broker, init_pid_atom::value);
  REQUIRE(pid);
  auto first = idempotent(pid.value->producer_id, 0, {"a", "b"});
  auto p1 = produce("orders", 0, first);
  REQUIRE(p1);
  // The reply was "lost": the producer sends the same batch again.
  auto p1_again = produce("orders", 0, first);
  REQUIRE(p1_again);
  CHECK(p1_again.value->base_offset == p1.value->base_offset);
  auto p2 = produce("orders", 0, idempotent(pid.value->producer_id, 2, {"c"}));
  REQUIRE(p2);
  CHECK(p2.value->base_offset == 2);
  // A gap in the sequence is refused.
  auto gap = produce("orders", 0, idempotent(pid.value->producer_id, 9, {"z"}));
  CHECK(gap.code() == errc::out_of_order_sequence_number);
  auto f = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 0, 0));
  REQUIRE(f);
  CHECK(values(*f.value) == std::vector<std::string>{"a", "b", "c"});
  // Producer ids are unique.
  auto pid2 = ask<producer_id_response>(broker, init_pid_atom::value);
  REQUIRE(pid2);
  CHECK(pid2.value->producer_id != pid.value->producer_id);
}

TEST_CASE_METHOD(node_fixture, "the partition's timer applies retention to closed segments",
                 "[broker][retention]") {
  // Tiny segments and a 1-byte size limit: every closed segment is over it.
  REQUIRE(create_topic("ticks", 1, {{"segment.bytes", "1024"}, {"retention.bytes", "1"}}));
  for (int i = 0; i < 40; ++i)
    REQUIRE(produce("ticks", 0, batch_of({{"k", std::string(100, char('a' + i % 26))}})));
  auto before = ask<partition_description>(broker, stats_atom::value, topic_partition{"ticks", 0});
  REQUIRE(before);
  CHECK(before.value->log_start_offset == 0);
  CHECK(before.value->log_end_offset == 40);
  // The housekeeping tick, on the node's timer wheel: at most one 10 ms
  // bucket after its 1 s.
  sched.advance_time(std::chrono::milliseconds(1010));
  sched.run();
  auto after = ask<partition_description>(broker, stats_atom::value, topic_partition{"ticks", 0});
  REQUIRE(after);
  CHECK(after.value->log_start_offset > 0);  // closed segments deleted
  CHECK(after.value->log_end_offset == 40);  // the active segment stays
  auto old = ask<fetch_response>(broker, fetch_atom::value, fetch_req("ticks", 0, 0));
  CHECK(old.code() == errc::offset_out_of_range);
}

// ---------------------------------------------------------------------------
// Client input a partition must survive (audit B1, C1-C3, C6, C8, D, and
// resources running out). Some tests spawn a partition actor directly, to
// set its limits.

namespace {

struct partition_fixture : node_fixture {
  std::vector<caf::actor> extra;

  ~partition_fixture() {
    for (auto& a : extra)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    sched.run();
  }

  /// A single-replica partition `topic`-0 led by this node (1), epoch 0.
  partition_api spawn_partition(const std::string& topic,
                                const std::function<void(partition_setup&)>& tweak = {}) {
    partition_setup ps;
    ps.tp = {topic, 0};
    ps.dir = dir + "/" + topic + "-0";
    ps.state.leader = 1;
    ps.state.leader_epoch = 0;
    ps.state.replicas = {1};
    ps.state.isr = {1};
    ps.node_id = 1;
    ps.incarnation = 1;
    if (tweak)
      tweak(ps);
    auto p = sys.spawn(partition_actor, ps);
    extra.push_back(caf::actor_cast<caf::actor>(p));
    sched.run();
    return p;
  }

  /// spawn_partition with the partition's blocking file work on an
  /// event-based I/O worker and a recovery-point table, as on a node: roll
  /// syncs, deletes and flush.messages fsyncs then go to the worker.
  partition_api spawn_with_worker(const std::string& topic,
                                  const std::function<void(partition_setup&)>& tweak = {}) {
    auto io = sys.spawn(io_worker_actor);
    extra.push_back(io);
    return spawn_partition(topic, [&](partition_setup& ps) {
      ps.io = io;
      ps.recovery_table = std::make_shared<hw_checkpoint_table>(dir, recovery_table_name);
      if (tweak)
        tweak(ps);
    });
  }

  static partition_state& state_of(const partition_api& p) {
    return dynamic_cast<partition_api::stateful_base<partition_state>&>(
             *caf::actor_cast<caf::abstract_actor*>(p))
      .state;
  }

  reply<produce_response> produce_to(const partition_api& p, bytes batch,
                                     acks_mode acks = acks_mode::all) {
    produce_request req;
    req.topic = "t";
    req.acks = acks;
    req.batch = std::move(batch);
    return ask<produce_response>(p, produce_atom::value, req);
  }

  /// A fetch request sent now (answered now or parked); collect() later.
  auto fetch_from(const partition_api& p, fetch_request req) {
    auto rh = self->request(p, caf::infinite, fetch_atom::value, std::move(req));
    sched.run();
    return rh;
  }

  /// The node's timer wheel and its sweeper, as a broker makes them.
  struct node_timers {
    std::shared_ptr<timer_wheel> wheel;
    caf::actor sweeper;
    void apply(partition_setup& ps) const {
      ps.timer_wheel = wheel;
      ps.timer_sweeper = sweeper;
    }
  };
  node_timers spawn_timers() {
    node_timers t{std::make_shared<timer_wheel>(timer_wheel_granularity_ns), {}};
    t.sweeper = sys.spawn(timer_sweeper_actor, t.wheel);
    extra.push_back(t.sweeper);
    return t;
  }

  bool alive(const partition_api& p) {
    auto d = ask<partition_description>(p, stats_atom::value);
    return d.answered && d.value.has_value();
  }
};

bytes value_batch(size_t value_size, int64_t ts = 1700000000000) {
  batch_builder b;
  std::string v(value_size, 'v');
  b.append(ts, byte_view{std::string_view{"k"}}, byte_view{std::string_view{v}});
  return b.build();
}

} // namespace

TEST_CASE_METHOD(node_fixture, "a client's leader epoch of INT32_MAX does not demote the leader",
                 "[broker][fencing]") {
  // Audit B1: fetch (as a "follower") or OffsetsForLeaderEpoch with
  // current_leader_epoch INT32_MAX used to take the partition offline until
  // the node restarted. Kafka answers UNKNOWN_LEADER_EPOCH and changes nothing.
  REQUIRE(create_topic("orders", 1));
  REQUIRE(produce("orders", 0, batch_of({{"k", "v1"}})));
  auto req = fetch_req("orders", 0, 0);
  req.replica_id = 0;
  req.current_leader_epoch = std::numeric_limits<int32_t>::max();
  auto f = ask<fetch_response>(broker, fetch_atom::value, req);
  CHECK(f.code() == errc::unknown_leader_epoch);
  offsets_for_epoch_request q;
  q.leader_id = 1;
  q.replica_id = 0;
  q.current_leader_epoch = std::numeric_limits<int32_t>::max();
  q.requested_epoch = 0;
  auto e = ask<offsets_for_epoch_response>(broker, epoch_query_atom::value,
                                            topic_partition{"orders", 0}, q);
  REQUIRE(e);
  CHECK(e.value->error == errc::unknown_leader_epoch);
  // Still the leader: produce and fetch work.
  auto p = produce("orders", 0, batch_of({{"k", "v2"}}));
  REQUIRE(p);
  CHECK(p.value->base_offset == 1);
  auto g = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 0, 0));
  REQUIRE(g);
  CHECK(values(*g.value) == std::vector<std::string>{"v1", "v2"});
}

TEST_CASE_METHOD(node_fixture, "acks other than -1, 0, 1 answer INVALID_REQUIRED_ACKS",
                 "[broker][validate]") {
  REQUIRE(create_topic("orders", 1));
  for (int8_t acks : {2, 5, -3, 127, -128}) {
    INFO("acks " << int(acks));
    CHECK(produce("orders", 0, batch_of({{"k", "v"}}), acks_mode(acks)).code() ==
          errc::invalid_required_acks);
  }
  auto ok = produce("orders", 0, batch_of({{"k", "v"}}), acks_mode::leader);
  REQUIRE(ok);
  CHECK(ok.value->base_offset == 0); // nothing was written by the refused ones
}

TEST_CASE_METHOD(node_fixture, "a keyless record on a compacted topic answers INVALID_RECORD",
                 "[broker][validate]") {
  REQUIRE(create_topic("state", 1, {{"cleanup.policy", "compact"}}));
  batch_builder b;
  b.append(1700000000000, std::nullopt, byte_view{std::string_view{"v"}});
  CHECK(produce("state", 0, b.build()).code() == errc::invalid_record);
  CHECK(produce("state", 0, batch_of({{"k", "v"}})));
}

TEST_CASE_METHOD(node_fixture, "timestamps beyond message.timestamp.after.max.ms are refused",
                 "[broker][validate]") {
  // Kafka 4's default: at most one hour ahead of the broker's clock.
  REQUIRE(create_topic("orders", 1));
  auto now = wall_clock_ms();
  CHECK(produce("orders", 0, value_batch(1, now + 2 * 3600 * 1000)).code() ==
        errc::invalid_timestamp);
  CHECK(produce("orders", 0, value_batch(1, now + 60 * 1000)));
  CHECK(produce("orders", 0, value_batch(1, 1000))); // the past is unlimited by default
  // A topic may narrow it (message.timestamp.before.max.ms).
  REQUIRE(create_topic("recent", 1, {{"message.timestamp.before.max.ms", "60000"}}));
  CHECK(produce("recent", 0, value_batch(1, 1000)).code() == errc::invalid_timestamp);
  CHECK(produce("recent", 0, value_batch(1, now)));
}

TEST_CASE_METHOD(partition_fixture, "fetch.max.bytes caps a fetch whatever max_bytes asks",
                 "[broker][fetch]") {
  auto p = spawn_partition("t", [](partition_setup& ps) { ps.fetch_max_bytes = 2000; });
  for (int i = 0; i < 10; ++i)
    REQUIRE(produce_to(p, value_batch(500)));
  auto req = fetch_req("t", 0, 0);
  req.max_bytes = std::numeric_limits<int32_t>::max();
  auto f = ask<fetch_response>(p, fetch_atom::value, req);
  REQUIRE(f);
  CHECK(f.value->records.size() <= 2000);
  CHECK(values(*f.value).size() == 3); // whole batches of ~570 bytes
  // A first batch larger than the cap still comes back whole (Kafka).
  REQUIRE(produce_to(p, value_batch(5000)));
  auto big = fetch_req("t", 0, 10);
  big.max_bytes = 100;
  auto g = ask<fetch_response>(p, fetch_atom::value, big);
  REQUIRE(g);
  CHECK(values(*g.value).size() == 1);
  CHECK(g.value->records.size() > 5000);
  // max_bytes 0 gets the first batch, as in Kafka; a negative one is refused.
  auto zero = fetch_req("t", 0, 0);
  zero.max_bytes = 0;
  auto z = ask<fetch_response>(p, fetch_atom::value, zero);
  REQUIRE(z);
  CHECK(values(*z.value).size() == 1);
  auto neg = fetch_req("t", 0, 0);
  neg.max_bytes = -1;
  CHECK(ask<fetch_response>(p, fetch_atom::value, neg).code() == errc::invalid_fetch_size);
}

TEST_CASE_METHOD(partition_fixture, "parked fetches are bounded per partition and in time",
                 "[broker][fetch]") {
  auto p = spawn_partition("t", [](partition_setup& ps) {
    ps.fetch_purgatory_max = 3;
    ps.fetch_wait_max_ms = 1000;
  });
  auto& st = state_of(p);
  auto waiting = fetch_req("t", 0, 0, std::numeric_limits<int32_t>::max());
  std::vector<reply<fetch_response>> out(5);
  std::vector<decltype(fetch_from(p, waiting))> handles;
  for (int i = 0; i < 5; ++i)
    handles.push_back(fetch_from(p, waiting));
  // The two oldest were answered (empty) to make room for the newer ones.
  CHECK(st.parked.size() == 3);
  for (int i = 0; i < 2; ++i) {
    collect(handles[size_t(i)], out[size_t(i)]);
    REQUIRE(out[size_t(i)]);
    CHECK(out[size_t(i)].value->records.empty());
  }
  // INT32_MAX ms of wait is cut to fetch.wait.max.ms, and one timer serves all.
  CHECK(st.expiry_timers.size() == 1);
  sched.advance_time(std::chrono::milliseconds(999));
  sched.run();
  CHECK(st.parked.size() == 3);
  sched.advance_time(std::chrono::milliseconds(1));
  sched.run();
  CHECK(st.parked.empty());
  for (int i = 2; i < 5; ++i) {
    collect(handles[size_t(i)], out[size_t(i)]);
    REQUIRE(out[size_t(i)]);
  }
  CHECK(st.expiry_timers.empty());
}

TEST_CASE_METHOD(partition_fixture, "many parked fetches share few expiry timers",
                 "[broker][fetch]") {
  auto p = spawn_partition("t");
  auto& st = state_of(p);
  // Deadlines 1000 ms down to 1 ms, each earlier than all before it: a
  // timer per 10 ms step at most, not one per fetch.
  for (int wait = 1000; wait > 0; --wait)
    fetch_from(p, fetch_req("t", 0, 0, wait));
  CHECK(st.parked.size() == 1000);
  CHECK(st.expiry_timers.size() <= 101);
  for (int i = 0; i < 1100 && !st.parked.empty(); ++i) {
    sched.advance_time(std::chrono::milliseconds(1));
    sched.run();
  }
  CHECK(st.parked.empty());
  CHECK(st.expiry_timers.empty());
}

TEST_CASE_METHOD(partition_fixture,
                 "partitions on the node's expiry wheel arm no timers, one sweeper expires their "
                 "long polls on time",
                 "[broker][fetch][expiry]") {
  auto timers = spawn_timers();
  auto& wheel = timers.wheel;
  std::vector<partition_api> parts;
  for (int i = 0; i < 5; ++i)
    parts.push_back(
      spawn_partition("t" + std::to_string(i), [&](partition_setup& ps) { timers.apply(ps); }));
  sched.run();
  auto timers_before = sched.clock().schedule().size();
  auto on_wheel = wheel->size(); // each partition's first housekeeping
  CHECK(on_wheel == 5);
  std::vector<decltype(fetch_from(parts[0], fetch_req("t0", 0, 0, 500)))> handles;
  for (int i = 0; i < 5; ++i) // 500 ms, then 300 ms: an earlier bucket pokes the sweeper
    handles.push_back(fetch_from(parts[size_t(i)], fetch_req("t" + std::to_string(i), 0, 0,
                                                            i < 3 ? 500 : 300)));
  CHECK(wheel->size() == on_wheel + 5);
  // The partitions armed nothing; the sweeper holds the only wake-ups (the
  // 500 ms bucket, then the earlier 300 ms one).
  CHECK(sched.clock().schedule().size() - timers_before <= 2);
  for (auto& p : parts)
    CHECK(state_of(p).parked.size() == 1);
  sched.advance_time(std::chrono::milliseconds(299));
  sched.run();
  for (auto& p : parts)
    CHECK(state_of(p).parked.size() == 1); // never early
  sched.advance_time(std::chrono::milliseconds(11));
  sched.run();
  for (int i = 0; i < 5; ++i)
    CHECK(state_of(parts[size_t(i)]).parked.size() == (i < 3 ? 1u : 0u));
  sched.advance_time(std::chrono::milliseconds(200));
  sched.run();
  for (auto& p : parts)
    CHECK(state_of(p).parked.empty());
  for (auto& h : handles) {
    reply<fetch_response> out;
    collect(h, out);
    REQUIRE(out);
    CHECK(out.value->records.empty());
  }
  CHECK(wheel->size() == on_wheel); // the housekeeping, due at 1 s
}

TEST_CASE_METHOD(partition_fixture,
                 "partitions on the node's wheel arm no housekeeping or replica-tick timers, the "
                 "sweeper sends both",
                 "[broker][expiry][replication]") {
  auto timers = spawn_timers();
  auto& wheel = timers.wheel;
  auto sink = sys.spawn([]() -> caf::behavior { return {[](tick_atom) {}}; }); // the "broker"
  extra.push_back(sink);
  sched.run();
  auto timers_before = sched.clock().schedule().size();
  auto p = spawn_partition("t", [&](partition_setup& ps) {
    timers.apply(ps);
    ps.broker = sink;
    ps.producer_id_expiration_ms = 1;
    ps.housekeeping_interval_ms = 1000;
    ps.state.replicas = {1, 2}; // follower 2 never fetches: acks=all waits
    ps.state.isr = {1, 2};
  });
  auto& st = state_of(p);
  // Every timer the partition wants is on the wheel (the first housekeeping,
  // and any replica tick its machine asks for); the only CAF timers are the
  // sweeper's wake-ups.
  CHECK(st.housekeeping_timers.size() == 1);
  CHECK(wheel->size() == st.housekeeping_timers.size() + st.replica_tick_timers.size());
  CHECK(sched.clock().schedule().size() - timers_before <= wheel->size());
  batch_options o;
  o.producer_id = 1000;
  o.producer_epoch = 0;
  o.base_sequence = 0;
  batch_builder b{o};
  b.append(1700000000000, std::nullopt, byte_view{std::string_view{"v"}});
  REQUIRE(produce_to(p, b.build(), acks_mode::leader));
  CHECK(st.producers.producer_count() == 1);
  // acks=all waits for follower 2: its timeout is the replica tick's work,
  // and the tick goes on the wheel too.
  auto size_before_wait = wheel->size();
  auto timers_before_wait = sched.clock().schedule().size();
  produce_request req;
  req.topic = "t";
  req.acks = acks_mode::all;
  req.timeout_ms = 1;
  req.batch = value_batch(10);
  auto h = self->request(p, caf::infinite, produce_atom::value, std::move(req));
  sched.run();
  REQUIRE(st.waiting.size() == 1);
  CHECK(wheel->size() > size_before_wait);
  CHECK(wheel->size() == st.housekeeping_timers.size() + st.replica_tick_timers.size());
  CHECK(sched.clock().schedule().size() - timers_before_wait <= 1); // the sweeper's, if earlier
  std::this_thread::sleep_for(std::chrono::milliseconds(3)); // the 1 ms deadline (wall clock)
  sched.advance_time(std::chrono::milliseconds(199)); // the tick is 200 ms out: never early
  sched.run();
  CHECK(st.waiting.size() == 1);
  sched.advance_time(std::chrono::milliseconds(11));
  sched.run();
  CHECK(st.waiting.empty());
  reply<produce_response> r;
  collect(h, r);
  CHECK(r.code() == errc::request_timed_out);
  // Housekeeping at 1 s (on the wheel) forgets the idle producer.
  std::this_thread::sleep_for(std::chrono::milliseconds(2)); // producer.id.expiration.ms = 1
  sched.advance_time(std::chrono::milliseconds(800));
  sched.run();
  CHECK(st.producers.producer_count() == 0);
}

TEST_CASE_METHOD(partition_fixture, "a parked fetch wakes when min bytes arrive, not before",
                 "[broker][fetch]") {
  auto p = spawn_partition("t");
  auto& st = state_of(p);
  auto req = fetch_req("t", 0, 0, 30000);
  req.min_bytes = 1500;
  auto rh = fetch_from(p, req);
  REQUIRE(produce_to(p, value_batch(500)));
  REQUIRE(produce_to(p, value_batch(500)));
  CHECK(st.parked.size() == 1); // ~1140 bytes: not enough
  REQUIRE(produce_to(p, value_batch(500)));
  CHECK(st.parked.empty());
  reply<fetch_response> out;
  collect(rh, out);
  REQUIRE(out);
  CHECK(values(*out.value).size() == 3);
}

TEST_CASE_METHOD(partition_fixture, "producer ids expire after producer.id.expiration.ms",
                 "[broker][idempotence]") {
  auto p = spawn_partition("t", [](partition_setup& ps) {
    ps.producer_id_expiration_ms = 1;
    ps.housekeeping_interval_ms = 1000;
  });
  auto& st = state_of(p);
  for (int64_t pid = 1000; pid < 1010; ++pid) {
    batch_options o;
    o.producer_id = pid;
    o.producer_epoch = 0;
    o.base_sequence = 0;
    batch_builder b{o};
    b.append(1700000000000, std::nullopt, byte_view{std::string_view{"v"}});
    REQUIRE(produce_to(p, b.build()));
  }
  CHECK(st.producers.producer_count() == 10);
  sched.advance_time(std::chrono::milliseconds(1000)); // housekeeping
  sched.run();
  CHECK(st.producers.producer_count() == 0);
}

TEST_CASE_METHOD(partition_fixture,
                 "producer snapshots wait for a MiB of producer batches, an open transaction "
                 "cut by retention wants one whatever the bytes",
                 "[broker][idempotence]") {
  auto p = spawn_partition("t", [](partition_setup& ps) { ps.housekeeping_interval_ms = 1000; });
  auto& st = state_of(p);
  int32_t seq = 0;
  auto idempotent_batch = [&](size_t value_size) {
    batch_options o;
    o.producer_id = 1000;
    o.producer_epoch = 0;
    o.base_sequence = seq++;
    batch_builder b{o};
    std::string v(value_size, 'v');
    b.append(1700000000000, std::nullopt, byte_view{std::string_view{v}});
    return b.build();
  };
  auto housekeeping = [&] {
    caf::anon_send(p, tick_atom::value);
    sched.run();
  };
  // A few small batches: the table changed, but a restart would scan only
  // them; no snapshot (the first one is due at once by the clock).
  for (int i = 0; i < 5; ++i)
    REQUIRE(produce_to(p, idempotent_batch(100), acks_mode::leader));
  housekeeping();
  CHECK(st.producers_dirty);
  CHECK(st.unsnapshotted_bytes < producer_snapshot_min_bytes);
  CHECK(producer_snapshot_offsets(st.log->dir()).empty());
  // A MiB more: the next housekeeping snapshots the table.
  for (int i = 0; i < 20; ++i)
    REQUIRE(produce_to(p, idempotent_batch(64 * 1024), acks_mode::leader));
  CHECK(st.unsnapshotted_bytes >= producer_snapshot_min_bytes);
  housekeeping();
  CHECK_FALSE(st.producers_dirty);
  CHECK(st.unsnapshotted_bytes == 0);
  auto taken = producer_snapshot_offsets(st.log->dir());
  REQUIRE(taken.size() == 1);
  CHECK(taken.back() == st.log->log_end_offset());
  // Retention deleting segments under an open transaction wants a snapshot
  // whatever the bytes (keep_open_transactions), once 30 s have passed.
  batch_options o;
  o.producer_id = 2000;
  o.producer_epoch = 0;
  o.base_sequence = 0;
  o.transactional = true;
  batch_builder tb{o};
  tb.append(1700000000000, std::nullopt, byte_view{std::string_view{"t"}});
  auto txn = tb.build();
  st.producers.on_append(read_batch_header(txn.data()));
  REQUIRE(st.producers.txns().open_count() == 1);
  producer_snapshot_taken(st);
  CHECK_FALSE(periodic_snapshot_wanted(st));
  keep_open_transactions(st, 0); // nothing deleted: nothing wanted
  CHECK_FALSE(periodic_snapshot_wanted(st));
  keep_open_transactions(st, 1);
  CHECK(periodic_snapshot_wanted(st));
  CHECK(st.unsnapshotted_bytes == 0);
}

TEST_CASE_METHOD(partition_fixture, "a partition survives unexpected messages and errors",
                 "[broker][resources]") {
  auto p = spawn_partition("t");
  auto untyped = caf::actor_cast<caf::actor>(p);
  caf::anon_send(untyped, std::string{"hello"});
  caf::anon_send(untyped, caf::make_error(caf::sec::runtime_error));
  caf::anon_send(untyped, expire_atom::value, uint64_t{12345}); // a forged timer
  sched.run();
  CHECK(alive(p));
  CHECK(produce_to(p, value_batch(10)));
}

TEST_CASE_METHOD(partition_fixture, "out of memory in a handler fails the request, not the actor",
                 "[broker][resources]") {
  // A zstd batch of 100 MiB of zeros (a few KiB on the wire) under an address
  // space limit too small to decompress it: std::bad_alloc in the produce
  // handler. CAF 0.17 would end the actor (and the broker linked to it).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  WARN("skipped: a sanitizer's shadow memory does not fit an address space limit");
  return;
#endif
  auto p = spawn_partition("t", [](partition_setup& ps) {
    ps.log.max_message_bytes = 64 << 20; // decompressing up to 256 MiB is allowed
  });
  bytes zeros(size_t(100) << 20, 0);
  batch_options bo;
  bo.codec = compression::zstd;
  batch_builder b{bo};
  b.append(1700000000000, std::nullopt, byte_view{zeros});
  auto bomb = b.build();
  bytes{}.swap(zeros);
  struct rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_AS, &old) == 0);
  long pages = 0;
  {
    std::ifstream statm("/proc/self/statm");
    statm >> pages;
  }
  struct rlimit tight = old;
  tight.rlim_cur = rlim_t(pages) * rlim_t(::sysconf(_SC_PAGESIZE)) + (rlim_t(48) << 20);
  REQUIRE(::setrlimit(RLIMIT_AS, &tight) == 0);
  auto r = produce_to(p, bomb);
  REQUIRE(::setrlimit(RLIMIT_AS, &old) == 0);
  CHECK(r.code() == errc::kafka_storage_error);
  CHECK(alive(p));
  auto ok = produce_to(p, value_batch(10));
  REQUIRE(ok);
  CHECK(ok.value->base_offset == 0);
}

TEST_CASE_METHOD(partition_fixture, "no file descriptors at open: KAFKA_STORAGE_ERROR, alive",
                 "[broker][resources]") {
  struct rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
  struct rlimit tight = old;
  tight.rlim_cur = 0; // every open fails with EMFILE; open descriptors stay usable
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  auto p = spawn_partition("t");
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &old) == 0);
  CHECK(produce_to(p, value_batch(10)).code() == errc::kafka_storage_error);
  CHECK(ask<fetch_response>(p, fetch_atom::value, fetch_req("t", 0, 0)).code() ==
        errc::kafka_storage_error);
  CHECK(alive(p));
}

TEST_CASE_METHOD(partition_fixture, "a failed write (file size limit) fails only that produce",
                 "[broker][resources]") {
  auto p = spawn_partition("t");
  REQUIRE(produce_to(p, value_batch(10)));
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN); // EFBIG instead of the signal
  struct rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  struct rlimit tight = old;
  tight.rlim_cur = 4096;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &tight) == 0);
  auto r = produce_to(p, value_batch(8000));
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &old) == 0);
  std::signal(SIGXFSZ, old_handler);
  CHECK(r.code() == errc::kafka_storage_error);
  CHECK(alive(p));
  auto next = produce_to(p, value_batch(10));
  REQUIRE(next);
  CHECK(next.value->base_offset == 1); // the failed batch left nothing behind
  auto f = ask<fetch_response>(p, fetch_atom::value, fetch_req("t", 0, 0));
  REQUIRE(f);
  CHECK(values(*f.value).size() == 2);
}

// ---------------------------------------------------------------------------
// Replication and log cleaning (issue 12, items 5 and 6).

namespace {

/// Stands in for the two brokers between a follower partition and its
/// leader: routes the follower's fetches and OffsetsForLeaderEpoch to the
/// leader's partition actor, whose answers go straight back.
caf::behavior route_to(caf::event_based_actor* self, partition_api leader) {
  return {
    [=](peer_atom, int32_t, const fetch_request& req) {
      return self->delegate(leader, fetch_atom::value, req);
    },
    [=](peer_atom, int32_t, const topic_partition&, const offsets_for_epoch_request& req) {
      return self->delegate(leader, epoch_query_atom::value, req);
    },
  };
}

} // namespace

TEST_CASE_METHOD(partition_fixture,
                 "a leader-epoch change while leading fails parked follower fetches",
                 "[broker][replication]") {
  // Metadata jumps from epoch 0 to 2 with the same leader. A follower's fetch
  // of epoch 0 parked before the change used to be answered after it with
  // batches of epoch 2, which made the follower abort (its assertion).
  auto p = spawn_partition("t", [](partition_setup& ps) {
    ps.state.replicas = {1, 2};
    ps.state.isr = {1, 2};
  });
  auto& st = state_of(p);
  auto follower_fetch = fetch_req("t", 0, 0, 30000);
  follower_fetch.replica_id = 2;
  follower_fetch.current_leader_epoch = 0;
  follower_fetch.replica_epoch = 2;
  auto parked_follower = fetch_from(p, follower_fetch);
  auto consumer = fetch_from(p, fetch_req("t", 0, 0, 30000)); // no leader epoch: unchecked
  REQUIRE(st.parked.size() == 2);
  auto d = st.setup.state;
  d.leader_epoch = 2;
  d.partition_epoch += 1;
  self->send(p, metadata_update_atom::value, d);
  sched.run();
  CHECK(st.replica->leader_epoch() == 2);
  // The epoch is checkpointed before any record of it is written: not on
  // the role change (an entry at the log end describes no record, a load
  // drops it), but before the first append of the epoch (below).
  CHECK(st.replica->epochs().latest_epoch() == 2);
  CHECK(st.saved_epochs != st.replica->epochs().entries()); // nothing written yet
  REQUIRE(st.parked.size() == 1); // the follower's fetch was answered
  reply<fetch_response> out;
  collect(parked_follower, out);
  CHECK(out.code() == errc::fenced_leader_epoch);
  // Records of epoch 2 reach the consumer; a fetch of epoch 0 is fenced.
  REQUIRE(produce_to(p, value_batch(10), acks_mode::leader));
  CHECK(st.saved_epochs == st.replica->epochs().entries());
  CHECK(ask<fetch_response>(p, fetch_atom::value, follower_fetch).code() ==
        errc::fenced_leader_epoch);
  follower_fetch.current_leader_epoch = 2;
  auto f = ask<fetch_response>(p, fetch_atom::value, follower_fetch);
  REQUIRE(f);
  REQUIRE(f.value->records.size() >= batch_layout::header_size);
  CHECK(read_batch_header(f.value->records.data()).partition_leader_epoch == 2);
  (void)consumer; // still parked: the HW waits for follower 2
}

TEST_CASE_METHOD(partition_fixture,
                 "retention waits for the HW, a follower behind the log start restarts there",
                 "[broker][retention][replication]") {
  auto setup = [](partition_setup& ps) {
    ps.log.segment_bytes = 1024;
    ps.log.retention_ms = 1000; // batches below carry a CreateTime of 1000: long expired
    ps.log.policy.delete_segments = true;
    ps.retention_check_interval_ms = 0;
    ps.state.replicas = {1, 3};
    ps.state.isr = {1, 3};
  };
  auto leader = spawn_partition("t", setup);
  auto& ls = state_of(leader);
  for (int i = 0; i < 12; ++i)
    REQUIRE(produce_to(leader, value_batch(300, 1000), acks_mode::leader));
  REQUIRE(ls.log->segment_count() > 3);
  auto housekeeping = [&](const partition_api& p) {
    caf::anon_send(p, tick_atom::value);
    sched.run();
  };
  // 3 has fetched nothing: nothing is committed, nothing may go.
  housekeeping(leader);
  CHECK(ls.high_watermark == 0);
  CHECK(ls.log->log_start_offset() == 0);
  // The controller drops 3 from the ISR: all is committed, retention deletes.
  auto d = ls.setup.state;
  d.isr = {1};
  d.partition_epoch += 1;
  self->send(leader, metadata_update_atom::value, d);
  sched.run();
  REQUIRE(ls.high_watermark == 12);
  housekeeping(leader);
  auto start = ls.log->log_start_offset();
  REQUIRE(start > 0);
  CHECK(start <= ls.high_watermark);

  // 3 comes back with an empty log and fetches at 0, below the log start.
  // It used to get OFFSET_OUT_OF_RANGE, truncate to 0 and fetch at 0 again,
  // forever: step the scheduler a bounded number of times.
  auto router = sys.spawn(route_to, leader);
  extra.push_back(router);
  partition_setup fs_setup;
  fs_setup.tp = {"t", 0};
  fs_setup.dir = dir + "/t-0-on-3";
  fs_setup.node_id = 3;
  fs_setup.incarnation = 3;
  fs_setup.state = d;
  fs_setup.broker = router;
  setup(fs_setup);
  fs_setup.state.isr = {1};
  auto follower = sys.spawn(partition_actor, fs_setup);
  extra.push_back(caf::actor_cast<caf::actor>(follower));
  size_t steps = 0;
  while (steps < 5000 && sched.try_run_once())
    ++steps;
  INFO("scheduler steps " << steps);
  CHECK(steps < 5000); // quiet: its fetch at the log end waits at the leader
  auto& fs = state_of(follower);
  CHECK(fs.replica->role() == replica_role::follower);
  CHECK(fs.log->log_start_offset() == start);
  CHECK(fs.log->log_end_offset() == 12);
  CHECK(fs.high_watermark == 12);
  CHECK(fs.saved_epochs == std::vector<epoch_entry>{{0, start}});
  // The leader counts it caught up again.
  REQUIRE(ls.replica->progress(3));
  CHECK(ls.replica->progress(3)->log_end_offset == 12);
}

TEST_CASE_METHOD(partition_fixture,
                 "a follower raises its log start to the leader's after retention there",
                 "[broker][retention][replication]") {
  auto setup = [](partition_setup& ps) {
    ps.log.segment_bytes = 1024;
    ps.log.retention_ms = 1000; // batches below carry a CreateTime of 1000: long expired
    ps.log.policy.delete_segments = true;
    ps.retention_check_interval_ms = 0;
    ps.state.replicas = {1, 3};
    ps.state.isr = {1, 3};
  };
  auto leader = spawn_partition("t", setup);
  auto& ls = state_of(leader);
  auto router = sys.spawn(route_to, leader);
  extra.push_back(router);
  partition_setup fs_setup;
  fs_setup.tp = {"t", 0};
  fs_setup.dir = dir + "/t-0-on-3";
  fs_setup.node_id = 3;
  fs_setup.incarnation = 3;
  fs_setup.state = ls.setup.state;
  fs_setup.broker = router;
  setup(fs_setup);
  fs_setup.retention_check_interval_ms = 1'000'000'000; // only the leader's retention acts
  auto follower = sys.spawn(partition_actor, fs_setup);
  extra.push_back(caf::actor_cast<caf::actor>(follower));
  sched.run();
  auto& fs = state_of(follower);
  for (int i = 0; i < 12; ++i) {
    auto acked = produce_to(leader, value_batch(300, 1000), acks_mode::all);
    REQUIRE(acked);
  }
  REQUIRE(ls.high_watermark == 12);
  REQUIRE(fs.log->log_end_offset() == 12);
  REQUIRE(fs.log->log_start_offset() == 0);
  caf::anon_send(leader, tick_atom::value); // retention on the leader
  sched.run();
  auto start = ls.log->log_start_offset();
  REQUIRE(start > 0);
  // The next fetch answer carries the new log start.
  REQUIRE(produce_to(leader, value_batch(300, 1000), acks_mode::all));
  CHECK(fs.log->log_start_offset() == start);
  CHECK(fs.log->segments().front().base_offset <= start);
  CHECK(fs.log->read(start - 1, 100).error().code() == errc::offset_out_of_range);
  CHECK(path_exists(fs.log->dir() + "/log-start-offset"));
  CHECK(fs.open_error.is_ok());
}

// ---------------------------------------------------------------------------
// Broker liveness: the heartbeat loop survives a slow registration.

TEST_CASE("a broker whose first tick comes before its registration answer still heartbeats",
          "[broker]") {
  // The tick loop must outlive a registration still on its way (a tick that
  // re-registered used to end it; seen as controller_snapshot_test failing
  // under load). Here the first tick reaches the broker before the answer
  // to its registration: it used to register again and stop ticking.
  test_config cfg;
  caf::actor_system sys{cfg};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  auto dir = (std::filesystem::temp_directory_path() /
              ("al-broker-liveness-" + std::to_string(::getpid())))
               .string();
  std::filesystem::remove_all(dir);
  controller_setup cs;
  cs.node_id = 1;
  cs.data_dir = dir;
  cs.cluster_id = "test-cluster";
  cs.defaults = topic_defaults{1, 1};
  auto controller = sys.spawn(controller_actor, cs);
  sched.run();
  broker_setup bs;
  bs.node_id = 1;
  bs.host = "127.0.0.1";
  bs.port = 9999;
  bs.data_dir = dir;
  bs.controller = controller;
  bs.io_threads = 0;
  bs.incarnation = 1;
  bs.heartbeat_interval_ms = 100;
  auto broker = sys.spawn(broker_actor, bs);
  sched.run_once(); // the broker starts: registration sent, first tick armed
  // The tick is due before the controller answered (the 10 s request
  // timeout is not: both registrations succeed).
  sched.advance_time(std::chrono::milliseconds(100));
  sched.run();
  auto& ctl = dynamic_cast<controller_api::stateful_base<controller_state>&>(
                *caf::actor_cast<caf::abstract_actor*>(controller))
                .state;
  auto& brk = dynamic_cast<broker_api::stateful_base<broker_state>&>(
                *caf::actor_cast<caf::abstract_actor*>(broker))
                .state;
  CHECK(brk.registered);
  // Counted at the broker: the controller's session check fills in a
  // missing heartbeat time by itself, so its table would not tell.
  auto before = brk.heartbeats_sent;
  for (int i = 0; i < 3; ++i) {
    sched.advance_time(std::chrono::milliseconds(100));
    sched.run();
  }
  CHECK(brk.heartbeats_sent >= before + 3);
  CHECK(ctl.active.last_heartbeat(1).has_value());
  caf::anon_send_exit(broker, caf::exit_reason::kill);
  caf::anon_send_exit(controller, caf::exit_reason::kill);
  sched.run();
  std::filesystem::remove_all(dir);
}

// ---------------------------------------------------------------------------
// Blocking file work on the I/O worker (issue 15, item 1). The worker is an
// event-based actor here, so the deterministic scheduler runs it.

namespace {

bytes keyed_batch(const std::string& key, size_t value_size, int64_t ts = 1000) {
  batch_builder b;
  std::string v(value_size, char('a' + key.size() % 26));
  b.append(ts, byte_view{std::string_view{key}}, byte_view{std::string_view{v}});
  return b.build();
}

/// A compacted single-replica partition whose blocking file work goes to an
/// event-based I/O worker, holding 30 records of 3 keys in several segments.
partition_api compacted_with_worker(partition_fixture& f) {
  auto io = f.sys.spawn(io_worker_actor);
  f.extra.push_back(io);
  auto p = f.spawn_partition("t", [&](partition_setup& ps) {
    ps.io = io;
    ps.log.segment_bytes = 1024;
    ps.log.policy.compact = true;
    ps.log.policy.delete_segments = false;
    ps.log.min_compaction_lag_ms = 0;
    ps.retention_check_interval_ms = 0;
  });
  for (int i = 0; i < 30; ++i)
    REQUIRE(f.produce_to(p, keyed_batch("k" + std::to_string(i % 3), 300), acks_mode::leader));
  return p;
}

} // namespace

TEST_CASE_METHOD(partition_fixture,
                 "compaction runs on the I/O worker, the partition commits it, deletion removes "
                 "the folder there",
                 "[broker][compaction][io]") {
  auto p = compacted_with_worker(*this);
  auto& st = state_of(p);
  REQUIRE(st.log->segment_count() > 3);
  auto size_before = st.log->size_bytes();
  // The housekeeping tick plans and hands the job over; the log is untouched
  // until the worker's answer comes back.
  caf::anon_send(p, tick_atom::value);
  sched.run_once();
  CHECK(st.compaction_running);
  CHECK(st.log->size_bytes() == size_before);
  sched.run();
  CHECK_FALSE(st.compaction_running);
  CHECK(st.log->size_bytes() < size_before);
  // Below the active segment, one record per key is left; every offset
  // above it is still there.
  auto f = ask<fetch_response>(p, fetch_atom::value, fetch_req("t", 0, 0));
  REQUIRE(f);
  auto kept = values(*f.value);
  CHECK(kept.size() < 30);
  CHECK(kept.size() >= 3);
  // A second round finds nothing more to remove.
  auto size_after = st.log->size_bytes();
  caf::anon_send(p, tick_atom::value);
  sched.run();
  CHECK(st.log->size_bytes() == size_after);
  CHECK(values(*ask<fetch_response>(p, fetch_atom::value, fetch_req("t", 0, 0)).value) == kept);
  // Deletion: the folder is renamed at once and removed by the worker.
  auto folder = st.setup.dir;
  auto parent = std::filesystem::path(folder).parent_path();
  auto del = ask<bool>(p, delete_atom::value);
  CHECK(del);
  CHECK_FALSE(std::filesystem::exists(folder));
  sched.run();
  for (const auto& e : std::filesystem::directory_iterator(parent))
    CHECK_FALSE(is_deleted_dir_name(e.path().filename().string()));
}

TEST_CASE_METHOD(partition_fixture,
                 "a new partition's leader-epoch-checkpoint is created with its log, then "
                 "rewritten in place",
                 "[broker][io][replication]") {
  auto p = spawn_with_worker("t");
  auto& st = state_of(p);
  auto path = st.setup.dir + "/" + epoch_checkpoint_name;
  auto text = [&] {
    auto data = read_whole_file(path);
    REQUIRE(data);
    return std::string(data->begin(), data->end());
  };
  auto inode = [&] {
    struct stat sb {};
    REQUIRE(::stat(path.c_str(), &sb) == 0);
    return sb.st_ino;
  };
  // Created with the log (on the I/O worker), before any record: the
  // first record does not create a file (issue 15).
  REQUIRE(std::filesystem::exists(path));
  CHECK(text() == "0\n0\n");
  auto created = inode();
  REQUIRE(produce_to(p, value_batch(10), acks_mode::leader));
  sched.run();
  CHECK(text() == "0\n1\n0 0\n");
  CHECK(inode() == created);
}

TEST_CASE_METHOD(partition_fixture,
                 "a compaction job voided by a deletion writes nothing and commits nothing",
                 "[broker][compaction][io]") {
  auto p = compacted_with_worker(*this);
  auto& st = state_of(p);
  auto parent = std::filesystem::path(st.setup.dir).parent_path();
  caf::anon_send(p, tick_atom::value);
  sched.run_once(); // the job is in the worker's mailbox
  REQUIRE(st.compaction_running);
  caf::anon_send(p, delete_atom::value); // before the worker runs it
  sched.run();
  CHECK_FALSE(alive(p));
  for (const auto& e : std::filesystem::recursive_directory_iterator(parent))
    CHECK(e.path().string().find(".cleaned") == std::string::npos);
  for (const auto& e : std::filesystem::directory_iterator(parent))
    CHECK_FALSE(is_deleted_dir_name(e.path().filename().string()));
}

TEST_CASE_METHOD(partition_fixture,
                 "a segment roll's fsyncs run on the I/O worker and then move the recovery point",
                 "[broker][io][recovery]") {
  const topic_partition tp{"t", 0};
  auto p = spawn_with_worker("t", [](partition_setup& ps) { ps.log.segment_bytes = 1024; });
  auto& st = state_of(p);
  auto table = st.setup.recovery_table;
  CHECK(table->get(tp) == 0); // a new partition: an empty log, durable up to 0
  while (st.log->segment_count() < 3)
    REQUIRE(produce_to(p, value_batch(300), acks_mode::leader));
  auto active_base = st.log->segments().back().base_offset;
  CHECK(st.log->flushed_offset() == active_base);
  CHECK(table->get(tp) == active_base);
  // The next roll: the partition answers the produce with the job at the
  // worker, and the recovery point stays below the closed segment until
  // the worker's answer.
  while (st.log->segments().back().base_offset == active_base) {
    produce_request req;
    req.topic = "t";
    req.acks = acks_mode::leader;
    req.batch = value_batch(300);
    self->send(p, produce_atom::value, req);
    sched.run_once();
  }
  auto new_base = st.log->segments().back().base_offset;
  CHECK(st.log->flushed_offset() <= active_base);
  CHECK(table->get(tp) <= active_base);
  sched.run(); // the worker fsyncs and answers
  CHECK(st.log->flushed_offset() == new_base);
  CHECK(table->get(tp) == new_base);
  // A flush request makes everything durable, and the table with it.
  CHECK(ask<bool>(p, flush_atom::value));
  CHECK(table->get(tp) == st.log->log_end_offset());
}

TEST_CASE_METHOD(partition_fixture,
                 "a follower's parked fetch is answered when the HW moves, records or not",
                 "[broker][replication][timers]") {
  // Followers wait up to 5 s at the leader when nothing is new (the idle
  // cost per partition); they must still learn a new HW at once.
  auto p = spawn_partition("t", [](partition_setup& ps) {
    ps.state.replicas = {1, 2, 3};
    ps.state.isr = {1, 2, 3};
  });
  auto& st = state_of(p);
  auto follower = [](int32_t id, int64_t offset) {
    auto req = fetch_req("t", 0, offset, 5000);
    req.replica_id = id;
    req.current_leader_epoch = 0;
    req.replica_epoch = id;
    return req;
  };
  REQUIRE(produce_to(p, value_batch(10), acks_mode::leader));
  // Both followers fetch the record, so both are at the LEO; the HW moves
  // to 1 with the second fetch.
  REQUIRE(ask<fetch_response>(p, fetch_atom::value, follower(2, 0)));
  REQUIRE(ask<fetch_response>(p, fetch_atom::value, follower(3, 0)));
  // 2 comes back at the LEO: nothing new, it parks (HW 0 or 1 as it saw).
  auto parked = fetch_from(p, follower(2, 1));
  auto hw_before = st.high_watermark;
  REQUIRE(st.parked.size() == 1);
  REQUIRE(produce_to(p, value_batch(10), acks_mode::leader)); // wakes it: records
  reply<fetch_response> first;
  collect(parked, first);
  REQUIRE(first);
  CHECK(st.parked.empty());
  // 2 comes back at the new LEO and parks; 3 then reaches the LEO too,
  // which moves the HW to 2: 2's parked fetch is answered with it at once,
  // without records (3's own fetch parks).
  auto parked_again = fetch_from(p, follower(2, 2));
  REQUIRE(st.parked.size() == 1);
  CHECK(st.high_watermark == hw_before);
  auto third = fetch_from(p, follower(3, 2));
  CHECK(st.high_watermark == 2);
  reply<fetch_response> second;
  collect(parked_again, second);
  REQUIRE(second);
  CHECK(second.value->high_watermark == 2);
  CHECK(second.value->records.empty());
  CHECK(st.parked.size() == 1); // 3's, parked at HW 2: nothing to tell it
  (void)third;
}

TEST_CASE_METHOD(partition_fixture,
                 "retention renames segments at once and the I/O worker deletes their files",
                 "[broker][retention][io]") {
  auto p = spawn_with_worker("t", [](partition_setup& ps) {
    ps.log.segment_bytes = 1024;
    ps.log.retention_bytes = 1;
    ps.retention_check_interval_ms = 0;
  });
  auto& st = state_of(p);
  for (int i = 0; i < 12; ++i)
    REQUIRE(produce_to(p, value_batch(300), acks_mode::leader));
  REQUIRE(st.log->segment_count() > 3);
  auto files_named = [&](const std::string& tail) {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(st.setup.dir)) {
      auto name = e.path().filename().string();
      n += name.size() > tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    }
    return n;
  };
  caf::anon_send(p, tick_atom::value);
  sched.run_once(); // the partition applies retention: renamed, handed over
  CHECK(st.log->segment_count() == 1);
  CHECK(st.log->log_start_offset() > 0);
  CHECK(files_named(".deleted") > 0);
  sched.run(); // the worker deletes them
  CHECK(files_named(".deleted") == 0);
  CHECK(files_named(".log") == 1);
}

TEST_CASE_METHOD(partition_fixture,
                 "flush.messages: the answer waits for the fsync on the I/O worker, and "
                 "writes made meanwhile share the next",
                 "[broker][io][flush]") {
  auto p = spawn_with_worker("t", [](partition_setup& ps) { ps.log.flush_messages = 1; });
  auto& st = state_of(p);
  auto send_one = [&] {
    produce_request req;
    req.topic = "t";
    req.acks = acks_mode::leader;
    req.batch = value_batch(100);
    return self->request(p, caf::infinite, produce_atom::value, std::move(req));
  };
  // Three writes handled by the partition while the worker has not run:
  // each is in the log, none is answered, one fsync job is out.
  std::vector<decltype(send_one())> handles;
  for (int i = 0; i < 3; ++i)
    handles.push_back(send_one());
  for (int i = 0; i < 3; ++i) { // the partition takes all three; the worker has not run
    REQUIRE(sched.prioritize(p));
    sched.run_once();
  }
  CHECK(st.log->log_end_offset() == 3);
  CHECK(st.log->flushed_offset() == 0);
  CHECK(st.durable_waits.size() == 3);
  sched.run(); // the worker fsyncs (twice: the first job, then one for the other two)
  CHECK(st.durable_waits.empty());
  CHECK(st.log->flushed_offset() == 3);
  for (size_t i = 0; i < handles.size(); ++i) {
    reply<produce_response> r;
    collect(handles[i], r);
    REQUIRE(r);
    CHECK(r.value->base_offset == int64_t(i));
  }
  SECTION("a failed log fails the writes still waiting") {
    auto h = send_one();
    sched.run_once(); // appended, its fsync job queued at the worker
    REQUIRE(st.durable_waits.size() == 1);
    mark_write_failed(st, status{errc::kafka_storage_error, "test: disk gone"});
    CHECK(st.durable_waits.empty());
    sched.run();
    reply<produce_response> r;
    collect(h, r);
    CHECK(r.code() == errc::kafka_storage_error);
    // The fsync job that was out succeeds after the failure, but after a
    // failed write or fsync Linux may have dropped dirty pages and a later
    // fsync still reports success ("fsyncgate"): the log is not taken at
    // its word, the flushed offset (and the recovery point a restart trusts
    // without scanning) stays where it was.
    CHECK(st.log->flushed_offset() == 3);
  }
}

TEST_CASE_METHOD(partition_fixture,
                 "flush.messages with acks=all: an answer the ISR confirms after the log failed "
                 "gets the storage error at once",
                 "[broker][io][flush]") {
  auto p = spawn_with_worker("t", [](partition_setup& ps) {
    ps.log.flush_messages = 1;
    ps.state.replicas = {1, 2, 3};
    ps.state.isr = {1, 2, 3};
  });
  auto& st = state_of(p);
  produce_request req;
  req.topic = "t";
  req.acks = acks_mode::all;
  req.batch = value_batch(100);
  auto h = self->request(p, caf::infinite, produce_atom::value, std::move(req));
  sched.run(); // appended and fsynced; waits for the followers
  REQUIRE(st.waiting.size() == 1);
  // A later fsync fails (the worker's job above is done, so the wait
  // carries the offset of a batch not flushed yet: set it past the flush).
  st.waiting.begin()->second.durable_upto = st.log->log_end_offset() + 1;
  mark_write_failed(st, status{errc::kafka_storage_error, "test: disk gone"});
  auto follower = [](int32_t id) {
    auto r = fetch_req("t", 0, 1, 0);
    r.replica_id = id;
    r.current_leader_epoch = 0;
    r.replica_epoch = id;
    return r;
  };
  (void)fetch_from(p, follower(2)); // both followers at the log end: the HW moves,
  (void)fetch_from(p, follower(3)); // and the ISR confirms the write
  REQUIRE(st.waiting.empty());
  REQUIRE(st.durable_waits.empty()); // not parked for an fsync that will never come
  reply<produce_response> r;
  collect(h, r);
  CHECK(r.answered);
  CHECK(r.code() == errc::kafka_storage_error);
}

// ---------------------------------------------------------------------------
// Fetch sessions between nodes (issue 15, broker_fetch_sessions.cpp;
// replica.fetch.sessions, off by default).

namespace {

struct session_fixture : node_fixture {
  session_fixture() : node_fixture(1, true) {}
};

} // namespace

TEST_CASE_METHOD(session_fixture,
                 "follower fetches queued together leave in one set and come back in one",
                 "[broker][replication][sessions]") {
  // This node's broker is its own peer (peer_broker gives itself for its
  // own id), so the whole round trip runs here: three fetches queue, leave
  // in one set, each goes to its partition (or fails to route), and the
  // answers come back to the waiting requests. No partition
  // here has a follower, so each partition refuses the fetch as Kafka's
  // leader does (NOT_LEADER_OR_FOLLOWER): the error travels back with its
  // message.
  REQUIRE(create_topic("orders", 2));
  auto follower_fetch = [](int32_t partition) {
    auto f = fetch_req("orders", partition, 0, 0);
    f.replica_id = 1;
    f.current_leader_epoch = 0;
    return f;
  };
  auto f0 = self->request(broker, caf::infinite, peer_atom::value, int32_t{1}, follower_fetch(0));
  auto f1 = self->request(broker, caf::infinite, peer_atom::value, int32_t{1}, follower_fetch(1));
  auto f9 = self->request(broker, caf::infinite, peer_atom::value, int32_t{1}, follower_fetch(9));
  sched.run();
  auto* st = &dynamic_cast<broker_api::stateful_base<broker_state>&>(
                *caf::actor_cast<caf::abstract_actor*>(broker))
                .state;
  CHECK(st->sessions.sets_sent == 1);
  CHECK(st->sessions.fetches_sent == 3);
  // The routing error is ready at once and leaves first; the partitions'
  // two answers come back together.
  CHECK(st->sessions.answer_sets_sent == 2);
  CHECK(st->sessions.answers_sent == 3);
  CHECK(st->sessions.machine.empty());
  CHECK(st->sessions.waits.empty());
  reply<fetch_response> r0, r1, r9;
  collect(f0, r0);
  collect(f1, r1);
  collect(f9, r9);
  CHECK(r0.code() == errc::not_leader_or_follower);
  CHECK(r1.code() == errc::not_leader_or_follower);
  CHECK(describe_error(r1.error).find("follower fetch from node 1") != std::string::npos);
  CHECK(r9.code() == errc::unknown_topic_or_partition);
}

TEST_CASE_METHOD(session_fixture,
                 "a set's fetches for another replica, answers from a stranger, a newer fetch",
                 "[broker][replication][sessions]") {
  REQUIRE(create_topic("orders", 1));
  auto* st = &dynamic_cast<broker_api::stateful_base<broker_state>&>(
                *caf::actor_cast<caf::abstract_actor*>(broker))
                .state;
  SECTION("a set from node 2 carrying node 3's fetch is refused fetch by fetch") {
    auto f = fetch_req("orders", 0, 0, 0);
    f.replica_id = 3;
    self->send(broker, fetch_atom::value, fetch_set_request{2, {f}});
    sched.run();
    fetch_set_response resp;
    self->receive([&](fetch_atom, fetch_set_response& r) { resp = std::move(r); });
    CHECK(resp.leader_id == 1);
    REQUIRE(resp.answers.size() == 1);
    CHECK(resp.answers[0].error == errc::invalid_request);
    CHECK(resp.answers[0].topic == "orders");
    CHECK(resp.answers[0].fetch_offset == 0);
  }
  SECTION("answers claiming this node but from another actor change nothing") {
    auto f = fetch_req("orders", 0, 0, 0);
    f.replica_id = 1;
    auto rh = self->request(broker, caf::infinite, peer_atom::value, int32_t{1}, f);
    // Hold the flush: the fetch waits, queued.
    while (sched.prioritize(broker) && st->sessions.waits.empty())
      sched.run_once();
    REQUIRE(st->sessions.waits.size() == 1);
    fetch_set_response forged{1, {}};
    fetch_set_answer a;
    a.topic = "orders";
    a.fetch_offset = 0;
    a.current_leader_epoch = 0;
    a.response.high_watermark = 999;
    forged.answers.push_back(a);
    self->send(broker, fetch_atom::value, forged);
    sched.run();
    reply<fetch_response> out;
    collect(rh, out);
    CHECK(out.code() == errc::not_leader_or_follower); // the real answer, not the forged one
  }
  SECTION("a newer fetch of the same partition replaces the waiting one") {
    auto f = fetch_req("orders", 0, 0, 0);
    f.replica_id = 1;
    // Both arrive before the broker sends: only the newer one leaves.
    auto old = self->request(broker, caf::infinite, peer_atom::value, int32_t{1}, f);
    auto newer = self->request(broker, caf::infinite, peer_atom::value, int32_t{1}, f);
    sched.run();
    CHECK(st->sessions.fetches_sent == 1);
    reply<fetch_response> o, n;
    collect(old, o);
    collect(newer, n);
    CHECK(o.code() == errc::network_exception);
    CHECK(describe_error(o.error).find("newer fetch") != std::string::npos);
    CHECK(n.code() == errc::not_leader_or_follower);
  }
}

TEST_CASE_METHOD(node_fixture,
                 "metadata deltas: the broker follows them, and one that does not fit its image "
                 "makes it take the controller's whole image",
                 "[broker][metadata]") {
  REQUIRE(create_topic("orders", 1));
  REQUIRE(produce("orders", 0, batch_of({{"k", "v1"}})));
  // A delta naming a partition of a topic the broker's image lacks, far
  // ahead of the metadata log: it cannot be merged.
  metadata_delta bogus;
  bogus.full = false;
  partition_description p;
  p.partition = 0;
  p.leader = 1;
  p.replicas = {1};
  p.isr = {1};
  bogus.partitions["nosuch"].push_back(p);
  bogus.last_offset = 1000000;
  self->send(broker, metadata_update_atom::value, bogus);
  sched.run();
  // The broker took the controller's whole image instead (its offset, not
  // the bogus one): the deltas after it apply, so a new topic is hosted.
  REQUIRE(create_topic("fills", 1));
  CHECK(produce("fills", 0, batch_of({{"k", "v"}})));
  CHECK(produce("orders", 0, batch_of({{"k", "v2"}})));
  CHECK(produce("nosuch", 0, batch_of({{"k", "v"}})).code() == errc::unknown_topic_or_partition);
}
