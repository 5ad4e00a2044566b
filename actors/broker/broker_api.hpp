#pragma once
// Typed interface of a node's broker: client_api plus the node-to-node
// messages. Published on the node's peer.listener (other nodes) and handed
// to in-process users; clients reach it only through the client gateway
// published on `caf.listener`. The broker routes data requests to partition
// actors and admin requests to the controller.
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/controller/metadata_machine.hpp"
#include "actors/broker/client_api.hpp"
#include "actors/group/group_coordinator_api.hpp"
#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/messages.hpp"
#include "actors/partition/replica_messages.hpp"

namespace al {

using broker_api = client_api::extend<
  // from the controller: the current metadata image
  caf::reacts_to<metadata_update_atom, metadata_image>,
  // the local controller's pushes: what changed since the last one
  caf::reacts_to<metadata_update_atom, metadata_delta>,
  // the controller actor (untyped handle; actor_cast to controller_api)
  caf::replies_to<controller_atom>::with<caf::actor>,
  caf::reacts_to<tick_atom>,
  // an acks=all produce set's deadline (broker_produce.cpp)
  caf::reacts_to<expire_atom, uint64_t>,
  // replication: a follower's OffsetsForLeaderEpoch (epoch_query_atom,
  // inherited from client_api) is routed to the leader replica hosted here;
  // AlterPartition from a local leader, forwarded to the controller; and a
  // local follower's request forwarded to the broker of node N (the
  // follower's fetch is then an ordinary fetch_atom there).
  caf::replies_to<alter_isr_atom, alter_isr_request>::with<alter_isr_response>,
  caf::replies_to<peer_atom, int32_t, fetch_request>::with<fetch_response>,
  // fetch sessions (broker_fetch_sessions.cpp): a follower node's fetches
  // for the partitions led here, the answers to this node's fetches from
  // the leader node, and the broker's own prompt to send what is queued
  caf::reacts_to<fetch_atom, fetch_set_request>,
  caf::reacts_to<fetch_atom, fetch_set_response>,
  caf::reacts_to<flush_atom>,
  // WriteTxnMarkers from a transaction coordinator, for a partition led
  // here (or, from this node's own coordinator, led elsewhere)
  caf::replies_to<txn_marker_atom, txn_marker_request>::with<produce_response>,
  // KIP-890 part 1: the broker of a partition leader asks whether a
  // producer's transactional batch belongs to an ongoing transaction; the
  // broker of the id's coordinator answers (broker_produce.cpp)
  caf::replies_to<txn_verify_atom, txn_add_partitions_request>::with<txn_response>,
  caf::replies_to<peer_atom, int32_t, topic_partition, offsets_for_epoch_request>::with<
    offsets_for_epoch_response>>;

} // namespace al
