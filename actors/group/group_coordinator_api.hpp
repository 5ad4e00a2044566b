#pragma once
// Typed interface of a group coordinator actor: one per __consumer_offsets
// partition whose leader is this node's broker. It owns the group_machine of
// every group that hashes to that partition (group_placement.hpp). The broker
// routes group requests here; every request carries the group id first.
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/group/group_messages.hpp"
#include "actors/protocol/atoms.hpp"

namespace al {

/// The group requests a broker forwards to the coordinator (also part of broker_api).
#define AL_GROUP_REQUESTS                                                                       \
  caf::replies_to<join_group_atom, std::string, join_group_request>::with<join_group_response>, \
    caf::replies_to<sync_group_atom, std::string, sync_group_request>::with<                    \
      sync_group_response>,                                                                     \
    caf::replies_to<group_heartbeat_atom, std::string, heartbeat_request>::with<                \
      heartbeat_response>,                                                                      \
    caf::replies_to<leave_group_atom, std::string, leave_group_request>::with<                  \
      leave_group_response>,                                                                    \
    caf::replies_to<offset_commit_atom, std::string, offset_commit_request>::with<              \
      offset_commit_response>,                                                                  \
    /* OffsetFetch: all of the group's offsets when the list is empty */                        \
    caf::replies_to<offset_fetch_atom, std::string, std::vector<topic_partition>>::with<        \
      group_offsets>,                                                                           \
    /* require_stable: UNSTABLE_OFFSET_COMMIT while one has offsets pending in a transaction */ \
    caf::replies_to<offset_fetch_atom, std::string, std::vector<topic_partition>,              \
                    require_stable_atom>::with<group_offsets>,                                  \
    caf::replies_to<describe_group_atom, std::string>::with<group_description>,                 \
    caf::replies_to<delete_group_atom, std::string>::with<bool>,                                \
    /* reset offsets (admin): only while the group has no members, else NON_EMPTY_GROUP */      \
    caf::replies_to<alter_offsets_atom, std::string, offset_commit_map>::with<                  \
      offset_commit_response>,                                                                  \
    caf::replies_to<list_groups_atom>::with<std::vector<group_listing>>,                    \
    /* TxnOffsetCommit: pending until the producer's transaction ends */                    \
    caf::replies_to<offset_commit_atom, std::string, txn_offset_commit_request>::with<      \
      offset_commit_response>

using group_coordinator_api = caf::typed_actor<
  AL_GROUP_REQUESTS,
  // Partition counts of every topic, pushed by the broker on metadata changes.
  caf::reacts_to<metadata_update_atom, partition_counts>,
  // A group's timer armed for a deadline (session, rebalance, initial
  // delay); group "" = retry loading.
  caf::reacts_to<group_tick_atom, std::string, int64_t>,
  // A transaction marker (producer id, commit?) was written to this
  // coordinator's offsets partition: its pending transactional offsets
  // take effect or are dropped (from the broker, after WriteTxnMarkers).
  caf::reacts_to<txn_marker_atom, int64_t, bool>,
  // Leadership moved away or the broker stops: answer pending requests
  // with NOT_COORDINATOR, then quit.
  caf::reacts_to<unload_atom>>;

} // namespace al
