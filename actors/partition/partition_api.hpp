#pragma once
// Typed interface of a partition replica actor: one per hosted partition,
// owning that partition's log. Spawned and supervised by the node's broker.
#include <caf/typed_actor.hpp>
#include <caf/replies_to.hpp>

#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/messages.hpp"
#include "actors/partition/replica_messages.hpp"

namespace al {

using partition_api = caf::typed_actor<
  caf::replies_to<produce_atom, produce_request>::with<produce_response>,
  // WriteTxnMarkers from a transaction coordinator (leader only)
  caf::replies_to<txn_marker_atom, txn_marker_request>::with<produce_response>,
  caf::replies_to<fetch_atom, fetch_request>::with<fetch_response>,
  caf::replies_to<list_offsets_atom, list_offsets_request>::with<list_offsets_response>,
  // Offsets and replica state of this replica (log start/end, high watermark).
  caf::replies_to<stats_atom>::with<partition_description>,
  // The topic's configs changed (full set of overrides).
  caf::reacts_to<config_atom, config_map>,
  // New leader/ISR/epoch from the controller's metadata.
  caf::reacts_to<metadata_update_atom, partition_description>,
  // Leader: a follower's OffsetsForLeaderEpoch.
  caf::replies_to<epoch_query_atom, offsets_for_epoch_request>::with<offsets_for_epoch_response>,
  // Replication timer: ISR shrink, follower request timeouts.
  caf::reacts_to<replica_tick_atom>,
  // Housekeeping timer: retention, compaction, flush.ms.
  caf::reacts_to<tick_atom>,
  // Parked long-poll fetches may have reached their max wait (the argument
  // names the timer: its time point in the actor clock's ticks).
  caf::reacts_to<expire_atom, uint64_t>,
  // Flush and close (clean shutdown); replies once data is on disk.
  caf::replies_to<flush_atom>::with<bool>,
  // The topic was deleted: remove the files, then quit.
  caf::replies_to<delete_atom>::with<bool>>;

} // namespace al
