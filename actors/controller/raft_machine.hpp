#pragma once
// Raft for the controller quorum as a pure state machine (etcd-raft's
// surface): no CAF, no clock, no I/O, no threads. Time is tick(); input is
// step(message) and propose(command); every effect comes back as data from
// ready(), which the caller executes in this order, then calls advance():
//
//   1. ready.snapshot:      save it, drop the stored log, restore the state
//                           machine from it;
//   2. ready.hard_state:    write it (term, vote, commit);
//   3. ready.truncate_from: cut stored entries >= this index;
//   4. ready.entries:       append them;
//      1-4 durable (fsync) when ready.must_sync, in an order that recovers
//      from a crash between them (raft_storage::save);
//   5. ready.messages:      send them. Only now: a vote or an append ack
//                           promises that 1-4 survive a crash;
//   6. ready.committed:     apply them in order (all are durable locally);
//   7. advance(ready).
// step()/tick()/propose() may be called between ready() and advance() (e.g.
// while an fsync runs elsewhere); ready() may not be called again before.
// Implemented features and the message flow: docs/raft.md.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "actors/controller/raft_log.hpp"
#include "actors/controller/raft_messages.hpp"
#include "actors/controller/raft_progress.hpp"
#include "storage/status.hpp"

namespace al {

enum class raft_role : uint8_t { follower, pre_candidate, candidate, leader };
const char* to_string(raft_role role);

struct raft_config {
  raft_node_id id = raft_no_node;
  std::vector<raft_node_id> voters; // controller.quorum.voters, including id
  /// Election timeout T in ticks: a follower campaigns after a random
  /// timeout in [T, 2T); a leader checks its quorum every T ticks.
  int32_t election_ticks = 10;
  int32_t heartbeat_ticks = 1; // < election_ticks
  bool pre_vote = true;        // §9.6: don't bump terms you cannot win
  bool check_quorum = true;    // leader steps down without a live majority
  uint64_t seed = 0;           // randomised timeouts; mixed with id
  size_t max_entries_per_message = 64;
  size_t max_bytes_per_message = 1 << 20;
  size_t max_inflight_messages = 8; // pipelining depth towards one follower
};

/// What a restarted voter loads from stable storage (raft_storage::recover).
struct raft_persisted {
  raft_hard_state hard_state;
  std::shared_ptr<const raft_snapshot> snapshot; // null: none
  std::vector<raft_entry> entries;               // snapshot index + 1 .. last, dense
  /// The caller's state machine already reflects entries up to here
  /// (>= the snapshot index; 0 means "the snapshot index").
  int64_t applied = 0;
};

/// Effects of the steps since the last ready(), as data. Order: see above.
struct raft_ready {
  std::optional<raft_hard_state> hard_state;     // changed: persist
  std::shared_ptr<const raft_snapshot> snapshot; // installed from the leader
  int64_t truncate_from = 0;                     // > 0: cut stored entries >= this
  std::vector<raft_entry> entries;               // append to stable storage
  bool must_sync = false;                        // fsync before sending
  std::vector<raft_message> messages;            // send after persisting
  std::vector<raft_entry> committed;             // apply, in order
  // Soft state, for logs and `cluster describe`.
  raft_role role = raft_role::follower;
  raft_node_id leader = raft_no_node;
  int64_t term = 0;
};

/// For `actorlog cluster describe` and tests.
struct raft_status {
  raft_node_id id = raft_no_node;
  raft_role role = raft_role::follower;
  int64_t term = 0;
  raft_node_id leader = raft_no_node;
  raft_node_id voted_for = raft_no_node;
  int64_t commit = 0;
  int64_t applied = 0;
  int64_t last_index = 0;
  int64_t last_term = 0;
  int64_t snapshot_index = 0;
};

struct raft_proposal {
  int64_t index = 0;
  int64_t term = 0;
};

class raft_machine {
public:
  /// A voter starting from `persisted` (default: a brand-new empty log).
  explicit raft_machine(raft_config config, raft_persisted persisted = {});

  /// One logical clock tick.
  void tick();
  /// One message from another voter (messages from non-voters are ignored).
  void step(const raft_message& m);
  /// Leader only: appends `command` for replication. Elsewhere
  /// NOT_CONTROLLER, naming the leader when one is known (also leader()).
  result<raft_proposal> propose(bytes command);
  /// Starts an election now, as if the election timeout had passed.
  void campaign();

  bool has_ready() const;
  raft_ready ready();
  void advance(const raft_ready& rd);

  /// The caller captured the state machine up to `index` (<= applied) in
  /// `snapshot_data` and saved it durably: drop the log prefix. The leader
  /// sends this snapshot to followers that need entries before it.
  void compact(int64_t index, bytes snapshot_data);

  raft_status status() const;
  raft_node_id id() const { return config_.id; }
  raft_role role() const { return role_; }
  int64_t term() const { return term_; }
  raft_node_id leader() const { return leader_; }
  int64_t commit_index() const { return commit_; }
  int64_t applied_index() const { return applied_; }
  const raft_log& log() const { return log_; }
  const raft_progress* progress(raft_node_id peer) const;

private:
  // Roles (raft_machine.cpp).
  void become_follower(int64_t term, raft_node_id leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset_timers();
  void tick_election();
  void tick_leader();
  bool quorum_active();
  int32_t quorum() const { return int32_t(config_.voters.size() / 2 + 1); }
  bool is_voter(raft_node_id id) const;

  // Elections (raft_election.cpp).
  bool on_higher_term(const raft_message& m);
  void on_lower_term(const raft_message& m);
  void on_vote_request(const raft_message& m);
  void on_vote_response(const raft_message& m);
  void request_votes(raft_msg type, int64_t term);

  // Replication (raft_replication.cpp).
  void step_leader(const raft_message& m);
  void step_follower(const raft_message& m);
  void on_append(const raft_message& m);
  void on_heartbeat(const raft_message& m);
  void on_install_snapshot(const raft_message& m);
  void on_append_response(const raft_message& m);
  void on_heartbeat_response(const raft_message& m);
  void on_rejected_append(raft_progress& pr, const raft_message& m);
  bool send_append(raft_node_id to, bool send_if_empty);
  void send_snapshot(raft_node_id to, raft_progress& pr);
  void broadcast_append();
  void broadcast_heartbeat();
  bool maybe_commit();
  void commit_to(int64_t index);
  void send(raft_message m);

  struct outstanding_ready {
    int64_t written = 0;
    uint64_t generation = 0;
    int64_t snapshot_index = 0;
    int64_t applied = 0;
    size_t entries = 0;
  };

  raft_config config_;
  uint64_t rng_state_;
  raft_log log_;
  std::shared_ptr<const raft_snapshot> snapshot_; // the log's base, for followers behind it
  raft_role role_ = raft_role::follower;
  int64_t term_ = 0;
  raft_node_id voted_for_ = raft_no_node;
  raft_node_id leader_ = raft_no_node;
  int64_t commit_ = 0;
  int64_t applied_ = 0;
  int32_t election_elapsed_ = 0;
  int32_t heartbeat_elapsed_ = 0;
  int32_t randomized_timeout_ = 0;
  std::map<raft_node_id, bool> votes_;            // candidate: answers so far
  std::map<raft_node_id, raft_progress> progress_; // leader: every voter but itself
  std::vector<raft_message> outbox_;
  raft_hard_state handed_out_; // hard state in the last ready()
  std::optional<outstanding_ready> outstanding_;
};

} // namespace al
