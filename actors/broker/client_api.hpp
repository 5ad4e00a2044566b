#pragma once
// Typed interface that clients (CLI, producers, consumers, admin tools)
// see: the actor a node publishes on `caf.listener` implements exactly this
// (client_gateway_actor.hpp), so a client's CAF handshake lists nothing
// else, and a message outside it is refused (unexpected_message). Node-to-
// node messages are in broker_api, published on `peer.listener` only.
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/group/group_coordinator_api.hpp"
#include "actors/partition/replica_messages.hpp"
#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/messages.hpp"
#include "actors/txn/txn_coordinator_api.hpp"

namespace al {

using client_api = caf::typed_actor<
  // data path (a fetch with replica_id >= 0 is a follower's: refused here)
  caf::replies_to<produce_atom, produce_request>::with<produce_response>,
  // Kafka's ProduceRequest: one batch each for several partitions
  caf::replies_to<produce_atom, produce_set_request>::with<produce_set_response>,
  caf::replies_to<fetch_atom, fetch_request>::with<fetch_response>,
  caf::replies_to<list_offsets_atom, list_offsets_request>::with<list_offsets_response>,
  caf::replies_to<metadata_atom, metadata_request>::with<metadata_response>,
  caf::replies_to<init_pid_atom>::with<producer_id_response>,
  // Kafka's OffsetForLeaderEpoch for consumers (KIP-320): where an epoch
  // ends on the leader. The gateway sets replica_id -1.
  caf::replies_to<epoch_query_atom, topic_partition, offsets_for_epoch_request>::with<
    offsets_for_epoch_response>,
  // admin (forwarded to the controller)
  caf::replies_to<create_topic_atom, create_topic_request>::with<topic_description>,
  caf::replies_to<alter_topic_atom, alter_topic_request>::with<topic_description>,
  caf::replies_to<delete_topic_atom, std::string>::with<bool>,
  caf::replies_to<describe_topics_atom, std::vector<std::string>>::with<std::vector<topic_description>>,
  caf::replies_to<describe_cluster_atom>::with<cluster_description>,
  // offsets of a partition replica hosted here
  caf::replies_to<stats_atom, topic_partition>::with<partition_description>,
  // consumer groups (broker_groups.cpp): where a group's coordinator
  // is (creates __consumer_offsets on first use), then the group requests,
  // routed to this node's coordinator of the group (NOT_COORDINATOR if
  // another broker has it, COORDINATOR_NOT_AVAILABLE while it loads).
  caf::replies_to<find_coordinator_atom, std::string>::with<coordinator_info>,
  // Fault injection (`actorlog cluster cut`): this node drops replication
  // and controller traffic with node N (true) or restores it (false).
  // Refused unless fault.injection.enable=true and the node listens on a
  // loopback address.
  caf::replies_to<link_cut_atom, int32_t, bool>::with<bool>,
  AL_GROUP_REQUESTS,
  // transactions (broker_txn.cpp): where a transactional.id's coordinator
  // is (creates __transaction_state on first use), then its requests,
  // routed to this node's coordinator of the id
  caf::replies_to<find_coordinator_atom, txn_coordinator_atom, std::string>::with<
    coordinator_info>,
  // AddOffsetsToTxn: the broker adds the group's __consumer_offsets
  // partition to the transaction at its coordinator
  caf::replies_to<txn_add_atom, txn_add_offsets_request>::with<txn_response>,
  AL_TXN_REQUESTS>;

} // namespace al
