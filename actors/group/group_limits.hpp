#pragma once
// Bounds on what a client may put into a group request, checked before the
// coordinator creates a group, stores a member or encodes an offsets record.
// Kafka itself bounds only a few of these (its
// strings stop at 32767 bytes on the wire); the others are generous bounds of
// our own, answered with INVALID_REQUEST naming the field.
#include <cstddef>
#include <cstdint>
#include <string>

#include "actors/group/group_messages.hpp"
#include "storage/status.hpp"

namespace al {

/// Group ids: 1..255 bytes, else INVALID_GROUP_ID. Kafka's wire limit is
/// 32767; real ids are short, and 255 keeps every id the coordinator stores,
/// logs, lists and writes into offsets keys small.
inline constexpr size_t max_group_id_bytes = 255;
/// client_id and client_host. Room for the Java client's default client.id,
/// "consumer-<group id>-<n>", with any allowed group id.
inline constexpr size_t max_client_id_bytes = 512;
/// A member id sent back by a client. The coordinator hands out
/// client_id + "-" + salt + counter, well below this.
inline constexpr size_t max_member_id_bytes = 1024;
/// protocol_type and every protocol (assignor) name.
inline constexpr size_t max_protocol_name_bytes = 255;
/// Protocols (assignors) in one JoinGroup; Kafka's clients send 1 to 4.
inline constexpr size_t max_group_protocols = 16;
/// A member's opaque metadata for one protocol, and one member's assignment
/// in a leader's SyncGroup (Kafka bounds neither; a Java consumer's
/// subscription to max_subscribed_topics topics fits easily).
inline constexpr size_t max_protocol_metadata_bytes = 1 << 20;
/// Entries of a leader's SyncGroup assignment list.
inline constexpr size_t max_sync_assignments = 100000;
/// Topics in one protocol's subscription.
inline constexpr size_t max_subscribed_topics = 10000;
/// Owned partitions in one protocol's subscription.
inline constexpr size_t max_owned_partitions = 100000;
/// offset.metadata.max.bytes may not exceed what an offsets record can hold
/// (its strings carry an int16 length).
inline constexpr int32_t max_offset_metadata_bytes = INT16_MAX;
/// A topic's partition count above this is not believed (the controller
/// never creates one; an assignor would need gigabytes for it).
inline constexpr int32_t max_topic_partitions = 1000000;
/// A generation above this in a loaded offsets record is not believed: our
/// coordinators write the committer's generation, one per rebalance.
inline constexpr int32_t max_loaded_generation_id = 1 << 30;

/// INVALID_GROUP_ID for an empty group id or one over max_group_id_bytes.
status check_group_id(const std::string& group_id);

/// The JoinGroup fields that need no group state, in Kafka's order:
/// INVALID_SESSION_TIMEOUT outside [min, max], INVALID_REQUEST naming the
/// field for anything over the bounds above or a subscribed topic that is
/// not a legal topic name, then INCONSISTENT_GROUP_PROTOCOL for no
/// protocols, or: from a member that assigns itself (client_assigns), an
/// empty protocol type (any type and name is fine otherwise: they are
/// opaque); from one of our clients, a protocol type other than "consumer"
/// or no known assignor.
status check_join_request(const join_group_request& req, int32_t min_session_timeout_ms,
                          int32_t max_session_timeout_ms);

/// SyncGroup: the member id, and a leader's assignments (their count, and
/// each member id and assignment size) as INVALID_REQUEST.
status check_sync_request(const sync_group_request& req);

/// INVALID_REQUEST for a member id over max_member_id_bytes.
status check_member_id(const std::string& member_id);

/// OffsetCommit and alter-offsets as a whole: the member id, and offsets and
/// partitions that cannot be meant (negative). Per-partition problems
/// (topic name, unknown partition, metadata size) are answered per
/// partition by the group machine.
status check_offset_commit(const std::string& member_id, const offset_commit_map& offsets);

/// Per partition of a commit, Kafka's codes: INVALID_TOPIC_EXCEPTION for an
/// illegal topic name, UNKNOWN_TOPIC_OR_PARTITION for a topic that does not
/// exist or a partition beyond its count, OFFSET_METADATA_TOO_LARGE for
/// metadata over `metadata_max_bytes` (offset.metadata.max.bytes).
errc check_committed_partition(const topic_partition& tp, const offset_and_metadata& om,
                               const partition_counts& topics, int32_t metadata_max_bytes);

} // namespace al
