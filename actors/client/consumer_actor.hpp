#pragma once
// The consumer actor: Kafka's fetcher plus, with group.id, Kafka's consumer
// coordinator and heartbeat thread. It keeps one long-poll fetch in flight
// per assigned, unpaused partition, buffers decoded records, and answers
// poll requests from al::consumer. Positions start at the committed offset
// when the group has one, else at auto.offset.reset.
//
// Group membership runs here, independently of poll: the decisions are
// consumer_member_machine's (CAF-free, also run by the cluster simulation);
// consumer_group.cpp and consumer_offsets.cpp feed it and
// execute its effects: find the coordinator, JoinGroup
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
#include "actors/client/consumer_member_machine.hpp"
#include "actors/client/consumer_metrics.hpp"
#include "actors/client/consumer_record.hpp"
#include "actors/group/group_messages.hpp"

namespace al {

/// What a poll request gets back.
struct poll_result {
  std::vector<consumer_record> records;
  std::vector<rebalance_event> events; // never together with records
  std::vector<commit_outcome> commits;
  status group_error; // a fatal group error (bad protocol, session timeout, group id)
};


/// The group part of the consumer's state: the member machine
/// (consumer_member_machine.hpp holds every decision) and what the actor
/// keeps around it: the coordinator's handle, what waits for the next poll.
struct consumer_membership {
  std::optional<consumer_member_machine> machine; // set when the actor starts
  std::optional<client_api> coordinator;
  int32_t coordinator_id = -1;
  bool finding = false;
  /// The broker the FindCoordinator in flight went to: its connection
  /// dropping (or its proxy being dead already) fails the lookup at once.
  caf::actor_addr finding_from;
  std::vector<std::function<void(const status&)>> awaiting_coordinator;
  std::vector<rebalance_event> events;      // for the next poll reply
  std::vector<commit_outcome> commits_done; // finished commit_async calls (user ids)
  status fatal;
  /// Machine commit id -> what its outcome completes (a commit_sync, a commit_async).
  std::map<uint64_t, std::function<void(commit_outcome&)>> commit_waiters;
  std::vector<std::function<void()>> closing; // close() calls waiting for the LeaveGroup
  int64_t tick_at_ms = 0; // the member_tick_atom in flight; 0: none
  std::map<uint64_t, std::function<void()>> deferred; // calls waiting for a retry_atom
  uint64_t next_deferred = 0;
};

struct consumer_state {
  struct partition_fetch {
    int64_t position = -1;      // next offset to fetch; -1: not initialised yet, -2: seeking
    int64_t reset_to = 0;       // position -2: earliest_timestamp or latest_timestamp
    int64_t consumed = -1;      // next offset poll() returns (what a commit commits)
    int64_t high_watermark = -1;
    int64_t buffered = 0;       // records of this partition waiting in `buffer`
    bool in_flight = false;
    bool paused = false;
    bool awaiting_committed = false; // OffsetFetch pending: no reset, no fetch
    bool revoking = false;           // being revoked: no fetch
    uint64_t epoch = 0;         // bumped by seek/assign: late fetch replies are ignored
    uint64_t request = 0;       // the fetch or ListOffsets in flight (0: none); other
                                // answers are stale
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

// ---- coordinator and offsets (consumer_offsets.cpp) ------------------

/// Runs `fn` after `ms` on the actor (deferred calls share one retry_atom message).
void defer(consumer_actor_ptr self, int64_t ms, std::function<void()> fn);
/// Forgets the coordinator's handle (the machine decided, or is told here
/// when `tell_machine`).
void coordinator_lost(consumer_actor_ptr self, const std::string& why, bool tell_machine);
/// Forgets the coordinator if `err` says it moved or is unreachable.
void on_request_failure(consumer_actor_ptr self, const caf::error& err);
/// Runs `then` once the coordinator is known, or with why it is not; the
/// machine hears the outcome of every search.
void with_coordinator(consumer_actor_ptr self, std::function<void(const status&)> then);
/// The machine asked for the coordinator: search (or say it is known).
void find_coordinator_for_machine(consumer_actor_ptr self);
/// Sends one of the machine's requests to the coordinator; the answer goes
/// back to the machine.
void send_member_request(consumer_actor_ptr self, member_request req);
caf::result<group_offsets> committed(consumer_actor_ptr self, std::vector<topic_partition> tps);
/// Positions of these newly fetched partitions come from OffsetFetch.
void fetch_committed_positions(consumer_actor_ptr self, const std::vector<topic_partition>& tps);

// ---- the group part (consumer_group.cpp) ------------------------------

/// Adds the group's message handlers to the consumer's behavior.
caf::behavior consumer_group_behavior(consumer_actor_ptr self);
/// Called on every poll request: max.poll.interval.ms bookkeeping, rejoin
/// after a poll timeout.
void on_poll_for_group(consumer_actor_ptr self);
/// Executes the machine's effects (member_ready's order), arms its tick.
void run_member_ready(consumer_actor_ptr self);
/// The coordinator's connection dropped: a held join or sync is sent again.
void on_coordinator_connection_lost(consumer_actor_ptr self);
/// The FindCoordinator in flight failed without an answer (its broker's
/// connection dropped): the machine retries after its back-off.
void coordinator_lookup_failed(consumer_actor_ptr self, const status& why);

} // namespace al

// In-process only (consumer actor <-> al::consumer): never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<al::consumer_record>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::poll_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(al::consumer_metrics)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<al::commit_outcome>)
