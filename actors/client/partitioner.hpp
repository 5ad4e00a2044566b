#pragma once
// Kafka's default partitioner: murmur2 of the key bytes, sign bit cleared,
// modulo the partition count — the same key lands on the same partition as
// with Kafka's Java client and librdkafka's murmur2 partitioner. Records
// without a key use sticky partitioning: one partition per batch, chosen
// anew when a batch is sent.
#include <cstdint>
#include <optional>

#include "storage/bytes.hpp"

namespace al {

/// Kafka's Utils.murmur2 (seed 0x9747b28c), as a signed 32-bit value.
int32_t murmur2(byte_view data);

/// Partition of a keyed record: (murmur2(key) & 0x7fffffff) % partition_count.
int32_t partition_for_key(byte_view key, int32_t partition_count);

/// Sticky partitioner for null keys: keeps returning one partition until
/// next_batch() is called, then moves to another one.
class sticky_partitioner {
public:
  explicit sticky_partitioner(uint64_t seed = 0x5eed) : state_(seed | 1) {}
  int32_t partition(int32_t partition_count);
  /// The current batch was sent: choose a new partition next time.
  void next_batch() { current_.reset(); }

private:
  uint64_t state_;
  std::optional<int32_t> current_;
  int32_t count_ = 0;
};

} // namespace al
