#pragma once
// Typed interface of the controller: owner of cluster metadata. Admin
// requests become commands in the metadata log; brokers register with it,
// heartbeat to it, and receive the metadata image it pushes.
#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/controller/metadata_machine.hpp"
#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/atoms.hpp"

namespace al {

using controller_api = caf::typed_actor<
  caf::replies_to<create_topic_atom, create_topic_request>::with<topic_description>,
  caf::replies_to<alter_topic_atom, alter_topic_request>::with<topic_description>,
  caf::replies_to<delete_topic_atom, std::string>::with<bool>,
  caf::replies_to<metadata_atom>::with<metadata_image>,
  caf::replies_to<describe_cluster_atom>::with<cluster_description>,
  // A broker (its broker_api handle as an untyped actor) joins or rejoins.
  caf::replies_to<register_atom, broker_description, int64_t, caf::actor>::with<metadata_image>,
  caf::replies_to<init_pid_atom>::with<producer_id_response>,
  caf::reacts_to<heartbeat_atom, int32_t, int64_t>, // broker id, incarnation
  caf::reacts_to<tick_atom>>;

} // namespace al
