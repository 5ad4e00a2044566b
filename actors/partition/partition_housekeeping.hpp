#pragma once
// The partition actor's housekeeping and lifecycle handlers
// (partition_housekeeping.cpp), split from partition_actor.cpp: when
// housekeeping is due and what it does (flush.ms, producer snapshots and
// expiry, retention, compaction through the I/O worker), config changes,
// flush requests and deletion.
#include <cstdint>

#include <caf/all.hpp>

#include "actors/partition/partition_state.hpp"

namespace al {

/// When housekeeping has something to do next (wall clock ms).
int64_t housekeeping_due_ms(const partition_state& st, int64_t now);
void housekeeping(partition_ptr self);
void on_config(partition_ptr self, const config_map& configs);
caf::result<bool> on_flush(partition_ptr self);
caf::result<bool> on_delete(partition_ptr self);

} // namespace al
