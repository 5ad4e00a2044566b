#pragma once
// Where a group's coordinator lives, as in Kafka: the group's committed
// offsets go to partition abs(groupId.hashCode()) % n of the internal topic
// __consumer_offsets, and the leader of that partition coordinates the group.
// Java's String.hashCode is reproduced exactly, so a group lands on the same
// partition number as it would in Kafka.
#include <cstdint>
#include <string_view>

namespace al {

inline constexpr const char* offsets_topic_name = "__consumer_offsets";

/// Java's String.hashCode of the UTF-16 form of `utf8`: s[0]*31^(n-1) + ...
/// + s[n-1] in wrapping int32 arithmetic over UTF-16 code units (a code
/// point above U+FFFF counts as its two surrogates). An invalid UTF-8 byte
/// counts as U+FFFD, as Java's decoder replaces it.
int32_t java_string_hash(std::string_view utf8);

/// Kafka's Utils.abs: |n|, except that INT32_MIN maps to 0.
inline int32_t kafka_abs(int32_t n) { return n == INT32_MIN ? 0 : (n < 0 ? -n : n); }

/// Kafka's GroupMetadataManager.partitionFor: abs(hashCode(group)) % partitions.
int32_t offsets_partition_for(std::string_view group_id, int32_t partitions);

} // namespace al
