#pragma once
// The steps every chaos run takes around its workload: the cluster up with
// its topics, and each partition's end offsets after healing.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/chaos/chaos_run.hpp"

namespace chaos {

/// The node processes of a run: the config and work dirs of `o`, with
/// faster failure detection (broker session 2 s, replica lag 3 s).
cluster_options cluster_opts(const run_options& o);

/// "kill,leader", or "none".
std::string fault_kinds_text(const std::vector<fault_kind>& kinds);

/// Starts the nodes, waits until every
/// broker is registered and unfenced, creates `topics` (RF 3,
/// min.insync.replicas 2, `o.partitions` each). An empty string, or why not.
std::string start_cluster(node_processes& procs, cluster_probe& probe, const run_options& o,
                          const std::vector<std::string>& topics);

/// Each partition's leader high watermark and log start (the read-back
/// range), and a note comparing every replica's end offset with it.
bool end_offsets(cluster_probe& probe, const std::string& topic, int32_t partitions,
                 std::vector<int64_t>& hw, std::vector<int64_t>& start, std::string& note);

/// end_offsets() until every replica is at its leader's end offset (followers
/// may still be fetching the last batches), at most `bound`.
bool settled_end_offsets(cluster_probe& probe, const std::string& topic, int32_t partitions,
                         std::chrono::seconds bound, std::vector<int64_t>& hw,
                         std::vector<int64_t>& start, std::string& note);

/// The note end_offsets() gives when every replica is at its leader's end offset.
extern const char* const replicas_in_step;

} // namespace chaos
