#pragma once
// Typed interface of a node's broker: the actor published on the node's
// port. Clients (CLI, producers, consumers) talk only to brokers; the broker
// routes data requests to partition actors and admin requests to the
// controller.
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/controller/metadata_machine.hpp"
#include "actors/group/group_coordinator_api.hpp"
#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/messages.hpp"
#include "actors/partition/replica_messages.hpp"

namespace al {

using broker_api = caf::typed_actor<
  // data path
  caf::replies_to<produce_atom, produce_request>::with<produce_response>,
  caf::replies_to<fetch_atom, fetch_request>::with<fetch_response>,
  caf::replies_to<list_offsets_atom, list_offsets_request>::with<list_offsets_response>,
  caf::replies_to<metadata_atom, metadata_request>::with<metadata_response>,
  caf::replies_to<init_pid_atom>::with<producer_id_response>,
  // admin (forwarded to the controller)
  caf::replies_to<create_topic_atom, create_topic_request>::with<topic_description>,
  caf::replies_to<alter_topic_atom, alter_topic_request>::with<topic_description>,
  caf::replies_to<delete_topic_atom, std::string>::with<bool>,
  caf::replies_to<describe_topics_atom, std::vector<std::string>>::with<std::vector<topic_description>>,
  caf::replies_to<describe_cluster_atom>::with<cluster_description>,
  // offsets of a partition replica hosted here
  caf::replies_to<stats_atom, topic_partition>::with<partition_description>,
  // from the controller: the current metadata image
  caf::reacts_to<metadata_update_atom, metadata_image>,
  // the controller actor (untyped handle; actor_cast to controller_api)
  caf::replies_to<controller_atom>::with<caf::actor>,
  caf::reacts_to<tick_atom>,
  // consumer groups (broker_groups_actor.cpp): where a group's coordinator
  // is (creates __consumer_offsets on first use), then the group requests,
  // routed to this node's coordinator of the group (NOT_COORDINATOR if
  // another broker has it, COORDINATOR_NOT_AVAILABLE while it loads).
  caf::replies_to<find_coordinator_atom, std::string>::with<coordinator_info>,
  // replication: a follower's OffsetsForLeaderEpoch, routed to the leader
  // replica hosted here; AlterPartition from a local leader, forwarded to
  // the controller; and a local follower's request forwarded to the broker
  // of node N (the follower's fetch is then an ordinary fetch_atom there).
  caf::replies_to<epoch_query_atom, topic_partition, offsets_for_epoch_request>::with<
    offsets_for_epoch_response>,
  caf::replies_to<alter_isr_atom, alter_isr_request>::with<alter_isr_response>,
  // Fault injection (`actorlog cluster cut`): this node drops replication
  // and controller traffic with node N (true) or restores it (false).
  // Refused unless the node listens on a loopback address.
  caf::replies_to<link_cut_atom, int32_t, bool>::with<bool>,
  caf::replies_to<peer_atom, int32_t, fetch_request>::with<fetch_response>,
  caf::replies_to<peer_atom, int32_t, topic_partition, offsets_for_epoch_request>::with<
    offsets_for_epoch_response>,
  AL_GROUP_REQUESTS>;

} // namespace al
