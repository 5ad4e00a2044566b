#include "bench/actorlog_bench/target.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/broker/broker_api.hpp"
#include "actors/protocol/actor_config.hpp"
#include "actors/protocol/errors.hpp"
#include "runtime/config/config_loader.hpp"
#include "runtime/node/node.hpp"

namespace al::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string to_string(target_kind k) {
  switch (k) {
    case target_kind::in_process: return "inproc";
    case target_kind::remote: return "remote";
    case target_kind::cluster: return "cluster";
  }
  return "?";
}

namespace {

constexpr auto admin_timeout = 30s;

struct client_caf_config : actor_config {
  client_caf_config() {
    load<caf::io::middleman>();
    set("scheduler.max-threads", 2);
  }
};

status to_status(const caf::error& err) { return status{error_code_of(err), describe_error(err)}; }

/// A loopback port that was free a moment ago (the config wants a real
/// port; the small race with other programs is acceptable for a bench).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  if (fd >= 0)
    ::close(fd);
  return port;
}

/// The overrides every bench node gets: its data dir, a free loopback port
/// (also as the single controller voter), no metrics endpoint (fixed ports
/// would clash with other nodes on this machine).
std::vector<std::string> node_overrides(const target_options& o, const std::string& dir) {
  auto port = std::to_string(free_port());
  std::vector<std::string> ov{"data.dir=" + dir, "listeners=127.0.0.1:" + port,
                              "controller.quorum.voters=1@127.0.0.1:" + port, "metrics.port=0"};
  ov.insert(ov.end(), o.overrides.begin(), o.overrides.end());
  return ov;
}

// -- in-process ---------------------------------------------------------------

class in_process_target : public target {
public:
  static result<std::unique_ptr<target>> start(const target_options& o) {
    std::unique_ptr<in_process_target> t{new in_process_target};
    t->dir_ = o.data_dir + "/inproc";
    auto cfg = config::load_node_config(o.config_path, node_overrides(o, t->dir_));
    if (!cfg)
      return cfg.error();
    t->cfg_ = *cfg;
    auto n = node::start(t->cfg_);
    if (!n)
      return n.error();
    t->node_ = std::move(*n);
    return std::unique_ptr<target>(std::move(t));
  }
  ~in_process_target() override {
    if (node_)
      node_->stop();
  }
  target_kind kind() const override { return target_kind::in_process; }
  caf::actor_system& client_system() override { return node_->system(); }
  caf::actor direct_broker() override { return node_->broker(); }
  std::string bootstrap() const override { return "127.0.0.1:" + std::to_string(node_->port()); }
  std::string describe() const override {
    return "in-process node on 127.0.0.1:" + std::to_string(node_->port()) + ", data " + dir_;
  }
  status restart(const std::function<void()>& between) override {
    node_->stop();
    node_.reset();
    if (between)
      between();
    auto n = node::start(cfg_);
    if (!n)
      return n.error();
    node_ = std::move(*n);
    return status::ok();
  }
  std::vector<std::string> data_dirs() const override { return {dir_}; }

protected:
  caf::actor admin_broker() override { return node_->broker(); }

private:
  in_process_target() = default;
  std::string dir_;
  config::node_config cfg_;
  std::unique_ptr<node> node_;
};

// -- child process --------------------------------------------------------------

/// actorlog-node as a child process; its output goes to <dir>.log.
class child_node {
public:
  child_node(std::string binary, std::string config, std::vector<std::string> overrides,
             std::string log_path)
    : binary_(std::move(binary)), config_(std::move(config)), overrides_(std::move(overrides)),
      log_path_(std::move(log_path)) {}
  ~child_node() { (void)stop(); }

