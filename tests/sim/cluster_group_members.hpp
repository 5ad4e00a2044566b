#pragma once
// A consumer process in the whole-cluster simulation's groups
// (cluster_groups.hpp): the shipped consumer_member_machine, as the consumer
// actor runs it, plus a model of the polling thread (al::consumer's poll
// loop): it polls (or stalls past max.poll.interval.ms), hands the
// rebalance events to a listener, commits the revoked partitions' positions
// before answering revoke_done (Kafka's auto commit on revocation), and now
// and then commits what it consumed, one commit at a time (commitSync).
//
// The listener checks Kafka's ConsumerRebalanceListener contract on what
// the machine tells it: it revokes or loses only partitions it owns; an
// eager member is assigned only once it owns nothing, a cooperative one
// only partitions it does not own; an eager member's JoinGroup leaves only
// once the listener gave everything up (revoke before rejoin), a
// cooperative one claims exactly what the listener owns.
#include <algorithm>
#include <memory>
#include <set>

#include "actors/client/consumer_member_machine.hpp"
#include "tests/sim/sim_harness.hpp"

namespace al::cluster_sim {

class sim_member {
public:
  std::unique_ptr<consumer_member_machine> m; // null while the process is down
  int64_t until = 0, incarnation = 0;         // down until; the process's incarnation
  int coordinator = 0;                        // node its connection goes to; 0: none
  int64_t coordinator_incarnation = 0;
  bool broken = false; // the connection broke: the machine hears it at the next step
  int64_t load = 0;    // coordinator load of the generation it last synced into
  std::vector<topic_partition> owned; // the listener's view
  std::map<topic_partition, int64_t> position;
  int64_t revocations = 0, stalls = 0, refused = 0;

  void start(const consumer_member_config& cfg, int64_t now) {
    ++incarnation; // a restarted process remembers nothing
    m = std::make_unique<consumer_member_machine>(cfg);
    coordinator = 0, broken = false, load = 0;
    owned.clear(), position.clear(), fetched_.clear(), pending_.clear();
    commit_.reset(), revoke_.reset(), stalled_until_ = 0, next_commit_ = now;
    m->subscribe({"t"}, now);
  }
  void stop() { m.reset(); }
  bool stalled(int64_t now) const { return now < stalled_until_; }
  /// Stalled since a poll as a stable member: its id, else "".
  const std::string& stalled_member(int64_t now, int64_t& since) const {
    since = stalled_since_;
    static const std::string none;
    return stalled(now) ? stalled_member_ : none;
  }

  /// The polling thread's turn: poll, listener, commits. `durable`: the
  /// committed offsets, for partitions that start fetching (OffsetFetch).
  void poll(int64_t now, bool calm, sim::rng& r) {
    if (stalled(now))
      return;
    if (!calm && r.chance(0.002)) { // a slow batch: past max.poll.interval.ms or nearly
      auto max_poll = m->config().max_poll_interval_ms;
      stalled_until_ = now + r.between(max_poll / 2, 3 * max_poll);
      stalled_since_ = now;
      stalled_member_ = m->state() == consumer_member_machine::phase::stable ? m->member_id() : "";
      ++stalls;
      return;
    }
    m->poll(now);
    while (!pending_.empty() && !revoke_) {
      auto ev = std::move(pending_.front());
      pending_.erase(pending_.begin());
      listen(ev, now);
    }
    if (revoke_ && !commit_) {
      m->revoke_done(*revoke_, now);
      revoke_.reset();
    }
    if (!commit_ && !revoke_ && now >= next_commit_ && !owned.empty()) {
      offset_commit_map offsets;
      for (auto& tp : owned)
        offsets[tp] = offset_and_metadata{position[tp] += r.between(0, 20), "", -1};
      commit_ = m->commit(std::move(offsets), now);
      next_commit_ = now + r.between(0, 200);
    }
  }

  /// Executes what the fetcher and the polling thread must, checks the
  /// listener contract; returns the requests to send and whether the
  /// machine wants the coordinator. "" or what broke.
  std::string take(member_ready& r, const group_offsets& durable) {
    for (auto& tp : r.stop_fetching)
      fetched_.erase(tp);
    if (r.fetched) { // OffsetFetch: newly fetched partitions resume from the committed offset
      std::set<topic_partition> now_fetched(r.fetched->begin(), r.fetched->end());
      for (auto& tp : now_fetched)
        if (!fetched_.count(tp))
          position[tp] = durable.count(tp) ? durable.at(tp).offset : 0;
      fetched_ = std::move(now_fetched);
    }
    for (auto& ev : r.events)
      pending_.push_back(std::move(ev));
    for (auto& c : r.commits)
      if (commit_ && c.id == *commit_) {
        commit_.reset();
        refused += c.result.code() == errc::rebalance_in_progress;
      }
    for (auto& q : r.requests)
      if (auto* j = std::get_if<join_group_request>(&q.body)) {
        auto& claims = j->protocols.at(0).subscription.owned_partitions;
        if (m->config().eager() && !owned.empty() && pending_.empty())
          return "member " + m->member_id() + " joined still owning " + std::to_string(owned.size()) +
                 " partition(s): no revocation before the rejoin";
        if (!m->config().eager() && pending_.empty() && sorted(claims) != sorted(owned))
          return "cooperative member " + m->member_id() + " claims other partitions than it owns";
      }
    return "";
  }

private:
  static std::vector<topic_partition> sorted(std::vector<topic_partition> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
  void listen(rebalance_event& ev, int64_t now) {
    auto has = [this](const topic_partition& tp) {
      return std::count(owned.begin(), owned.end(), tp) > 0;
    };
    if (ev.what == rebalance_event::kind::assigned) {
      bool eager = m->config().eager();
      for (auto& tp : ev.partitions)
        if ((eager && !owned.empty()) || (!eager && has(tp)))
          return fail_listener("assigned " + tp.topic + "-" + std::to_string(tp.partition) +
                               " while still owning " + std::to_string(owned.size()));
    } else {
      for (auto& tp : ev.partitions)
        if (!has(tp))
          return fail_listener("revoked or lost a partition it does not own");
    }
    owned = ev.owned;
    if (ev.what == rebalance_event::kind::revoked && ev.revocation) { // commit, then let the rejoin go
      ++revocations;
      offset_commit_map offsets;
      for (auto& tp : ev.partitions)
        if (position.count(tp))
          offsets[tp] = offset_and_metadata{position[tp], "", -1};
      if (!commit_ && !offsets.empty())
        commit_ = m->commit(std::move(offsets), now, ev.generation);
      revoke_ = ev.revocation;
    }
  }
  void fail_listener(const std::string& what) {
    if (failure_.empty())
      failure_ = "listener of " + m->member_id() + ": " + what;
  }

public:
  std::string failure_;

private:
  std::set<topic_partition> fetched_;
  std::vector<rebalance_event> pending_; // events for the polling thread
  std::optional<uint64_t> commit_;       // the commit in flight (one at a time)
  std::optional<uint64_t> revoke_;       // revoke_done to send once the commit finished
  int64_t stalled_until_ = 0, stalled_since_ = 0, next_commit_ = 0;
  std::string stalled_member_;
};

} // namespace al::cluster_sim
