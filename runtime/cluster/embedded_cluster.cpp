#include "runtime/cluster/embedded_cluster.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>

#include "actors/protocol/actor_config.hpp"
#include "runtime/cluster/cluster_probe.hpp"
#include "runtime/cluster/node_processes.hpp"

// <bindir> relative to <libdir> in the install layout (set by CMake).
#ifndef AL_BINDIR_FROM_LIBDIR
#define AL_BINDIR_FROM_LIBDIR "../bin"
#endif

namespace al {

namespace {

namespace fs = std::filesystem;

struct probe_system_config : actor_config {
  probe_system_config() {
    load<caf::io::middleman>();
    set("scheduler.max-threads", 2);
  }
};

bool is_executable(const fs::path& p) {
  return !p.empty() && fs::is_regular_file(p) && ::access(p.c_str(), X_OK) == 0;
}

/// The file this code was loaded from: libactorlog_node.so, or the program
/// that linked it statically.
fs::path loaded_from() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&loaded_from), &info) != 0 && info.dli_fname)
    return fs::path{info.dli_fname};
  return {};
}

/// embedded_cluster_options::node_binary's search order.
result<std::string> find_node_binary(const std::string& given) {
  const char* env = std::getenv("ACTORLOG_NODE");
  if (!given.empty() || (env && *env)) {
    std::string p = !given.empty() ? given : env;
    if (is_executable(p))
      return p;
    return status{errc::invalid_config,
                  "actorlog-node " + p + (!given.empty() ? "" : " ($ACTORLOG_NODE)") +
                    " is not an executable file"};
  }
  std::vector<fs::path> candidates;
  if (auto lib = loaded_from(); !lib.empty())
    candidates.push_back(lib.parent_path() / AL_BINDIR_FROM_LIBDIR / "actorlog-node");
  std::error_code ec;
  if (auto exe = fs::read_symlink("/proc/self/exe", ec); !ec)
    candidates.push_back(exe.parent_path() / "actorlog-node");
  std::string tried;
  for (auto& c : candidates) {
    if (is_executable(c))
      return fs::weakly_canonical(c).string();
    tried += c.lexically_normal().string() + ", ";
  }
  std::istringstream path{std::getenv("PATH") ? std::getenv("PATH") : ""};
  for (std::string dir; std::getline(path, dir, ':');)
    if (!dir.empty() && is_executable(fs::path{dir} / "actorlog-node"))
      return (fs::path{dir} / "actorlog-node").string();
  return status{errc::invalid_config,
                "no actorlog-node found (tried " + tried +
                  "$PATH); set embedded_cluster_options::node_binary or ACTORLOG_NODE"};
}

/// A new folder under $TMPDIR (or /tmp).
result<std::string> make_temp_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string path = std::string{tmp && *tmp ? tmp : "/tmp"} + "/actorlog-cluster.XXXXXX";
  if (::mkdtemp(path.data()) == nullptr)
    return status{errc::kafka_storage_error, "mkdtemp " + path + ": " + std::strerror(errno)};
  return path;
}

/// The defaults for test clusters, then the user's overrides (a key given
/// twice is a config error, so the user's value replaces ours).
std::vector<std::string> node_overrides(const embedded_cluster_options& o) {
  int32_t rf = std::min(3, o.nodes);
  std::map<std::string, std::string> kv{
    {"broker.session.timeout.ms", "3000"},
    {"broker.heartbeat.interval.ms", "500"},
    {"group.initial.rebalance.delay.ms", "0"},
    {"default.replication.factor", std::to_string(rf)},
    {"min.insync.replicas", std::to_string(std::max(1, rf - 1))},
  };
  for (auto& o_kv : o.overrides) {
    auto eq = o_kv.find('=');
    kv[o_kv.substr(0, eq)] = eq == std::string::npos ? "" : o_kv.substr(eq + 1);
  }
  std::vector<std::string> out;
  for (auto& [k, v] : kv)
    out.push_back(k + "=" + v);
  return out;
}

} // namespace

struct embedded_cluster::impl {
  embedded_cluster_options opts;
  bool owns_work_dir = false;
  probe_system_config cfg;
  caf::actor_system sys{cfg};
  std::unique_ptr<cluster::node_processes> procs;
  std::unique_ptr<cluster::cluster_probe> probe;

