#pragma once
// One actorlog node inside a process: the actor system with the middleman,
// the store, controller and broker actors, the client gateway on the
// node's `caf.listener` and the broker on its `peer.listener`, both behind the
// listener guard (runtime/guard/). Used by the actorlog-node binary and by programs and
// tests that embed a node.
#include <cstddef>
#include <cstdint>
#include <memory>

#include <caf/fwd.hpp>

#include "runtime/config/node_config.hpp"
#include "storage/status.hpp"

namespace al {

class node {
public:
  /// Prepares the data dir (meta.properties), starts the actors and
  /// publishes the broker. Errors name what was wrong (file, port, ...).
  static result<std::unique_ptr<node>> start(const config::node_config& cfg);
  ~node();

  /// Clean shutdown: unpublishes the broker, stops every actor (partition
  /// logs are flushed and closed, SQLite committed). Idempotent.
  void stop();

  /// The bound ports of `caf.listener` (clients) and `peer.listener` (nodes).
  uint16_t port() const;
  uint16_t peer_port() const;
  /// The bound port of `listeners` (Kafka clients).
  uint16_t kafka_port() const;
  const std::string& cluster_id() const;
  /// The node's actor system; clients in the same process may spawn into it.
  caf::actor_system& system();
  /// The node's broker actor (for in-process clients: no TCP hop).
  caf::actor broker() const;

  struct impl;

private:
  explicit node(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Reads or creates `<data.dir>/meta.properties` (cluster.id, node.id), as
/// Kafka does; a node.id that differs from the config is an error naming
/// the file.
result<std::string> prepare_data_dir(const std::string& data_dir, int32_t node_id,
                                     const std::string& new_cluster_id);

/// The cluster id a fresh data dir gets: derived from the controller quorum
/// (every node of a cluster lists the same voters), so the nodes of one
/// cluster agree without a formatting step, as Kafka's clients expect (they
/// refuse brokers that report different cluster ids). 22 characters of
/// [A-Za-z0-9], like Kafka's.
std::string cluster_id_for(const std::vector<config::voter>& voters);

/// Threads of the node's actor scheduler: num.scheduler.threads, or one per
/// core (at least 2) when it is 0.
int32_t scheduler_threads(const config::node_config& c);
/// max.open.segment.files, or with 0 three quarters of the open-file limit
/// (at least 64; 0 = no bound when the limit is unlimited).
size_t open_segment_files_bound(const config::node_config& c);

} // namespace al
