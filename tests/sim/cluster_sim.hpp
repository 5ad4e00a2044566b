#pragma once
// The whole-cluster simulation's state and steps. Definitions are split by
// role: cluster_controller.hpp (Raft voters, metadata, the active
// controller), cluster_broker.hpp (replicas, produce, idempotence,
// housekeeping), cluster_fetch.hpp (follower fetches, long polls),
// cluster_disk.hpp (a replica's files), cluster_producers.hpp (idempotent
// producers), cluster_checks.hpp (invariants), cluster_txn*.hpp
// (transactions, only in txn_sim_test.cpp); the run loop in
// cluster_run.hpp; the faults in cluster_faults.hpp; the tests in
// cluster_sim_test.cpp and txn_sim_test.cpp.
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/controller/active_controller_machine.hpp"
#include "actors/controller/metadata_machine.hpp"
#include "actors/controller/partition_election_machine.hpp"
#include "actors/controller/raft_machine.hpp"
#include "actors/controller/raft_memory_storage.hpp"
#include "actors/partition/produce_machine.hpp"
#include "actors/partition/producer_state_machine.hpp"
#include "actors/partition/replica_machine.hpp"
#include "tests/sim/cluster_disk.hpp"
#include "tests/sim/cluster_groups.hpp"
#include "tests/sim/cluster_model.hpp"
#include "tests/sim/cluster_txn_model.hpp"

namespace al::cluster_sim {

/// A follower fetch parked at the leader (long poll), answered on an append,
/// when its wait ends, or failed when the leader's epoch or role changes.
struct parked_fetch {
  message req;
  int64_t deadline = 0;
};

/// One partition replica on one broker.
struct replica {
  replica_disk disk;                   // survives crashes as the model says
  std::unique_ptr<replica_machine> m;  // null while the node is down
  producer_state_table producers;      // loaded from the disk on start, truncation, restart
  std::map<uint64_t, message> waits;   // acks=all id -> the produce answer to send
  std::vector<parked_fetch> parked;    // leader only
  int64_t verified = 0;      // log[log start, verified) matches the committed prefix
  int32_t tenure_epoch = -1; // leader epoch of the current leadership, -1: none
  int64_t tenure_hw = 0, tenure_lso = 0;
};

/// Controller state of one node: durable (disk) and volatile (the rest).
struct controller {
  raft_memory_storage disk; // Raft's fsynced term, vote, commit and log
  std::unique_ptr<raft_machine> raft;
  metadata_machine meta;
  int64_t applied = 0;
  // Active controller only (reset on every start of leadership): the
  // shipped active_controller_machine, its proposals by Raft index (term,
  // proposal id; 0: the bootstrap topic) and the requests waiting on it.
  active_controller_machine active;
  int64_t lead_term = -1;
  std::map<int64_t, std::pair<int64_t, uint64_t>> pending;
  std::map<uint64_t, std::pair<int, int64_t>> requests; // id -> broker, its incarnation
  uint64_t next_request = 1;
  bool creating = false; // the bootstrap topic's creation is in flight
};

struct node {
  sim::process_life life;
  int64_t next_heartbeat = 0;   // or the next registration attempt, until registered
  bool registered = false;      // this incarnation's registration was answered
  int64_t raft_phase = 0;
  controller ctl;
  std::vector<replica> parts;
  std::vector<std::pair<int32_t, int32_t>> pushed; // per partition: leader epoch, partition epoch
  txn_coordinator txn; // while its replica of the transaction state partition leads
  // KIP-890 part 1 (cluster_txn.hpp): the broker's verification of
  // transactional writes, the shipped txn_verify_machine, with the produce
  // requests it holds and its questions in flight.
  txn_verify_machine verify;
  std::map<uint64_t, message> verify_parked; // token -> the produce
  std::map<uint64_t, int64_t> verify_calls;  // call -> sent at
  uint64_t next_verify_token = 1;
};

/// One batch of an idempotent producer, from its first send until acked
/// or failed.
struct produce_batch {
  int32_t base_seq = 0, count = 0;
  int32_t attempt = 0;     // sends so far
  int node = 0;            // in flight on the connection to this node ...
  int64_t incarnation = 0; // ... process; 0: not in flight
  int64_t sent_at = 0, retry_at = 0;
  bool acked = false;
};

struct producer_partition {
  int32_t next_seq = 0;
  std::deque<produce_batch> batches; // in sequence order, at most max.in.flight
  std::vector<std::pair<int32_t, int64_t>> acked; // sequence -> offset, in ack order
  std::set<int32_t> failed; // sequences of batches failed with OUT_OF_ORDER_SEQUENCE
  bool probing = false;     // the first unacked batch got OUT_OF_ORDER_SEQUENCE
};

struct partition_facts {
  std::vector<log_entry> committed; // offsets below some leader's HW, ever
  std::map<int32_t, int> leaders;   // leader epoch -> broker
  std::map<int32_t, int64_t> epoch_born; // leader epoch -> committed records when elected
};

struct raft_fact {
  int64_t term;
  std::string data;
};

class simulation {
public:
  explicit simulation(uint64_t seed, bool isr_races = false, txn_options txn = {});
  simulation(const simulation&) = delete;
  std::string run();
  const stats& result() const { return stats_; }
  group_stats group_result() const { return groups_.result(); }
  txn_stats txn_result() const { return txn_.stats; }

private:
  // cluster_sim_test.cpp: loop, network, liveness
  void step();
  void send(const message& m);
  void deliver(const message& m);
  void start_liveness();
  bool converged();

