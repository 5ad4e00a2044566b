#include "tools/chaos/cluster_steps.hpp"

#include <thread>

#include <spdlog/spdlog.h>

namespace chaos {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

const char* const replicas_in_step = "every replica at its leader's end offset";

namespace {

/// Timeouts short enough that faults resolve within a short run.
const std::vector<std::string> fast_overrides = {
  "broker.session.timeout.ms=2000",
  "broker.heartbeat.interval.ms=300",
  "replica.lag.time.max.ms=3000",
};

/// Until some node describes all three brokers as registered and unfenced
/// (a topic with RF 3 needs them), at most `bound`.
bool wait_brokers_unfenced(const node_processes& procs, cluster_probe& probe,
                           std::chrono::seconds bound) {
  auto deadline = clock_type::now() + bound;
  while (clock_type::now() < deadline) {
    for (auto& n : procs.nodes()) {
      auto d = probe.describe(n.id, 1000ms);
      if (!d)
        continue;
      int live = 0;
      for (auto& b : d->brokers)
        live += b.fenced ? 0 : 1;
      if (live == int(procs.nodes().size()))
        return true;
    }
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

} // namespace

bool end_offsets(cluster_probe& probe, const std::string& topic, int32_t partitions,
                 std::vector<int64_t>& hw, std::vector<int64_t>& start, std::string& note) {
  auto t = probe.topic(topic);
  if (!t || int32_t(t->partitions.size()) != partitions) {
    spdlog::error("no metadata for {}: {}", topic, probe.last_error());
    return false;
  }
  hw.assign(size_t(partitions), -1);
  start.assign(size_t(partitions), 0);
  int behind = 0;
  for (auto& p : t->partitions) {
    auto s = probe.replica_stats(p.leader, al::topic_partition{topic, p.partition});
    if (!s) {
      spdlog::error("partition {}: leader {} does not say its offsets: {}", p.partition, p.leader,
                    probe.last_error());
      return false;
    }
    hw[size_t(p.partition)] = s->high_watermark;
    start[size_t(p.partition)] = s->log_start_offset;
    std::string line = topic + " partition " + std::to_string(p.partition) + ": leader " +
                       std::to_string(p.leader) + " HW " + std::to_string(s->high_watermark) +
                       " LEO " + std::to_string(s->log_end_offset) + "; replicas";
    for (auto r : p.replicas) {
      auto rs = probe.replica_stats(r, al::topic_partition{topic, p.partition});
      line += " " + std::to_string(r) + ":" + (rs ? std::to_string(rs->log_end_offset) : "?");
      if (!rs || rs->log_end_offset != s->log_end_offset)
        ++behind;
    }
    spdlog::info("{}", line);
  }
  note = behind == 0 ? replicas_in_step
                     : std::to_string(behind) + " replica(s) not at the leader's end offset";
  return true;
}


bool settled_end_offsets(cluster_probe& probe, const std::string& topic, int32_t partitions,
                         std::chrono::seconds bound, std::vector<int64_t>& hw,
                         std::vector<int64_t>& start, std::string& note) {
  auto settle = clock_type::now() + bound;
  bool ok = false;
  while ((ok = end_offsets(probe, topic, partitions, hw, start, note)) &&
         note != replicas_in_step && clock_type::now() < settle)
    std::this_thread::sleep_for(500ms);
  return ok;
}

cluster_options cluster_opts(const run_options& o) {
  cluster_options copts;
  copts.bin_dir = o.bin_dir;
  copts.config_dir = o.config_dir;
  copts.work_dir = o.work_dir;
  copts.extra_overrides = fast_overrides;
  return copts;
}

std::string fault_kinds_text(const std::vector<fault_kind>& kinds) {
  std::string s;
  for (auto k : kinds)
    s += (s.empty() ? "" : ",") + std::string{to_string(k)};
  return s.empty() ? std::string{"none"} : s;
}

std::string start_cluster(node_processes& procs, cluster_probe& probe, const run_options& o,
                          const std::vector<std::string>& topics) {
  if (auto why = probe.start_all(procs, 30s); !why.empty())
    return why;
  spdlog::info("cluster up: {} (active controller: node {})", procs.bootstrap(),
               probe.controller_id());
  if (!wait_brokers_unfenced(procs, probe, 30s))
    return "the brokers did not all register (unfenced) within 30 s";
  for (auto& topic : topics) {
    al::create_topic_request req{topic, o.partitions, 3, {{"min.insync.replicas", "2"}}};
    if (auto why = probe.create_topic(req, 60s); !why.empty())
      return why;
    spdlog::info("topic {} created: {} partitions, RF 3, min.insync.replicas 2", topic,
                 o.partitions);
  }
  return {};
}

} // namespace chaos
