// Producer and consumer clients against a real node (threads, loopback TCP).
#include <catch2/catch.hpp>

#include <atomic>
#include <map>

#include "actors/client/consumer_client.hpp"
#include "actors/client/partitioner.hpp"
#include "actors/client/producer_client.hpp"
#include "live_node.hpp"
#include "offsets_check.hpp"

using namespace al;
using namespace al::test;

namespace {

/// Polls until `n` records arrived or 20 s passed.
std::vector<consumer_record> poll_n(consumer& c, size_t n) {
  std::vector<consumer_record> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (out.size() < n && std::chrono::steady_clock::now() < deadline)
    for (auto& r : c.poll(std::chrono::milliseconds(200)))
      out.push_back(std::move(r));
  return out;
}

} // namespace

TEST_CASE("producer over loopback: keyed records land by murmur2, offsets dense", "[client]") {
  live_node node;
  node.create_topic("orders", 3);
  auto p = producer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()},
                                              {"linger.ms", "2"}});
  REQUIRE(p);
  CHECK((*p)->producer_id() >= 0);
  std::mutex mtx;
  std::map<int32_t, std::vector<int64_t>> offsets;
  std::atomic<int> failures{0};
  const int n = 3000;
  const char* symbols[] = {"AAPL", "TCS", "INFY", "MSFT", "NVDA"};
  for (int i = 0; i < n; ++i) {
    std::string key = symbols[i % 5];
    auto expected = partition_for_key(byte_view{std::string_view{key}}, 3);
    auto st = (*p)->send({"orders", -1, key, "order-" + std::to_string(i)},
                         [&, expected](const record_metadata& md, const status& s) {
                           std::lock_guard<std::mutex> g{mtx};
                           if (!s || md.partition != expected)
                             ++failures;
                           offsets[md.partition].push_back(md.offset);
                         });
    REQUIRE(st);
  }
  REQUIRE((*p)->flush());
  CHECK(failures == 0);
  check_dense_offsets(offsets, size_t(n));
}

TEST_CASE("consumer reads back everything in per-partition order", "[client]") {
  live_node node;
  node.create_topic("orders", 2);
  auto p = producer::create(node.n->system(), {{"linger.ms", "0"}}, node.n->broker());
  REQUIRE(p);
  for (int i = 0; i < 500; ++i)
    REQUIRE((*p)->send({"orders", i % 2, std::nullopt, std::to_string(i)}));
  REQUIRE((*p)->flush());
  auto c = consumer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()},
                                              {"auto.offset.reset", "earliest"},
                                              {"max.poll.records", "100"}});
  REQUIRE(c);
  REQUIRE((*c)->assign({{"orders", 0}, {"orders", 1}}));
  auto recs = poll_n(**c, 500);
  REQUIRE(recs.size() == 500);
  std::map<int32_t, int64_t> next;
  for (auto& r : recs) {
    CHECK(r.offset == next[r.partition]++);
    CHECK(std::stoi(*r.value) % 2 == r.partition);
  }
  // Seek back and re-read a partition from an offset (replay).
  (*c)->seek({"orders", 1}, 200);
  auto again = poll_n(**c, 50);
  REQUIRE(!again.empty());
  CHECK(again.front().partition == 1);
  CHECK(again.front().offset == 200);
}

TEST_CASE("a consumer at the end waits for new records (long poll)", "[client]") {
  live_node node;
  node.create_topic("orders", 1);
  auto c = consumer::create(node.n->system(), {{"auto.offset.reset", "latest"}}, node.n->broker());
  REQUIRE(c);
  REQUIRE((*c)->assign({{"orders", 0}}));
  REQUIRE((*c)->position({"orders", 0}));
  CHECK((*c)->poll(std::chrono::milliseconds(100)).empty());
  auto p = producer::create(node.n->system(), {}, node.n->broker());
  REQUIRE(p);
  auto md = (*p)->send_sync({"orders", -1, std::string{"AAPL"}, std::string{"late"}});
  REQUIRE(md);
  auto recs = poll_n(**c, 1);
  REQUIRE(recs.size() == 1);
  CHECK(*recs[0].value == "late");
}

