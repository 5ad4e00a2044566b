#include "bench/actorlog_bench/target.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <caf/all.hpp>

#include "actors/broker/client_api.hpp"
#include "actors/protocol/actor_config.hpp"
#include "actors/protocol/errors.hpp"
#include "runtime/config/config_loader.hpp"
#include "runtime/node/node.hpp"
#include "runtime/cluster/node_processes.hpp"

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

status to_status(const caf::error& err) { return status{error_code_of(err), describe_error(err)}; }

/// The overrides every bench node gets: its data dir, a free loopback port
/// (also as the single controller voter), no metrics endpoint (fixed ports
/// would clash with other nodes on this machine).
std::vector<std::string> node_overrides(const target_options& o, const std::string& dir) {
  auto port = std::to_string(cluster::free_port());
  auto peer = std::to_string(cluster::free_port());
  auto kafka = std::to_string(cluster::free_port());
  std::vector<std::string> ov{"data.dir=" + dir, "caf.listener=127.0.0.1:" + port,
                              "listeners=PLAINTEXT://127.0.0.1:" + kafka,
                              "peer.listener=127.0.0.1:" + peer,
                              "controller.quorum.voters=1@127.0.0.1:" + peer, "metrics.port=0"};
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
  std::string kafka_bootstrap() const override {
    return "127.0.0.1:" + std::to_string(node_->kafka_port());
  }
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
    case target_kind::remote:
    case target_kind::cluster: return start_child(opts);
  }
  return status{errc::invalid_request, "unknown target"};
}

status target::create_topic(const std::string& name, int32_t partitions) {
  caf::scoped_actor self{client_system()};
  create_topic_request req{name, partitions, replication_factor(), {}};
  status out = status::ok();
  self->request(caf::actor_cast<client_api>(admin_broker()), admin_timeout,
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
  self->request(caf::actor_cast<client_api>(admin_broker()), admin_timeout,
                delete_topic_atom::value, name)
    .receive([&](bool) {}, [&](caf::error& err) { out = to_status(err); });
  return out;
}

result<int64_t> target::end_offset(const topic_partition& tp) {
  caf::scoped_actor self{client_system()};
  result<int64_t> out{status{errc::request_timed_out, "list offsets"}};
  self->request(caf::actor_cast<client_api>(admin_broker()), admin_timeout,
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
