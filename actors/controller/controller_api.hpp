#pragma once
// Typed interface of the controller: owner of cluster metadata. One
// controller actor per controller-role node; together they form a Raft
// quorum (KRaft style) replicating the metadata log. Admin requests become
// commands proposed by the active controller (the Raft leader; the others
// forward to it); every controller applies committed commands in order and
// pushes the resulting image to its node's broker.
#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/controller/metadata_machine.hpp"
#include "actors/controller/raft_wire.hpp"
#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/messages.hpp"
#include "actors/partition/replica_messages.hpp"

namespace al {

using controller_api = caf::typed_actor<
  caf::replies_to<create_topic_atom, create_topic_request>::with<topic_description>,
  caf::replies_to<alter_topic_atom, alter_topic_request>::with<topic_description>,
  caf::replies_to<delete_topic_atom, std::string>::with<bool>,
  caf::replies_to<metadata_atom>::with<metadata_image>,
  caf::replies_to<describe_cluster_atom>::with<cluster_description>,
  caf::replies_to<init_pid_atom>::with<producer_id_response>,
  // The node's broker (its broker_api handle as an untyped actor) joins or
  // rejoins; the reply is the current image.
  caf::replies_to<register_atom, broker_description, int64_t, caf::actor>::with<metadata_image>,
  // A controller forwards a registration to the active controller, which
  // answers with its image (fresher than the forwarding node's).
  caf::replies_to<register_atom, broker_description, int64_t>::with<metadata_image>,
  caf::reacts_to<heartbeat_atom, int32_t, int64_t>, // broker id, incarnation
  // A partition leader's ISR change (KIP-497 AlterPartition).
  caf::replies_to<alter_isr_atom, alter_isr_request>::with<alter_isr_response>,
  // Fault injection: drop (true) or restore (false) Raft and forwarded
  // traffic with voter N.
  caf::replies_to<link_cut_atom, int32_t, bool>::with<bool>,
  // Raft between controllers, and each one's Raft status for describe.
  caf::reacts_to<raft_atom, raft_wire>,
  caf::replies_to<quorum_atom>::with<quorum_member>,
  caf::reacts_to<tick_atom>,
  // To itself: one image push for a batch of applied commands.
  caf::reacts_to<batch_atom>>;

} // namespace al
