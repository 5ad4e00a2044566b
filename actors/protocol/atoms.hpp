#pragma once
// Atoms of actorlog's actor messages (CAF 0.17: at most 10 chars, [0-9A-Za-z_]).
#include <caf/atom.hpp>

namespace al {

using produce_atom = caf::atom_constant<caf::atom("produce")>;
using fetch_atom = caf::atom_constant<caf::atom("fetch")>;
using list_offsets_atom = caf::atom_constant<caf::atom("listoffs")>;
using metadata_atom = caf::atom_constant<caf::atom("metadata")>;
using create_topic_atom = caf::atom_constant<caf::atom("mktopic")>;
using delete_topic_atom = caf::atom_constant<caf::atom("rmtopic")>;
using alter_topic_atom = caf::atom_constant<caf::atom("altertopic")>;
using describe_topics_atom = caf::atom_constant<caf::atom("desctopics")>;
using describe_cluster_atom = caf::atom_constant<caf::atom("descclust")>;
using controller_atom = caf::atom_constant<caf::atom("controller")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using apply_atom = caf::atom_constant<caf::atom("apply")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;

} // namespace al

namespace al {
using config_atom = caf::atom_constant<caf::atom("config")>;
using delete_atom = caf::atom_constant<caf::atom("delete")>;
using metadata_update_atom = caf::atom_constant<caf::atom("mdupdate")>;
using init_pid_atom = caf::atom_constant<caf::atom("initpid")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using linger_atom = caf::atom_constant<caf::atom("linger")>;
using poll_atom = caf::atom_constant<caf::atom("poll")>;
using send_atom = caf::atom_constant<caf::atom("send")>;
using close_atom = caf::atom_constant<caf::atom("close")>;
using assign_atom = caf::atom_constant<caf::atom("assign")>;
using seek_atom = caf::atom_constant<caf::atom("seek")>;
using position_atom = caf::atom_constant<caf::atom("position")>;
using pause_atom = caf::atom_constant<caf::atom("pause")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using raft_atom = caf::atom_constant<caf::atom("raft")>;
/// The controller to itself: push the image once for everything applied
/// since the last push.
using batch_atom = caf::atom_constant<caf::atom("ctlbatch")>;
using quorum_atom = caf::atom_constant<caf::atom("quorum")>;
using peer_atom = caf::atom_constant<caf::atom("peer")>;
// replication
using epoch_query_atom = caf::atom_constant<caf::atom("epochquery")>; // OffsetsForLeaderEpoch
using alter_isr_atom = caf::atom_constant<caf::atom("alterisr")>;     // AlterPartition
using replica_tick_atom = caf::atom_constant<caf::atom("rtick")>;
using hw_checkpoint_atom = caf::atom_constant<caf::atom("hwckpt")>; // local only
// fault injection: drop traffic to/from a peer node (loopback clusters only)
using link_cut_atom = caf::atom_constant<caf::atom("linkcut")>;
} // namespace al

// Consumer groups: broker API and group coordinator actors.
namespace al {
using find_coordinator_atom = caf::atom_constant<caf::atom("findcoord")>;
using join_group_atom = caf::atom_constant<caf::atom("joingroup")>;
using sync_group_atom = caf::atom_constant<caf::atom("syncgroup")>;
using group_heartbeat_atom = caf::atom_constant<caf::atom("grouphb")>;
using leave_group_atom = caf::atom_constant<caf::atom("leavegroup")>;
using offset_commit_atom = caf::atom_constant<caf::atom("offcommit")>;
using offset_fetch_atom = caf::atom_constant<caf::atom("offfetch")>;
/// OffsetFetch with require_stable (KIP-447): the last argument.
using require_stable_atom = caf::atom_constant<caf::atom("reqstable")>;
using describe_group_atom = caf::atom_constant<caf::atom("descgroup")>;
using list_groups_atom = caf::atom_constant<caf::atom("listgroups")>;
using delete_group_atom = caf::atom_constant<caf::atom("delgroup")>;
using alter_offsets_atom = caf::atom_constant<caf::atom("altoffsets")>;
using unload_atom = caf::atom_constant<caf::atom("unload")>;
using group_tick_atom = caf::atom_constant<caf::atom("grouptick")>;
// consumer actor <-> al::consumer (in-process)
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using revoke_done_atom = caf::atom_constant<caf::atom("revokedone")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using committed_atom = caf::atom_constant<caf::atom("committed")>;
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;
using member_tick_atom = caf::atom_constant<caf::atom("membertick")>; // consumer_member_machine::tick
} // namespace al

// Transactions (issue 16): client requests routed to the transaction
// coordinator of the transactional.id, and the coordinator's markers.
namespace al {
using txn_coordinator_atom = caf::atom_constant<caf::atom("txncoord")>; // FindCoordinator(txn)
using txn_add_atom = caf::atom_constant<caf::atom("txnadd")>;           // AddPartitionsToTxn
using txn_end_atom = caf::atom_constant<caf::atom("txnend")>;           // EndTxn
using txn_describe_atom = caf::atom_constant<caf::atom("txndesc")>;     // DescribeTransactions
using txn_list_atom = caf::atom_constant<caf::atom("txnlist")>;         // ListTransactions
using txn_marker_atom = caf::atom_constant<caf::atom("txnmarker")>;     // WriteTxnMarkers
using txn_verify_atom = caf::atom_constant<caf::atom("txnverify")>;     // KIP-890 verification
using txn_tick_atom = caf::atom_constant<caf::atom("txntick")>;         // coordinator timer
using txn_begin_atom = caf::atom_constant<caf::atom("txnbegin")>;       // al::producer -> its actor
} // namespace al
