#include "runtime/cluster/node_processes.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

namespace al::cluster {

const char* to_string(node_state s) {
  switch (s) {
    case node_state::running: return "running";
    case node_state::stopped: return "stopped";
    case node_state::down: return "down";
  }
  return "?";
}

namespace {

/// Binds a loopback socket to port 0; returns the fd (caller closes).
int bind_ephemeral(uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error(std::string{"socket: "} + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(std::string{"bind 127.0.0.1:0: "} + std::strerror(errno));
  }
  port = ntohs(a.sin_port);
  return fd;
}

} // namespace

uint16_t free_port() {
  uint16_t port = 0;
  ::close(bind_ephemeral(port));
  return port;
}

node_processes::node_processes(cluster_options opts) : opts_(std::move(opts)) {
  // Hold every socket while choosing, so the ports differ.
  std::vector<int> fds;
  for (int32_t i = 1; i <= opts_.node_count; ++i) {
    node_process n;
    n.id = i;
    fds.push_back(bind_ephemeral(n.port));
    fds.push_back(bind_ephemeral(n.peer_port));
    fds.push_back(bind_ephemeral(n.kafka_port));
    nodes_.push_back(n);
  }
  for (int fd : fds)
    ::close(fd);
}

node_processes::~node_processes() {
  for (auto& n : nodes_)
    if (n.pid > 0) {
      ::kill(n.pid, SIGKILL);
      reap(n, 0);
    }
}

std::string node_processes::bootstrap() const {
  std::string out;
  for (auto& n : nodes_)
    out += (out.empty() ? "" : ",") + std::string{"127.0.0.1:"} + std::to_string(n.port);
  return out;
}

std::string node_processes::voters() const {
  std::string out;
  for (auto& n : nodes_)
    out += (out.empty() ? "" : ",") + std::to_string(n.id) + "@127.0.0.1:" +
           std::to_string(n.peer_port);
  return out;
}

std::string node_processes::log_path(int32_t id) const {
  return opts_.work_dir + "/n" + std::to_string(id) + ".log";
}

std::string node_processes::data_dir(int32_t id) const {
  return opts_.work_dir + "/n" + std::to_string(id);
}

std::string node_processes::log_tail(int32_t id, size_t bytes) const {
  std::ifstream in(log_path(id));
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

bool node_processes::start(int32_t id, std::string& why) {
  auto& n = mut(id);
  if (n.pid > 0) {
    why = "node " + std::to_string(id) + " is already running";
    return false;
  }
  std::string exe = opts_.node_binary.empty() ? opts_.bin_dir + "/actorlog-node" : opts_.node_binary;
  if (::access(exe.c_str(), X_OK) != 0) {
    why = exe + ": " + std::strerror(errno);
    return false;
  }
  std::string config = size_t(id) <= opts_.config_files.size()
                         ? opts_.config_files[size_t(id - 1)]
                         : opts_.config_dir + "/node" + std::to_string(id) + ".ini";
  std::vector<std::string> args{
    exe,
    "--config", config,
    "--override", "data.dir=" + data_dir(id),
    "--override", "caf.listener=127.0.0.1:" + std::to_string(n.port),
    "--override", "peer.listener=127.0.0.1:" + std::to_string(n.peer_port),
    "--override", "listeners=PLAINTEXT://127.0.0.1:" + std::to_string(n.kafka_port),
    // The harnesses cut links (actorlog-chaos); test clusters only.
    "--override", "fault.injection.enable=true",
    "--override", "controller.quorum.voters=" + voters(),
    "--override", "metrics.port=0"};
  for (auto& o : opts_.extra_overrides) {
    args.push_back("--override");
    args.push_back(o);
  }
  std::string log = log_path(id);
  pid_t pid = ::fork();
  if (pid < 0) {
    why = std::string{"fork: "} + std::strerror(errno);
    return false;
  }
  if (pid == 0) { // child: dies with the harness; output to the node's log, then exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  n.pid = pid;
  n.state = node_state::running;
  ++n.incarnation;
  spdlog::debug("node {} started: pid {}, port {}, incarnation {}", id, pid, n.port,
                n.incarnation);
  return true;
}

void node_processes::reap(node_process& n, int options) {
  if (n.pid <= 0)
    return;
  int status = 0;
  pid_t r = ::waitpid(n.pid, &status, options);
  if (r == n.pid) {
    n.pid = -1;
    n.state = node_state::down;
  }
}

void node_processes::kill9(int32_t id) {
  auto& n = mut(id);
  if (n.pid <= 0)
    return;
  ::kill(n.pid, SIGKILL);
  reap(n, 0);
}

void node_processes::terminate(int32_t id, int grace_ms) {
  auto& n = mut(id);
  if (n.pid <= 0)
    return;
  ::kill(n.pid, SIGCONT);
  ::kill(n.pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (n.pid > 0 && std::chrono::steady_clock::now() < deadline) {
    reap(n, WNOHANG);
    if (n.pid > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (n.pid > 0) {
    spdlog::warn("node {} ignored SIGTERM for {} ms: kill -9", id, grace_ms);
    kill9(id);
  }
}

void node_processes::stop(int32_t id) {
  auto& n = mut(id);
  if (n.pid > 0 && ::kill(n.pid, SIGSTOP) == 0)
    n.state = node_state::stopped;
}

void node_processes::resume(int32_t id) {
  auto& n = mut(id);
  if (n.pid > 0 && ::kill(n.pid, SIGCONT) == 0)
    n.state = node_state::running;
}

void node_processes::shutdown_all() {
  for (auto& n : nodes_)
    if (n.pid > 0) {
      ::kill(n.pid, SIGCONT);
      ::kill(n.pid, SIGTERM);
    }
  for (auto& n : nodes_)
    terminate(n.id, 10000);
}

std::vector<int32_t> node_processes::reap_unexpected() {
  std::vector<int32_t> out;
  for (auto& n : nodes_) {
    if (n.pid <= 0)
      continue;
    reap(n, WNOHANG);
    if (n.pid <= 0)
      out.push_back(n.id);
  }
  return out;
}

} // namespace al::cluster