TEST_CASE("client errors are clear", "[client]") {
  live_node node;
  auto bad = producer::create(node.n->system(), {{"acks", "2"}}, node.n->broker());
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("acks") != std::string::npos);
  auto unknown_key = consumer::create(node.n->system(), {{"group.idd", "x"}}, node.n->broker());
  REQUIRE_FALSE(unknown_key);
  CHECK(unknown_key.error().message().find("group.idd") != std::string::npos);
  // An unknown topic is looked for until max.block.ms (Kafka's waitOnMetadata).
  auto p = producer::create(node.n->system(), {{"max.block.ms", "300"}}, node.n->broker());
  REQUIRE(p);
  auto before = std::chrono::steady_clock::now();
  auto st = (*p)->send({"no-such-topic", -1, std::nullopt, std::string{"x"}});
  CHECK(st.code() == errc::unknown_topic_or_partition);
  CHECK(st.message().find("max.block.ms") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - before >= std::chrono::milliseconds(300));
  node.create_topic("t", 2);
  CHECK((*p)->send({"t", 5, std::nullopt, std::string{"x"}}).code() ==
        errc::unknown_topic_or_partition);
  auto nowhere = producer::create(node.client_sys, {{"bootstrap.servers", "127.0.0.1:1"},
                                                    {"request.timeout.ms", "2000"}});
  CHECK_FALSE(nowhere);
}

TEST_CASE("acks=0: fire-and-forget records land and the broker stays up", "[client]") {
  live_node node;
  node.create_topic("fire", 1);
  for (auto* where : {"in-process", "loopback"}) {
    INFO(where);
    auto p = std::string(where) == "in-process"
               ? producer::create(node.n->system(), {{"acks", "0"}, {"enable.idempotence", "false"}},
                                  node.n->broker())
               : producer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()},
                                                    {"acks", "0"},
                                                    {"enable.idempotence", "false"}});
    REQUIRE(p);
    for (int i = 0; i < 2000; ++i)
      REQUIRE((*p)->send({"fire", 0, std::nullopt, std::to_string(i), {}, -1}));
    REQUIRE((*p)->flush());
  }
  // With acks=0 a flush means "sent", not "appended": wait until both
  // producers' records are in the log before the acknowledged one.
  REQUIRE(node.wait_log_end({"fire", 0}, 4000));
  CHECK(node.log_end_offset({"fire", 0}) == 4000);
  // The partition (and so the broker) survived the unsolicited replies.
  auto acked = producer::create(node.n->system(), {}, node.n->broker());
  REQUIRE(acked);
  auto md = (*acked)->send_sync({"fire", 0, std::nullopt, std::string{"last"}, {}, -1});
  REQUIRE(md);
  CHECK(md->offset == 4000);
}

TEST_CASE("heartbeats go on while every scheduler thread is busy: the node is not fenced",
          "[node][heartbeat]") {
  // The broker's heartbeats come from a thread of their own: with both
  // scheduler threads blocked for 4 s (far past the 1.5 s session), the
  // controller still hears the broker, fences nothing, and commits no
  // metadata command (a fence and the unfence after it would be two).
  live_node node{[](config::node_config& c) {
    c.num_scheduler_threads = 2;
    c.broker_heartbeat_interval_ms = 200;
    c.broker_session_timeout_ms = 1500;
  }};
  node.create_topic("hb", 1);
  caf::scoped_actor self{node.n->system()};
  auto metadata_offset = [&] {
    int64_t offset = -1;
    self->request(caf::actor_cast<broker_api>(node.n->broker()), std::chrono::seconds(10),
                  describe_cluster_atom::value)
      .receive([&](const cluster_description& d) { offset = d.metadata_offset; },
               [&](caf::error&) {});
    return offset;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(500)); // registration settled
  auto before = metadata_offset();
  REQUIRE(before >= 0);
  std::vector<caf::actor> blockers;
  for (int i = 0; i < 2; ++i) {
    blockers.push_back(node.n->system().spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }};
    }));
  }
  for (auto& b : blockers)
    caf::anon_send(b, 4000);
  std::this_thread::sleep_for(std::chrono::milliseconds(4500));
  CHECK(metadata_offset() == before);
  for (auto& b : blockers)
    caf::anon_send_exit(b, caf::exit_reason::kill);
}
