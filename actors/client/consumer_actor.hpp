#pragma once
// The consumer actor: Kafka's fetcher plus, with group.id, Kafka's consumer
// coordinator and heartbeat thread. It keeps one long-poll fetch in flight
// per assigned, unpaused partition, buffers decoded records, and answers
// poll requests from al::consumer. Positions start at the committed offset
// when the group has one, else at auto.offset.reset.
//
// Group membership (consumer_group_actor.cpp, consumer_rebalance_actor.cpp)
// runs here, independently of poll: find the coordinator, JoinGroup
// (MEMBER_ID_REQUIRED, then again), SyncGroup, heartbeats every
// heartbeat.interval.ms. What needs the user's thread (rebalance listener
// callbacks, the commit before revoking) travels as rebalance_events in the
// next poll reply; an eager revocation waits for the facade's revoke_done
// before the actor rejoins.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/client/cluster_view.hpp"
#include "actors/client/consumer_metrics.hpp"
#include "actors/client/consumer_record.hpp"
#include "actors/group/group_messages.hpp"

namespace al {

/// Something the rebalance listener must hear, in the polling thread.
struct rebalance_event {
  enum class kind : uint8_t { revoked, assigned, lost };
  kind what = kind::assigned;
  std::vector<topic_partition> partitions; // revoked, newly assigned, or lost
  std::vector<topic_partition> owned;      // the whole assignment after the event
  offset_commit_map positions;             // revoked: consumed positions (for auto commit)
  uint64_t revocation = 0;                 // revoked: echo in revoke_done (eager rejoin waits)
};

/// A finished commit_async (or auto commit, id 0).
struct commit_outcome {
  uint64_t id = 0;
  offset_commit_map offsets;
  status result;
};

/// What a poll request gets back.
struct poll_result {
  std::vector<consumer_record> records;
  std::vector<rebalance_event> events; // never together with records
  std::vector<commit_outcome> commits;
  status group_error; // a fatal group error (bad protocol, session timeout, group id)
};


/// The consumer's side of the group protocol (Kafka's ConsumerCoordinator).
struct consumer_membership {
  enum class phase : uint8_t {
    idle,     // not subscribed
    revoking, // waiting for the user to handle a revocation before rejoining
    joining,  // JoinGroup in flight (or waiting for the coordinator)
    syncing,  // SyncGroup in flight
    stable,   // member of the current generation, heartbeating
    left,     // max.poll.interval.ms passed without poll: left; next poll rejoins
  };
  std::vector<std::string> topics; // subscription; empty: assign() or nothing
  phase state = phase::idle;
  std::optional<client_api> coordinator;
  int32_t coordinator_id = -1;
  bool finding = false;
  std::vector<std::function<void(const status&)>> awaiting_coordinator;
  std::string member_id;
  int32_t generation = -1;
  std::string protocol;
  std::vector<topic_partition> owned;
  // Eager assignors revoke before joining; the sticky assignor still wants
  // to know what the member had (Kafka's StickyAssignor keeps it in user data).
  std::vector<topic_partition> previously_owned;
  int32_t previous_generation = -1;
  uint64_t join_seq = 0;       // stale join/sync replies are ignored
  uint64_t revocation = 0;     // the revocation the actor waits for
  uint64_t heartbeat_seq = 0;  // bumped to stop an old heartbeat loop
  bool heartbeat_in_flight = false;
  int64_t poll_deadline_ms = 0; // last poll + max.poll.interval.ms
  bool poll_timer_armed = false;
  std::vector<rebalance_event> events;
  std::vector<commit_outcome> commits_done;
  status fatal;
  std::map<uint64_t, std::function<void()>> deferred; // calls waiting for a retry_atom
  uint64_t next_deferred = 0;
  int64_t commits_total = 0;
  int64_t commits_failed = 0;
  int64_t rebalances_total = 0;
};

struct consumer_state {
  struct partition_fetch {
    int64_t position = -1;      // next offset to fetch; -1: not initialised yet
    int64_t consumed = -1;      // next offset poll() returns (what a commit commits)
    int64_t high_watermark = -1;
    bool in_flight = false;
    bool paused = false;
    bool awaiting_committed = false; // OffsetFetch pending: no reset, no fetch
    bool revoking = false;           // being revoked: no fetch
    uint64_t epoch = 0;         // bumped by seek/assign: late fetch replies are ignored
    uint64_t request = 0;       // the fetch in flight (0: none); other answers are stale
    caf::actor_addr broker;     // where it went: its connection dropping fails it at once
  };

