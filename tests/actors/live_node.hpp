#pragma once
// A real single node (threads, middleman on an ephemeral loopback port) for
// client tests, plus a client-side actor system.
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_api.hpp"
#include "actors/protocol/actor_config.hpp"
#include "actors/protocol/errors.hpp"
#include "runtime/node/node.hpp"

namespace al::test {

struct client_config : actor_config {
  client_config() {
    load<caf::io::middleman>();
    set("scheduler.max-threads", 2);
  }
};

struct live_node {
  std::string dir;
  std::unique_ptr<node> n;
  client_config ccfg;
  caf::actor_system client_sys{ccfg};

  /// `tweak` may change the node's config before it starts (e.g. metrics.port).
  config::node_config cfg; // what the node was started with

  explicit live_node(const std::function<void(config::node_config&)>& tweak = {}) {
    spdlog::set_level(spdlog::level::warn);
    static int counter = 0;
    dir = (std::filesystem::temp_directory_path() /
           ("al-live-" + std::to_string(::getpid()) + "-" + std::to_string(counter++)))
            .string();
    std::filesystem::remove_all(dir);
    cfg.node_id = 1;
    cfg.data_dir = dir;
    cfg.caf_listener = {"127.0.0.1", 0};
    cfg.kafka_listener = {"127.0.0.1", 0};
    cfg.peer_listener = {"127.0.0.1", 0};
    cfg.quorum_voters = {{1, "127.0.0.1", 0}};
    cfg.broker_heartbeat_interval_ms = 200;
    if (tweak)
      tweak(cfg);
    auto started = node::start(cfg);
    REQUIRE(started);
    n = std::move(*started);
  }
  /// A clean stop and a start on the same data (the ports change).
  void restart() {
    n->stop();
    n.reset();
    auto started = node::start(cfg);
    REQUIRE(started);
    n = std::move(*started);
  }

  ~live_node() {
    n->stop();
    std::filesystem::remove_all(dir);
  }

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(n->port()); }

  /// The log end offset of a partition hosted here (-1 if it cannot be read).
  int64_t log_end_offset(const topic_partition& tp) {
    caf::scoped_actor self{n->system()};
    int64_t leo = -1;
    self->request(caf::actor_cast<broker_api>(n->broker()), std::chrono::seconds(10),
                  stats_atom::value, tp)
      .receive([&](const partition_description& d) { leo = d.log_end_offset; },
               [&](caf::error&) {});
    return leo;
  }

  /// Polls (bounded by `limit`) until the log end of `tp` reaches `target`.
  bool wait_log_end(const topic_partition& tp, int64_t target,
                    std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (log_end_offset(tp) >= target)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void create_topic(const std::string& name, int32_t partitions, config_map configs = {}) {
    caf::scoped_actor self{n->system()};
    create_topic_request req{name, partitions, 1, std::move(configs)};
    bool ok = false;
    std::string err_text;
    self->request(caf::actor_cast<broker_api>(n->broker()), std::chrono::seconds(10),
                  create_topic_atom::value, req)
      .receive([&](const topic_description&) { ok = true; },
               [&](caf::error& err) { err_text = describe_error(err); });
    INFO(err_text);
    REQUIRE(ok);
  }
};

} // namespace al::test