  status start() {
    std::vector<std::string> args{binary_, "--config", config_};
    for (auto& ov : overrides_) {
      args.push_back("--override");
      args.push_back(ov);
    }
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0)
      return {errc::kafka_storage_error, "cannot open " + log_path_};
    auto parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
      ::close(log_fd);
      return {errc::unknown_server_error, "fork failed"};
    }
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM); // never outlive the bench
      if (::getppid() != parent)
        ::_exit(127);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
    // Wait (at most 30 s) for "listening on 127.0.0.1:<port>" in its log.
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      int wst = 0;
      if (::waitpid(pid_, &wst, WNOHANG) == pid_) {
        pid_ = -1;
        return {errc::unknown_server_error,
                binary_ + " exited at start-up; its output: " + tail_of_log()};
      }
      std::ifstream in(log_path_);
      std::string line;
      while (std::getline(in, line)) {
        auto at = line.find("listening on ");
        if (at == std::string::npos)
          continue;
        auto colon = line.find(':', at + 13);
        if (colon != std::string::npos) {
          port_ = uint16_t(std::atoi(line.c_str() + colon + 1));
          if (port_ != 0)
            return status::ok();
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    (void)stop();
    return {errc::request_timed_out, binary_ + " did not report its port within 30 s: " +
                                       tail_of_log()};
  }

  /// SIGTERM (clean shutdown: logs fsynced), wait at most 60 s, then SIGKILL.
  status stop() {
    if (pid_ <= 0)
      return status::ok();
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + 60s;
    int wst = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &wst, WNOHANG) == pid_) {
        pid_ = -1;
        return status::ok();
      }
      std::this_thread::sleep_for(10ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &wst, 0);
    pid_ = -1;
    return {errc::request_timed_out, "node did not stop within 60 s after SIGTERM (killed)"};
  }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

private:
  std::string tail_of_log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    auto s = ss.str();
    return s.size() > 600 ? s.substr(s.size() - 600) : s;
  }

  std::string binary_, config_;
  std::vector<std::string> overrides_;
  std::string log_path_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

class remote_target : public target {
public:
  static result<std::unique_ptr<target>> start(const target_options& o) {
    if (o.node_binary.empty() || ::access(o.node_binary.c_str(), X_OK) != 0)
      return status{errc::invalid_config,
                    "actorlog-node not found at \"" + o.node_binary + "\" (use --node-binary)"};
    std::unique_ptr<remote_target> t{new remote_target};
    t->dir_ = o.data_dir + "/remote";
    std::error_code ec;
    fs::create_directories(o.data_dir, ec);
    t->node_ = std::make_unique<child_node>(o.node_binary, o.config_path,
                                            node_overrides(o, t->dir_), t->dir_ + ".log");
    if (auto st = t->node_->start(); !st)
      return st;
    if (auto st = t->connect(); !st)
      return st;
    return std::unique_ptr<target>(std::move(t));
  }
  ~remote_target() override {
    broker_ = {};
    node_.reset();
  }

  target_kind kind() const override { return target_kind::remote; }
  caf::actor_system& client_system() override { return sys_; }
  caf::actor direct_broker() override { return {}; }
  std::string bootstrap() const override { return "127.0.0.1:" + std::to_string(node_->port()); }
  std::string describe() const override {
    return "actorlog-node pid " + std::to_string(node_->pid()) + " on " + bootstrap() +
           ", data " + dir_;
  }
  status restart(const std::function<void()>& between) override {
    broker_ = {};
    if (auto st = node_->stop(); !st)
      return st;
    if (between)
      between();
    if (auto st = node_->start(); !st)
      return st;
    return connect();
  }
  std::vector<std::string> data_dirs() const override { return {dir_}; }

protected:
  caf::actor admin_broker() override { return broker_; }

private:
  remote_target() : sys_(cfg_) {}

  /// What middleman::remote_actor() does, with a timeout.
  status connect() {
    caf::scoped_actor self{sys_};
    status out = status::ok();
    self->request(sys_.middleman().actor_handle(), admin_timeout, caf::connect_atom::value,
                  std::string{"127.0.0.1"}, node_->port())
      .receive(
        [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>&) {
          if (!ptr)
            out = {errc::network_exception, "no actor published at " + bootstrap()};
          else
            broker_ = caf::actor_cast<caf::actor>(std::move(ptr));
        },
        [&](caf::error& err) { out = to_status(err); });
    return out;
  }

  client_caf_config cfg_;
  caf::actor_system sys_;
  std::string dir_;
  std::unique_ptr<child_node> node_;
  caf::actor broker_;
};

