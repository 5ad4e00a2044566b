#include "tools/chaos/chaos_run.hpp"

#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "tools/chaos/cluster_steps.hpp"
#include "tools/chaos/read_back.hpp"
#include "tools/chaos/report.hpp"
#include "tools/chaos/workload.hpp"

namespace chaos {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// The idempotent workload: acks=all producers, every ack against the log.
int run_idempotent(caf::actor_system& sys, const run_options& o) {
  node_processes procs{cluster_opts(o)};
  cluster_probe probe{sys, procs};
  if (auto why = start_cluster(procs, probe, o, {o.topic}); !why.empty()) {
    spdlog::critical("{}", why);
    return 3;
  }
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
  settled_end_offsets(probe, o.topic, o.partitions, 20s, hw, start, rep.replicas_note);
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

} // namespace

int run(caf::actor_system& sys, const run_options& o) {
  spdlog::info("seed {}, {} workload, {} s of faults ({}), work dir {}", o.seed, o.workload,
               o.duration_s, fault_kinds_text(o.kinds), o.work_dir);
  if (o.workload == "transactional")
    return run_transactional(sys, o);
  return run_idempotent(sys, o);
}

} // namespace chaos
