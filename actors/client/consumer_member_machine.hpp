#pragma once
// The consumer's side of the group protocol (Kafka's ConsumerCoordinator
// and heartbeat thread) as a pure state machine with the etcd-raft surface:
// the consumer actor (consumer_group.cpp) and the whole-cluster
// simulation (tests/sim/cluster_groups.hpp) feed it the user's calls, the
// coordinator's answers and time (every input carries now_ms, which never
// goes backwards), then drain take_ready() and execute it in the order
// member_ready lists. No CAF, no clock, no I/O.
//
//   subscribe / poll after a poll timeout
//     -> [eager, owns partitions] revoking: rebalance_event{revoked} to the
//        polling thread, which commits (auto commit), calls the listener and
//        answers revoke_done
//     -> joining: find the coordinator, JoinGroup (MEMBER_ID_REQUIRED:
//        again with the id), held by the coordinator until the join phase ends
//     -> syncing: SyncGroup returns this member's assignment
//     -> stable: rebalance_event{assigned}, fetch from the committed offsets,
//        heartbeats every heartbeat.interval.ms
//   heartbeat REBALANCE_IN_PROGRESS -> rejoin (eager: revoke first)
//   ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID -> partitions lost, rejoin
//   no poll for max.poll.interval.ms -> LeaveGroup, partitions lost, state
//   left; the next poll rejoins.
// Commits are fenced by generation on this side too (Kafka's
// generationIfStable): a member's commit carries the generation it was
// made in and leaves only while the member is still in it (stable, or
// revoking before a rejoin); else it fails here, without a request.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "actors/group/group_messages.hpp"
#include "storage/status.hpp"

namespace al {

/// Something the rebalance listener must hear, in the polling thread.
struct rebalance_event {
  enum class kind : uint8_t { revoked, assigned, lost };
  kind what = kind::assigned;
  std::vector<topic_partition> partitions; // revoked, newly assigned, or lost
  std::vector<topic_partition> owned;      // the whole assignment after the event
  offset_commit_map positions;             // revoked: consumed positions (the shell fills them)
  uint64_t revocation = 0;                 // revoked: echo in revoke_done (eager rejoin waits)
  /// The member's generation when the event was made: commit a revocation's
  /// positions in it (commit's `generation`), never in a later one.
  int32_t generation = -1;
};

/// A finished commit: the machine's commit id (the actor's: the user's id).
struct commit_outcome {
  uint64_t id = 0;
  offset_commit_map offsets;
  status result;
};

/// Errors after which the client looks for the coordinator again and retries.
bool is_coordinator_error(errc e);

struct consumer_member_config {
  std::string group_id;
  std::string client_id;
  std::string client_host;
  std::string assignor = "range"; // partition.assignment.strategy
  int64_t session_timeout_ms = 45000;
  int64_t heartbeat_interval_ms = 3000;
  int64_t max_poll_interval_ms = 300000; // also the rebalance timeout the member asks for
  int64_t request_timeout_ms = 30000;
  int64_t retry_backoff_ms = 100;
  /// A JoinGroup waits up to the rebalance timeout at the coordinator; the
  /// client waits this much longer (Kafka: 5 s) plus request.timeout.ms.
  int64_t join_timeout_slack_ms = 5000;
  bool eager() const { return assignor != "cooperative-sticky"; }
};

using member_request_body = std::variant<join_group_request, sync_group_request,
                                         heartbeat_request, leave_group_request,
                                         offset_commit_request>;

/// A request to the coordinator. Its answer goes to on_response, its
/// failure to on_request_failed, both with `seq`; the machine also fails it
/// itself at now + timeout_ms (tick), so a late answer is ignored.
struct member_request {
  uint64_t seq = 0;
  int64_t timeout_ms = 0;
  member_request_body body;
};

struct member_log {
  enum class level : uint8_t { debug, info, warn, error };
  level lvl = level::info;
  std::string text;
};

/// Effects, to execute in this order.
struct member_ready {
  /// 1. Drop the coordinator's handle (the reason, for the log).
  std::optional<std::string> forget_coordinator;
  /// 2. Fill each revoked event's positions (consumed offsets of its
  ///    partitions) from the fetcher as it stands, before 3 and 4 change it.
  /// 3. Stop fetching these and drop their buffered records (an eager
  ///    revocation waits for the polling thread).
  std::vector<topic_partition> stop_fetching;
  /// 4. Fetch exactly these from now on (newly added ones start at the
  ///    group's committed offset). Unset: unchanged.
  std::optional<std::vector<topic_partition>> fetched;
  /// 5. Hand these to the polling thread, in order.
  std::vector<rebalance_event> events;
  /// 6. Send these to the coordinator, in order.
  std::vector<member_request> requests;
  /// 7. Find the coordinator (unless a search runs); answer with
  ///    coordinator_found or coordinator_not_found.
  bool find_coordinator = false;
  /// 8. Finished commits, a fatal group error for the polling thread, close() done.
  std::vector<commit_outcome> commits;
  status fatal;
  bool closed = false;
  std::vector<member_log> log;
  bool empty() const {
    return !forget_coordinator && stop_fetching.empty() && !fetched && events.empty() &&
           requests.empty() && !find_coordinator && commits.empty() && fatal.is_ok() &&
           !closed && log.empty();
  }
};

class consumer_member_machine {
public:
  enum class phase : uint8_t {
    idle,     // not subscribed (or closed, or a fatal join error)
    revoking, // waiting for the polling thread to handle a revocation before rejoining
    joining,  // JoinGroup in flight (or waiting for the coordinator or a retry)
    syncing,  // SyncGroup in flight
    stable,   // member of the current generation, heartbeating
    left,     // max.poll.interval.ms passed without poll: left; the next poll rejoins
  };

