#pragma once
// The replication decisions of one partition replica (Kafka semantics) as a
// pure state machine: no CAF, no clock (time comes in as now_ms), no I/O.
// The caller owns the log; this class tracks its log end offset (LEO), high
// watermark (HW) and leader epoch cache, and says what to do via ready().
//
// Roles (changed by on_metadata / become_*):
//   none      no leader known, offline partition, or not a replica:
//             refuses produce and fetch
//   leader    answers follower fetches (on_fetch), tracks each follower's
//             LEO and last-caught-up time, HW = min LEO over the maximal ISR,
//             proposes ISR shrink/expand to the controller, completes
//             acks=all waits once HW passes them
//   follower  truncates by leader epoch (OffsetsForLeaderEpoch), then fetches
//             from its LEO; applies min(leader HW, own LEO)
//
// Execute ready() in this order, before feeding the next input:
//   1. truncate_to:       cut the log to [.., truncate_to) (follower), then
//                         call on_truncated() with where the log now ends;
//      log_start_offset:  raise the log start to it (follower);
//   2. high_watermark:    expose it to consumers (and checkpoint it);
//   3. acks:              answer the waiting produce requests;
//   4. alter_isr:         send to the controller;
//   5. offsets_for_epoch, fetch: send to the leader.
// A follower's fetch answer is appended by the caller right after
// on_fetch_response() accepted it (the machine already counts it).
// Protocol, ISR rules and what the simulation checks: docs/replication.md.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/partition/leader_epoch_cache.hpp"
#include "actors/partition/replica_messages.hpp"
#include "storage/status.hpp"

namespace al {

enum class replica_role : uint8_t { none, follower, leader };
const char* to_string(replica_role role);

/// NOT_LEADER_OR_FOLLOWER from replica `where` on node `node_id`, naming the
/// leader it knows of (negative: unknown). Produce, fetch and ListOffsets
/// answer with it.
status not_leader_status(const std::string& where, int32_t node_id, int32_t leader);

struct replica_config {
  topic_partition tp;          // for requests and messages only
  int32_t broker_id = -1;
  int64_t broker_epoch = 0;    // this process's incarnation, sent in fetches
  int64_t replica_lag_time_max_ms = 30000;
  /// Wait after a fetch error or an empty fetch answer (0 when the leader
  /// long-polls empty fetches, as the partition actor does).
  int64_t fetch_backoff_ms = 100;
  /// Resend a fetch, OffsetsForLeaderEpoch or AlterPartition that got no
  /// answer within this long.
  int64_t request_timeout_ms = 2000;
};

/// What a replica has on disk when its machine starts.
struct replica_log_state {
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t high_watermark = 0; // checkpointed; may be stale (lower)
  leader_epoch_cache epochs;  // rebuilt from the batches' leader epochs, or a checkpoint
};

struct replica_ready {
  /// Follower: empty the log and start it at this offset, the leader's log
  /// start (everything below it is gone there; Kafka's truncateFullyAndStartAt).
  /// Executed first, before truncate_to; the epoch cache is empty after it.
  std::optional<int64_t> restart_at;
  std::optional<int64_t> truncate_to;
  /// Follower: raise the log start to this offset (the leader's log start,
  /// at most our HW), after truncate_to: records kept below it are never
  /// read again, and may not be the leader's (it can no longer compare
  /// epochs there). Kafka's maybeIncrementLogStartOffset on every fetch answer.
  /// The machine does not see retention, so the log start may already be
  /// past it: then nothing happens.
  std::optional<int64_t> log_start_offset;
  std::optional<int64_t> high_watermark;
  std::vector<completed_ack> acks;
  std::vector<alter_isr_request> alter_isr;
  std::optional<offsets_for_epoch_request> offsets_for_epoch;
  std::optional<replica_fetch_request> fetch;
  bool role_changed = false;
  bool empty() const {
    return !restart_at && !truncate_to && !log_start_offset && !high_watermark && acks.empty() &&
           alter_isr.empty() &&
           !offsets_for_epoch && !fetch && !role_changed;
  }
};

/// What the leader knows about one follower (Kafka's Replica state).
struct follower_progress {
  int64_t log_end_offset = -1;     // -1: no fetch in this leader epoch yet
  int64_t last_caught_up_ms = 0;   // Kafka's lastCaughtUpTimeMs
  int64_t last_fetch_ms = 0;
  int64_t last_fetch_leader_leo = -1; // leader LEO when that fetch came
  int64_t broker_epoch = -1;
  /// When the controller last refused to add it (INELIGIBLE_REPLICA: its
  /// broker is fenced, or restarted since); -1: never. It is not proposed
  /// again until it has fetched since then and a back-off has passed, so a
  /// dead broker that was caught up when it died is not re-proposed (each
  /// proposal holds the HW where the dead broker left it).
  int64_t refused_ms = -1;
};

class replica_machine {
public:
  replica_machine(replica_config config, replica_log_state log);

