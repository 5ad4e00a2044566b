#include "runtime/cluster/cluster_probe.hpp"

#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/errors.hpp"

namespace al::cluster {

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

std::string cluster_probe::start_all(node_processes& procs, std::chrono::seconds bound) {
  std::string why;
  for (auto& n : procs.nodes())
    if (!procs.start(n.id, why))
      return "cannot start node " + std::to_string(n.id) + ": " + why;
  return wait_ready(procs, bound);
}

std::string cluster_probe::wait_ready(node_processes& procs, std::chrono::seconds bound) {
  auto deadline = clock_type::now() + bound;
  for (auto& n : procs.nodes())
    while (n.state == node_state::running && !answers(n.id, 1000ms)) {
      if (clock_type::now() > deadline || !procs.reap_unexpected().empty())
        return "node " + std::to_string(n.id) + " did not come up within " +
               std::to_string(bound.count()) + " s: " + last_error_ + " (log " +
               procs.log_path(n.id) + ": " + procs.log_tail(n.id, 300) + ")";
      std::this_thread::sleep_for(200ms);
    }
  // An active controller, and every running broker registered and unfenced
  // (else a topic with RF = node count fails with INVALID_REPLICATION_FACTOR).
  for (;;) {
    std::optional<al::cluster_description> d;
    if (controller_id() >= 0)
      for (auto& n : procs.nodes())
        if (!d && n.state == node_state::running)
          d = describe(n.id, 1000ms);
    size_t missing = 0;
    for (auto& n : procs.nodes()) {
      bool unfenced = false;
      for (auto& b : d ? d->brokers : std::vector<al::broker_description>{})
        unfenced = unfenced || (b.id == n.id && !b.fenced);
      missing += n.state == node_state::running && !unfenced ? 1 : 0;
    }
    if (d && missing == 0)
      return {};
    if (clock_type::now() > deadline)
      return "cluster not ready within " + std::to_string(bound.count()) + " s: " +
             (d ? std::to_string(missing) + " running broker(s) not registered or fenced"
                : "no active controller (" + last_error_ + ")");
    std::this_thread::sleep_for(200ms);
  }
}

bool cluster_probe::answers(int32_t id, std::chrono::milliseconds timeout) {
  return describe(id, timeout).has_value();
}

std::optional<al::cluster_description> cluster_probe::describe(int32_t id,
                                                               std::chrono::milliseconds timeout) {
  return ask<al::cluster_description>(id, timeout, al::describe_cluster_atom::value);
}

bool cluster_probe::link(int32_t id, int32_t peer, bool cut) {
  return ask<bool>(id, 5000ms, al::link_cut_atom::value, peer, cut).has_value();
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

std::string cluster_probe::delete_topic(const std::string& name) {
  for (auto& n : procs_.nodes()) {
    if (n.state != node_state::running)
      continue;
    if (ask<bool>(n.id, 10s, al::delete_topic_atom::value, name))
      return {};
  }
  return "delete topic " + name + ": " + last_error_;
}

std::optional<int64_t> cluster_probe::end_offset(const al::topic_partition& tp) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto i = leaders_.find(tp);
    if (i == leaders_.end() || i->second < 0 || attempt > 0) { // -1: none known when cached
      auto t = topic(tp.topic);
      if (!t)
        return std::nullopt;
      for (auto& p : t->partitions)
        leaders_[{tp.topic, p.partition}] = p.leader;
      i = leaders_.find(tp);
      if (i == leaders_.end() || i->second < 0) {
        last_error_ = tp.topic + "-" + std::to_string(tp.partition) + " has no leader";
        continue;
      }
    }
    auto r = ask<al::list_offsets_response>(
      i->second, 10s, al::list_offsets_atom::value,
      al::list_offsets_request{tp.topic, tp.partition, al::latest_timestamp});
    if (r)
      return r->offset;
  }
  return std::nullopt;
}

std::optional<al::partition_description> cluster_probe::replica_stats(int32_t id,
                                                                      const al::topic_partition& tp) {
  return ask<al::partition_description>(id, 2s, al::stats_atom::value, tp);
}

} // namespace al::cluster
