#pragma once
// Typed interface of the node's store actor: the only owner of meta.db.
// Spawned detached (SQLite commits fsync; they must not block scheduler
// threads).
#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/controller/metadata_machine.hpp"
#include "actors/protocol/atoms.hpp"

namespace al {

using store_api = caf::typed_actor<
  // Materialise the metadata image as of metadata log offset N.
  caf::reacts_to<apply_atom, int64_t, metadata_image>,
  // Barrier: replies once everything sent before is committed.
  caf::replies_to<flush_atom>::with<bool>>;

struct store_state {
  static constexpr const char* name = "store";
};

/// Opens `db_path` (creating it); quits with the open error if that fails.
store_api::behavior_type store_actor(store_api::stateful_pointer<store_state> self,
                                     std::string db_path);

} // namespace al