  consumer_config cfg;
  cluster_view view;
  std::map<topic_partition, partition_fetch> parts;
  std::deque<consumer_record> buffer;
  caf::response_promise poll_waiter;      // a pending poll, if any
  uint64_t poll_id = 0;
  int64_t records_consumed = 0;
  std::deque<std::pair<int64_t, int64_t>> consumed_samples; // (ms, records) for the rate
  consumer_membership group;
  uint64_t next_fetch_request = 1;
  std::set<caf::actor_addr> monitored;    // brokers fetched from (down_msg: refetch elsewhere)
  static constexpr const char* name = "consumer";
};

using consumer_actor_ptr = caf::stateful_actor<consumer_state>*;

/// request.timeout.ms, for the group and offset requests.
inline std::chrono::milliseconds request_timeout(consumer_actor_ptr self) {
  return std::chrono::milliseconds(self->state.cfg.request_timeout_ms);
}

caf::behavior consumer_actor(consumer_actor_ptr self, consumer_config cfg,
                             caf::actor direct_broker);

// ---- fetcher functions used by the group part (consumer_actor.cpp) ---------

int64_t consumer_now_ms();
/// Replaces the fetched partitions (manual assign, or the group's assignment).
void set_fetched_partitions(consumer_actor_ptr self, const std::vector<topic_partition>& tps);
void fetch_partition(consumer_actor_ptr self, const topic_partition& tp);
/// Answers a waiting poll if there is anything to return.
void deliver_poll(consumer_actor_ptr self);
/// Drops buffered records of `tp`.
void drop_buffered(consumer_actor_ptr self, const topic_partition& tp);
/// The consumed position of every partition that has one.
offset_commit_map consumed_positions(const consumer_state& st,
                                     const std::vector<topic_partition>& only = {});

// ---- coordinator and offsets (consumer_offsets_actor.cpp) ------------------

/// Errors after which the client looks for the coordinator again and retries.
bool is_coordinator_error(errc e);
/// Runs `fn` after `ms` on the actor (deferred calls share one retry_atom message).
void defer(consumer_actor_ptr self, int64_t ms, std::function<void()> fn);
void coordinator_lost(consumer_actor_ptr self, const std::string& why);
/// Forgets the coordinator if `err` says it moved or is unreachable.
void on_request_failure(consumer_actor_ptr self, const caf::error& err);
/// Runs `then` once the coordinator is known, or with why it is not.
void with_coordinator(consumer_actor_ptr self, std::function<void(const status&)> then);
/// Commits as the member (subscribed) or as nobody (assign()); the outcome
/// goes to commits_done when `id` != 0.
void commit_async(consumer_actor_ptr self, offset_commit_map offsets, uint64_t id);
caf::result<offset_commit_map> commit_sync(consumer_actor_ptr self, offset_commit_map offsets);
caf::result<group_offsets> committed(consumer_actor_ptr self, std::vector<topic_partition> tps);

/// Positions of these newly fetched partitions come from OffsetFetch.
void fetch_committed_positions(consumer_actor_ptr self, const std::vector<topic_partition>& tps);

// ---- the group part (consumer_group_actor.cpp) ------------------------------

/// Adds the group's message handlers to the consumer's behavior.
caf::behavior consumer_group_behavior(consumer_actor_ptr self);
/// Called on every poll request: max.poll.interval.ms bookkeeping, rejoin
/// after a poll timeout, start after subscribe.
void on_poll_for_group(consumer_actor_ptr self);
/// Starts a new heartbeat loop (stopping the old one).
void start_heartbeats(consumer_actor_ptr self);
/// Arms the max.poll.interval.ms check unless it is armed already.
void arm_poll_timer(consumer_actor_ptr self);

// ---- rebalancing (consumer_rebalance_actor.cpp) -----------------------------

/// Starts a rebalance: eager assignors revoke first (through the polling
/// thread), cooperative ones join with what they own.
void begin_rebalance(consumer_actor_ptr self);
/// The polling thread answered revoke_done for `revocation`: join.
void on_revoke_done(consumer_actor_ptr self, uint64_t revocation);
/// JoinGroup (once the coordinator is known), then SyncGroup.
void send_join(consumer_actor_ptr self);
/// Partitions taken away without a revocation (fenced, expired, poll timeout).
void lose_partitions(consumer_actor_ptr self);
/// Fenced by the coordinator: partitions lost, join again.
void rejoin_after_fencing(consumer_actor_ptr self, bool forget_member_id);
/// The coordinator's connection dropped: a held join or sync is sent again.
void on_coordinator_connection_lost(consumer_actor_ptr self);

} // namespace al

// In-process only (consumer actor <-> al::consumer): never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<al::consumer_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::poll_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::consumer_metrics)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<al::commit_outcome>)
