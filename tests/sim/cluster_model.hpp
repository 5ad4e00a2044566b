#pragma once
// Data of the whole-cluster simulation (tests/sim/cluster_sim_test.cpp,
// txn_sim_test.cpp):
// the knobs one seed picks, the messages nodes exchange, and the log entries
// the brokers keep. The model and the invariants: docs/replication.md,
// "Whole-cluster simulation".
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "actors/controller/raft_messages.hpp"
#include "actors/partition/replica_messages.hpp"
#include "actors/txn/txn_machine.hpp"
#include "tests/sim/sim_harness.hpp"

namespace al::cluster_sim {

constexpr int nodes = 3;          // ids 1..3: each a Raft voter and a broker
constexpr int first_producer = 10; // producers 10, 11, ...: never cut off
constexpr int32_t min_isr = 2;     // RF 3: one broker may be down
constexpr int first_txn_client = 100; // transactional producer instances 100, 101, ...

struct knobs {
  int profile; // 0 calm, 1 network, 2 crashes, 3 isr (only when asked for)
  int partitions, producers, max_batch, max_fetch_batches, max_in_flight, max_down;
  int32_t election_ticks, heartbeat_ticks;
  int64_t raft_tick_ms, tick_ms, min_delay_ms, max_delay_ms, controller_delay_ms, lag_ms,
    fetch_backoff_ms,
    fetch_wait_ms, publish_ms, request_timeout_ms, heartbeat_ms, session_ms, produce_timeout_ms,
    max_down_ms, safety_ms;
  double drop, duplicate, crash, leader_crash, machine_crash, partition, heal, produce,
    checkpoint, flush, snapshot, retention;

  /// `isr_races`: the "isr" profile, which the default run never draws (so
  /// its seeds keep their meaning): a slow, duplicating link to the
  /// controller (AlterPartition, heartbeats, registration), short lag times
  /// and frequent crashes aimed at leaders, so ISR changes race with each
  /// other and with elections.
  static knobs from(sim::rng& r, bool isr_races = false) {
    knobs k;
    // Swarm testing: "calm" has some of every fault, "network" many drops
    // and cut links, "crashes" a node dying every second or so.
    k.profile = int(r.between(0, 3)) % 3; // calm twice as often
    if (isr_races)
      k.profile = 3;
    bool network = k.profile == 1, crashes = k.profile == 2, isr = k.profile == 3;
    k.partitions = int(r.between(1, 3));
    k.producers = int(r.between(1, 2));
    k.max_batch = int(r.between(1, 4));
    k.max_fetch_batches = int(r.between(1, 8));
    k.min_delay_ms = r.between(1, 5);
    k.max_delay_ms = r.between(k.min_delay_ms, network ? 40 : 20);
    // Raft: broadcast time well below the election timeout (§5.6).
    k.raft_tick_ms = r.between(10, 20);
    k.election_ticks = int32_t(r.between(8, 16));
    k.heartbeat_ticks = int32_t(r.between(1, 3));
    k.tick_ms = r.between(5, 10);
    k.fetch_backoff_ms = r.between(2, 30);
    k.controller_delay_ms = isr ? r.between(20, 300) : 0; // extra, to and from the controller
    k.request_timeout_ms = 3 * (k.max_delay_ms + k.controller_delay_ms) + r.between(10, 100);
    k.lag_ms = r.between(4 * (k.max_delay_ms + k.fetch_backoff_ms), isr ? 250 : 500);
    k.heartbeat_ms = r.between(20, 80);
    // Heartbeats get through within a session unless links are cut; a
    // controller election fits in one too.
    k.session_ms = 3 * (k.heartbeat_ms + 2 * (k.max_delay_ms + k.controller_delay_ms)) +
                   2 * k.election_ticks * k.raft_tick_ms + r.between(0, 600);
    k.produce_timeout_ms = r.between(100, 600);
    k.max_down_ms = r.between(50, crashes ? 1000 : isr ? 400 : 2500);
    k.safety_ms = r.between(3000, 6000);
    k.drop = r.chance(0.2) ? 0 : double(r.between(0, network ? 20 : 8)) / 100;
    k.duplicate = double(isr ? r.between(10, 30) : r.between(0, 8)) / 100;
    k.crash = double(crashes || isr ? r.between(50, 300) : r.between(0, 30)) / 100000; // per ms
    k.leader_crash = isr ? 0.8 : 0.6; // share of crashes aimed at a leader (Raft or partition)
    k.partition = double(network ? r.between(50, 300) : r.between(0, 50)) / 100000;
    k.heal = double(r.between(50, 500)) / 100000; // per ms
    k.produce = double(r.between(5, 60)) / 1000;  // per ms, per producer and partition
    k.checkpoint = double(r.between(10, 100)) / 100;
    // Issue 12's scenario classes. Kafka's max.in.flight.requests.per.connection
    // (<= 5 with idempotence); two nodes down at once in half the "crashes"
    // seeds; the share of crashes that take the machine (page cache) too.
    k.max_in_flight = int(r.between(1, 5));
    k.max_down = crashes && r.chance(0.5) ? 2 : 1;
    k.machine_crash = double(r.between(0, crashes ? 60 : 30)) / 100;
    // fsync of the log and HW checkpoint, per append and per replica tick
    // (1: flush.messages=1); producer-state snapshots and retention runs per
    // replica tick.
    k.flush = r.chance(0.2) ? 1.0 : double(r.between(0, 30)) / 100;
    k.snapshot = double(r.between(0, 10)) / 100;
    k.retention = r.chance(0.3) ? 0 : double(r.between(1, 40)) / 1000;
    // Follower long polls at the leader (0: answered at once; the follower's
    // request timeout adds the wait, as the partition actor's does). Brokers
    // publish the metadata their voter applied at once, or in batches every
    // publish_ms (KRaft's loader), skipping intermediate states.
    k.fetch_wait_ms = r.chance(0.3) ? 0 : r.between(1, 500);
    k.publish_ms = r.chance(0.5) ? 0 : r.between(1, 200);
    return k;
  }

