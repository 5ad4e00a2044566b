#pragma once
// Inputs and outputs of the group coordinator machine (group_machine.hpp):
// Kafka's JoinGroup, SyncGroup, Heartbeat, LeaveGroup and OffsetCommit as
// plain structs (no CAF; `inspect` overloads let the actor send them), and
// the effects the machine hands back. Every request carries a request_id
// chosen by the actor; the response carrying the same id may come later
// (joins wait for the rebalance, commits wait for persistence).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "actors/group/assignor_machine.hpp"
#include "storage/bytes.hpp"
#include "storage/errc.hpp"

namespace al {

/// Kafka's group states (names as in kafka-consumer-groups --describe --state).
enum class group_state : uint8_t { empty, preparing_rebalance, completing_rebalance, stable, dead };
/// "Empty", "PreparingRebalance", ... (inline: CAF-free tools use it too)
inline std::string_view to_string(group_state s) {
  switch (s) {
    case group_state::empty: return "Empty";
    case group_state::preparing_rebalance: return "PreparingRebalance";
    case group_state::completing_rebalance: return "CompletingRebalance";
    case group_state::stable: return "Stable";
    case group_state::dead: return "Dead";
  }
  return "Unknown";
}

using group_request_id = uint64_t;

/// One entry of JoinGroup's protocol list: an assignor name ("range",
/// "roundrobin", "sticky", "cooperative-sticky"; any name from a member that
/// assigns itself) and the member's metadata for it: decoded (our CAF
/// clients) or as Kafka's wire carries it (`metadata`, opaque; for protocol
/// type "consumer" a ConsumerProtocolSubscription, which the coordinator
/// decodes into `subscription` when it can, for describe and for topic
/// changes).
struct group_protocol {
  std::string name;
  member_subscription subscription;
  bytes metadata = {}; // empty from our CAF clients
  friend bool operator==(const group_protocol& a, const group_protocol& b) {
    return a.name == b.name && a.subscription == b.subscription && a.metadata == b.metadata;
  }
};

struct join_group_request {
  group_request_id request_id = 0;
  std::string member_id; // empty on a member's first join
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 45000;
  int32_t rebalance_timeout_ms = 300000; // the consumer's max.poll.interval.ms
  std::string protocol_type = "consumer";
  std::vector<group_protocol> protocols; // in the member's order of preference
  /// A Kafka wire member: computes the assignment if it becomes leader
  /// (Kafka's classic protocol). Any such member makes the generation a
  /// relay generation (docs/groups.md); false: one of our CAF clients.
  bool client_assigns = false;
};

/// A member's metadata in the generation's protocol, for the leader of a
/// relay generation (Kafka's JoinGroupResponse members).
struct join_member {
  std::string member_id;
  bytes metadata;
  friend bool operator==(const join_member& a, const join_member& b) {
    return a.member_id == b.member_id && a.metadata == b.metadata;
  }
};

struct join_group_response {
  group_request_id request_id = 0;
  errc error = errc::none;
  int32_t generation_id = -1;
  std::string protocol_name;
  std::string leader_id;
  std::string member_id; // also set with MEMBER_ID_REQUIRED: rejoin with it
  std::vector<std::string> members; // all member ids, for the leader only (as Kafka)
  std::string protocol_type = {};    // JoinGroup v7+
  /// Relay generations, leader only: every member with its metadata in the
  /// chosen protocol (a CAF member's subscription encoded as Kafka's
  /// ConsumerProtocolSubscription), so the leader can assign.
  std::vector<join_member> member_metadata = {};
};

/// Server-side generations: the coordinator computed the assignment when
/// the join phase ended, so SyncGroup only fetches the member's share.
/// Relay generations: the leader's SyncGroup brings everyone's assignment
/// (other members' `assignments` are ignored, as Kafka does).
struct sync_group_request {
  group_request_id request_id = 0;
  std::string member_id;
  int32_t generation_id = -1;
  std::vector<std::pair<std::string, bytes>> assignments = {}; // member id -> its assignment
  /// SyncGroup v5: when set and not the group's, INCONSISTENT_GROUP_PROTOCOL.
  std::string protocol_type = {};
  std::string protocol_name = {};
};

struct sync_group_response {
  group_request_id request_id = 0;
  errc error = errc::none;
  std::string protocol_name;
  /// Decoded: always in server-side generations; in relay ones when the
  /// protocol type is "consumer" and the bytes decode (else empty).
  std::vector<topic_partition> assignment;
  std::string protocol_type = {}; // SyncGroup v5+
  /// The member's assignment as Kafka's wire carries it: what the leader
  /// sent (relay), or `assignment` as a ConsumerProtocolAssignment.
  bytes assignment_bytes = {};
};

struct heartbeat_request {
  group_request_id request_id = 0;
  std::string member_id;
  int32_t generation_id = -1;
};

struct heartbeat_response {
  group_request_id request_id = 0;
  errc error = errc::none;
};

struct leave_group_request {
  group_request_id request_id = 0;
  std::string member_id;
};

struct leave_group_response {
  group_request_id request_id = 0;
  errc error = errc::none;
};

struct offset_and_metadata {
  int64_t offset = -1;
  std::string metadata;
  int32_t leader_epoch = -1; // epoch of the last consumed record; -1 when unknown
};

/// generation_id -1 with an empty member_id: a consumer using assign()
/// without membership; accepted only while the group is Empty (as Kafka).
struct offset_commit_request {
  group_request_id request_id = 0;
  std::string member_id;
  int32_t generation_id = -1;
  std::map<topic_partition, offset_and_metadata> offsets;
};

/// `partition_errors`: the partitions that were not committed and why
/// (Kafka's per-partition codes: OFFSET_METADATA_TOO_LARGE,
/// UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC_EXCEPTION); the others were.
/// `error` is none only when every partition was committed: a group-level
/// error (nothing committed), or else the first partition error (as Kafka's
/// Java client fails the whole commit on it).
struct offset_commit_response {
  group_request_id request_id = 0;
  errc error = errc::none;
  std::map<topic_partition, errc> partition_errors;
};

/// A group's committed offset for one partition: one record of the offsets
/// topic, one row of meta.db's consumer_offsets.
struct group_offset {
  int64_t offset = -1;
  std::string metadata;
  int32_t generation_id = -1;
  int64_t commit_time_ms = 0;
  int32_t leader_epoch = -1;
};
using group_offsets = std::map<topic_partition, group_offset>;

using group_response = std::variant<join_group_response, sync_group_response,
                                    heartbeat_response, leave_group_response,
                                    offset_commit_response>;
group_request_id request_id_of(const group_response& r);
errc error_of(const group_response& r);

/// Effect: write these offsets durably, then call on_persisted(persist_id).
/// The commit's reply is only emitted after that (never before the write).
struct persist_offsets_effect {
  uint64_t persist_id = 0;
  std::string group_id;
  std::string member_id;
  int32_t generation_id = -1;
  group_offsets offsets;
};

/// One member of a generation, as a group-metadata record holds it.
struct group_member_metadata {
  std::string member_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  member_subscription subscription; // under the generation's protocol
  std::vector<topic_partition> assignment;
  /// Set: the bytes the record holds, written as they are (relay
  /// generations; decoded records whose bytes are not what encoding the
  /// fields above gives). Unset: encode the fields (group_metadata_record.hpp).
  std::optional<bytes> subscription_bytes = std::nullopt;
  std::optional<bytes> assignment_bytes = std::nullopt;
  friend bool operator==(const group_member_metadata& a, const group_member_metadata& b) {
    return a.member_id == b.member_id && a.client_id == b.client_id &&
           a.client_host == b.client_host && a.rebalance_timeout_ms == b.rebalance_timeout_ms &&
           a.session_timeout_ms == b.session_timeout_ms && a.subscription == b.subscription &&
           a.assignment == b.assignment && a.subscription_bytes == b.subscription_bytes &&
           a.assignment_bytes == b.assignment_bytes;
  }
};

/// A generation and its assignment (Kafka's GroupMetadataValue): written to
/// the offsets partition before any member gets its share (group_metadata_record.hpp).
struct group_metadata {
  std::string protocol_type;
  int32_t generation_id = 0;
  std::string protocol_name;
  std::string leader_id;
  int64_t state_time_ms = 0; // Kafka's current_state_timestamp
  std::vector<group_member_metadata> members;
  friend bool operator==(const group_metadata& a, const group_metadata& b) {
    return a.protocol_type == b.protocol_type && a.generation_id == b.generation_id &&
           a.protocol_name == b.protocol_name && a.leader_id == b.leader_id &&
           a.state_time_ms == b.state_time_ms && a.members == b.members;
  }
};

/// Effect: append the generation's metadata with acks=all, then call
/// on_persisted(persist_id) with the append's outcome. The SyncGroups of
/// the generation are answered only after that (never before the write).
struct persist_group_effect {
  uint64_t persist_id = 0;
  std::string group_id;
  group_metadata metadata;
};

/// A log line: a state change (from != to) or a membership change.
struct group_event {
  int64_t at_ms = 0;
  group_state from = group_state::empty;
  group_state to = group_state::empty;
  int32_t generation_id = 0;
  std::string what;
};

/// Everything the actor must do after feeding inputs, in this order:
/// persist and persist_group (then acknowledge via on_persisted), send
/// responses, log events. Persist ids are shared by both lists; outcomes of
/// each list must come back in its order (appends to one partition do).
struct group_ready {
  std::vector<persist_offsets_effect> persist;
  std::vector<persist_group_effect> persist_group;
  std::vector<group_response> responses;
  std::vector<group_event> events;
  bool empty() const {
    return persist.empty() && persist_group.empty() && responses.empty() && events.empty();
  }
};

struct member_description {
  std::string member_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::vector<std::string> topics; // subscription under the chosen protocol
  std::vector<topic_partition> assignment;
  /// Kafka's DescribeGroups member_metadata and member_assignment: the
  /// metadata in the chosen protocol and the assignment as the wire
  /// carries them (empty while none exists).
  bytes metadata = {};
  bytes assignment_bytes = {};
};

struct group_description {
  std::string group_id;
  group_state state = group_state::empty;
  std::string protocol_type;
  std::string protocol_name;
  int32_t generation_id = 0;
  std::string leader_id;
  std::vector<member_description> members;
  group_offsets offsets;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_subscription& x) {
  return f(x.topics, x.owned_partitions, x.generation_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_protocol& x) {
  return f(x.name, x.subscription, x.metadata);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_group_request& x) {
  return f(x.request_id, x.member_id, x.client_id, x.client_host, x.session_timeout_ms,
           x.rebalance_timeout_ms, x.protocol_type, x.protocols, x.client_assigns);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_member& x) {
  return f(x.member_id, x.metadata);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, join_group_response& x) {
  return f(x.request_id, x.error, x.generation_id, x.protocol_name, x.leader_id, x.member_id,
           x.members, x.protocol_type, x.member_metadata);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sync_group_request& x) {
  return f(x.request_id, x.member_id, x.generation_id, x.assignments, x.protocol_type,
           x.protocol_name);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sync_group_response& x) {
  return f(x.request_id, x.error, x.protocol_name, x.assignment, x.protocol_type,
           x.assignment_bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat_request& x) {
  return f(x.request_id, x.member_id, x.generation_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, heartbeat_response& x) {
  return f(x.request_id, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, leave_group_request& x) {
  return f(x.request_id, x.member_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, leave_group_response& x) {
  return f(x.request_id, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, offset_and_metadata& x) {
  return f(x.offset, x.metadata, x.leader_epoch);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, offset_commit_request& x) {
  return f(x.request_id, x.member_id, x.generation_id, x.offsets);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, offset_commit_response& x) {
  return f(x.request_id, x.error, x.partition_errors);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_offset& x) {
  return f(x.offset, x.metadata, x.generation_id, x.commit_time_ms, x.leader_epoch);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_description& x) {
  return f(x.member_id, x.client_id, x.client_host, x.session_timeout_ms,
           x.rebalance_timeout_ms, x.topics, x.assignment, x.metadata, x.assignment_bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_description& x) {
  return f(x.group_id, x.state, x.protocol_type, x.protocol_name, x.generation_id, x.leader_id,
           x.members, x.offsets);
}

// ---- coordinator lookup and admin (broker API, group_coordinator_api) -------

/// FindCoordinator's answer: the broker that coordinates the group.
struct coordinator_info {
  int32_t node_id = -1;
  std::string host;
  uint16_t port = 0;
  int32_t partition = -1; // the group's __consumer_offsets partition
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, coordinator_info& x) {
  return f(x.node_id, x.host, x.port, x.partition);
}

/// One row of ListGroups.
struct group_listing {
  std::string group_id;
  group_state state = group_state::empty;
  std::string protocol_type;
  int32_t members = 0;
  friend bool operator<(const group_listing& a, const group_listing& b) {
    return a.group_id < b.group_id;
  }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_listing& x) {
  return f(x.group_id, x.state, x.protocol_type, x.members);
}

/// OffsetCommit/alter-offsets payload: partition -> offset to commit.
using offset_commit_map = std::map<topic_partition, offset_and_metadata>;

/// AddOffsetsToTxn (issue 16): the group's offsets partition joins the
/// producer's transaction (the broker names it and asks the transaction
/// coordinator).
struct txn_add_offsets_request {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::string group_id;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, txn_add_offsets_request& x) {
  return f(x.transactional_id, x.producer_id, x.producer_epoch, x.group_id);
}

/// TxnOffsetCommit (issue 16): offsets written to __consumer_offsets in
/// the producer's transaction; they take effect when its COMMIT marker
/// reaches the offsets partition and are dropped on ABORT. generation_id
/// and member_id are the consumer's (KIP-447); -1 and "" skip the check.
struct txn_offset_commit_request {
  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t generation_id = -1;
  std::string member_id;
  offset_commit_map offsets;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, txn_offset_commit_request& x) {
  return f(x.transactional_id, x.producer_id, x.producer_epoch, x.generation_id, x.member_id,
           x.offsets);
}

} // namespace al