  // ---- transitions -------------------------------------------------------
  /// New metadata for this partition: a newer leader epoch makes this
  /// replica leader, follower or none; the same epoch with a newer
  /// partition epoch updates the leader's committed ISR. Stale: ignored.
  void on_metadata(const partition_leadership& m, int64_t now_ms);
  void become_leader(const partition_leadership& m, int64_t now_ms);
  void become_follower(int32_t leader_id, int32_t leader_epoch, int64_t now_ms);
  void become_none(int32_t leader_epoch);

  // ---- leader ------------------------------------------------------------
  /// Kafka's current-leader-epoch check: NONE, FENCED_LEADER_EPOCH (the
  /// requester is behind), UNKNOWN_LEADER_EPOCH (the requester claims a newer
  /// epoch: answered, nothing changes; only metadata moves leadership),
  /// NOT_LEADER_OR_FOLLOWER.
  errc check_leader_epoch(int32_t current_leader_epoch) const;
  /// Produce with acks=all: min.insync.replicas against the committed ISR.
  bool can_accept_acks_all(int32_t min_insync_replicas) const;
  /// The caller appended records (stamped with leader_epoch()) up to new_leo.
  void on_append(int64_t new_leo);
  /// Parks acks=all produce `id` until HW > last_offset; then it completes
  /// with NONE or NOT_ENOUGH_REPLICAS_AFTER_APPEND (maximal ISR too small).
  void wait_for(uint64_t id, int64_t last_offset, int32_t min_insync_replicas);
  /// The produce request timed out in the caller: forget it.
  void cancel_wait(uint64_t id);
  leader_fetch_result on_fetch(const replica_fetch_request& req, int64_t now_ms);
  offsets_for_epoch_response on_offsets_for_epoch(const offsets_for_epoch_request& req);
  void on_alter_isr_response(const alter_isr_response& resp, int64_t now_ms);

  // ---- follower ----------------------------------------------------------
  void on_offsets_for_epoch_response(const offsets_for_epoch_response& resp, int64_t now_ms);
  /// Whether the answer belongs to the fetch in flight; if so the caller
  /// must append exactly `batches` (contiguous from the fetch offset).
  bool on_fetch_response(const replica_fetch_response& resp,
                         const std::vector<fetched_batch>& batches, int64_t now_ms);
  /// The caller executed ready().truncate_to: its log now ends at
  /// `log_end_offset`, at most the offset asked for. It is lower when that
  /// offset lay inside a batch, which the log cuts whole (partition_log::
  /// truncate_to): the leader's answer is a batch boundary in its own log,
  /// not always in ours (its epoch cache starts at its log start, which can
  /// fall inside one of our diverged batches). Nothing is fetched or asked
  /// between truncate_to and this call.
  void on_truncated(int64_t log_end_offset, int64_t now_ms);

