#pragma once
// The exactly-once position service (consume-transform-produce, Kafka's
// read-process-write loop): reads `orders` with read_committed in consumer
// group `position`, and for each poll writes one `positions` record per
// order plus the consumed offsets in one transaction. Either the output and
// the offsets both count, or neither does; a crashed instance's open
// transaction is aborted by its replacement (same transactional.id, a
// higher epoch), which restores the net positions from the committed
// `positions` records and goes on from the committed offsets.
//
// Any error of the transaction (fenced, a commit that timed out, ...) ends
// the process with exit status 3: restarting is the recovery (the next
// instance fences this one, aborts what it left open, restores and goes on).
#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include <caf/fwd.hpp>

namespace trading {

struct service_options {
  std::string bootstrap;
  std::string input = "orders";
  std::string output = "positions";
  std::string group = "position";
  std::string transactional_id = "position-service";
  int32_t input_partitions = 6;
  int32_t output_partitions = 6;
  std::map<int32_t, int64_t> output_start; // where this run's positions begin (default 0)
  int32_t max_poll_records = 200;
  /// Demo: after this many input records are committed, the next
  /// transaction is written and flushed, "HOLDING <n>" is printed, and the
  /// process waits with the transaction open (to be killed). 0: never.
  int64_t hold_open_after = 0;
};

/// Runs until `stop` is set (then returns 0) or a transaction fails (3) or
/// the service cannot start (1). Prints one line per event on stdout.
int run_position_service(caf::actor_system& sys, const service_options& opts,
                         const std::atomic<bool>& stop);

} // namespace trading
