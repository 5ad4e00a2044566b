#pragma once
// The system under test: actorlog nodes plus the actor system the bench's
// clients run in.
//
//   in-process: one al::node inside the bench process; clients talk to its
//               broker directly (no TCP), on the node's own actor system.
//   remote:     actorlog-node started as a child process from a config file
//               (listening on a free loopback port); clients run in the
//               bench process on their own actor system, over TCP.
//   cluster:    three actorlog-node child processes from configs/cluster-3
//               (free ports, data under data_dir/cluster); clients bootstrap
//               from all three; topics get replication factor 3 and
//               min.insync.replicas 2; restart() restarts them all.
// The child processes and the admin requests to them come from
// runtime/cluster (shared with actorlog-chaos).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/protocol/messages.hpp"
#include "storage/status.hpp"

namespace al::bench {

enum class target_kind { in_process, remote, cluster };

std::string to_string(target_kind k);

struct target_options {
  target_kind kind = target_kind::in_process;
  std::string config_path = "configs/single/node.ini";
  std::string cluster_config_dir = "configs/cluster-3"; // node1.ini .. node3.ini
  std::string node_binary;   // actorlog-node (remote / cluster)
  std::string data_dir = "/tmp/actorlog-bench";
  std::vector<std::string> overrides; // extra --override key=value for every node
  int32_t replication_factor = 0;     // topics the bench creates; 0: 1, cluster 3
  int32_t min_insync_replicas = 2;    // cluster topics
};

class target {
public:
  static result<std::unique_ptr<target>> start(const target_options& opts);
  virtual ~target() = default;

  virtual target_kind kind() const = 0;
  /// The actor system clients are spawned in.
  virtual caf::actor_system& client_system() = 0;
  /// The broker to use directly (in-process), or an invalid handle (TCP).
  virtual caf::actor direct_broker() = 0;
  /// bootstrap.servers for clients ("127.0.0.1:port,...").
  virtual std::string bootstrap() const = 0;
  /// bootstrap.servers for Kafka clients: the nodes' Kafka listeners
  /// (`listeners=PLAINTEXT://127.0.0.1:port`), "127.0.0.1:port,...".
  virtual std::string kafka_bootstrap() const = 0;
  /// One line: "in-process node (data /tmp/...)", "actorlog-node pid 123 on 127.0.0.1:4567".
  virtual std::string describe() const = 0;
  /// Clean stop (logs closed, fsynced), run `between`, start again on the
  /// same data directories.
  virtual status restart(const std::function<void()>& between) = 0;
  /// Every data directory (for cache eviction).
  virtual std::vector<std::string> data_dirs() const = 0;

  /// The node processes' pids (none in process: the nodes' CPU is then
  /// the bench's own).
  virtual std::vector<int> node_pids() const { return {}; }

  /// Replication factor of the topics the scenarios create.
  virtual int32_t replication_factor() const { return 1; }

  /// Creates the topic with replication_factor() (and, for a cluster,
  /// min.insync.replicas), then waits until every partition answers.
  virtual status create_topic(const std::string& name, int32_t partitions);
  virtual status delete_topic(const std::string& name);
  /// Waits (at most 30 s) until every partition of the topic answers.
  status wait_ready(const std::string& name, int32_t partitions);
  /// Log end offset of one partition (asked from its leader).
  virtual result<int64_t> end_offset(const topic_partition& tp);
  /// Sum of the log end offsets of partitions 0..n-1.
  result<int64_t> total_end_offset(const std::string& topic, int32_t partitions);

protected:
  /// Child-process targets (remote, cluster): target_child.cpp.
  static result<std::unique_ptr<target>> start_child(const target_options& opts);

  /// The broker admin requests go to (any live broker of the target). They
  /// are sent from a scoped_actor on client_system(), which blocks the
  /// calling thread only, not a worker.
  virtual caf::actor admin_broker() = 0;
};

/// Best effort to make the next read of `dirs` come from the disk: writes
/// 1 to /proc/sys/vm/drop_caches (needs root and a writable /proc/sys);
/// if refused, fdatasync + posix_fadvise(DONTNEED) on every file. Returns
/// a one-line account ("drop_caches" / "fadvise DONTNEED: 3 of 812 MiB
/// still resident (mincore)").
std::string evict_page_cache(const std::vector<std::string>& dirs);

} // namespace al::bench