/// Resident fraction of the files under dirs (mincore over a read-only map).
std::pair<uint64_t, uint64_t> resident_bytes(const std::vector<std::string>& dirs) {
  uint64_t total = 0, resident = 0;
  auto page = uint64_t(::sysconf(_SC_PAGE_SIZE));
  for (auto& d : dirs) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(d, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file())
        continue;
      int fd = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        continue;
      struct stat sb{};
      if (::fstat(fd, &sb) == 0 && sb.st_size > 0) {
        auto size = uint64_t(sb.st_size);
        void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) {
          std::vector<unsigned char> vec((size + page - 1) / page);
          if (::mincore(m, size, vec.data()) == 0)
            for (auto v : vec)
              resident += (v & 1) ? page : 0;
          ::munmap(m, size);
        }
        total += size;
      }
      ::close(fd);
    }
  }
  return {std::min(resident, total), total};
}

} // namespace

result<std::unique_ptr<target>> target::start(const target_options& opts) {
  switch (opts.kind) {
    case target_kind::in_process: return in_process_target::start(opts);
    case target_kind::remote: return remote_target::start(opts);
    case target_kind::cluster:
      return status{errc::invalid_request,
                    "--cluster (three nodes from configs/cluster-3, RF=3) lands with replication "
                    "(issue 5)"};
  }
  return status{errc::invalid_request, "unknown target"};
}

status target::create_topic(const std::string& name, int32_t partitions,
                            int32_t replication_factor,
                            const std::vector<std::pair<std::string, std::string>>& configs) {
  caf::scoped_actor self{client_system()};
  create_topic_request req{name, partitions, replication_factor,
                           config_map(configs.begin(), configs.end())};
  status out = status::ok();
  self->request(caf::actor_cast<broker_api>(admin_broker()), admin_timeout,
                create_topic_atom::value, req)
    .receive([&](const topic_description&) {}, [&](caf::error& err) { out = to_status(err); });
  if (!out)
    return out;
  return wait_ready(name, partitions);
}

status target::wait_ready(const std::string& name, int32_t partitions) {
  // The broker spawns the partition actors when the controller's metadata
  // arrives: wait (at most 30 s) until every partition answers.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (int32_t p = 0; p < partitions; ++p) {
    for (;;) {
      auto off = end_offset({name, p});
      if (off)
        break;
      if (std::chrono::steady_clock::now() > deadline)
        return status{off.error().code(), "topic " + name + " not ready: " + off.error().message()};
      std::this_thread::sleep_for(20ms);
    }
  }
  return status::ok();
}

status target::delete_topic(const std::string& name) {
  caf::scoped_actor self{client_system()};
  status out = status::ok();
  self->request(caf::actor_cast<broker_api>(admin_broker()), admin_timeout,
                delete_topic_atom::value, name)
    .receive([&](bool) {}, [&](caf::error& err) { out = to_status(err); });
  return out;
}

result<int64_t> target::end_offset(const topic_partition& tp) {
  caf::scoped_actor self{client_system()};
  result<int64_t> out{status{errc::request_timed_out, "list offsets"}};
  self->request(caf::actor_cast<broker_api>(admin_broker()), admin_timeout,
                list_offsets_atom::value, list_offsets_request{tp.topic, tp.partition, latest_timestamp})
    .receive([&](const list_offsets_response& r) { out = r.offset; },
             [&](caf::error& err) { out = to_status(err); });
  return out;
}

result<int64_t> target::total_end_offset(const std::string& topic, int32_t partitions) {
  int64_t sum = 0;
  for (int32_t p = 0; p < partitions; ++p) {
    auto off = end_offset({topic, p});
    if (!off)
      return off;
    sum += *off;
  }
  return sum;
}

std::string evict_page_cache(const std::vector<std::string>& dirs) {
  ::sync();
  std::string how;
  int fd = ::open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
  if (fd >= 0 && ::write(fd, "1", 1) == 1) {
    how = "echo 1 > /proc/sys/vm/drop_caches";
  } else {
    how = std::string("drop_caches refused (") + std::strerror(errno) +
          "), fdatasync + posix_fadvise(DONTNEED) per file";
    for (auto& d : dirs) {
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(d, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file())
          continue;
        int f = ::open(it->path().c_str(), O_RDONLY | O_CLOEXEC);
        if (f < 0)
          continue;
        ::fdatasync(f);
        ::posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED);
        ::close(f);
      }
    }
  }
  if (fd >= 0)
    ::close(fd);
  auto [res, total] = resident_bytes(dirs);
  char buf[160];
  std::snprintf(buf, sizeof buf, "; afterwards %.1f of %.1f MiB resident (mincore)",
                double(res) / (1 << 20), double(total) / (1 << 20));
  return how + buf;
}

} // namespace al::bench
