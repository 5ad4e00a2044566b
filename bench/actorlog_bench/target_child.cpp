// Targets made of actorlog-node child processes: remote (one node from
// --config) and cluster (three nodes from configs/cluster-3). Processes
// and admin requests come from runtime/cluster, shared with actorlog-chaos.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/protocol/actor_config.hpp"
#include "bench/actorlog_bench/target.hpp"
#include "runtime/cluster/cluster_probe.hpp"
#include "runtime/cluster/node_processes.hpp"

namespace al::bench {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct client_caf_config : actor_config {
  client_caf_config() {
    load<caf::io::middleman>();
    set("scheduler.max-threads", 2);
  }
};

class child_target : public target {
public:
  child_target(const target_options& o, cluster::cluster_options co)
    : kind_(o.kind), sys_(cfg_), procs_(std::move(co)), probe_(sys_, procs_) {
    rf_ = o.replication_factor > 0 ? o.replication_factor
                                   : (kind_ == target_kind::cluster ? 3 : 1);
    min_isr_ = o.min_insync_replicas;
  }
  ~child_target() override { procs_.shutdown_all(); }

  status start() {
    if (auto why = probe_.start_all(procs_, 60s); !why.empty())
      return {errc::unknown_server_error, why};
    return status::ok();
  }

  target_kind kind() const override { return kind_; }
  caf::actor_system& client_system() override { return sys_; }
  caf::actor direct_broker() override { return {}; }
  std::string bootstrap() const override { return procs_.bootstrap(); }
  std::string kafka_bootstrap() const override {
    std::string out;
    for (auto& n : procs_.nodes())
      out += (out.empty() ? "" : ",") + std::string("127.0.0.1:") + std::to_string(n.kafka_port);
    return out;
  }
  int32_t replication_factor() const override { return rf_; }
  std::vector<int> node_pids() const override {
    std::vector<int> out;
    for (auto& n : procs_.nodes())
      out.push_back(int(n.pid));
    return out;
  }

  std::string describe() const override {
    std::string pids;
    for (auto& n : procs_.nodes())
      pids += (pids.empty() ? "" : ",") + std::to_string(n.pid);
    auto count = procs_.nodes().size();
    return std::to_string(count) + " actorlog-node process" + (count > 1 ? "es" : "") +
           " (pid " + pids + ") on " + bootstrap() + " (Kafka " + kafka_bootstrap() + "), topics RF " + std::to_string(rf_) +
           (rf_ > 1 ? " min.insync.replicas " + std::to_string(min_isr_) : "") + ", data " +
           fs::path(procs_.data_dir(1)).parent_path().string();
  }

  status restart(const std::function<void()>& between) override {
    procs_.shutdown_all();
    for (auto& n : procs_.nodes())
      probe_.forget(n.id);
    if (between)
      between();
    return start();
  }

  std::vector<std::string> data_dirs() const override {
    std::vector<std::string> out;
    for (auto& n : procs_.nodes())
      out.push_back(procs_.data_dir(n.id));
    return out;
  }

  status create_topic(const std::string& name, int32_t partitions) override {
    create_topic_request req{name, partitions, rf_, {}};
    if (rf_ > 1)
      req.configs["min.insync.replicas"] = std::to_string(min_isr_);
    if (auto why = probe_.create_topic(req, 60s); !why.empty())
      return {errc::unknown_server_error, why};
    return wait_ready(name, partitions);
  }

  status delete_topic(const std::string& name) override {
    if (auto why = probe_.delete_topic(name); !why.empty())
      return {errc::unknown_server_error, why};
    return status::ok();
  }

  result<int64_t> end_offset(const topic_partition& tp) override {
    try {
      if (auto off = probe_.end_offset(tp))
        return *off;
    } catch (const std::out_of_range&) {
      // cluster_probe::end_offset asks a cached leader of -1 (cached while
      // the partition had no leader) through node_processes::node(-1),
      // which throws. Work around it here (bench-only): ask the current
      // leader for the partition's figures instead.
      auto t = probe_.topic(tp.topic);
      if (t)
        for (auto& p : t->partitions)
          if (p.partition == tp.partition && p.leader > 0)
            if (auto st = probe_.replica_stats(p.leader, tp); st && st->high_watermark >= 0)
              return st->high_watermark;
      return status{errc::request_timed_out, tp.topic + "-" + std::to_string(tp.partition) +
                                               " has no leader (cached leader -1)"};
    }
    return status{errc::request_timed_out, probe_.last_error()};
  }

protected:
  caf::actor admin_broker() override { return {}; } // admin goes through probe_

private:
  target_kind kind_;
  client_caf_config cfg_;
  caf::actor_system sys_;
  cluster::node_processes procs_;
  cluster::cluster_probe probe_;
  int32_t rf_ = 1;
  int32_t min_isr_ = 2;
};

} // namespace

result<std::unique_ptr<target>> target::start_child(const target_options& o) {
  if (o.node_binary.empty() || ::access(o.node_binary.c_str(), X_OK) != 0)
    return status{errc::invalid_config,
                  "actorlog-node not found at \"" + o.node_binary + "\" (use --node-binary)"};
  cluster::cluster_options co;
  co.node_binary = o.node_binary;
  co.extra_overrides = o.overrides;
  if (o.kind == target_kind::cluster) {
    co.config_dir = o.cluster_config_dir;
    co.work_dir = o.data_dir + "/cluster";
  } else {
    co.node_count = 1;
    co.config_files = {o.config_path};
    co.work_dir = o.data_dir + "/remote";
  }
  std::error_code ec;
  fs::create_directories(co.work_dir, ec);
  if (ec)
    return status{errc::kafka_storage_error, co.work_dir + ": " + ec.message()};
  std::unique_ptr<child_target> t;
  try {
    t = std::make_unique<child_target>(o, co);
  } catch (const std::exception& e) { // no free port
    return status{errc::unknown_server_error, e.what()};
  }
  if (auto st = t->start(); !st)
    return st;
  return std::unique_ptr<target>(std::move(t));
}

} // namespace al::bench
