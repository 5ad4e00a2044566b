#include "actors/protocol/actor_config.hpp"

#include <caf/all.hpp>

#include "actors/controller/metadata_machine.hpp"
#include "actors/controller/raft_wire.hpp"
#include "actors/group/group_messages.hpp"
#include "actors/partition/replica_messages.hpp"
#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/errors.hpp"
#include "actors/protocol/messages.hpp"
#include "actors/store/store_api.hpp"
#include "actors/txn/txn_machine.hpp"

namespace al {

actor_config::actor_config() {
  // Nodes close a connection that is silent for middleman.connection.timeout.ms
  // (3 s by default). A client can be silent longer than that while waiting
  // for a reply (a JoinGroup is held until the join phase ends): without
  // heartbeats its connection and the reply were lost. Nodes set their own.
  set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(500)});
  // An idle scheduler worker polls 100 times, then (CAF's default) 500
  // times more with a 50 us nanosleep between polls, then sleeps on a
  // condition variable that an enqueue signals. The nanosleep phase made
  // every hop of a request wait for the sleeper's next poll and cost a
  // context switch per poll: a node spent 3.0 s of CPU on 300 MiB of 1 KiB
  // Kafka produce with it, 1.65 s without (bench/RESULTS.md, Kafka client
  // section). Without it an idle worker goes straight to the signalled sleep.
  set("work-stealing.moderate-poll-attempts", size_t{0});
  add_message_type<bytes>("al::bytes");
  add_message_type<std::vector<int32_t>>("al::int32_vec");
  add_message_type<topic_partition>("al::topic_partition");
  add_message_type<produce_request>("al::produce_request");
  add_message_type<produce_response>("al::produce_response");
  add_message_type<produce_set_request>("al::produce_set_request");
  add_message_type<produce_set_response>("al::produce_set_response");
  add_message_type<fetch_request>("al::fetch_request");
  add_message_type<fetch_response>("al::fetch_response");
  add_message_type<fetch_set_request>("al::fetch_set_request");
  add_message_type<fetch_set_response>("al::fetch_set_response");
  add_message_type<list_offsets_request>("al::list_offsets_request");
  add_message_type<list_offsets_response>("al::list_offsets_response");
  add_message_type<producer_id_response>("al::producer_id_response");
  add_message_type<create_topic_request>("al::create_topic_request");
  add_message_type<alter_topic_request>("al::alter_topic_request");
  add_message_type<partition_description>("al::partition_description");
  add_message_type<topic_description>("al::topic_description");
  add_message_type<broker_description>("al::broker_description");
  add_message_type<quorum_member>("al::quorum_member");
  add_message_type<cluster_description>("al::cluster_description");
  add_message_type<metadata_request>("al::metadata_request");
  add_message_type<metadata_response>("al::metadata_response");
  add_message_type<metadata_image>("al::metadata_image");
  add_message_type<metadata_delta>("al::metadata_delta");
  add_message_type<raft_wire>("al::raft_wire");
  add_message_type<offsets_for_epoch_request>("al::offsets_for_epoch_request");
  add_message_type<offsets_for_epoch_response>("al::offsets_for_epoch_response");
  add_message_type<alter_isr_request>("al::alter_isr_request");
  add_message_type<alter_isr_response>("al::alter_isr_response");
  register_group_types();
  add_error_category(error_category, [](uint8_t code, caf::atom_value, const caf::message& ctx) {
    std::string s{"actorlog:"};
    s += to_string(static_cast<errc>(code));
    if (!ctx.empty())
      s += " " + caf::to_string(ctx);
    return s;
  });
}

void actor_config::register_group_types() {
  add_message_type<member_subscription>("al::member_subscription");
  add_message_type<group_protocol>("al::group_protocol");
  add_message_type<join_group_request>("al::join_group_request");
  add_message_type<join_group_response>("al::join_group_response");
  add_message_type<sync_group_request>("al::sync_group_request");
  add_message_type<sync_group_response>("al::sync_group_response");
  add_message_type<heartbeat_request>("al::heartbeat_request");
  add_message_type<heartbeat_response>("al::heartbeat_response");
  add_message_type<leave_group_request>("al::leave_group_request");
  add_message_type<leave_group_response>("al::leave_group_response");
  add_message_type<offset_and_metadata>("al::offset_and_metadata");
  add_message_type<offset_commit_map>("al::offset_commit_map");
  add_message_type<offset_commit_request>("al::offset_commit_request");
  add_message_type<offset_commit_response>("al::offset_commit_response");
  add_message_type<group_offset>("al::group_offset");
  add_message_type<group_offsets>("al::group_offsets");
  add_message_type<member_description>("al::member_description");
  add_message_type<group_description>("al::group_description");
  add_message_type<coordinator_info>("al::coordinator_info");
  add_message_type<group_listing>("al::group_listing");
  add_message_type<partition_counts>("al::partition_counts");
  // transactions (issue 16)
  add_message_type<txn_marker_request>("al::txn_marker_request");
  add_message_type<txn_init_request>("al::txn_init_request");
  add_message_type<txn_add_partitions_request>("al::txn_add_partitions_request");
  add_message_type<txn_end_request>("al::txn_end_request");
  add_message_type<txn_response>("al::txn_response");
  add_message_type<txn_description>("al::txn_description");
  add_message_type<std::vector<txn_description>>("al::txn_description_vec");
  add_message_type<txn_add_offsets_request>("al::txn_add_offsets_request");
  add_message_type<txn_offset_commit_request>("al::txn_offset_commit_request");
  // meta.db rows (store actor; in-process only)
  add_message_type<offset_commit>("al::offset_commit");
  add_message_type<committed_offset>("al::committed_offset");
}

} // namespace al
