#pragma once
// Key -> partition for the producer. One function, so the Kafka-compatible
// murmur2 partitioner (actors/client) can replace it in one place.
#include <cstdint>
#include <string_view>

namespace al::cli {

/// The partition of a record with this key: a stable hash of the key bytes
/// (32-bit FNV-1a, sign bit cleared) modulo `partition_count` (> 0). The same
/// key gives the same partition on every run and machine.
int32_t choose_partition(std::string_view key, int32_t partition_count);

} // namespace al::cli
