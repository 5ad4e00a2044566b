#pragma once
// Reads every partition of the topic from its log start to a given end
// offset with an al::consumer (manual assignment, no group), or until a
// sentinel record: a read_committed reader never reaches a high watermark
// that ends with a marker or aborted records, so the transactional run
// writes a plain record after everything and reads up to it.
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

struct read_options {
  std::string isolation = "read_uncommitted";
  std::string sentinel; // non-empty: a partition is read once this value is (it is left out)
};

/// `end[p]` is partition p's end (its leader's high watermark).
read_back_result read_back(caf::actor_system& sys, const std::string& bootstrap,
                           const std::string& topic, const std::vector<int64_t>& end,
                           std::chrono::seconds bound, const read_options& ro = {});

} // namespace chaos
