#pragma once
// A client's view of the cluster, kept inside producer and consumer actors:
// connected brokers by id, topic metadata (partitions and leaders), and the
// bootstrap brokers to ask first. Asynchronous helpers (connect, refresh)
// are templates over the owning actor, so they run inside its handlers.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>

#include "actors/broker/client_api.hpp"
#include "actors/client/client_config.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

struct cluster_view {
  std::vector<server_address> bootstrap_servers;
  std::vector<client_api> bootstrap;        // connected bootstrap brokers (or a direct handle)
  std::map<int32_t, client_api> brokers;    // connected brokers by node id
  std::map<int32_t, broker_description> known;
  std::map<std::string, topic_description> topics;
  bool refreshing = false;
  std::vector<std::function<void(const status&)>> waiting; // callers of refresh()
  std::chrono::milliseconds request_timeout{30000};

  /// Partition count of a known topic, or -1.
  int32_t partition_count(const std::string& topic) const {
    auto i = topics.find(topic);
    return i == topics.end() ? -1 : int32_t(i->second.partitions.size());
  }
  int32_t leader_of(const topic_partition& tp) const {
    auto i = topics.find(tp.topic);
    if (i == topics.end() || tp.partition < 0 ||
        tp.partition >= int32_t(i->second.partitions.size()))
      return -1;
    return i->second.partitions[size_t(tp.partition)].leader;
  }
  /// The connected leader of tp, if there is one.
  std::optional<client_api> leader_handle(const topic_partition& tp) const {
    auto b = brokers.find(leader_of(tp));
    if (b == brokers.end())
      return std::nullopt;
    return b->second;
  }
  /// Any connected broker, to ask for metadata.
  std::optional<client_api> any_broker() const {
    if (!brokers.empty())
      return brokers.begin()->second;
    if (!bootstrap.empty())
      return bootstrap.front();
    return std::nullopt;
  }
  /// Forgets a broker whose connection failed (or dropped: down_msg source).
  void forget(const caf::actor_addr& b) {
    for (auto i = brokers.begin(); i != brokers.end();)
      i = i->second.address() == b ? brokers.erase(i) : std::next(i);
    for (auto i = bootstrap.begin(); i != bootstrap.end();)
      i = i->address() == b ? bootstrap.erase(i) : std::next(i);
  }
  void forget(const client_api& b) { forget(b.address()); }
};

/// Connects to host:port through the middleman without blocking the actor;
/// `Handle` is the interface expected there (client_api on a node's
/// `caf.listener`, broker_api on its peer.listener).
template <class Handle, class Self>
void connect_actor(Self* self, const std::string& host, uint16_t port,
                   std::function<void(result<Handle>)> done) {
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, std::chrono::seconds(10), caf::connect_atom::value, host, port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>& ifs) {
        if (!ptr) {
          done(status{errc::network_exception, "no broker published at " + host + ":" +
                                                 std::to_string(port)});
          return;
        }
        if (!self->system().template assignable<Handle>(ifs)) {
          done(status{errc::network_exception,
                      host + ":" + std::to_string(port) +
                        " is not the listener expected (a peer.listener given as a client "
                        "bootstrap server, or the reverse?)"});
          return;
        }
        done(caf::actor_cast<Handle>(std::move(ptr)));
      },
      [=](caf::error& err) {
        done(status{errc::network_exception, "cannot connect to " + host + ":" +
                                               std::to_string(port) + ": " +
                                               self->system().render(err)});
      });
}

/// A client's connection to a node's `caf.listener`.
template <class Self>
void connect_broker(Self* self, const std::string& host, uint16_t port,
                    std::function<void(result<client_api>)> done) {
  connect_actor<client_api>(self, host, port, std::move(done));
}

namespace detail {

template <class Self>
void finish_refresh(Self* self, cluster_view& v, const status& st) {
  v.refreshing = false;
  auto waiting = std::move(v.waiting);
  v.waiting.clear();
  for (auto& w : waiting)
    w(st);
}

/// Connects to every known broker that has no connection yet, then finishes.
template <class Self>
void connect_known(Self* self, cluster_view& v) {
  auto missing = std::make_shared<size_t>(1);
  auto done = [self, &v, missing]() {
    if (--*missing == 0)
      finish_refresh(self, v, status::ok());
  };
  for (auto& [id, b] : v.known) {
    if (v.brokers.count(id))
      continue;
    ++*missing;
    auto bid = id;
    connect_broker(self, b.host, b.port, [&v, bid, done](result<client_api> h) {
      if (h)
        v.brokers[bid] = *h;
      done();
    });
  }
  done();
}

template <class Self>
void bootstrap_connect(Self* self, cluster_view& v, size_t index);

template <class Self>
void ask_metadata(Self* self, cluster_view& v) {
  auto b = v.any_broker();
  if (!b) {
    bootstrap_connect(self, v, 0);
    return;
  }
  auto handle = *b;
  self->request(handle, v.request_timeout, metadata_atom::value, metadata_request{})
    .then(
      [self, &v, handle](metadata_response& resp) {
        if (resp.responder_id >= 0)
          v.brokers[resp.responder_id] = handle;
        v.known.clear();
        for (auto& bd : resp.brokers)
          v.known[bd.id] = bd;
        v.topics.clear();
        for (auto& t : resp.topics)
          v.topics[t.name] = std::move(t);
        connect_known(self, v);
      },
      [self, &v, handle](caf::error& err) {
        v.forget(handle);
        if (v.any_broker() || !v.bootstrap_servers.empty()) {
          // Try another broker (or reconnect) after a short pause.
          self->delayed_send(self, std::chrono::milliseconds(100), retry_atom::value);
          return;
        }
        finish_refresh(self, v, status{error_code_of(err), describe_error(err)});
      });
}

template <class Self>
void bootstrap_connect(Self* self, cluster_view& v, size_t index) {
  if (index >= v.bootstrap_servers.size()) {
    finish_refresh(self, v, status{errc::network_exception, "no bootstrap broker reachable"});
    return;
  }
  auto& a = v.bootstrap_servers[index];
  connect_broker(self, a.host, a.port, [self, &v, index](result<client_api> h) {
    if (!h) {
      bootstrap_connect(self, v, index + 1);
      return;
    }
    v.bootstrap.push_back(*h);
    ask_metadata(self, v);
  });
}

} // namespace detail

/// Refreshes topic metadata and connects to the brokers it names; `done` runs
/// once with the outcome. Concurrent calls share one refresh. The owning
/// actor must route retry_atom to retry_refresh(self, view).
template <class Self>
void refresh_metadata(Self* self, cluster_view& v, std::function<void(const status&)> done) {
  v.waiting.push_back(std::move(done));
  if (v.refreshing)
    return;
  v.refreshing = true;
  detail::ask_metadata(self, v);
}

template <class Self>
void retry_refresh(Self* self, cluster_view& v) {
  if (v.refreshing)
    detail::ask_metadata(self, v);
}

} // namespace al
