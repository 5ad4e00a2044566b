#pragma once
// Inputs and effects of replica_machine (replica_machine.hpp) and of the
// controller's partition_election_machine: the replication protocol as
// plain data. The actor shells map these onto the wire types
// (messages.hpp fetch_request/fetch_response carry the same fields).
//
//   follower ──OffsetsForLeaderEpoch(current epoch, its latest epoch)──► leader
//            ◄──(largest epoch <= it, that epoch's end offset)────────
//   follower ──Fetch(fetch offset = its LEO, current epoch)─────────► leader
//            ◄──(batches from the fetch offset, leader's HW)──────────
//   leader ──AlterPartition(new ISR, leader epoch, partition epoch)─► controller
//          ◄──(committed ISR, new partition epoch) or an error────────
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/protocol/messages.hpp"
#include "storage/errc.hpp"

namespace al {

/// The controller's view of one partition, as a replica learns it from
/// metadata. partition_epoch (KIP-497) grows with every leader or ISR change
/// and fences stale AlterPartition requests; leader_epoch grows only when
/// the leader changes (or is re-elected).
struct partition_leadership {
  int32_t leader = -1; // -1: offline
  int32_t leader_epoch = -1;
  int32_t partition_epoch = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
};

/// Follower -> leader. fetch_offset = the follower's log end offset: it has
/// every offset below it, identical to the leader's log.
struct replica_fetch_request {
  int32_t leader_id = -1;            // destination
  int32_t replica_id = -1;
  int64_t broker_epoch = -1;         // the follower's incarnation (KIP-903)
  int32_t current_leader_epoch = -1;
  int64_t fetch_offset = 0;
};

/// Leader -> follower: what the follower's machine needs of a fetch answer.
/// The two echoed fields match it to the fetch the follower is waiting on.
struct replica_fetch_response {
  int32_t current_leader_epoch = -1; // echo
  int64_t fetch_offset = 0;          // echo
  errc error = errc::none;
  int64_t high_watermark = 0;
  int64_t log_end_offset = 0;
  /// The leader's log start. Above the fetch offset (retention deleted what
  /// the follower needs next): the answer has no batches, and the follower
  /// empties its log and restarts there (Kafka's truncateFullyAndStartAt).
  int64_t log_start_offset = 0;
};

/// One whole batch of a fetch answer (its records go to append_as_follower).
struct fetched_batch {
  int32_t leader_epoch = 0; // the partition leader epoch stamped in the batch
  int64_t base_offset = 0;
  int64_t last_offset = 0;
};

/// What the leader's machine says about a follower's fetch.
struct leader_fetch_result {
  errc error = errc::none;
  int64_t high_watermark = 0; // after taking this fetch into account
  int64_t log_end_offset = 0;
};

/// Follower -> leader (Kafka's OffsetsForLeaderEpoch, KIP-101/KIP-279).
struct offsets_for_epoch_request {
  int32_t leader_id = -1;            // destination
  int32_t replica_id = -1;
  int32_t current_leader_epoch = -1; // fences stale leaders and followers
  int32_t requested_epoch = -1;      // the follower's latest epoch
};

struct offsets_for_epoch_response {
  int32_t current_leader_epoch = -1; // echo
  int32_t requested_epoch = -1;      // echo
  errc error = errc::none;
  int32_t epoch = -1;       // largest epoch <= requested_epoch the leader knows
  int64_t end_offset = -1;  // where it ends on the leader; -1: undefined
};

/// Why the controller refused an AlterPartition (Kafka's codes; to_errc()).
enum class alter_isr_error : uint8_t {
  none,
  unknown_topic_or_partition,
  fenced_leader_epoch,    // the sender is not the leader of the current epoch
  invalid_update_version, // based on an old partition epoch: may have lost a race
  ineligible_replica,     // adds a fenced broker or a stale incarnation: not applied
  invalid_request,        // malformed (leader missing, not a subset of replicas): not applied
};
const char* to_string(alter_isr_error e);
errc to_errc(alter_isr_error e);

/// Leader -> controller (KIP-497 AlterPartition).
struct alter_isr_request {
  topic_partition tp;
  int32_t leader_id = -1;
  int32_t leader_epoch = -1;
  int32_t partition_epoch = -1;   // the committed state the proposal starts from
  std::vector<int32_t> new_isr;   // in replicas order
  std::map<int32_t, int64_t> broker_epochs; // members' incarnations as seen in their fetches
  uint64_t proposal_id = 0;       // echoed, for logs
};

struct alter_isr_response {
  topic_partition tp;
  uint64_t proposal_id = 0;
  alter_isr_error error = alter_isr_error::none;
  int32_t leader_epoch = -1;      // the controller's, after the change
  int32_t partition_epoch = -1;
  std::vector<int32_t> isr;       // committed ISR (on success)
};

/// An acks=all produce whose wait ended.
struct completed_ack {
  uint64_t id = 0;
  errc error = errc::none; // none, NOT_ENOUGH_REPLICAS_AFTER_APPEND, NOT_LEADER_OR_FOLLOWER
};

/// "[1, 2, 3]"
std::string describe_ids(const std::vector<int32_t>& ids);

// Wire form (registered in actors/protocol/actor_config.cpp).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, offsets_for_epoch_request& x) {
  return f(x.leader_id, x.replica_id, x.current_leader_epoch, x.requested_epoch);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, offsets_for_epoch_response& x) {
  return f(x.current_leader_epoch, x.requested_epoch, x.error, x.epoch, x.end_offset);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alter_isr_request& x) {
  return f(x.tp, x.leader_id, x.leader_epoch, x.partition_epoch, x.new_isr, x.broker_epochs,
           x.proposal_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alter_isr_response& x) {
  return f(x.tp, x.proposal_id, x.error, x.leader_epoch, x.partition_epoch, x.isr);
}

} // namespace al