  explicit consumer_member_machine(consumer_member_config config);

  // ---- inputs from the polling thread ----------------------------------------
  /// Empty: unsubscribe (leave, partitions lost). Topics are sorted, deduplicated.
  void subscribe(std::vector<std::string> topics, int64_t now_ms);
  /// Every poll: moves the max.poll.interval.ms deadline; rejoins after a poll timeout.
  void poll(int64_t now_ms);
  /// The polling thread handled revoked event `revocation`: join.
  void revoke_done(uint64_t revocation, int64_t now_ms);
  /// Commits as the member (subscribed) or as nobody (assign()); returns the
  /// id its commit_outcome will carry. Retried while the coordinator moves or
  /// loads, until request.timeout.ms. A member's commit is fenced by
  /// `generation` (the event's whose positions it commits), else by the
  /// current one.
  uint64_t commit(offset_commit_map offsets, int64_t now_ms,
                  std::optional<int32_t> generation = std::nullopt);
  /// Leaves the group if a member; `closed` once the LeaveGroup is answered.
  void close(int64_t now_ms);

  // ---- inputs from the network --------------------------------------------
  void coordinator_found(int64_t now_ms);
  void coordinator_not_found(const status& why, int64_t now_ms);
  /// The shell's own request (OffsetFetch) says the coordinator moved.
  void coordinator_lost(const std::string& why, int64_t now_ms);
  /// The connection to the coordinator dropped: a held join or sync is lost.
  void coordinator_disconnected(int64_t now_ms);
  void on_response(uint64_t seq, const group_response& response, int64_t now_ms);
  void on_request_failed(uint64_t seq, errc error, const std::string& why, int64_t now_ms);
  /// Heartbeats, the max.poll.interval.ms check, retries, request deadlines.
  void tick(int64_t now_ms);

  // ---- outputs --------------------------------------------------------------
  member_ready take_ready();
  /// Earliest time at which tick() has something to do, if any.
  std::optional<int64_t> next_deadline_ms() const;

