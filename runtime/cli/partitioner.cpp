#include "runtime/cli/partitioner.hpp"

#include "actors/client/partitioner.hpp"

namespace al::cli {

int32_t choose_partition(std::string_view key, int32_t partition_count) {
  return partition_for_key(byte_view{key}, partition_count);
}

} // namespace al::cli
