#include "runtime/cli/partitioner.hpp"

#include "storage/assert.hpp"

namespace al::cli {

int32_t choose_partition(std::string_view key, int32_t partition_count) {
  AL_ASSERT(partition_count > 0);
  uint32_t h = 2166136261u;
  for (unsigned char c : key) {
    h ^= c;
    h *= 16777619u;
  }
  return static_cast<int32_t>((h & 0x7fffffffu) % static_cast<uint32_t>(partition_count));
}

} // namespace al::cli
