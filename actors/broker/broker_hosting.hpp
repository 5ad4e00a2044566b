#pragma once
// The partitions a broker hosts: a partition actor spawned for each replica
// the metadata image puts on this node, told of leadership, ISR and config
// changes, and stopped (its files deleted) when the image drops it; and
// the node's HW and recovery-point tables those actors share.
#include <memory>

#include "actors/broker/broker_actor.hpp"

namespace al {

/// Brings the hosted partition actors in line with a new metadata image
/// (a stale one is ignored), then the group and transaction coordinators.
void apply_image(broker_api::stateful_pointer<broker_state> self, metadata_image image);
/// The same for the local controller's push of what changed: merged into
/// the broker's image, then only the changed topics are acted on (every
/// topic for a full delta, or when the image first holds this process's
/// registration).
void apply_delta(broker_api::stateful_pointer<broker_state> self, metadata_delta delta);

/// The node's table in `name` (the node's own, or a new one), loaded; a
/// file that cannot be read is a warning saying what it costs.
std::shared_ptr<hw_checkpoint_table> open_table(const broker_setup& s,
                                                std::shared_ptr<hw_checkpoint_table> table,
                                                const char* name, const char* without_it);

} // namespace al
