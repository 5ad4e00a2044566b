#include "actors/client/partitioner.hpp"

#include "storage/assert.hpp"

namespace al {

int32_t murmur2(byte_view data) {
  const uint32_t m = 0x5bd1e995u;
  const int r = 24;
  const auto length = uint32_t(data.size);
  uint32_t h = 0x9747b28cu ^ length;
  const uint32_t length4 = length / 4;
  for (uint32_t i = 0; i < length4; ++i) {
    const uint8_t* p = data.data + i * 4;
    uint32_t k = uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) |
                 (uint32_t(p[3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint8_t* tail = data.data + (length & ~3u);
  switch (length % 4) {
    case 3: h ^= uint32_t(tail[2]) << 16; [[fallthrough]];
    case 2: h ^= uint32_t(tail[1]) << 8; [[fallthrough]];
    case 1:
      h ^= uint32_t(tail[0]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(byte_view key, int32_t partition_count) {
  AL_ASSERT(partition_count > 0, partition_count);
  return int32_t((uint32_t(murmur2(key)) & 0x7fffffffu) % uint32_t(partition_count));
}

int32_t sticky_partitioner::partition(int32_t partition_count) {
  AL_ASSERT(partition_count > 0, partition_count);
  if (current_ && count_ == partition_count)
    return *current_;
  // xorshift64: cheap, seeded, good enough to spread batches.
  state_ ^= state_ << 13;
  state_ ^= state_ >> 7;
  state_ ^= state_ << 17;
  int32_t next = int32_t(state_ % uint64_t(partition_count));
  if (current_ && partition_count > 1 && next == *current_)
    next = (next + 1) % partition_count;
  current_ = next;
  count_ = partition_count;
  return next;
}

} // namespace al
