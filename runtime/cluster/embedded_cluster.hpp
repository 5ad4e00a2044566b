#pragma once
// al::embedded_cluster: an actorlog cluster in one call, for tests.
// start() runs `nodes` actorlog-node child processes, each a broker and a
// controller-quorum voter, on free loopback ports with their data in a new
// temporary folder, and returns once the quorum has elected a leader and
// every broker is registered (unfenced). The destructor kills the nodes and
// removes the folder; the children also die with the test process if it
// crashes (they get SIGKILL when their parent goes).
//
//   auto cluster = al::embedded_cluster::start();         // 3 nodes
//   REQUIRE(cluster);                                      // else cluster.error()
//   REQUIRE((*cluster)->create_topic("orders", 6));
//   auto p = al::producer::create(sys, {{"bootstrap.servers", (*cluster)->bootstrap()}});
//   (*cluster)->kill(2);      // kill -9
//   (*cluster)->restart(2);   // same ports, same data; waits until registered
//
// Built on the harness of actorlog-chaos and actorlog-bench (node_processes,
// cluster_probe). Used from one thread.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/status.hpp"

namespace al {

struct embedded_cluster_options {
  int32_t nodes = 3;
  /// The actorlog-node to run. Empty: $ACTORLOG_NODE, else the one installed
  /// with this library (<prefix>/bin), else one next to the running program,
  /// else the first on $PATH.
  std::string node_binary;
  /// Node data (nI/) and output (nI.log). Empty: a new folder under $TMPDIR
  /// (or /tmp), removed by the destructor; a given folder is kept.
  std::string work_dir;
  /// key=value settings (Kafka names) for every node, over the defaults:
  /// fast failure detection (broker.session.timeout.ms=3000), topics with
  /// replication factor min(3, nodes) and min.insync.replicas RF-1 (at least 1).
  std::vector<std::string> overrides;
  std::chrono::seconds start_timeout{60};
};

class embedded_cluster {
public:
  /// Starts the nodes and waits until the cluster is ready, at most
  /// start_timeout; the error names the node and ends with its output.
  static result<std::unique_ptr<embedded_cluster>> start(embedded_cluster_options opts = {});
  ~embedded_cluster();
  embedded_cluster(const embedded_cluster&) = delete;
  embedded_cluster& operator=(const embedded_cluster&) = delete;

  /// bootstrap.servers for actorlog's clients: "127.0.0.1:p1,127.0.0.1:p2,...".
  std::string bootstrap() const;
  /// bootstrap.servers for Kafka clients (the nodes' Kafka listeners).
  std::string kafka_bootstrap() const;
  /// Node ids are 1..size().
  int32_t size() const;

  /// Creates a topic and waits until each of its partitions has a leader.
  /// replication_factor -1: the cluster's default (min(3, nodes)).
  status create_topic(const std::string& name, int32_t partitions,
                      int32_t replication_factor = -1,
                      const std::map<std::string, std::string>& configs = {});

  /// kill -9: no clean shutdown, as a crash.
  void kill(int32_t id);
  /// SIGTERM: a clean shutdown (logs flushed and closed).
  void stop(int32_t id);
  /// Starts a killed or stopped node again, on its ports and with its data,
  /// and waits until it is registered again (at most start_timeout).
  status restart(int32_t id);
  bool is_running(int32_t id) const;
  /// The node the quorum elected active controller; -1 while there is none.
  int32_t controller_id();

  const std::string& work_dir() const;
  /// Where node `id` writes its output (read it when a test fails).
  std::string log_path(int32_t id) const;

  struct impl;

private:
  explicit embedded_cluster(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace al
