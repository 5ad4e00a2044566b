#pragma once
// State of a partition actor (see partition_actor.hpp).
#include <cstdint>
#include <map>
#include <memory>

#include <caf/typed_response_promise.hpp>

#include "actors/partition/partition_actor.hpp"
#include "storage/partition_log.hpp"

namespace al {

/// A fetch waiting for fetch.min.bytes or fetch.max.wait.ms.
struct parked_fetch {
  fetch_request req;
  caf::typed_response_promise<fetch_response> promise;
};

struct partition_state {
  partition_setup setup;
  std::unique_ptr<partition_log> log;
  status open_error;                      // the log could not be opened
  int64_t high_watermark = 0;
  std::map<uint64_t, parked_fetch> parked; // by id
  uint64_t next_fetch_id = 1;
  int64_t last_retention_check_ms = 0;

  bool is_leader() const { return setup.state.leader == setup.node_id; }
  static constexpr const char* name = "partition";
};

} // namespace al
