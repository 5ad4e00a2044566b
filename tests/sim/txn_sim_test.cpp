// Transactions in the seeded whole-cluster simulation (issue 16, item 6):
// the cluster of cluster_sim_test.cpp (Raft controllers, replicas, faults,
// idempotent producers, groups) plus transaction coordinators running the
// shipped txn_machine on the leader of t-0 (the simulated
// __transaction_state, reloaded from its replicated log with the shipped
// txn_log_reader when its leadership moves), transactional producers and
// zombies (cluster_txn_clients.hpp), and markers admitted by the shipped
// produce_machine::admit_marker into each partition's
// producer_state_table / partition_txn_machine (cluster_txn.hpp). Faults:
// everything the cluster simulation injects (so coordinator nodes crash,
// restart and lose leadership, and WriteTxnMarkers requests and answers are
// dropped, duplicated and delayed), plus zombie producers and transaction
// timeouts. Invariants: cluster_txn_checks.hpp, checked as the run goes
// and at the end. Seeds and knobs other than the transactions' are the
// cluster simulation's profiles (calm, network, crashes).
//
// Mutations (txn_mutation, a runtime switch only these tests set), each
// caught within the seeds its case runs (docs/transactions.md,
// "Simulation", has the first failing seeds):
//   marker_any_epoch     a partition appends a marker older than its
//                        producer's epoch (a duplicate from an earlier
//                        transaction closes the next one)
//   data_any_epoch       a partition appends a transactional batch of a
//                        fenced epoch (a zombie's write)
//   answer_before_write  EndTxn(commit) answered before PrepareCommit is
//                        written
//   no_markers_on_load   a coordinator that takes over does not write the
//                        markers of transactions it finds preparing
//   no_verification      brokers let every transactional batch through
//                        (before KIP-890 part 1): a batch to a partition
//                        left out of its transaction opens one no marker
//                        closes
// (data_any_epoch also turns verification off: it tests the partition's own
// epoch check, which verification would otherwise stand in front of.)
// --seed N replays one seed; AL_SEED_COUNT=M runs M seeds (a longer
// sweep); AL_TXN_MUTATION=<name> runs them with a mutation (replays a
// mutation's failing seed); AL_CLUSTER_TRACE=1 prints every message and
// coordinator event.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string_view>

#include "tests/sim/cluster_run.hpp"

using namespace al;

namespace {

constexpr const char* mutation_names[] = {"none",
                                           "marker_any_epoch",
                                           "data_any_epoch",
                                           "answer_before_write",
                                           "no_markers_on_load",
                                           "no_verification"};

/// AL_TXN_MUTATION=<name> replays a mutation's seeds in the first case.
cluster_sim::txn_mutation mutation_from_env() {
  auto* env = std::getenv("AL_TXN_MUTATION");
  for (size_t i = 0; env && i < std::size(mutation_names); ++i)
    if (std::string_view{env} == mutation_names[i])
      return cluster_sim::txn_mutation(i);
  if (env)
    FAIL("AL_TXN_MUTATION=" << env << ": not a mutation (marker_any_epoch, data_any_epoch, "
                                      "answer_before_write, no_markers_on_load, no_verification)");
  return cluster_sim::txn_mutation::none;
}

struct txn_totals {
  cluster_sim::stats cluster;
  cluster_sim::txn_stats txn;
};

/// Runs `count` seeds (or the environment's) with transactions on; returns
/// how many ran.
uint64_t run_txn_seeds(uint64_t count, txn_totals& total) {
  auto started = std::chrono::steady_clock::now();
  auto mutation = mutation_from_env();
  uint64_t ran = sim::for_each_seed(count, [&](uint64_t seed) {
    cluster_sim::simulation sim(seed, false, {true, mutation});
    std::string failure = sim.run();
    total.cluster.add(sim.result());
    total.txn.add(sim.txn_result());
    return failure;
  });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started).count();
  auto& t = total.txn;
  std::cout << "transaction sim: " << ran << " seeds in " << ms << " ms: " << t.committed
            << " committed, " << t.aborted << " aborted (answered), " << t.records_checked
            << " transactional records checked below the LSO, " << t.loads
            << " coordinator loads (" << t.recovered << " transactions found preparing), "
            << t.markers << " markers sent (" << t.marker_retries << " timed out, " << t.late_markers
            << " late copies, " << t.markers_refused << " refused as stale), "
            << t.timeouts << " appends timed out, " << t.zombies << " zombies ("
            << t.zombie_refused << " of their writes refused), " << t.verified
            << " batches verified, " << t.stray << " written outside their transaction ("
            << t.stray_refused << " refused), " << t.fenced
            << " producers stopped; cluster: " << total.cluster.crashes << " crashes, "
            << total.cluster.leader_epochs << " leader epochs, " << total.cluster.dropped
            << " messages dropped\n";
  return ran;
}

/// The first seed in [1, limit] at which the mutation is caught by the
/// check that reports `symptom` (0 if none), with what it reported; and the
/// first seed it is caught at all.
struct caught {
  uint64_t seed = 0, first = 0;
  std::string failure;
};
caught first_caught(cluster_sim::txn_mutation mutation, const char* symptom, uint64_t limit) {
  caught c;
  for (uint64_t seed = 1; seed <= limit && !c.seed; ++seed) {
    sim::current_seed = seed;
    cluster_sim::simulation sim(seed, false, {true, mutation});
    auto failure = sim.run();
    if (!failure.empty() && !c.first)
      c.first = seed;
    if (failure.find(symptom) != std::string::npos)
      c.seed = seed, c.failure = failure;
  }
  return c;
}

} // namespace

TEST_CASE("transaction simulation: coordinators, markers, zombies, faults", "[cluster][sim][txn]") {
  txn_totals total;
  uint64_t ran = run_txn_seeds(250, total);
  if (ran > 1) { // the faults must reach the transaction machines
    CHECK(total.txn.committed > int64_t(ran));
    CHECK(total.txn.aborted > 0);
    CHECK(total.txn.records_checked > 0);
    CHECK(total.txn.loads > int64_t(ran));
    CHECK(total.txn.recovered > 0);
    CHECK(total.txn.marker_retries > 0);
    CHECK(total.txn.late_markers > 0);
    CHECK(total.txn.markers_refused > 0);
    CHECK(total.txn.zombies > 0);
    CHECK(total.txn.zombie_refused > 0);
    CHECK(total.txn.verified > 0);
    CHECK(total.txn.stray_refused > 0);
    CHECK(total.cluster.crashes > 0);
  }
}

TEST_CASE("transaction simulation: the checks catch broken rules", "[cluster][sim][txn]") {
  using m = cluster_sim::txn_mutation;
  for (auto [mutation, symptom] : {
         std::pair{m::marker_any_epoch, "another transaction's"},
         std::pair{m::data_any_epoch, "zombie write accepted"},
         std::pair{m::answer_before_write, "no decision was written"},
         std::pair{m::no_markers_on_load, "liveness"},
         std::pair{m::no_verification, "hanging transaction"},
       }) {
    auto name = mutation_names[size_t(mutation)];
    auto c = first_caught(mutation, symptom, 300);
    INFO("mutation " << name << " not caught by \"" << symptom << "\" in 300 seeds");
    std::cout << "mutation " << name << ": first failing seed " << c.first << ", caught by \""
              << symptom << "\" at seed " << c.seed << ": "
              << c.failure.substr(0, c.failure.find('\n')) << "\n";
    CHECK(c.seed > 0);
  }
}
