#pragma once
// A single-node cluster (controller + broker + partition actors) under CAF's
// deterministic test coordinator: no threads, no sleeps, virtual time.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_actor.hpp"
#include "actors/controller/controller_actor.hpp"
#include "actors/partition/partition_state.hpp"
#include "actors/protocol/actor_config.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/record_batch.hpp"

namespace al::test {

struct test_config : actor_config {
  test_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.inline-output", true);
  }
};

/// What a request produced: a value or an error.
template <class T>
struct reply {
  std::optional<T> value;
  caf::error error;
  bool answered = false;
  explicit operator bool() const { return value.has_value(); }
  errc code() const { return error_code_of(error); }
};

struct node_fixture {
  test_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  caf::scheduler::test_coordinator& sched;
  std::string dir;
  controller_api controller;
  broker_api broker;

  explicit node_fixture(int32_t default_partitions = 1, bool fetch_sessions = false)
    : sys(cfg),
      self(sys, true),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    spdlog::set_level(spdlog::level::warn);
    dir = (std::filesystem::temp_directory_path() /
           ("al-actor-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++)))
            .string();
    std::filesystem::remove_all(dir);
    controller_setup cs;
    cs.node_id = 1;
    cs.data_dir = dir;
    cs.cluster_id = "test-cluster";
    cs.defaults = topic_defaults{default_partitions, 1};
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
    bs.replica_fetch_sessions = fetch_sessions;
    broker = sys.spawn(broker_actor, bs);
    sched.run();
  }

  ~node_fixture() {
    caf::anon_send_exit(broker, caf::exit_reason::kill);
    caf::anon_send_exit(controller, caf::exit_reason::kill);
    sched.run();
    std::filesystem::remove_all(dir);
  }

  static int& counter() {
    static int n = 0;
    return n;
  }

  /// Sends a request, runs every actor until idle, collects the reply (if any yet).
  template <class T, class Handle, class... Ts>
  reply<T> ask(const Handle& h, Ts&&... xs) {
    reply<T> out;
    auto rh = self->request(h, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    collect(rh, out);
    return out;
  }

  template <class Handle, class T>
  void collect(Handle& rh, reply<T>& out) {
    rh.receive(
      [&](T& x) {
        out.value = std::move(x);
        out.answered = true;
      },
      [&](caf::error& e) {
        out.error = std::move(e);
        out.answered = true;
      });
  }

  reply<topic_description> create_topic(const std::string& name, int32_t partitions,
                                        config_map configs = {}) {
    create_topic_request req;
    req.name = name;
    req.partitions = partitions;
    req.replication_factor = 1;
    req.configs = std::move(configs);
    return ask<topic_description>(broker, create_topic_atom::value, req);
  }

  static bytes batch_of(const std::vector<std::pair<std::string, std::string>>& kvs) {
    batch_builder b;
    for (auto& [k, v] : kvs)
      b.append(1700000000000, byte_view{std::string_view{k}}, byte_view{std::string_view{v}});
    return b.build();
  }

  reply<produce_response> produce(const std::string& topic, int32_t partition, bytes batch,
                                  acks_mode acks = acks_mode::all) {
    produce_request req;
    req.topic = topic;
    req.partition = partition;
    req.acks = acks;
    req.batch = std::move(batch);
    return ask<produce_response>(broker, produce_atom::value, req);
  }

  static fetch_request fetch_req(const std::string& topic, int32_t partition, int64_t offset,
                                 int32_t max_wait_ms = 0) {
    fetch_request req;
    req.topic = topic;
    req.partition = partition;
    req.offset = offset;
    req.max_wait_ms = max_wait_ms;
    return req;
  }

  /// Values of every record in a fetch response at or after `from`.
  static std::vector<std::string> values(const fetch_response& resp, int64_t from = 0) {
    std::vector<std::string> out;
    byte_view rest{resp.records};
    while (rest.size >= batch_layout::header_size) {
      auto d = decode_batch(rest);
      REQUIRE(d);
      for (auto& r : d->records)
        if (r.offset >= from)
          out.emplace_back(r.value ? std::string(r.value->as_string()) : "<null>");
      auto n = d->header.size_in_bytes();
      rest = rest.sub(n, rest.size - n);
    }
    return out;
  }
};

} // namespace al::test
