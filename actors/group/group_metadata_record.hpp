#pragma once
// Group metadata records of __consumer_offsets (docs/groups.md has the byte
// layout): a coordinator appends one on a generation's first SyncGroup and
// answers the syncs only once it is committed, which fences a coordinator
// left on a deposed leader (issue 12). Kafka's layout, byte for byte:
//   key   = version int16 (2), group string                 (GroupMetadataKey v2)
//   value = version int16 (3), protocol_type string, generation int32,
//           protocol nullable string, leader nullable string,
//           current_state_timestamp int64, members array    (GroupMetadataValue v3)
//   member = member_id string, group_instance_id nullable string (null),
//           client_id string, client_host string, rebalance_timeout int32,
//           session_timeout int32, subscription bytes, assignment bytes
//   subscription, assignment = server-side generations: encoded from the
//           decoded fields (consumer_protocol.hpp: ConsumerProtocolSubscription
//           v2, ConsumerProtocolAssignment v0); relay generations: the bytes
//           the members and the leader sent, as they are (Kafka's way)
// Values of versions 0-3 decode (Kafka's non-flexible ones); a null value
// (tombstone) deletes the group's metadata (DeleteGroups writes one).
// Decoding keeps a member's raw bytes unless they are exactly what encoding
// its decoded fields gives; for protocol type "consumer" it decodes them
// when they decode (else the fields stay empty), for other types never.
#include <string>
#include <vector>

#include "actors/group/group_messages.hpp"
#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

inline constexpr int16_t group_metadata_key_version = 2;
inline constexpr int16_t group_metadata_value_version = 3;

bytes encode_group_metadata_key(const std::string& group_id);
/// A member's subscription and assignment bytes as a record holds them:
/// the raw bytes if set, else the decoded fields encoded.
bytes encoded_subscription(const group_member_metadata& m);
bytes encoded_assignment(const group_member_metadata& m);
bytes encode_group_metadata_value(const group_metadata& value);

/// The group id of a key whose version is group_metadata_key_version.
result<std::string> decode_group_metadata_key(byte_view data);
result<group_metadata> decode_group_metadata_value(byte_view data);

/// One RecordBatch with the group's metadata record. `timestamp_ms`: wall clock.
bytes group_metadata_batch(const std::string& group_id, const group_metadata& value,
                           int64_t timestamp_ms);
/// DeleteGroups: one RecordBatch of tombstones, one per committed partition
/// and one for the group's metadata.
bytes group_tombstone_batch(const std::string& group_id,
                            const std::vector<topic_partition>& partitions,
                            int64_t timestamp_ms);

} // namespace al