  std::string describe() const {
    static const char* names[] = {"calm", "network", "crashes", "isr"};
    std::ostringstream os;
    os << names[profile] << ": " << partitions << " partitions, " << producers
       << " producers, batches <= " << max_batch << " x " << max_in_flight
       << " in flight, fetch <= " << max_fetch_batches << " waiting <= " << fetch_wait_ms
       << " ms, metadata every " << publish_ms << " ms, raft T=" << election_ticks
       << "x" << raft_tick_ms << " ms, tick " << tick_ms << " ms, delay " << min_delay_ms << "-"
       << max_delay_ms << " ms (+" << controller_delay_ms << " to the controller), drop " << drop
       << ", dup " << duplicate << ", lag " << lag_ms
       << " ms, session " << session_ms << " ms, heartbeat " << heartbeat_ms << " ms, crash "
       << crash << "/ms (" << machine_crash << " machine, down <= " << max_down << " x "
       << max_down_ms << " ms), flush " << flush << ", snapshot " << snapshot << ", retention "
       << retention << ", partition " << partition << "/ms, heal " << heal << "/ms, faults for "
       << safety_ms << " ms";
    return os.str();
  }
};

/// What a batch is (cluster_txn.hpp): an idempotent producer's records, a
/// transactional producer's, a COMMIT or ABORT marker (a control batch),
/// or a transaction coordinator's __transaction_state record.
enum class entry_type : uint8_t { data, txn_data, commit_marker, abort_marker, txn_state };

/// One offset of a partition log; a batch is a run of entries sharing batch_base.
struct log_entry {
  int32_t epoch = 0;
  int64_t producer = 0;
  int32_t seq = 0;
  int64_t batch_base = 0;
  int32_t batch_len = 0;
  entry_type type = entry_type::data;
  int16_t producer_epoch = 0;
  int32_t payload = -1; // txn_state: the encoded batch (transactions::payloads)
  uint64_t record() const { return uint64_t(producer) << 32 | uint32_t(seq); }
  bool marker() const {
    return type == entry_type::commit_marker || type == entry_type::abort_marker;
  }
  friend bool operator==(const log_entry& a, const log_entry& b) {
    return a.epoch == b.epoch && a.record() == b.record() && a.batch_base == b.batch_base &&
           a.batch_len == b.batch_len && a.type == b.type &&
           a.producer_epoch == b.producer_epoch && a.payload == b.payload;
  }
  friend bool operator!=(const log_entry& a, const log_entry& b) { return !(a == b); }
};

enum class kind : uint8_t {
  raft, heartbeat, alter, alter_resp, fetch, fetch_resp, epoch_req, epoch_resp, produce,
  produce_resp, register_req, register_resp, txn_req, txn_resp,
  verify_req, verify_resp // KIP-890 part 1: a partition leader's node asks a coordinator
};

struct message {
  kind k = kind::raft;
  int from = 0, to = 0;
  int64_t to_incarnation = 0; // 0: whoever runs; else only that process gets it
  int64_t incarnation = 0;    // the sender's (heartbeat, register, alter, fetch, epoch_req)
  int32_t partition = 0;
  raft_message raft;
  alter_isr_request alter;
  alter_isr_response alter_resp;
  replica_fetch_request fetch;
  replica_fetch_response fetch_resp;
  std::vector<log_entry> entries;
  offsets_for_epoch_request epoch_req;
  offsets_for_epoch_response epoch_resp;
  int64_t producer = 0; // produce and its answer: producer id, first sequence, count
  int32_t base_seq = 0, count = 0;
  int32_t attempt = 0;   // which send of the batch this is (errors of older ones are stale)
  errc error = errc::none;
  int64_t base_offset = -1;
  // Transactions (cluster_txn.hpp): what a produce writes, and for the
  // coordinator's appends and markers the request it answers; a client's
  // request to a coordinator and its answer.
  entry_type type = entry_type::data;
  int16_t producer_epoch = 0;
  int32_t payload = -1;
  bool epoch_bumped = true; // a marker's: its end bumped the epoch
  uint64_t tag = 0;
  std::optional<txn_init_request> init;
  std::optional<txn_add_partitions_request> add;
  std::optional<txn_end_request> end;
  txn_response txn;
};

inline message msg(kind k, int from, int to, int32_t partition = 0, int64_t to_incarnation = 0) {
  message m;
  m.k = k, m.from = from, m.to = to, m.partition = partition, m.to_incarnation = to_incarnation;
  return m;
}

struct stats {
  int64_t acked = 0, crashes = 0, partitions = 0, dropped = 0, raft_leaders = 0,
          metadata_commands = 0, leader_epochs = 0, truncations = 0, duplicates = 0,
          worst_liveness_ms = 0;
  // Issue 12's scenario classes: each must be reached by some seed.
  int64_t machine_crashes = 0, torn_tails = 0, hw_checkpoints_lost = 0, two_down = 0,
          refused_two_down = 0, parked = 0, parked_woken = 0, parked_fenced = 0,
          reelected = 0, restarts_at = 0, retention_deletions = 0, snapshots_loaded = 0,
          snapshots_dropped = 0, snapshots_below_start = 0, retries_in_flight = 0,
          out_of_order = 0, gaps = 0, log_start_raised = 0, cut_inside_batch = 0;
  void add(const stats& s) {
    acked += s.acked, crashes += s.crashes, partitions += s.partitions, dropped += s.dropped;
    raft_leaders += s.raft_leaders, metadata_commands += s.metadata_commands;
    leader_epochs += s.leader_epochs, truncations += s.truncations, duplicates += s.duplicates;
    worst_liveness_ms = std::max(worst_liveness_ms, s.worst_liveness_ms);
    machine_crashes += s.machine_crashes, torn_tails += s.torn_tails;
    hw_checkpoints_lost += s.hw_checkpoints_lost, two_down += s.two_down;
    refused_two_down += s.refused_two_down, parked += s.parked, parked_woken += s.parked_woken;
    parked_fenced += s.parked_fenced, reelected += s.reelected, restarts_at += s.restarts_at;
    retention_deletions += s.retention_deletions, snapshots_loaded += s.snapshots_loaded;
    snapshots_dropped += s.snapshots_dropped, snapshots_below_start += s.snapshots_below_start;
    retries_in_flight += s.retries_in_flight;
    out_of_order += s.out_of_order, gaps += s.gaps, log_start_raised += s.log_start_raised;
    cut_inside_batch += s.cut_inside_batch;
  }
};

} // namespace al::cluster_sim
