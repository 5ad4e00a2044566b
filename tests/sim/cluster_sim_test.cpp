// Seeded whole-cluster simulation (issue #5, fault injection 1; issue 12's
// scenario classes): 3 nodes, each a Raft controller voter (raft_machine +
// metadata_machine), a broker (replica_machine per partition, RF 3,
// min.insync.replicas 2) and, on the active controller, fencing and
// partition elections (partition_election_machine); idempotent acks=all
// producers with up to 5 batches in flight; a network that drops,
// duplicates, delays (so reorders) and cuts links; nodes that crash and
// restart, up to two at once. Every knob comes from the seed; time is
// virtual.
//
// Durability rule. A process crash (kill -9) keeps every file whole: the
// page cache outlives the process. A machine crash (power loss) also loses
// the page cache: each partition log keeps its fsynced prefix plus a random
// run of whole batches after it (a torn tail), the HW checkpoint goes back
// to its last fsync; producer-state snapshots and Raft's disk are fsynced
// when written and survive (Raft's save() completes before the ready's
// messages leave). Lost either way: the metadata image (rebuilt by
// replaying the committed Raft log), replica and producer state (rebuilt
// from the files), waiting produce requests, parked fetches, messages in
// flight to the old process. At most max_down nodes (1, or 2 in some
// "crashes" seeds: the last replica standing) are down at a time.
//
// A machine crash is injected only where the cluster claims to survive
// it, and nothing else fails until it is repaired: every node up and
// registered, no link cut, every ISR full, the victim leading nothing; then
// no crash, no new cut and no lost message until the victim's new
// incarnation is registered (the controller fences a restarted broker out of
// every ISR first, but keeps the last member). A torn tail on the last ISR
// member loses acknowledged records when it is elected again: Kafka's
// acks=all promise does not cover that either (KIP-966), nor does ours.
//
// Two cases: the default run (each seed picks calm, network or crashes)
// and the isr profile for every seed (a slow, duplicating controller link,
// short lag times, crashes aimed at leaders: ISR changes race with each
// other and with elections; what the older replication simulation's "isr"
// profile did).
//
// Invariants: cluster_controller.hpp (Raft) and cluster_checks.hpp (data).
// After the faults stop, within a bound, every batch must be acknowledged
// (or have failed with OUT_OF_ORDER_SEQUENCE, cluster_producers.hpp), every
// ISR full and every replica equal. docs/replication.md, "Whole-cluster
// simulation", lists the mutations this catches.
// --seed N replays one seed (name the case to replay it in one of them);
// AL_CLUSTER_TRACE=1 prints every message.
#include <chrono>
#include <iostream>

#include "tests/sim/cluster_run.hpp"

using namespace al;

namespace {

/// Runs the seeds (one profile from each, or the isr profile for all) and
/// prints what they reached; returns how many ran.
uint64_t run_seeds(uint64_t default_count, bool isr_races, cluster_sim::stats& total,
                   cluster_sim::group_stats& groups) {
  auto started = std::chrono::steady_clock::now();
  uint64_t count = sim::for_each_seed(default_count, [&](uint64_t seed) {
    cluster_sim::simulation sim(seed, isr_races);
    std::string failure = sim.run();
    total.add(sim.result());
    groups.add(sim.group_result());
    return failure;
  });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started).count();
  std::cout << (isr_races ? "cluster sim, ISR races: " : "cluster sim: ") << count
            << " seeds in " << ms << " ms: " << total.acked
            << " records acknowledged, " << total.duplicates << " retries deduplicated, "
            << total.raft_leaders << " Raft leaders, " << total.metadata_commands
            << " metadata commands, " << total.leader_epochs << " partition leader epochs, "
            << total.truncations << " truncations (" << total.cut_inside_batch
            << " inside a batch of the follower), " << total.crashes << " crashes, "
            << total.partitions << " partitions, " << total.dropped
            << " messages dropped; worst time to converge after the faults stopped: "
            << total.worst_liveness_ms << " ms; groups: " << groups.commits << " commits, "
            << groups.fenced << " stale fenced, " << groups.generations << " generations, "
            << groups.moves << " coordinator loads, " << groups.member_crashes
            << " member crashes, " << groups.revocations << " eager revocations, "
            << groups.stalls << " poll stalls, " << groups.refused
            << " commits refused while rebalancing\n"
            << "  issue 12: " << total.machine_crashes << " machine crashes, " << total.torn_tails
            << " torn tails, " << total.hw_checkpoints_lost << " HW checkpoints lost, "
            << total.two_down << " two-down periods, " << total.refused_two_down
            << " NOT_ENOUGH_REPLICAS while two down, " << total.parked << " parked fetches ("
            << total.parked_woken << " woken by an append, " << total.parked_fenced
            << " failed by an epoch or role change), " << total.reelected
            << " leaders re-elected in a newer epoch, " << total.restarts_at
            << " restarts at the leader's log start, " << total.log_start_raised
            << " log starts raised to the leader's, " << total.retention_deletions
            << " retention deletions, " << total.snapshots_loaded << " snapshots loaded, "
            << total.snapshots_dropped << " snapshots dropped above the log end, "
            << total.snapshots_below_start << " below the log start, "
            << total.retries_in_flight << " retries with batches in flight, "
            << total.out_of_order << " OUT_OF_ORDER_SEQUENCE, " << total.gaps
            << " batches failed by it\n";
  return count;
}

} // namespace

TEST_CASE("cluster simulation: Raft controllers, replicas, producers, faults", "[cluster][sim]") {
  cluster_sim::stats total;
  cluster_sim::group_stats groups;
  uint64_t count = run_seeds(500, false, total, groups);
  if (count > 1) { // the faults must actually exercise the machines
    CHECK(total.crashes > 0);
    CHECK(total.duplicates > 0);
    CHECK(total.raft_leaders > int64_t(count));
    CHECK(total.leader_epochs > int64_t(count));
    CHECK(groups.fenced > 0);
    CHECK(groups.moves > int64_t(count));
    CHECK(groups.revocations > 0);
    CHECK(groups.stalls > 0);
    CHECK(total.machine_crashes > 0);
    CHECK(total.torn_tails > 0);
    CHECK(total.hw_checkpoints_lost > 0);
    CHECK(total.two_down > 0);
    CHECK(total.refused_two_down > 0);
    CHECK(total.parked_woken > 0);
    CHECK(total.parked_fenced > 0);
    CHECK(total.restarts_at > 0);
    CHECK(total.log_start_raised > 0);
    CHECK(total.retention_deletions > 0);
    CHECK(total.snapshots_loaded > 0);
    CHECK(total.snapshots_dropped > 0);
    CHECK(total.retries_in_flight > 0);
    CHECK(total.out_of_order > 0);
  }
}

// The isr profile (cluster_model.hpp): ISR changes racing with each other and
// with elections over a slow, duplicating controller link. A case of its own
// so the default run's seeds keep their meaning.
TEST_CASE("cluster simulation: ISR changes race with elections", "[cluster][sim]") {
  cluster_sim::stats total;
  cluster_sim::group_stats groups;
  uint64_t count = run_seeds(800, true, total, groups);
  if (count > 1) {
    CHECK(total.crashes > int64_t(count));
    CHECK(total.leader_epochs > 2 * int64_t(count));
    CHECK(total.duplicates > 0);
  }
}
