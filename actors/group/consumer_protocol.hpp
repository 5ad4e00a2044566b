#pragma once
// Kafka's consumer protocol: what a "consumer" group member puts in its
// JoinGroup metadata (ConsumerProtocolSubscription) and what the leader
// hands each member in SyncGroup (ConsumerProtocolAssignment). The group
// metadata record stores both (group_metadata_record.hpp), and in a relay
// generation (docs/groups.md) the coordinator translates between them and
// the decoded structs its own clients use. Layout (classic encoding):
//   subscription = version int16, topics array of string, user_data bytes,
//       owned_partitions array of (topic string, partitions array of int32)
//       (v1+), generation int32 (v2+), rack_id nullable string (v3+)
//   assignment = version int16, partitions array of (topic string,
//       partitions array of int32), user_data bytes
// We write subscription v2 and assignment v0 with null user data; versions
// 0-3 decode (user data and rack are read and dropped).
#include <vector>

#include "actors/group/assignor_machine.hpp"
#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

bytes encode_subscription(const member_subscription& s);
result<member_subscription> decode_subscription(byte_view data);

bytes encode_assignment(const std::vector<topic_partition>& tps);
result<std::vector<topic_partition>> decode_assignment(byte_view data);

} // namespace al
