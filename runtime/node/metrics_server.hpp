#pragma once
// A node's Prometheus endpoint: GET http://<caf.listener host>:<metrics.port>/metrics.
// An HTTP server (cpp-httplib) on its own thread; each scrape asks the node's
// broker actor for its state through a scoped_actor with a finite timeout, so
// a slow or failed actor gives a 503, never a hung or crashed HTTP thread.
// Metric names and meanings: docs/metrics.md.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/broker/broker_api.hpp"
#include "runtime/node/metrics_text.hpp"
#include "storage/status.hpp"

namespace al {

struct metrics_setup {
  int32_t node_id = -1;
  std::string cluster_id;
  std::string host = "127.0.0.1"; ///< the interface to bind (the node's listener host)
  uint16_t port = 0;              ///< must not be 0 (0 means "no endpoint" in the config)
  /// Budget for all broker requests of one scrape; past it the scrape is a 503.
  std::chrono::milliseconds scrape_timeout{5000};
};

/// Asks `broker` (blocking; call from a non-actor thread) for everything a
/// scrape reports: brokers, hosted replicas' offsets, groups coordinated here.
/// A timeout is REQUEST_TIMED_OUT naming the request; other broker errors on
/// the topic requests fail the scrape too, while groups that cannot be
/// described (a coordinator still loading) are left out.
result<metrics_snapshot> collect_metrics(caf::actor_system& sys, const broker_api& broker,
                                         const metrics_setup& setup);

class metrics_server {
public:
  /// Binds host:port, or an error naming the port if it is taken. The node
  /// binds before it starts any actor, so a taken port has nothing to undo.
  static result<std::unique_ptr<metrics_server>> bind(metrics_setup setup);
  /// Starts serving scrapes (asking `broker`) on a new thread. Once.
  void serve(caf::actor_system& sys, broker_api broker);
  /// bind() then serve().
  static result<std::unique_ptr<metrics_server>> start(caf::actor_system& sys, broker_api broker,
                                                       metrics_setup setup);
  ~metrics_server();
  metrics_server(const metrics_server&) = delete;
  metrics_server& operator=(const metrics_server&) = delete;

  /// Stops listening, closes the socket and joins the thread (after
  /// in-flight scrapes). Idempotent.
  void stop();
  std::string url() const;

  struct impl;

private:
  explicit metrics_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace al