  ~impl() {
    probe.reset();
    if (procs) {
      if (owns_work_dir)
        for (auto& n : procs->nodes())
          procs->kill9(n.id); // the data goes too: no need to wait for a clean stop
      else
        procs->shutdown_all();
    }
    procs.reset();
    std::error_code ec;
    if (owns_work_dir)
      fs::remove_all(opts.work_dir, ec);
  }
};

result<std::unique_ptr<embedded_cluster>>
embedded_cluster::start(embedded_cluster_options opts) {
  if (opts.nodes < 1)
    return status{errc::invalid_config, "embedded_cluster: nodes must be at least 1"};
  auto binary = find_node_binary(opts.node_binary);
  if (!binary)
    return binary.error();
  auto p = std::make_unique<impl>();
  p->opts = std::move(opts);
  if (p->opts.work_dir.empty()) {
    auto dir = make_temp_dir();
    if (!dir)
      return dir.error();
    p->opts.work_dir = *dir;
    p->owns_work_dir = true;
  }
  std::error_code ec;
  fs::create_directories(p->opts.work_dir, ec);
  cluster::cluster_options co;
  co.node_binary = *binary;
  co.work_dir = p->opts.work_dir;
  co.node_count = p->opts.nodes;
  co.extra_overrides = node_overrides(p->opts);
  for (int32_t id = 1; id <= p->opts.nodes; ++id) {
    // Everything else comes as overrides (node_processes: ports, data, voters).
    auto file = p->opts.work_dir + "/node" + std::to_string(id) + ".ini";
    std::ofstream{file} << "# al::embedded_cluster node " << id << "\n[node]\nnode.id = " << id
                        << "\n";
    co.config_files.push_back(file);
  }
  p->procs = std::make_unique<cluster::node_processes>(std::move(co));
  p->probe = std::make_unique<cluster::cluster_probe>(p->sys, *p->procs);
  if (auto why = p->probe->start_all(*p->procs, p->opts.start_timeout); !why.empty())
    return status{errc::broker_not_available, "embedded_cluster: " + why};
  return std::unique_ptr<embedded_cluster>{new embedded_cluster(std::move(p))};
}

embedded_cluster::embedded_cluster(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

embedded_cluster::~embedded_cluster() = default;

std::string embedded_cluster::bootstrap() const { return impl_->procs->bootstrap(); }

std::string embedded_cluster::kafka_bootstrap() const {
  std::string out;
  for (auto& n : impl_->procs->nodes())
    out += (out.empty() ? "" : ",") + std::string{"127.0.0.1:"} + std::to_string(n.kafka_port);
  return out;
}

int32_t embedded_cluster::size() const { return impl_->opts.nodes; }

status embedded_cluster::create_topic(const std::string& name, int32_t partitions,
                                      int32_t replication_factor,
                                      const std::map<std::string, std::string>& configs) {
  int32_t rf = replication_factor > 0 ? replication_factor : std::min(3, size());
  create_topic_request req{name, partitions, rf, configs};
  if (auto why = impl_->probe->create_topic(req, impl_->opts.start_timeout); !why.empty())
    return {errc::unknown_server_error, why};
  return status::ok();
}

void embedded_cluster::kill(int32_t id) {
  impl_->procs->kill9(id);
  impl_->probe->forget(id);
}

void embedded_cluster::stop(int32_t id) {
  impl_->procs->terminate(id);
  impl_->probe->forget(id);
}

status embedded_cluster::restart(int32_t id) {
  std::string why;
  if (is_running(id))
    stop(id);
  if (!impl_->procs->start(id, why))
    return {errc::broker_not_available, "embedded_cluster: node " + std::to_string(id) + ": " + why};
  if (why = impl_->probe->wait_ready(*impl_->procs, impl_->opts.start_timeout); !why.empty())
    return {errc::broker_not_available, "embedded_cluster: " + why};
  return status::ok();
}

bool embedded_cluster::is_running(int32_t id) const {
  return impl_->procs->node(id).state != cluster::node_state::down;
}

int32_t embedded_cluster::controller_id() { return impl_->probe->controller_id(); }

const std::string& embedded_cluster::work_dir() const { return impl_->opts.work_dir; }

std::string embedded_cluster::log_path(int32_t id) const { return impl_->procs->log_path(id); }

} // namespace al
