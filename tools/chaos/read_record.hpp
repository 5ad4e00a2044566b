#pragma once
// One record as read back from a partition (no CAF).
#include <cstdint>
#include <string>

namespace chaos {

struct read_record {
  int32_t partition = -1;
  int64_t offset = -1;
  std::string value;
};

} // namespace chaos
