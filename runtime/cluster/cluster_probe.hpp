#pragma once
// A harness's admin view of the cluster (actorlog-chaos, actorlog-bench): connects to the brokers it
// knows to be running (a SIGSTOPped node would hang a connect) and asks
// them what the CLI asks (describe cluster, describe topics, create topic,
// a replica's offsets). Every request has a finite timeout; a failed
// request drops the cached connection, so the next one reconnects.
// Used from one thread.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/messages.hpp"
#include "runtime/cluster/node_processes.hpp"

namespace al::cluster {

/// The part of client_api the harnesses use (CAF 0.17 accepts a subset).
using admin_api = caf::typed_actor<
  caf::replies_to<al::create_topic_atom, al::create_topic_request>::with<al::topic_description>,
  caf::replies_to<al::describe_topics_atom, std::vector<std::string>>::with<
    std::vector<al::topic_description>>,
  caf::replies_to<al::describe_cluster_atom>::with<al::cluster_description>,
  caf::replies_to<al::stats_atom, al::topic_partition>::with<al::partition_description>,
  caf::replies_to<al::delete_topic_atom, std::string>::with<bool>,
  caf::replies_to<al::list_offsets_atom, al::list_offsets_request>::with<al::list_offsets_response>,
  caf::replies_to<al::link_cut_atom, int32_t, bool>::with<bool>>;

class cluster_probe {
public:
  cluster_probe(caf::actor_system& sys, const node_processes& procs)
    : sys_(sys), procs_(procs) {}

  /// Starts every node, waits until each answers, an active controller is
  /// named and every broker is registered and unfenced (at most `bound`).
  /// Empty string on success, else why not.
  std::string start_all(node_processes& procs, std::chrono::seconds bound);
  /// Waits until every running node answers, an active controller is named
  /// and every running broker is registered and unfenced (at most `bound`).
  std::string wait_ready(node_processes& procs, std::chrono::seconds bound);

  /// Drops the connection to node `id` (after a kill or restart).
  void forget(int32_t id) { conns_.erase(id); }

  /// Whether node `id` answers describe_cluster within `timeout`.
  bool answers(int32_t id, std::chrono::milliseconds timeout);

  /// The cluster as node `id` sees it.
  std::optional<al::cluster_description> describe(int32_t id, std::chrono::milliseconds timeout);

  /// The active controller as the first running node (other than
  /// `not_from`) that names one reports it; -1 if none does.
  int32_t controller_id(int32_t not_from = -1);

  /// Creates the topic, retrying through elections; then waits until every
  /// partition has a leader. Empty string on success, else why not.
  std::string create_topic(const al::create_topic_request& req, std::chrono::seconds bound);

  /// The topic as any running node (preferring `prefer`) describes it.
  std::optional<al::topic_description> topic(const std::string& name, int32_t prefer = -1);

  /// Deletes the topic (through any running node). Empty string on success.
  std::string delete_topic(const std::string& name);

  /// The log end offset of a partition, from its leader (metadata of the
  /// topic is cached; refreshed when the leader does not answer).
  std::optional<int64_t> end_offset(const al::topic_partition& tp);

  /// A replica's offsets, as the broker of node `id` reports them.
  std::optional<al::partition_description> replica_stats(int32_t id, const al::topic_partition& tp);

  /// Why the last request failed (one line).
  /// Fault injection: node `id` drops (cut) or restores its links to `peer`.
  bool link(int32_t id, int32_t peer, bool cut);

  const std::string& last_error() const { return last_error_; }

private:
  std::optional<admin_api> connect(int32_t id);
  template <class Response, class... Ts>
  std::optional<Response> ask(int32_t id, std::chrono::milliseconds timeout, Ts&&... xs);

  caf::actor_system& sys_;
  const node_processes& procs_;
  std::map<int32_t, admin_api> conns_;
  std::map<al::topic_partition, int32_t> leaders_; // end_offset's cache
  std::string last_error_;
};

} // namespace al::cluster