  // ---- queries --------------------------------------------------------------
  phase state() const { return phase_; }
  const consumer_member_config& config() const { return config_; }
  const std::vector<std::string>& topics() const { return topics_; }
  const std::string& member_id() const { return member_id_; }
  int32_t generation() const { return generation_; }
  const std::vector<topic_partition>& owned() const { return owned_; }
  bool coordinator_known() const { return coordinator_known_; }
  int64_t commits_total() const { return commits_total_; }
  int64_t commits_failed() const { return commits_failed_; }
  int64_t rebalances_total() const { return rebalances_total_; }

private:
  enum class kind : uint8_t { join, sync, heartbeat, leave, commit };
  struct in_flight {
    kind what = kind::join;
    int64_t deadline_ms = 0;
    uint64_t commit = 0;     // kind::commit: its id
    int32_t generation = -1; // kind::heartbeat: the generation it was sent in
  };
  struct pending_commit {
    offset_commit_map offsets;
    bool as_member = false;  // subscribed when made: fenced by (member id, generation)
    std::string member_id;
    int32_t generation = -1;
    int64_t deadline_ms = 0; // no retry after this
    int64_t retry_at_ms = 0; // 0: none scheduled
    bool waiting_coordinator = false;
  };

  // consumer_member_join_machine.cpp
  void begin_rebalance();
  void send_join();
  void send_join_step();
  void send_sync();
  void retry_join();
  void on_join_response(uint64_t seq, const join_group_response& r);
  void on_sync_response(uint64_t seq, const sync_group_response& r);
  void on_assignment(std::vector<topic_partition> assignment);
  void lose_partitions();
  void rejoin_after_fencing(bool forget_member_id);
  void leave_group_state(phase to);

  // consumer_member_commit_machine.cpp
  void send_commit(uint64_t id);
  void retry_or_fail(uint64_t id, const status& s);
  void finish_commit(uint64_t id, const status& s);
  void on_commit_response(uint64_t id, const offset_commit_response& r);

  // consumer_member_machine.cpp
  uint64_t send(member_request_body body, int64_t timeout_ms, in_flight what);
  bool send_leave();
  void forget_coordinator(const std::string& why);
  void need_coordinator();
  void heartbeat_tick();
  void on_heartbeat_response(int32_t generation, errc e);
  void on_failed(uint64_t seq, const in_flight& f, errc e, const std::string& why);
  void log(member_log::level lvl, std::string text);

  consumer_member_config config_;
  int64_t now_ms_ = 0;
  std::vector<std::string> topics_;
  phase phase_ = phase::idle;
  bool coordinator_known_ = false;
  bool finding_ = false;
  std::string member_id_;
  int32_t generation_ = -1;
  std::string protocol_;
  std::vector<topic_partition> owned_;
  // Eager assignors revoke before joining; the sticky assignor still wants
  // to know what the member had (Kafka's StickyAssignor keeps it in user data).
  std::vector<topic_partition> previously_owned_;
  int32_t previous_generation_ = -1;
  uint64_t revocation_ = 0;     // the revocation the member waits for
  // The join or sync under way: its request (0: none in flight), whether it
  // waits for the coordinator or for a retry.
  uint64_t join_seq_ = 0;
  bool sync_step_ = false;
  bool join_waits_coordinator_ = false;
  int64_t join_retry_at_ms_ = 0;
  int64_t next_heartbeat_ms_ = 0; // 0: no heartbeats (not stable or revoking)
  bool heartbeat_in_flight_ = false;
  int64_t poll_deadline_ms_ = 0;  // last poll + max.poll.interval.ms
  bool poll_check_armed_ = false; // set once stable; off when idle or left
  uint64_t close_seq_ = 0;        // the LeaveGroup close() waits for
  uint64_t next_seq_ = 1;
  uint64_t next_commit_ = 1;
  std::map<uint64_t, in_flight> in_flight_;
  std::map<uint64_t, pending_commit> commits_;
  int64_t commits_total_ = 0;
  int64_t commits_failed_ = 0;
  int64_t rebalances_total_ = 0;
  member_ready ready_;
};

std::string_view to_string(consumer_member_machine::phase p);

} // namespace al
