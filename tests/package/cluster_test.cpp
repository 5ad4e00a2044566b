// A Catch2 test against an actorlog cluster started in one call
// (al::embedded_cluster), as a user's project writes it. Built outside
// actorlog's tree against an installed actorlog by package_test.sh.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <actorlog/client.hpp>
#include <actorlog/embedded_cluster.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

const std::vector<al::topic_partition> orders = {{"orders", 0}, {"orders", 1}, {"orders", 2}};

/// The group's committed offsets, summed over the partitions of `orders`
/// (retried while the group coordinator moves).
int64_t committed_total(al::consumer& c) {
  for (auto deadline = std::chrono::steady_clock::now() + 30s;;) {
    auto offsets = c.committed(orders);
    if (offsets || std::chrono::steady_clock::now() > deadline) {
      REQUIRE(offsets);
      int64_t total = 0;
      for (auto& [tp, committed] : *offsets)
        total += committed.offset;
      return total;
    }
    std::this_thread::sleep_for(200ms);
  }
}

} // namespace

TEST_CASE("a 3-node cluster: produce, consume in a group, commit, restart a node") {
  auto cluster = al::embedded_cluster::start(); // 3 nodes, free ports, data in a temp dir
  if (!cluster)
    FAIL(cluster.error().to_string());
  auto& c = **cluster;
  REQUIRE(c.create_topic("orders", 3).is_ok()); // replication factor 3

  al::actor_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};

  auto producer = al::producer::create(sys, {{"bootstrap.servers", c.bootstrap()}});
  REQUIRE(producer);
  std::atomic<int> acked{0};
  for (int i = 0; i < 100; ++i)
    REQUIRE((*producer)
              ->send({"orders", -1, "key-" + std::to_string(i % 10), "order " + std::to_string(i)},
                     [&](const al::record_metadata&, const al::status& st) { acked += st ? 1 : 0; })
              .is_ok());
  REQUIRE((*producer)->flush().is_ok());
  REQUIRE(acked == 100);

  al::properties group = {{"bootstrap.servers", c.bootstrap()},
                          {"group.id", "billing"},
                          {"auto.offset.reset", "earliest"},
                          {"enable.auto.commit", "false"}};
  auto consumer = al::consumer::create(sys, group);
  REQUIRE(consumer);
  REQUIRE((*consumer)->subscribe({"orders"}).is_ok());
  size_t read = 0;
  for (auto deadline = std::chrono::steady_clock::now() + 60s;
       read < 100 && std::chrono::steady_clock::now() < deadline;)
    read += (*consumer)->poll(500ms).size();
  REQUIRE(read == 100);
  REQUIRE((*consumer)->commit_sync().is_ok());
  (*consumer)->close();

  // A crash and a restart: the committed offsets survive.
  c.kill(2);
  REQUIRE(c.restart(2).is_ok());
  auto again = al::consumer::create(sys, group);
  REQUIRE(again);
  CHECK(committed_total(**again) == 100);
  (*again)->close();

  // The README's example against the same cluster.
  std::string example = std::string{README_EXAMPLE_BINARY} + " " + c.bootstrap();
  CHECK(std::system(example.c_str()) == 0);
}
