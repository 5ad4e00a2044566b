#include "tools/chaos/chaos_run.hpp"

#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "tools/chaos/read_back.hpp"
#include "tools/chaos/report.hpp"
#include "tools/chaos/workload.hpp"

namespace chaos {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

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

/// Each partition's leader high watermark and log start (the read-back
/// range), and a note comparing every replica's end offset with it.
bool end_offsets(cluster_probe& probe, const run_options& o, std::vector<int64_t>& hw,
                 std::vector<int64_t>& start, std::string& note) {
  auto t = probe.topic(o.topic);
  if (!t || int32_t(t->partitions.size()) != o.partitions) {
    spdlog::error("no metadata for {}: {}", o.topic, probe.last_error());
    return false;
  }
  hw.assign(size_t(o.partitions), -1);
  start.assign(size_t(o.partitions), 0);
  int behind = 0;
  for (auto& p : t->partitions) {
    auto s = probe.replica_stats(p.leader, al::topic_partition{o.topic, p.partition});
    if (!s) {
      spdlog::error("partition {}: leader {} does not say its offsets: {}", p.partition, p.leader,
                    probe.last_error());
      return false;
    }
    hw[size_t(p.partition)] = s->high_watermark;
    start[size_t(p.partition)] = s->log_start_offset;
    std::string line = "partition " + std::to_string(p.partition) + ": leader " +
                       std::to_string(p.leader) + " HW " + std::to_string(s->high_watermark) +
                       " LEO " + std::to_string(s->log_end_offset) + "; replicas";
    for (auto r : p.replicas) {
      auto rs = probe.replica_stats(r, al::topic_partition{o.topic, p.partition});
      line += " " + std::to_string(r) + ":" + (rs ? std::to_string(rs->log_end_offset) : "?");
      if (!rs || rs->log_end_offset != s->log_end_offset)
        ++behind;
    }
    spdlog::info("{}", line);
  }
  note = behind == 0 ? "every replica at its leader's end offset"
                     : std::to_string(behind) + " replica(s) not at the leader's end offset";
  return true;
}

} // namespace

int run(caf::actor_system& sys, const run_options& o) {
  spdlog::info("seed {}, {} s of faults ({}), work dir {}", o.seed, o.duration_s,
               [&] {
                 std::string s;
                 for (auto k : o.kinds)
                   s += (s.empty() ? "" : ",") + std::string{to_string(k)};
                 return s.empty() ? std::string{"none"} : s;
               }(),
               o.work_dir);
  cluster_options copts;
  copts.bin_dir = o.bin_dir;
  copts.config_dir = o.config_dir;
  copts.work_dir = o.work_dir;
  copts.extra_overrides = fast_overrides;
  node_processes procs{copts};
  cluster_probe probe{sys, procs};
  if (auto why = probe.start_all(procs, 30s); !why.empty()) {
    spdlog::critical("{}", why);
    return 3;
  }
  spdlog::info("cluster up: {} (active controller: node {})", procs.bootstrap(),
               probe.controller_id());
  if (!wait_brokers_unfenced(procs, probe, 30s)) {
    spdlog::critical("the brokers did not all register (unfenced) within 30 s");
    return 3;
  }
  al::create_topic_request req{o.topic, o.partitions, 3, {{"min.insync.replicas", "2"}}};
  if (auto why = probe.create_topic(req, 60s); !why.empty()) {
    spdlog::critical("{}", why);
    return 3;
  }
  spdlog::info("topic {} created: {} partitions, RF 3, min.insync.replicas 2", o.topic,
               o.partitions);
  workload load{sys, workload_options{procs.bootstrap(), o.topic, o.producers,
                                      o.keys_per_producer, o.records_per_s}};
  if (auto st = load.start(); !st) {
    spdlog::critical("producers: {}", st.to_string());
    return 3;
  }
  std::this_thread::sleep_for(2s); // some acks before the first fault
  fault_runner faults{procs, probe, load,
                      fault_options{o.seed, o.kinds, o.topic, o.partitions}};
  faults.run_until(clock_type::now() + std::chrono::seconds(o.duration_s));

  spdlog::info("faults over: stop producing, heal, wait for full ISRs");
  load.stop_sending();
  faults.heal_all();
  run_report rep;
  rep.seed = o.seed;
  rep.duration_s = o.duration_s;
  rep.topic = o.topic;
  rep.partitions = o.partitions;
  rep.isr_full_at_end = faults.wait_isr_full(60s);
  if (auto st = load.flush(120s); !st)
    spdlog::warn("flush: {}", st.to_string());
  rep.load = load.counts();
  for (auto& e : load.sample_errors())
    spdlog::warn("delivery failed: {}", e);
  auto acked = load.acked();
  load.close();
  spdlog::info("{} sent, {} acked, {} failed; reading back", rep.load.sent, rep.load.acked,
               rep.load.failed);
  std::vector<int64_t> hw, start;
  // Followers may still be fetching the last batches: give the end offsets a moment to settle.
  auto settle = clock_type::now() + 20s;
  while (end_offsets(probe, o, hw, start, rep.replicas_note) &&
         rep.replicas_note != "every replica at its leader's end offset" &&
         clock_type::now() < settle)
    std::this_thread::sleep_for(500ms);
  if (hw.empty() || hw.front() < 0) {
    rep.read_error = "no end offsets: " + probe.last_error();
    rep.check.acked = int64_t(acked.size());
  } else {
    auto got = read_back(sys, procs.bootstrap(), o.topic, hw, 120s);
    rep.read_error = got.error;
    rep.check = check_records(acked, std::move(got.records), start);
  }
  procs.shutdown_all();
  rep.faults = faults.stats();
  print_table(std::cout, rep);
  if (o.json)
    print_json(std::cout, rep);
  return rep.passed() ? 0 : 1;
}

} // namespace chaos
