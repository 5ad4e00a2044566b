#pragma once
// Walks the batch headers of a partition log without decoding records:
// producer state and the leader epoch cache are rebuilt this way when no
// snapshot or checkpoint covers the log.
#include <cstdint>
#include <functional>

#include "storage/partition_log.hpp"
#include "storage/record_batch.hpp"

namespace al {

/// Calls `fn` for every batch whose last offset is >= `from` (clamped to the
/// log start), in log order, up to the log end.
status for_each_batch_header(const partition_log& log, int64_t from,
                             const std::function<void(const batch_header&)>& fn);

} // namespace al