  // ---- both --------------------------------------------------------------
  void tick(int64_t now_ms);
  /// When tick() next has work (wall clock ms), or nullopt when only an
  /// event (a fetch, an answer, metadata, an append) can give it some: a
  /// follower's request timeout or fetch backoff; a leader's earliest ISR
  /// member that stops counting as caught up (its LEO is behind and
  /// replica.lag.time.max.ms passes), or an ISR proposal's timeout. The
  /// shell arms one timer for it instead of ticking every 200 ms (issue 15:
  /// 3000 partitions on three nodes spent over half of each node's CPU
  /// idle, mostly on those ticks and their wake-ups).
  std::optional<int64_t> next_tick_ms() const;
  bool has_ready() const { return !ready_.empty(); }
  replica_ready ready();

  replica_role role() const { return role_; }
  int32_t broker_id() const { return config_.broker_id; }
  int32_t leader_id() const { return leader_id_; }
  int32_t leader_epoch() const { return leader_epoch_; }
  int32_t partition_epoch() const { return partition_epoch_; }
  int64_t log_end_offset() const { return leo_; }
  int64_t high_watermark() const { return hw_; }
  /// Leader: where this leader epoch's records start.
  int64_t epoch_start_offset() const { return epoch_start_offset_; }
  const leader_epoch_cache& epochs() const { return epochs_; }
  const std::vector<int32_t>& replicas() const { return replicas_; }
  /// Leader: the ISR the controller committed (min.insync checks).
  const std::vector<int32_t>& isr() const { return isr_; }
  /// Leader: committed ISR plus every member proposed since (HW).
  const std::vector<int32_t>& maximal_isr() const { return maximal_isr_; }
  const follower_progress* progress(int32_t follower) const;
  bool truncating() const { return role_ == replica_role::follower && truncating_; }

private:
  // replica_leader.cpp
  void reset_followers(int64_t now_ms);
  void update_follower(follower_progress& f, int64_t fetch_offset, int64_t now_ms);
  bool caught_up(const follower_progress& f, int64_t now_ms) const;
  bool may_join_isr(const follower_progress& f, int64_t now_ms) const;
  void maybe_advance_hw();
  void complete_acks();
  void fail_acks(errc why);
  void maybe_change_isr(int64_t now_ms);
  void propose_isr(std::vector<int32_t> new_isr, int64_t now_ms);
  void commit_isr(std::vector<int32_t> isr, int32_t partition_epoch);
  // replica_follower.cpp
  void start_truncation(int64_t now_ms);
  void send_offsets_request(int64_t now_ms);
  void truncate(int64_t offset);
  void restart_at(int64_t offset);
  void advance_log_start(int64_t offset);
  void finish_truncation(int64_t now_ms);
  void send_fetch(int64_t now_ms);
  void tick_follower(int64_t now_ms);
  void set_hw(int64_t hw);

  struct pending_ack {
    int64_t last_offset;
    int32_t min_insync_replicas;
  };

  replica_config config_;
  replica_role role_ = replica_role::none;
  int32_t leader_id_ = -1;
  int32_t leader_epoch_ = -1; // newest leader epoch the metadata told of
  int32_t partition_epoch_ = -1;
  int64_t log_start_ = 0;
  int64_t leo_ = 0;
  int64_t hw_ = 0;
  leader_epoch_cache epochs_;
  std::vector<int32_t> replicas_;
  // Leader.
  int64_t epoch_start_offset_ = -1;
  std::vector<int32_t> isr_;
  std::vector<int32_t> maximal_isr_;
  std::vector<int32_t> last_proposed_; // empty: nothing proposed at partition_epoch_
  int64_t last_proposed_ms_ = 0;
  uint64_t next_proposal_id_ = 1;
  uint64_t epoch_first_proposal_id_ = 1; // first proposal at partition_epoch_
  bool awaiting_metadata_ = false; // the controller says our partition epoch is stale
  std::map<int32_t, follower_progress> followers_;
  std::map<uint64_t, pending_ack> acks_;
  // Follower.
  bool truncating_ = false;
  bool awaiting_cut_ = false; // truncate_to handed out, on_truncated not yet called
  bool in_flight_ = false;   // a fetch or OffsetsForLeaderEpoch awaits its answer
  int64_t sent_ms_ = 0;
  int64_t next_fetch_ms_ = 0;
  int32_t requested_epoch_ = -1;
  replica_ready ready_;
};

} // namespace al
