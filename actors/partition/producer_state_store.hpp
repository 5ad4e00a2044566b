#pragma once
// Persistence of a partition's producer state: a snapshot file
// (<partition dir>/producer.snapshot, written atomically) covering the log
// up to some offset, plus a scan of batch headers from there to the log
// end on load — the same idea as Kafka's .snapshot files. CAF-free.
#include <string>

#include "actors/partition/producer_state_machine.hpp"
#include "storage/partition_log.hpp"

namespace al {

/// Rebuilds the table for `log`: from the snapshot when it is valid and not
/// past the log end, else from the log start. `note` says what was used.
/// Batches scanned from the log count as written no later than `now_ms`
/// (producer_state_table::on_append).
result<producer_state_table> load_producer_state(
  const partition_log& log, std::string* note,
  int64_t now_ms = producer_state_table::no_clock);

/// Writes a snapshot covering everything below log.log_end_offset().
status save_producer_state(const producer_state_table& table, const partition_log& log);

} // namespace al
