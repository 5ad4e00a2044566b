#pragma once
// actorlog-node child processes on free loopback ports (three from
// configs/cluster-3 by default): fork/exec with the config files plus
// overrides (data dir, ports, voters, extra keys), and the process-level faults (kill -9,
// SIGSTOP/SIGCONT, SIGTERM restart). Shared by actorlog-chaos and
// actorlog-bench. No CAF: plain POSIX.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace al::cluster {

enum class node_state { running, stopped, down };

const char* to_string(node_state s);

struct node_process {
  int32_t id = 0;          // node.id, 1..node_count
  uint16_t port = 0;       // caf.listener=127.0.0.1:<port>
  uint16_t peer_port = 0;  // peer.listener=127.0.0.1:<peer_port> (and its voter entry)
  uint16_t kafka_port = 0; // listeners=PLAINTEXT://127.0.0.1:<kafka_port>
  pid_t pid = -1;          // -1 while down
  node_state state = node_state::down;
  int incarnation = 0;     // starts so far
};

struct cluster_options {
  std::string bin_dir;     // holds actorlog-node
  std::string node_binary; // if set, used instead of <bin_dir>/actorlog-node
  std::string config_dir;  // holds node1.ini .. nodeN.ini
  std::string work_dir;    // data in <work_dir>/nI, output in <work_dir>/nI.log
  std::vector<std::string> extra_overrides; // key=value, passed to every node
  int32_t node_count = 3;
  /// If set, node I uses config_files[I-1] instead of <config_dir>/nodeI.ini.
  std::vector<std::string> config_files;
};

class node_processes {
public:
  /// Picks node_count free loopback ports; starts nothing yet.
  explicit node_processes(cluster_options opts);
  ~node_processes(); // kills whatever still runs

  node_processes(const node_processes&) = delete;
  node_processes& operator=(const node_processes&) = delete;

  /// fork/exec node `id`; false (with `why`) if exec cannot even start.
  bool start(int32_t id, std::string& why);
  /// kill -9 and reap.
  void kill9(int32_t id);
  /// SIGTERM, wait up to `grace_ms` for a clean exit, then kill -9.
  void terminate(int32_t id, int grace_ms = 10000);
  void stop(int32_t id);   // SIGSTOP
  void resume(int32_t id); // SIGCONT
  /// SIGCONT + SIGTERM every node, bounded wait, then kill -9.
  void shutdown_all();
  /// Reaps children that died on their own; returns the ids that did.
  std::vector<int32_t> reap_unexpected();

  const node_process& node(int32_t id) const { return nodes_.at(size_t(id - 1)); }
  const std::vector<node_process>& nodes() const { return nodes_; }
  /// "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"
  std::string bootstrap() const;
  /// "1@127.0.0.1:p1,2@127.0.0.1:p2,3@127.0.0.1:p3"
  std::string voters() const;
  std::string log_path(int32_t id) const;
  std::string data_dir(int32_t id) const;
  /// The last `bytes` of node `id`'s output.
  std::string log_tail(int32_t id, size_t bytes = 600) const;

private:
  node_process& mut(int32_t id) { return nodes_.at(size_t(id - 1)); }
  void reap(node_process& n, int options);

  cluster_options opts_;
  std::vector<node_process> nodes_;
};

/// A free loopback TCP port (bind port 0, read it, close it; best effort).
uint16_t free_port();

} // namespace al::cluster
