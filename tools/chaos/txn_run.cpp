// The transactional chaos run (--workload transactional, docs/chaos.md):
// writers into the input topic, the copier into the output topic, faults,
// heal, drain, read everything back three ways, check, report.
#include <iostream>
#include <thread>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/client/producer_client.hpp"
#include "tools/chaos/chaos_run.hpp"
#include "tools/chaos/cluster_steps.hpp"
#include "tools/chaos/read_back.hpp"
#include "tools/chaos/txn_copier.hpp"
#include "tools/chaos/txn_report.hpp"
#include "tools/chaos/txn_workload.hpp"

namespace chaos {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

/// The record written last to every partition (plain, not transactional):
/// readers and the copier know they have everything once they read it.
const char* const sentinel = "chaos-end";

/// The fault runner's view: the writers' acks, both stages' progress.
class txn_load_view : public load_view {
public:
  txn_load_view(const txn_workload& w, const txn_copier& c) : writers_(w), copier_(c) {}
  const ack_log& acks() const override { return writers_.acks(); }
  std::string progress() const override {
    return writers_.progress() + "; " + copier_.progress();
  }

private:
  const txn_workload& writers_;
  const txn_copier& copier_;
};

std::string write_sentinels(caf::actor_system& sys, const std::string& bootstrap,
                            const std::string& topic, int32_t partitions) {
  auto p = al::producer::create(sys, {{"bootstrap.servers", bootstrap},
                                      {"acks", "all"},
                                      {"enable.idempotence", "true"},
                                      {"delivery.timeout.ms", "60000"}});
  if (!p)
    return "sentinel producer: " + p.error().to_string();
  for (int32_t part = 0; part < partitions; ++part)
    if (auto md = (*p)->send_sync({topic, part, std::nullopt, sentinel}); !md)
      return "sentinel to " + topic + "-" + std::to_string(part) + ": " + md.error().to_string();
  (*p)->close();
  return {};
}

/// Reads `topic` up to its sentinels; a failure goes to `errors`.
std::vector<read_record> read_all(caf::actor_system& sys, cluster_probe& probe,
                                  const std::string& bootstrap, const run_options& o,
                                  const std::string& topic, const std::string& isolation,
                                  txn_run_report& rep) {
  std::vector<int64_t> hw, start;
  if (!settled_end_offsets(probe, topic, o.partitions, 20s, hw, start, rep.replicas_note)) {
    rep.errors.push_back("no end offsets for " + topic + ": " + probe.last_error());
    return {};
  }
  auto got = read_back(sys, bootstrap, topic, hw, 90s, read_options{isolation, sentinel});
  if (!got.error.empty())
    rep.errors.push_back(got.error);
  spdlog::info("{} read with {}: {} records", topic, isolation, got.records.size());
  return std::move(got.records);
}

} // namespace

int run_transactional(caf::actor_system& sys, const run_options& o) {
  txn_run_report rep;
  rep.seed = o.seed;
  rep.duration_s = o.duration_s;
  rep.input = o.topic;
  rep.output = o.topic + "-out";
  rep.partitions = o.partitions;
  rep.mutation = o.mutation;
  copier_mutation mutation = copier_mutation::none;
  if (!parse_copier_mutation(o.mutation, mutation)) {
    spdlog::critical("unknown mutation \"{}\"", o.mutation);
    return 2;
  }
  node_processes procs{cluster_opts(o)};
  cluster_probe probe{sys, procs};
  if (auto why = start_cluster(procs, probe, o, {rep.input, rep.output}); !why.empty()) {
    spdlog::critical("{}", why);
    return 3;
  }
  txn_workload writers{sys, txn_workload_options{procs.bootstrap(), rep.input, o.partitions,
                                                 o.seed, o.writers, o.txns_per_s,
                                                 o.abort_every}};
  copier_options copts;
  copts.bootstrap = procs.bootstrap();
  copts.input = rep.input;
  copts.output = rep.output;
  copts.sentinel = sentinel;
  copts.partitions = o.partitions;
  copts.seed = o.seed;
  copts.mutation = mutation;
  copts.zombie_every = o.zombie_every;
  txn_copier copier{sys, copts};
  writers.start();
  copier.start();
  std::this_thread::sleep_for(2s); // some transactions before the first fault
  txn_load_view view{writers, copier};
  fault_runner faults{procs, probe, view, fault_options{o.seed, o.kinds, rep.input, o.partitions}};
  faults.run_until(clock_type::now() + std::chrono::seconds(o.duration_s));

  spdlog::info("faults over: stop the writers, heal, wait for full ISRs");
  writers.stop();
  faults.heal_all();
  rep.isr_full_at_end = faults.wait_isr_full(60s);
  for (auto& e : writers.sample_errors())
    spdlog::warn("writer: {}", e);
  spdlog::info("{}", view.progress());
  if (auto why = write_sentinels(sys, procs.bootstrap(), rep.input, o.partitions); !why.empty())
    rep.errors.push_back(why);
  if (!copier.drain(90s))
    rep.errors.push_back("the copier did not copy up to the input's end within 90 s");
  spdlog::info("drained: {}", copier.progress());
  txn_observation obs;
  obs.final_offsets = copier.final_offsets(15s);
  if (auto why = write_sentinels(sys, procs.bootstrap(), rep.output, o.partitions); !why.empty())
    rep.errors.push_back(why);
  obs.writers = writers.history();
  obs.copier = copier.history();
  obs.copier_polled = copier.polled();
  obs.offset_samples = copier.offset_samples();
  obs.zombies = copier.zombies();
  obs.zombie_commits = copier.zombie_commits();
  auto b = procs.bootstrap();
  obs.input_committed = read_all(sys, probe, b, o, rep.input, "read_committed", rep);
  obs.input_uncommitted = read_all(sys, probe, b, o, rep.input, "read_uncommitted", rep);
  obs.output_committed = read_all(sys, probe, b, o, rep.output, "read_committed", rep);
  rep.check = check_transactions(obs);
  procs.shutdown_all();
  rep.faults = faults.stats();
  print_txn_table(std::cout, rep);
  if (o.json)
    print_txn_json(std::cout, rep);
  return rep.passed() ? 0 : 1;
}

} // namespace chaos
