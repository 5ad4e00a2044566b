#include "runtime/node/metrics_server.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>

#include <sys/socket.h>

#include <caf/all.hpp>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include "actors/protocol/errors.hpp"
#include "storage/open_file_cache.hpp"

namespace al {

namespace {

using clock_type = std::chrono::steady_clock;

/// One request to the broker within what is left of the scrape's budget.
template <class T, class... Ts>
result<T> ask(caf::scoped_actor& self, const broker_api& broker, const metrics_setup& setup,
              clock_type::time_point deadline, const std::string& what, const Ts&... xs) {
  auto timed_out = [&] {
    return status{errc::request_timed_out,
                  "the broker did not answer " + what + " within the scrape budget of " +
                    std::to_string(setup.scrape_timeout.count()) + " ms"};
  };
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
  if (left.count() <= 0)
    return timed_out();
  std::optional<T> value;
  caf::error err;
  self->request(broker, left, xs...)
    .receive([&](T& x) { value = std::move(x); }, [&](caf::error& e) { err = std::move(e); });
  if (value)
    return std::move(*value);
  auto code = error_code_of(err);
  if (code == errc::request_timed_out)
    return timed_out();
  return status{code == errc::none ? errc::unknown_server_error : code,
                what + ": " + describe_error(err)};
}

} // namespace

result<metrics_snapshot> collect_metrics(caf::actor_system& sys, const broker_api& broker,
                                         const metrics_setup& setup) {
  caf::scoped_actor self{sys};
  auto deadline = clock_type::now() + setup.scrape_timeout;
  metrics_snapshot s;
  s.node_id = setup.node_id;
  s.cluster_id = setup.cluster_id;
  const auto& files = open_file_cache::process();
  s.files = {int64_t(files.open_count()), int64_t(files.capacity()), int64_t(files.evictions()),
             int64_t(files.reopens())};
  auto md = ask<metadata_response>(self, broker, setup, deadline, "metadata",
                                   metadata_atom::value, metadata_request{});
  if (!md)
    return md.error();
  s.brokers = std::move(md->brokers);
  // describe fills offsets only for the replicas this broker hosts.
  auto topics = ask<std::vector<topic_description>>(self, broker, setup, deadline,
                                                    "describe_topics", describe_topics_atom::value,
                                                    std::vector<std::string>{});
  if (!topics)
    return topics.error();
  for (const auto& t : *topics)
    for (const auto& p : t.partitions)
      if (p.log_end_offset >= 0)
        s.replicas.push_back({topic_partition{t.name, p.partition}, p.leader == setup.node_id,
                              p.log_start_offset, p.log_end_offset, p.high_watermark});
  auto groups = ask<std::vector<group_listing>>(self, broker, setup, deadline, "list_groups",
                                                list_groups_atom::value);
  if (!groups) {
    if (groups.error().code() == errc::request_timed_out)
      return groups.error();
    spdlog::debug("metrics: groups left out: {}", groups.error().to_string());
    return s;
  }
  for (const auto& g : *groups) {
    auto d = ask<group_description>(self, broker, setup, deadline,
                                    "describe_group " + g.group_id, describe_group_atom::value,
                                    g.group_id);
    if (d)
      s.groups.push_back(std::move(*d));
    else if (d.error().code() == errc::request_timed_out)
      return d.error();
    else // deleted since the listing, or its coordinator moved or is loading
      spdlog::debug("metrics: group {} left out: {}", g.group_id, d.error().to_string());
  }
  return s;
}

struct metrics_server::impl {
  metrics_setup setup;
  // Set by serve(), before the thread that reads them starts.
  caf::actor_system* sys = nullptr;
  broker_api broker;
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> thread_done{false};
  bool stopped = false;

  explicit impl(metrics_setup m) : setup(std::move(m)) {}

  void serve_metrics(httplib::Response& res) {
    try {
      if (!sys) {
        res.status = 503;
        res.set_content("metrics unavailable: the node is not running\n", "text/plain; charset=utf-8");
        return;
      }
      auto snapshot = collect_metrics(*sys, broker, setup);
      if (!snapshot) {
        res.status = 503;
        res.set_content("metrics unavailable: " + snapshot.error().to_string() + "\n",
                        "text/plain; charset=utf-8");
        return;
      }
      res.set_content(render_prometheus(*snapshot), "text/plain; version=0.0.4; charset=utf-8");
    } catch (const std::exception& e) {
      res.status = 500;
      res.set_content(std::string{"metrics failed: "} + e.what() + "\n",
                      "text/plain; charset=utf-8");
    }
  }

  /// Runs listen_after_bind() on the thread; returns once it runs.
  void run_thread() {
    thread = std::thread([this] {
      http.listen_after_bind();
      thread_done = true;
    });
    // Server::stop() is a no-op until the server runs.
    while (!http.is_running() && !thread_done)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
};

metrics_server::metrics_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

metrics_server::~metrics_server() { stop(); }

std::string metrics_server::url() const {
  return "http://" + impl_->setup.host + ":" + std::to_string(impl_->setup.port) + "/metrics";
}

result<std::unique_ptr<metrics_server>> metrics_server::bind(metrics_setup setup) {
  AL_ASSERT(setup.port != 0, setup.port);
  auto p = std::make_unique<impl>(std::move(setup));
  auto* raw = p.get();
  // Two workers: scrapes are rare, and each one waits on the broker.
  p->http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  p->http.Get("/metrics", [raw](const httplib::Request&, httplib::Response& res) {
    raw->serve_metrics(res);
  });
  p->http.Get("/", [raw](const httplib::Request&, httplib::Response& res) {
    res.set_content("actorlog node " + std::to_string(raw->setup.node_id) +
                      ": Prometheus metrics at /metrics\n",
                    "text/plain; charset=utf-8");
  });
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
  // second node on the same metrics.port would bind too and take half the scrapes.
  p->http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  const auto& where = p->setup;
  errno = 0;
  if (!p->http.bind_to_port(where.host, where.port)) {
    int e = errno;
    return status{errc::network_exception,
                  "cannot serve metrics on " + where.host + ":" + std::to_string(where.port) +
                    " (metrics.port=" + std::to_string(where.port) + "): " +
                    (e != 0 ? std::strerror(e) : "bind failed") +
                    "; choose another metrics.port, or 0 to turn the endpoint off"};
  }
  return std::unique_ptr<metrics_server>(new metrics_server(std::move(p)));
}

void metrics_server::serve(caf::actor_system& sys, broker_api broker) {
  AL_ASSERT(!impl_->thread.joinable());
  impl_->sys = &sys;
  impl_->broker = std::move(broker);
  impl_->run_thread();
}

result<std::unique_ptr<metrics_server>> metrics_server::start(caf::actor_system& sys,
                                                              broker_api broker,
                                                              metrics_setup setup) {
  auto m = bind(std::move(setup));
  if (m)
    (*m)->serve(sys, std::move(broker));
  return m;
}

void metrics_server::stop() {
  if (!impl_ || impl_->stopped)
    return;
  impl_->stopped = true;
  // Bound but never served: run it briefly, the only way httplib closes the socket.
  if (!impl_->thread.joinable())
    impl_->run_thread();
  impl_->http.stop(); // closes the listening socket; in-flight scrapes finish first
  impl_->thread.join();
}

} // namespace al