  // cluster_faults.hpp
  void inject_faults();
  bool registered(int n) const;
  bool settled(int victim);
  int nodes_down() const;
  void crash(int n, bool machine);
  void restart(int n);

  // cluster_controller.hpp
  void start_controller(int n);
  void pump_raft(int n);
  void apply_entry(int n, const raft_entry& e);
  void push_metadata(int n);
  void controller_tick(int n);
  void on_heartbeat(int n, const message& m);
  void on_register(int n, const message& m);
  void on_alter(int n, const message& m);
  void drive_active(int n);
  void run_active(int n);
  const partition_description* described(int n, int32_t p) const;
  const metadata_image* freshest_image() const;
  void check_raft(int n);

  // cluster_broker.hpp
  void start_replicas(int n);
  replica& rep(int n, int32_t p) { return nodes_[size_t(n)].parts[size_t(p)]; }
  void load_producers(int n, int32_t p);
  void drain(int n, int32_t p);
  void on_produce(int n, const message& m);
  void leader_produce(int n, const message& m);
  bool mutated(const message& m, const produce_decision& d) const;
  void on_ack(int n, int32_t p, const completed_ack& a);
  void housekeeping(int n, int32_t p);
  void apply_retention(int n, int32_t p);

  // cluster_fetch.hpp
  void on_fetch(int n, const message& m);
  void answer_fetch(int n, const message& req, errc error);
  void wake_parked(int n, int32_t p);
  void expire_parked(int n, int32_t p);
  void fail_parked(int n, int32_t p, int32_t epoch);
  void on_fetch_resp(int n, const message& m);

  // cluster_producers.hpp
  void producers_tick();
  void disconnect(producer_partition& pp, int node, int64_t incarnation);
  void send_batches(int i, int32_t p);
  void on_produce_resp(const message& m);

  // cluster_txn.hpp, cluster_txn_clients.hpp, cluster_txn_checks.hpp
  void txn_setup();
  void txn_step();
  void host_txn(int n);
  void load_txn(int n);
  void unload_txn(int n);
  void answer_txn(int n, const txn_coordinator::route& to, const txn_response& resp);
  void pump_txn(int n);
  void txn_append(int n, const txn_persist& p);
  void txn_markers(int n, const txn_write_markers& w);
  void on_txn_written(int n, const message& m);
  void on_txn_request(int n, const message& m);
  void verify_produce(int n, const message& m);
  void pump_verify(int n);
  void on_verify_req(int n, const message& m);
  void on_verify_resp(int n, const message& m);
  void expire_verify(int n);
  void start_txn_instance(int client);
  void txn_clients_tick();
  void txn_client_step(int i);
  void begin_txn(txn_instance& x);
  void send_txn_request(int i);
  void on_txn_resp(const message& m);
  void stop_txn_instance(int i);
  void send_txn_batches(int i);
  void fail_txn_partition(txn_instance& x, int32_t p);
  void on_txn_produce_resp(const message& m);
  void note_decision(const txn_write_markers& w);
  void note_answer(const txn_instance& x);
  void check_fence(int n, const message& m);
  void check_lso(int n, int32_t p);
  bool txn_converged();
  std::string txn_waiting();
  void txn_final_checks();

  // cluster_checks.hpp
  void check_tenure(int n, int32_t p);
  void on_hw(int n, int32_t p, int64_t hw);
  void verify(int n, int32_t p, int64_t upto, bool extend, const char* why);
  void check_producers(int n, int32_t p);
  void final_checks();
  void fail(const std::string& what);
  std::string where(int n, int32_t p) const;

  sim::rng r_;
  knobs k_;
  sim::network<message> net_;
  std::vector<node> nodes_; // 1..3
  std::vector<std::vector<producer_partition>> producers_;
  std::vector<partition_facts> facts_;
  std::map<int64_t, int> raft_leaders_;        // term -> node
  std::map<int64_t, raft_fact> raft_committed_; // index -> the entry, as first seen committed
  groups groups_;
  transactions txn_;
  stats stats_;
  std::string failure_;
  int64_t now_ = 0, heal_at_ = 0, deadline_ = 0;
  int tainted_ = 0; // a node that lost its log tail and is not yet re-registered
  uint64_t next_ack_ = 1;
  bool liveness_ = false;
  bool to_controller_ = false; // the message being sent goes to or from the controller
  bool trace_ = std::getenv("AL_CLUSTER_TRACE") != nullptr;
};

} // namespace al::cluster_sim
