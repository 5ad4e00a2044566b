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
} // namespace al
