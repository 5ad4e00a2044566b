#pragma once
// Reads every partition of the topic from its log start to a given end
// offset with an al::consumer (manual assignment, no group).
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "tools/chaos/checker.hpp"

namespace chaos {

struct read_back_result {
  std::vector<read_record> records;
  std::string error; // empty: every partition was read up to its end
};

/// `end[p]` is partition p's end (its leader's high watermark).
read_back_result read_back(caf::actor_system& sys, const std::string& bootstrap,
                           const std::string& topic, const std::vector<int64_t>& end,
                           std::chrono::seconds bound);

} // namespace chaos
