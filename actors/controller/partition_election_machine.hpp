#pragma once
// The controller's partition leadership decisions (KRaft's
// PartitionChangeBuilder and AlterPartition handling), as pure functions of
// the metadata image. They plan change_partition_cmds; the controller
// appends them to the metadata log and applies them like any command.
//
//   broker B fenced    each partition B leads gets the first live ISR member
//                      (replicas order) as leader, ISR minus B; none left:
//                      offline (leader -1) keeping ISR = {B}, the last member,
//                      so B can lead again when it returns - or, with
//                      unclean.leader.election.enable, the first live replica
//                      leads with ISR = {it}, losing whatever only B had.
//                      Where B only follows, it leaves the ISR.
//   broker B unfenced  offline partitions whose (last) ISR holds B: B leads;
//                      with unclean election, any offline partition B
//                      replicates.
//   AlterPartition     a leader's ISR proposal, checked against the current
//                      leader epoch and partition epoch (compare-and-set).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "actors/controller/metadata_commands.hpp"
#include "actors/controller/metadata_machine.hpp"
#include "actors/partition/replica_messages.hpp"

namespace al {

struct election_options {
  /// Cluster default of unclean.leader.election.enable; a topic config overrides it.
  bool unclean_leader_election = false;
};

/// KIP-497 partition epochs: +1 for every applied change_partition_cmd of a
/// partition, 0 at creation. partition_description has no such field yet, so
/// the controller keeps this table next to the image and bumps it after each
/// applied change (every node applies the same commands, so every node
/// computes the same epochs).
class partition_epoch_table {
public:
  int32_t get(const std::string& topic, int32_t partition) const;
  void bump(const std::string& topic, int32_t partition);
  void forget(const std::string& topic); // the topic was deleted
private:
  std::map<std::pair<std::string, int32_t>, int32_t> epochs_;
};

/// The topic's unclean.leader.election.enable, else the cluster default.
bool unclean_election_enabled(const topic_description& topic, const election_options& options);

/// Changes to apply after `broker`'s fence_broker_cmd (fenced = true).
std::vector<change_partition_cmd> plan_broker_fenced(const metadata_image& image, int32_t broker,
                                                     const election_options& options);

/// Changes to apply after `broker` was unfenced (or registered anew).
std::vector<change_partition_cmd>
plan_broker_unfenced(const metadata_image& image, int32_t broker, const election_options& options);

struct alter_isr_decision {
  alter_isr_error error = alter_isr_error::none;
  std::string message;      // why not, naming the partition
  change_partition_cmd cmd; // when error == none
};

/// Validates a leader's AlterPartition against the image and the
/// partition's current epoch: same leader and leader epoch (else
/// FENCED_LEADER_EPOCH), same partition epoch (else INVALID_UPDATE_VERSION),
/// ISR holds the leader and is a subset of the replicas without repeats
/// (else INVALID_REQUEST), and every added member is an unfenced broker
/// whose incarnation matches the one the leader saw fetching (KIP-903,
/// else INELIGIBLE_REPLICA).
alter_isr_decision plan_alter_isr(const metadata_image& image, int32_t partition_epoch,
                                  const alter_isr_request& req);

/// What replicas learn about a partition.
partition_leadership leadership_of(const partition_description& p, int32_t partition_epoch);

} // namespace al
