#pragma once
// Kafka's consumer partition assignors (range, roundrobin, sticky,
// cooperative-sticky). In Kafka they run in the group leader's client; in
// actorlog the coordinator runs them (docs/groups.md). Each one is a pure
// function of the members' subscriptions and the topics' partition counts:
// the same input gives the same output, on every node and in the simulator.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/protocol/messages.hpp"

namespace al {

/// What a member sends in its JoinGroup protocol metadata (Kafka's
/// ConsumerProtocolSubscription): the topics it wants, the partitions it
/// owns now and the generation in which it got them (sticky assignors use
/// the generation to settle two members claiming one partition).
struct member_subscription {
  std::vector<std::string> topics;
  std::vector<topic_partition> owned_partitions;
  int32_t generation_id = -1;

  friend bool operator==(const member_subscription& a, const member_subscription& b) {
    return a.topics == b.topics && a.owned_partitions == b.owned_partitions &&
           a.generation_id == b.generation_id;
  }
  friend bool operator!=(const member_subscription& a, const member_subscription& b) {
    return !(a == b);
  }
};

/// member id -> subscription
using member_subscriptions = std::map<std::string, member_subscription>;
/// topic -> partition count (topics missing here have no partitions to give)
using partition_counts = std::map<std::string, int32_t>;
/// member id -> assigned partitions, sorted; every member has an entry.
using group_assignment = std::map<std::string, std::vector<topic_partition>>;

/// Range: per topic, the subscribed members sorted by member id get
/// contiguous ranges; the first (partitions % members) get one extra.
group_assignment assign_range(const member_subscriptions& members,
                              const partition_counts& partitions);

/// Round robin: all partitions of all subscribed topics sorted by (topic,
/// partition) are dealt to the members sorted by id in a circle, skipping
/// members not subscribed to the partition's topic.
group_assignment assign_roundrobin(const member_subscriptions& members,
                                   const partition_counts& partitions);

/// Sticky: balanced (counts within 1 when all subscriptions are equal, no
/// partition can move to a member with 2+ fewer otherwise) while keeping as
/// many valid previous owners as possible.
group_assignment assign_sticky(const member_subscriptions& members,
                               const partition_counts& partitions);

/// Cooperative sticky: the sticky target, minus partitions that change owner.
/// Those are only revoked this round (the old owner loses them, the new one
/// does not get them yet); a follow-up rebalance hands them out once the
/// old owner has rejoined without them.
struct cooperative_assignment {
  group_assignment assignment;
  std::vector<topic_partition> revoking; // sorted
};
cooperative_assignment assign_cooperative_sticky(const member_subscriptions& members,
                                                 const partition_counts& partitions);

enum class assignor_kind : uint8_t { range, roundrobin, sticky, cooperative_sticky };

/// Kafka's protocol names: "range", "roundrobin", "sticky", "cooperative-sticky".
std::string_view to_string(assignor_kind kind);
std::optional<assignor_kind> assignor_from_name(std::string_view name);

/// Runs the assignor `kind`; for cooperative-sticky, `revoking` receives the
/// partitions held back this round (it stays empty for the eager assignors).
group_assignment run_assignor(assignor_kind kind, const member_subscriptions& members,
                              const partition_counts& partitions,
                              std::vector<topic_partition>* revoking = nullptr);

namespace assignor_detail {
/// Every existing partition of every topic some member subscribes to, sorted.
std::vector<topic_partition> subscribed_partitions(const member_subscriptions& members,
                                                   const partition_counts& partitions);
/// An entry (possibly empty) for every member.
group_assignment empty_assignment(const member_subscriptions& members);
bool subscribes(const member_subscription& s, const std::string& topic);
void sort_each(group_assignment& a);
} // namespace assignor_detail

} // namespace al
