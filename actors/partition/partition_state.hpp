#pragma once
// State of a partition actor (see partition_actor.hpp).
#include <cstdint>
#include <map>
#include <memory>

#include <caf/typed_response_promise.hpp>

#include "actors/partition/partition_actor.hpp"
#include "actors/partition/producer_state_store.hpp"
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
  producer_state_table producers;          // idempotent producers (last 5 batches each)
  bool producers_dirty = false;            // changed since the last snapshot
  int64_t last_snapshot_ms = 0;

  partition_state() = default;
  partition_state(const partition_state&) = delete;
  partition_state& operator=(const partition_state&) = delete;
  /// Snapshot producer state on the way out, so a restart scans less log.
  ~partition_state() {
    if (log && producers_dirty)
      (void)save_producer_state(producers, *log);
  }

  bool is_leader() const { return setup.state.leader == setup.node_id; }
  static constexpr const char* name = "partition";
};

} // namespace al
