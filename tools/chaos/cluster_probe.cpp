#include "tools/chaos/cluster_probe.hpp"

#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/errors.hpp"

namespace chaos {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

std::optional<admin_api> cluster_probe::connect(int32_t id) {
  if (auto i = conns_.find(id); i != conns_.end())
    return i->second;
  const auto& n = procs_.node(id);
  if (n.state != node_state::running) {
    last_error_ = "node " + std::to_string(id) + " is " + to_string(n.state);
    return std::nullopt;
  }
  auto h = sys_.middleman().remote_actor<admin_api>("127.0.0.1", n.port);
  if (!h) {
    last_error_ = "connect to node " + std::to_string(id) + ": " + sys_.render(h.error());
    return std::nullopt;
  }
  conns_.emplace(id, *h);
  return *h;
}

template <class Response, class... Ts>
std::optional<Response> cluster_probe::ask(int32_t id, std::chrono::milliseconds timeout,
                                           Ts&&... xs) {
  auto h = connect(id);
  if (!h)
    return std::nullopt;
  std::optional<Response> out;
  caf::scoped_actor self{sys_};
  self->request(*h, timeout, std::forward<Ts>(xs)...)
    .receive([&](Response& r) { out = std::move(r); },
             [&](caf::error& err) {
               last_error_ = "node " + std::to_string(id) + ": " + al::describe_error(err);
               auto code = al::error_code_of(err);
               if (code == al::errc::request_timed_out || code == al::errc::network_exception)
                 forget(id);
             });
  return out;
}

bool cluster_probe::answers(int32_t id, std::chrono::milliseconds timeout) {
  return describe(id, timeout).has_value();
}

std::optional<al::cluster_description> cluster_probe::describe(int32_t id,
                                                               std::chrono::milliseconds timeout) {
  return ask<al::cluster_description>(id, timeout, al::describe_cluster_atom::value);
}

int32_t cluster_probe::controller_id(int32_t not_from) {
  for (auto& n : procs_.nodes()) {
    if (n.id == not_from || n.state != node_state::running)
      continue;
    if (auto d = describe(n.id, 1000ms); d && d->controller_id >= 0)
      return d->controller_id;
  }
  return -1;
}

namespace {

bool worth_retrying(al::errc code) {
  return al::is_retriable(code) || code == al::errc::not_controller ||
         code == al::errc::network_exception || code == al::errc::request_timed_out;
}

} // namespace

std::string cluster_probe::create_topic(const al::create_topic_request& req,
                                        std::chrono::seconds bound) {
  auto deadline = clock_type::now() + bound;
  bool created = false;
  while (!created && clock_type::now() < deadline) {
    for (auto& n : procs_.nodes()) {
      auto h = connect(n.id);
      if (!h)
        continue;
      caf::scoped_actor self{sys_};
      al::errc code = al::errc::none;
      self->request(*h, 10s, al::create_topic_atom::value, req)
        .receive([&](const al::topic_description&) { created = true; },
                 [&](caf::error& err) {
                   code = al::error_code_of(err);
                   last_error_ = al::describe_error(err);
                 });
      if (created || code == al::errc::topic_already_exists) {
        created = true;
        break;
      }
      if (!worth_retrying(code))
        return "create topic " + req.name + ": " + last_error_;
      forget(n.id);
    }
    if (!created)
      std::this_thread::sleep_for(300ms);
  }
  if (!created)
    return "create topic " + req.name + ": " + last_error_;
  // Metadata reaches each broker asynchronously: wait for every leader.
  while (clock_type::now() < deadline) {
    bool all_led = true;
    for (auto& n : procs_.nodes()) {
      auto t = ask<std::vector<al::topic_description>>(n.id, 5s, al::describe_topics_atom::value,
                                                       std::vector<std::string>{req.name});
      bool led = t && t->size() == 1 &&
                 int32_t(t->front().partitions.size()) == req.partitions;
      for (size_t i = 0; led && i < t->front().partitions.size(); ++i)
        led = t->front().partitions[i].leader >= 0;
      all_led = all_led && led;
    }
    if (all_led)
      return {};
    std::this_thread::sleep_for(200ms);
  }
  return "topic " + req.name + ": not every partition got a leader on every node within " +
         std::to_string(bound.count()) + " s";
}

std::optional<al::topic_description> cluster_probe::topic(const std::string& name,
                                                          int32_t prefer) {
  std::vector<int32_t> order;
  if (prefer > 0)
    order.push_back(prefer);
  for (auto& n : procs_.nodes())
    if (n.id != prefer)
      order.push_back(n.id);
  for (auto id : order) {
    auto t = ask<std::vector<al::topic_description>>(id, 2s, al::describe_topics_atom::value,
                                                     std::vector<std::string>{name});
    if (t && t->size() == 1)
      return t->front();
  }
  return std::nullopt;
}

std::optional<al::partition_description> cluster_probe::replica_stats(int32_t id,
                                                                      const al::topic_partition& tp) {
  return ask<al::partition_description>(id, 2s, al::stats_atom::value, tp);
}

} // namespace chaos
