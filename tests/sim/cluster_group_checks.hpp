#pragma once
// The coordinator-side invariants of the groups simulation
// (cluster_groups.hpp), as functions of the real group_machine and what it
// asked to write: each returns "" or what broke. And the coordinator-side
// faults that only the standalone group simulation turns on
// (tests/sim/group_sim_test.cpp).
#include <algorithm>
#include <deque>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "actors/group/group_machine.hpp"
#include "tests/sim/cluster_group_members.hpp"

namespace al::cluster_sim {

/// Faults of the offsets partition and the clients that the cluster run
/// leaves out; all off by default. Off, they draw nothing from the groups'
/// rng, so the cluster simulation's seeds keep their meaning.
struct group_faults {
  double write_fail = 0;        // a commit or generation write fails with a log error
  int64_t write_delay_ms = 0;   // writes complete 1..this many ms later, in order (0: at once)
  double grow = 0;              // per coordinator tick: the topic gains a partition (up to 12)
  double early_commit = 0;      // per polling turn while syncing: a commit sent before SyncGroup returned
  int32_t initial_delay_ms = 0; // group.initial.rebalance.delay.ms
  int max_members = 4;
};

/// A write to the offsets partition: a commit's rows, or a generation's
/// metadata (the syncs wait for it); of group g's coordinator load `load`.
struct group_write {
  uint64_t id = 0;
  bool metadata = false;
  int32_t generation = 0;
  group_offsets offsets;
  errc result = errc::none;
  int64_t at = 0, load = 0;
  size_t g = 0;
};

/// Appends with acks=all to the offsets partition: at once, or (group_faults)
/// 1..write_delay_ms later and in order, failing now and then with one of
/// the log's errors while the faults are on.
class group_writes {
public:
  group_writes(sim::rng& r, const group_faults& f) : r_(r), f_(f) {}
  /// Draws w's outcome; true: complete it now, false: queued until due().
  bool start(group_write& w, int64_t now, bool calm) {
    if (f_.write_fail > 0 && !calm && r_.chance(f_.write_fail)) {
      const errc failures[] = {errc::kafka_storage_error, errc::request_timed_out,
                               errc::not_enough_replicas, errc::not_leader_or_follower};
      w.result = failures[r_.between(0, 3)];
    }
    if (f_.write_delay_ms == 0)
      return true;
    last_at_ = w.at = std::max(last_at_, now + r_.between(1, f_.write_delay_ms));
    queue_.push_back(std::move(w));
    return false;
  }
  /// The next queued write if it is due by `now`.
  std::optional<group_write> due(int64_t now) {
    if (queue_.empty() || queue_.front().at > now)
      return std::nullopt;
    auto w = std::move(queue_.front());
    queue_.pop_front();
    return w;
  }

private:
  sim::rng& r_;
  group_faults f_;
  std::deque<group_write> queue_; // in completion order
  int64_t last_at_ = 0;
};

/// An accepted commit comes from a current member, current generation,
/// outside CompletingRebalance, and not for a partition another member
/// owns in this generation (a cooperative member commits the partitions it
/// just gave up, which nobody owns in the generation that revoked them).
/// Rows marked "early" come from a client that broke the contract (it
/// committed before its SyncGroup returned, to a topic nobody reads): only
/// their generation counts.
inline std::string check_commit(const group_machine& m, const persist_offsets_effect& p) {
  if (p.generation_id != m.generation_id() || !m.is_member(p.member_id))
    return "stale commit accepted: generation " + std::to_string(p.generation_id) + " from " +
           p.member_id + ", group at " + std::to_string(m.generation_id());
  if (m.state() == group_state::completing_rebalance)
    return "commit accepted while completing the rebalance";
  for (auto& [id, list] : m.assignment())
    for (auto& [tp, row] : p.offsets)
      if (id != p.member_id && row.metadata != "early" && std::count(list.begin(), list.end(), tp))
        return "commit accepted from " + p.member_id + " for " + tp.topic + "-" +
               std::to_string(tp.partition) + ", which " + id + " owns in generation " +
               std::to_string(m.generation_id());
  return "";
}

/// The metadata write of the generation being completed, with exactly its
/// assignment (Kafka's GroupMetadata record; the syncs wait for it).
inline std::string check_group_write(const group_machine& m, const persist_group_effect& p) {
  if (m.state() != group_state::completing_rebalance ||
      p.metadata.generation_id != m.generation_id())
    return "metadata write of generation " + std::to_string(p.metadata.generation_id) +
           " outside its CompletingRebalance";
  if (p.metadata.members.size() != m.member_count())
    return "metadata write misses members";
  for (auto& mm : p.metadata.members)
    if (!m.assignment().count(mm.member_id) || m.assignment().at(mm.member_id) != mm.assignment)
      return "metadata write of " + mm.member_id + " differs from the assignment";
  return "";
}

/// Per (coordinator load, generation): one assignment (members only leave
/// within a generation), no partition twice; a Stable group with members
/// owns every partition (cooperative: owned or being revoked). `seen`
/// keeps the first assignment of each generation; `fresh` says it is new.
inline std::string check_generation(
  const group_machine& m, int64_t load, int32_t partitions,
  std::map<std::pair<int64_t, int32_t>, group_assignment>& seen, bool& fresh) {
  fresh = false;
  if (m.state() == group_state::empty || m.state() == group_state::dead)
    return "";
  auto key = std::make_pair(load, m.generation_id());
  auto first = seen.emplace(key, m.assignment());
  fresh = first.second;
  auto gen = std::to_string(key.second);
  std::set<topic_partition> owned;
  for (auto& [id, list] : m.assignment()) {
    if (!first.first->second.count(id) || first.first->second.at(id) != list)
      return "assignment of generation " + gen + " changed for " + id;
    for (auto& tp : list)
      if (!owned.insert(tp).second)
        return "partition owned twice in generation " + gen;
  }
  if (m.state() != group_state::stable || m.member_count() == 0)
    return "";
  owned.insert(m.revoking().begin(), m.revoking().end());
  if (int32_t(owned.size()) != partitions)
    return "Stable group of generation " + gen + " owns " + std::to_string(owned.size()) +
           " of " + std::to_string(partitions) + " partitions";
  return "";
}

/// No two stable members own a partition in one generation (of one
/// coordinator load).
inline std::string check_members(const std::vector<sim_member>& members) {
  std::map<std::pair<int64_t, int32_t>, std::set<topic_partition>> owned;
  for (auto& s : members)
    if (s.m && s.m->state() == consumer_member_machine::phase::stable)
      for (auto& tp : s.m->owned())
        if (!owned[{s.load, s.m->generation()}].insert(tp).second)
          return "two members own " + tp.topic + "-" + std::to_string(tp.partition) +
                 " in generation " + std::to_string(s.m->generation());
  return "";
}

/// A member that stops polling while stable leaves within
/// max.poll.interval.ms (or, if its LeaveGroup is lost, its session expires
/// after its last heartbeat), so others take its partitions: out of the
/// group `bound` ms after its last poll.
inline std::string check_poll_interval(const group_machine* m, const sim_member& s, int64_t now,
                                       int64_t bound) {
  int64_t since = 0;
  auto& id = s.stalled_member(now, since);
  if (id.empty() || now <= since + bound || !m || !m->is_member(id))
    return "";
  return "member " + id + " has not polled for " + std::to_string(now - since) +
         " ms and is still in the group (" + std::string(to_string(m->state())) +
         "); the member is " + std::string(to_string(s.m->state()));
}

/// What a broker that does not host the group answers to `q`.
template <class Request>
group_response not_coordinator(const Request&) {
  using response = std::conditional_t<
    std::is_same_v<Request, join_group_request>, join_group_response,
    std::conditional_t<
      std::is_same_v<Request, sync_group_request>, sync_group_response,
      std::conditional_t<std::is_same_v<Request, heartbeat_request>, heartbeat_response,
                         std::conditional_t<std::is_same_v<Request, leave_group_request>,
                                            leave_group_response, offset_commit_response>>>>;
  response r;
  r.error = errc::not_coordinator;
  return r;
}

} // namespace al::cluster_sim
