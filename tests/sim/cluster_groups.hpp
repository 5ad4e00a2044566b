#pragma once
// Consumer groups in the whole-cluster simulation: one or two groups, each
// coordinated by the real group_machine (actors/group/group_machine.hpp)
// hosted on the node that leads a chosen partition. When that leader
// changes (or its node crashes) the coordinator moves: the old machine is
// unloaded (if its node still runs) and a fresh one loads the committed
// offsets kept here as durable. Members join/sync/heartbeat/commit/leave over
// connections that break (losing what is in flight) but keep order, crash
// and rejoin. Own rng: the cluster's random sequence
// is untouched. Model and invariants: docs/replication.md, "Whole-cluster
// simulation".
#include <functional>
#include <memory>
#include <variant>

#include "actors/group/group_machine.hpp"
#include "tests/sim/cluster_model.hpp"

namespace al::cluster_sim {

struct group_stats {
  int64_t commits = 0, fenced = 0, moves = 0, generations = 0, member_crashes = 0;
  void add(const group_stats& s) {
    commits += s.commits, fenced += s.fenced, moves += s.moves, generations += s.generations;
    member_crashes += s.member_crashes;
  }
};

class groups {
public:
  using request = std::variant<join_group_request, sync_group_request, heartbeat_request,
                               leave_group_request, offset_commit_request>;
  /// (node, incarnation) of the chosen partition's leader, {0, 0}: none.
  using locate = std::function<std::pair<int, int64_t>(int32_t partition)>;
  using alive = std::function<bool(int node, int64_t incarnation)>;
  groups(uint64_t seed, const knobs& k) : r_{seed * 0x9e3779b97f4a7c15ull + 77}, net_(r_, 0) {
    net_.faults = {k.drop, k.duplicate, k.min_delay_ms, k.max_delay_ms};
    request_ms_ = 4 * k.max_delay_ms + 20;
    int ng = int(r_.between(1, 2));
    for (int g = 0; g < ng; ++g) {
      group x;
      x.partition = int32_t(g % k.partitions);
      x.topics["t"] = int32_t(r_.between(1, 5));
      x.assignor = r_.chance(0.5) ? "range" : "roundrobin";
      x.session_ms = int32_t(r_.between(150, 400) + 6 * k.max_delay_ms);
      x.members.resize(size_t(r_.between(1, 4)));
      for (auto& m : x.members)
        m.until = r_.between(0, 200);
      groups_.push_back(std::move(x));
    }
    crash_ = double(r_.between(0, 300)) / 100000; // per member tick
  }
  /// One ms: move coordinators, deliver, tick machines and members.
  void step(int64_t now, bool calm, const locate& where, const alive& up) {
    now_ = now;
    for (size_t g = 0; g < groups_.size(); ++g)
      place(g, where(groups_[g].partition), up);
    while (net_.has_due(now) && failure_.empty())
      deliver(net_.pop().m);
    for (size_t g = 0; g < groups_.size() && failure_.empty(); ++g) {
      auto& x = groups_[g];
      if (x.m && now % 5 == 0) {
        x.m->tick(now);
        drain(g);
      }
      for (size_t i = 0; i < x.members.size(); ++i)
        if ((now + int64_t(i)) % 10 == 0)
          member_tick(g, i, calm);
    }
  }
  /// Faults stop: crashed members come back at once.
  int64_t heal(int64_t now) {
    net_.faults_on = false;
    int64_t bound = 0;
    for (auto& x : groups_) {
      for (auto& m : x.members)
        m.until = std::min(m.until, now);
      bound = std::max(bound, 4 * int64_t(x.session_ms) + 10 * request_ms_ + 1000);
    }
    return bound; // after the coordinator is back
  }
  /// Every group Stable with all members in its generation, every partition owned.
  bool converged() {
    for (auto& x : groups_) {
      if (!x.m || x.m->state() != group_state::stable || x.m->member_count() != x.members.size())
        return false;
      std::set<topic_partition> owned;
      for (auto& m : x.members) {
        if (m.ph != phase::stable || m.load != x.load || m.generation != x.m->generation_id())
          return false;
        owned.insert(m.owned.begin(), m.owned.end());
      }
      if (int32_t(owned.size()) != x.topics.at("t"))
        return false;
    }
    return true;
  }
  const std::string& failure() const { return failure_; }
  const group_stats& result() const { return stats_; }
private:
  enum class phase { down, joining, syncing, stable };
  struct member {
    phase ph = phase::down;
    int64_t until = 0, incarnation = 0, deadline = 0, next_heartbeat = 0, next_commit = 0;
    std::string id;
    int32_t generation = -1; int64_t load = 0; // generation, of that coordinator load
    uint64_t seq = 0, waiting = 0;
    std::vector<topic_partition> owned;
    std::map<topic_partition, int64_t> position;
  };
  struct route { size_t member; int64_t incarnation; uint64_t seq; };
  struct group {
    int32_t partition = 0, session_ms = 0;
    partition_counts topics;
    std::string assignor;
    std::vector<member> members;
    group_offsets durable; // committed offsets: survive every crash and move
    std::unique_ptr<group_machine> m;
    int node = 0;
    int64_t node_incarnation = 0, load = 0;
    std::map<group_request_id, route> routes;
    std::map<std::pair<int64_t, int32_t>, group_assignment> seen; // (load, generation)
  };
  struct gmsg {
    size_t g = 0, member = 0;
    int node = 0; int64_t incarnation = 0; // coordinator's node (requests), member's (responses)
    uint64_t seq = 0;
    std::optional<request> req;
    std::optional<group_response> resp;
  };
  /// A member's connection to the coordinator: in order, never duplicated,
  /// lost only when it breaks (the member times out and sends again). Kafka
  /// clients send on one TCP connection, and the consumer actor's messages to
  /// the coordinator actor keep their order too, so a commit sent before a
  /// rejoin is handled before it (seed 14769 found the reordered case: the
  /// member resumed from the offset its own in-flight commit was replacing).
  static int connection(size_t g, size_t member) { return int(g * 8 + member) + 1; }
  void fail(const std::string& what) { failure_ = failure_.empty() ? "groups: " + what : failure_; }
  void place(size_t g, std::pair<int, int64_t> at, const alive& up) {
    auto& x = groups_[g];
    if (x.node == at.first && x.node_incarnation == at.second)
      return;
    if (x.m && up(x.node, x.node_incarnation)) { // the old node runs: unload, answer NOT_COORDINATOR
      x.m->unload(now_);
      drain(g);
    }
    x.m.reset();
    x.routes.clear();
    x.node = at.first, x.node_incarnation = at.second;
    if (!x.node)
      return;
    ++stats_.moves;
    int32_t gen = 0;
    for (auto& [tp, row] : x.durable)
      gen = std::max(gen, row.generation_id);
    ++x.load;
    group_config cfg{"g" + std::to_string(g), 10, 1800000, 0,
                     "n" + std::to_string(x.node) + "l" + std::to_string(x.load), gen};
    x.m = std::make_unique<group_machine>(cfg, x.topics, x.durable, now_);
  }
  void drain(size_t g) {
    auto& x = groups_[g];
    for (int guard = 0; guard < 10; ++guard) {
      auto ready = x.m->take_ready();
      if (ready.empty())
        break;
      for (auto& p : ready.persist) {
        check_commit(x, p);
        for (auto& [tp, row] : p.offsets) { // monotone: owners resume from the durable row
          auto old = x.durable.find(tp);
          if (old != x.durable.end() && row.offset < old->second.offset)
            fail("committed offset of " + tp.topic + "-" + std::to_string(tp.partition) +
                 " went back from " + std::to_string(old->second.offset) + " to " +
                 std::to_string(row.offset));
          x.durable[tp] = row;
        }
        ++stats_.commits;
        x.m->on_persisted(p.persist_id, errc::none, now_);
      }
      for (auto& p : ready.persist_group) // a generation's metadata: the syncs wait for it
        x.m->on_persisted(p.persist_id, errc::none, now_);
      for (auto& resp : ready.responses) {
        auto it = x.routes.find(request_id_of(resp));
        if (it == x.routes.end())
          continue;
        if (error_of(resp) == errc::illegal_generation)
          ++stats_.fenced;
        gmsg out{g, it->second.member, 0, it->second.incarnation, it->second.seq, {}, resp};
        x.routes.erase(it);
        net_.send(now_, 0, connection(g, out.member), out, true);
      }
    }
    check_generation(x);
  }
  // An accepted commit comes from a current member, current generation,
  // outside CompletingRebalance, for partitions it owns.
  void check_commit(group& x, const persist_offsets_effect& p) {
    auto& m = *x.m;
    if (p.generation_id != m.generation_id() || !m.is_member(p.member_id))
      return fail("stale commit accepted: generation " + std::to_string(p.generation_id) +
                  " from " + p.member_id + ", group at " + std::to_string(m.generation_id()));
    if (m.state() == group_state::completing_rebalance)
      return fail("commit accepted while completing the rebalance");
    auto it = m.assignment().find(p.member_id);
    for (auto& [tp, row] : p.offsets)
      if (it == m.assignment().end() || !std::count(it->second.begin(), it->second.end(), tp))
        return fail("commit accepted from " + p.member_id + " for a partition it does not own");
  }
  // Per (coordinator load, generation): one assignment, no partition twice;
  // members' beliefs agree (no two members own a partition in one generation).
  void check_generation(group& x) {
    if (!x.m || x.m->state() == group_state::empty || x.m->state() == group_state::dead)
      return;
    auto key = std::make_pair(x.load, x.m->generation_id());
    auto [first, fresh] = x.seen.emplace(key, x.m->assignment());
    stats_.generations += fresh;
    std::set<topic_partition> owned;
    for (auto& [id, list] : x.m->assignment()) { // members only leave within a generation
      if (!first->second.count(id) || first->second.at(id) != list)
        fail("assignment of generation " + std::to_string(key.second) + " changed for " + id);
      for (auto& tp : list)
        if (!owned.insert(tp).second)
          fail("partition owned twice in generation " + std::to_string(key.second));
    }
  }
  void check_members(group& x) {
    std::map<std::pair<int64_t, int32_t>, std::set<topic_partition>> owned;
    for (auto& m : x.members)
      if (m.ph == phase::stable)
        for (auto& tp : m.owned)
          if (!owned[{m.load, m.generation}].insert(tp).second)
            fail("two members own " + tp.topic + "-" + std::to_string(tp.partition) +
                 " in generation " + std::to_string(m.generation));
  }
  void deliver(const gmsg& e) {
    auto& x = groups_[e.g];
    if (e.req) {
      if (!x.m || x.node != e.node)
        return; // lost with the process, or answered NOT_COORDINATOR: the member times out
      auto id = next_id_++;
      x.routes[id] = route{e.member, x.members[e.member].incarnation, e.seq};
      std::visit([&](auto q) {
        q.request_id = id;
        using T = decltype(q);
        if constexpr (std::is_same_v<T, join_group_request>) x.m->on_join(q, now_);
        if constexpr (std::is_same_v<T, sync_group_request>) x.m->on_sync(q, now_);
        if constexpr (std::is_same_v<T, heartbeat_request>) x.m->on_heartbeat(q, now_);
        if constexpr (std::is_same_v<T, leave_group_request>) x.m->on_leave(q, now_);
        if constexpr (std::is_same_v<T, offset_commit_request>) x.m->on_offset_commit(q, now_);
      }, *e.req);
      return drain(e.g);
    }
    auto& m = x.members[e.member];
    if (m.ph == phase::down || m.incarnation != e.incarnation)
      return;
    errc err = error_of(*e.resp);
    if (auto* j = std::get_if<join_group_response>(&*e.resp)) {
      if (e.seq != m.waiting || m.ph != phase::joining)
        return;
      if (err == errc::none || err == errc::member_id_required)
        m.id = j->member_id;
      if (err == errc::unknown_member_id)
        m.id.clear();
      if (err != errc::none)
        return join(e.g, e.member);
      m.generation = j->generation_id, m.load = x.load, m.ph = phase::syncing;
      m.waiting = send(e.g, e.member, sync_group_request{0, m.id, m.generation});
      m.deadline = now_ + request_ms_;
    } else if (auto* s = std::get_if<sync_group_response>(&*e.resp)) {
      if (e.seq != m.waiting || m.ph != phase::syncing)
        return;
      if (err != errc::none)
        return join(e.g, e.member);
      m.owned = s->assignment, m.ph = phase::stable;
      for (auto& tp : m.owned) // OffsetFetch: resume from the committed offset
        m.position[tp] = x.durable.count(tp) ? x.durable.at(tp).offset : 0;
      check_members(x);
    } else if (err != errc::none && err != errc::not_coordinator && m.ph == phase::stable &&
               e.seq >= m.waiting) {
      if (err == errc::unknown_member_id)
        m.id.clear();
      join(e.g, e.member); // rebalance, fenced or forgotten
    }
  }
  uint64_t send(size_t g, size_t i, request q) {
    auto& x = groups_[g];
    auto seq = ++x.members[i].seq;
    if (x.node) // FindCoordinator: the node hosting it now
      net_.send(now_, connection(g, i), 0, gmsg{g, i, x.node, 0, seq, std::move(q), {}}, true);
    return seq;
  }
  void join(size_t g, size_t i) {
    auto& x = groups_[g];
    auto& m = x.members[i];
    m.owned.clear(); // eager: revoke before rejoining
    m.ph = phase::joining;
    member_subscription sub{{"t"}, {}, -1};
    m.waiting = send(g, i, join_group_request{0, m.id, "c" + std::to_string(i), "h", x.session_ms,
                                              x.session_ms, "consumer",
                                              {group_protocol{x.assignor, sub}}});
    m.deadline = now_ + x.session_ms + request_ms_;
  }
  void member_tick(size_t g, size_t i, bool calm) {
    auto& x = groups_[g];
    auto& m = x.members[i];
    if (m.ph == phase::down) {
      if (now_ < m.until)
        return;
      ++m.incarnation; // a restarted process remembers nothing
      m.id.clear(), m.owned.clear(), m.generation = -1;
      return join(g, i);
    }
    if (m.ph != phase::stable && now_ >= m.deadline)
      return join(g, i); // request timed out (coordinator gone, message lost)
    if (m.ph == phase::stable && now_ >= m.next_heartbeat) {
      send(g, i, heartbeat_request{0, m.id, m.generation});
      m.next_heartbeat = now_ + x.session_ms / 4;
    }
    if (m.ph == phase::stable && now_ >= m.next_commit && !m.owned.empty()) {
      offset_commit_request q{0, m.id, m.generation, {}};
      for (auto& tp : m.owned)
        q.offsets[tp] = offset_and_metadata{m.position[tp] += r_.between(0, 20), ""};
      send(g, i, std::move(q));
      m.next_commit = now_ + request_ms_ + r_.between(0, 200); // the last one landed or is lost
    }
    if (!calm && m.ph == phase::stable && m.generation > 0 && r_.chance(0.01)) {
      offset_commit_request q{0, m.id, m.generation - 1, {}}; // a zombie's late retry
      for (auto& tp : m.owned)
        q.offsets[tp] = offset_and_metadata{m.position[tp], "stale"};
      if (!q.offsets.empty())
        send(g, i, std::move(q));
    }
    if (calm || !r_.chance(crash_))
      return;
    ++stats_.member_crashes;
    if (r_.chance(0.3) && !m.id.empty()) // leaves cleanly first
      send(g, i, leave_group_request{0, m.id});
    m.ph = phase::down;
    m.until = now_ + r_.between(10, 2 * x.session_ms);
  }
  sim::rng r_;
  sim::network<gmsg> net_;
  std::vector<group> groups_;
  double crash_ = 0;
  int64_t now_ = 0, request_ms_ = 0;
  group_request_id next_id_ = 1;
  std::string failure_;
  group_stats stats_;
};

} // namespace al::cluster_sim
