#pragma once
// Key -> partition for `actorlog produce`. One function, so the CLI follows
// whatever partitioner the client library uses.
#include <cstdint>
#include <string_view>

namespace al::cli {

/// The partition of a record with this key, as Kafka's default partitioner
/// computes it (murmur2 of the key bytes, sign bit cleared, modulo
/// `partition_count` > 0): the same key lands on the same partition with
/// actorlog's producer, Kafka's Java client and librdkafka.
int32_t choose_partition(std::string_view key, int32_t partition_count);

} // namespace al::cli
