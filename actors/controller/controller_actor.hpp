#pragma once
// The controller actor (see controller_api.hpp). Spawn it detached: Raft
// persists (fsync) before it sends votes and acks.
//
// Split by concern: controller_actor.cpp (admin requests, the message
// handlers, forwarding to the active controller),
// controller_leadership.cpp (broker registration, fencing and
// unfencing, partition elections, AlterPartition),
// controller_quorum.cpp (driving raft_machine: ticks, the
// ready/advance loop, peers, applying committed commands).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <caf/actor.hpp>
#include <caf/result.hpp>

#include "actors/broker/broker_api.hpp"
#include "actors/controller/active_controller_machine.hpp"
#include "actors/controller/controller_api.hpp"
#include "actors/controller/raft_machine.hpp"
#include "actors/controller/raft_store.hpp"
#include "actors/store/store_api.hpp"

namespace al {

struct voter_address {
  int32_t id = -1;
  std::string host;
  uint16_t port = 0;
};

struct controller_setup {
  int32_t node_id = -1;
  std::string data_dir;
  std::string cluster_id;
  topic_defaults defaults;
  store_api store;                        // may be null (tests)
  int64_t broker_session_timeout_ms = 9000;
  std::vector<voter_address> voters;      // empty: this node alone
  int64_t election_timeout_ms = 1000;     // controller.election.timeout.ms
  bool unclean_leader_election = false;
  int64_t snapshot_interval_entries = 1000; // metadata.snapshot.interval.entries; 0: never
};

struct controller_state {
  /// A proposal waiting for its entry to commit (or to be lost).
  struct pending_proposal {
    int64_t term = 0;
    std::function<void(const status&)> done;
  };

  controller_setup setup;
  metadata_machine machine;
  std::unique_ptr<raft_storage> storage;
  std::unique_ptr<raft_machine> raft;
  /// A batch_atom is on its way: image pushes wait for it and go out once
  /// for everything applied before it (issue 15: a restart of three nodes
  /// with 10 000 partitions pushed the full image to the broker and the
  /// store once per AlterPartition).
  bool batch_pending = false;
  bool image_dirty = false;
  status open_error;
  std::map<int32_t, controller_api> peers;  // connected voters
  std::set<int32_t> connecting;
  broker_api local_broker;                  // this node's broker, to push images to
  std::map<int64_t, pending_proposal> pending; // by Raft index
  /// Broker sessions, registrations, elections, AlterPartition
  /// (controller_leadership.cpp runs it).
  active_controller_machine active;
  /// Requests waiting for the machine's answer, by the id it was given.
  std::map<uint64_t, std::function<void(const status&)>> registering;
  std::map<uint64_t, std::function<void(const alter_answer&)>> altering;
  uint64_t next_request = 1;
  int64_t next_producer_id = 0;             // active controller: next id to hand out
  int64_t producer_id_block_end = 0;        // end of the block this leader reserved
  std::set<int32_t> cut_peers;              // fault injection: links dropped
  raft_role last_role = raft_role::follower;
  int64_t tick_ms = 100;
  int64_t last_tick_ms = 0; // wall clock of the last tick: a late one is logged
  static constexpr const char* name = "controller";
};

using controller_ptr = controller_api::stateful_pointer<controller_state>;

controller_api::behavior_type controller_actor(controller_ptr self, controller_setup setup);

// --- controller_quorum.cpp ---------------------------------------------

/// Opens the metadata log and starts Raft; a single voter elects itself now.
void start_quorum(controller_ptr self);
/// Proposes a command; `done` runs once it is committed and applied (with
/// the apply outcome) or lost (NOT_CONTROLLER).
void propose(controller_ptr self, const metadata_command& cmd,
             std::function<void(const status&)> done);
/// Runs the ready/advance loop after any Raft input.
void process_ready(controller_ptr self);
/// Runs the Raft work queued since the last pass (on_batch) now: requests
/// that read or plan against the image (admin requests, registrations) see
/// every command proposed before them, as they would without the batching.
void settle(controller_ptr self);
void on_raft_message(controller_ptr self, raft_wire w);
void on_quorum_tick(controller_ptr self);
/// Sends the applied image to the store (SQLite view) and the local broker.
void push_image(controller_ptr self);
/// The batch_atom handler: pushes the image if commands were applied since
/// the last push.
void on_batch(controller_ptr self);
bool is_active(const controller_state& st);
/// The active controller's handle, when it is another node and connected.
std::optional<controller_api> active_peer(const controller_state& st);
quorum_member own_quorum_status(const controller_state& st);

// --- controller_leadership.cpp ----------------------------------------
// The shell of active_controller_machine: feeds it requests, heartbeats,
// ticks and the fate of its proposals, and carries out its ready().

/// Registers broker `b` (active_controller_machine: fencing an old
/// incarnation first, electing it where it can lead); `done` runs once.
void ensure_registered(controller_ptr self, const broker_description& b, int64_t incarnation,
                       std::function<void(const status&)> done);
/// Active controller: renews the broker's session; unfences it when it is
/// fenced and heartbeats with its current incarnation.
void on_broker_heartbeat(controller_ptr self, int32_t broker_id, int64_t incarnation);
/// Active controller, every tick: fences silent brokers, elections and ISR
/// changes still to do.
void leadership_tick(controller_ptr self);
/// KIP-497 AlterPartition from a partition leader.
caf::result<alter_isr_response> on_alter_isr(controller_ptr self, const alter_isr_request& req);
/// This controller became (or stopped being) the active one.
void on_active_change(controller_ptr self, bool active);

} // namespace al
