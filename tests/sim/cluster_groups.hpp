#pragma once
// Consumer groups in the whole-cluster simulation: one or two groups, each
// coordinated by the real group_machine (actors/group/group_machine.hpp)
// hosted on the node that leads a chosen partition. When that leader
// changes (or its node crashes) the coordinator moves: the old machine is
// unloaded (if its node still runs) and a fresh one loads the committed
// offsets kept here as durable. Members run the shipped
// consumer_member_machine (cluster_group_members.hpp) and talk to the
// coordinator they found over connections that keep order and break
// (losing what is in flight; the member hears it, as the consumer actor
// does from CAF); they crash and rejoin, stall past max.poll.interval.ms.
// Own rng: the cluster's random sequence is untouched. Invariants:
// cluster_group_checks.hpp, cluster_group_members.hpp. The standalone
// group simulation (group_sim_test.cpp) runs this class without the
// cluster, with the faults of group_faults on. Model:
// docs/replication.md, "Whole-cluster simulation".
#include <functional>
#include <memory>
#include <variant>

#include "actors/group/group_machine.hpp"
#include "tests/sim/cluster_group_checks.hpp"
#include "tests/sim/cluster_group_members.hpp"
#include "tests/sim/cluster_model.hpp"

namespace al::cluster_sim {

struct group_stats {
  int64_t commits = 0, fenced = 0, moves = 0, generations = 0, member_crashes = 0,
          revocations = 0, stalls = 0, refused = 0;
  int64_t failed_writes = 0, grown = 0, early_commits = 0; // group_faults only
  void add(const group_stats& s) {
    commits += s.commits, fenced += s.fenced, moves += s.moves, generations += s.generations;
    member_crashes += s.member_crashes, revocations += s.revocations, stalls += s.stalls;
    refused += s.refused, failed_writes += s.failed_writes, grown += s.grown;
    early_commits += s.early_commits;
  }
};

class groups {
public:
  /// (node, incarnation) of the chosen partition's leader, {0, 0}: none.
  using locate = std::function<std::pair<int, int64_t>(int32_t partition)>;
  using alive = std::function<bool(int node, int64_t incarnation)>;
  groups(uint64_t seed, const knobs& k, group_faults faults = {})
    : r_{seed * 0x9e3779b97f4a7c15ull + 77}, net_(r_, 0), faults_(faults), writes_(r_, faults) {
    net_.faults = {k.drop, k.duplicate, k.min_delay_ms, k.max_delay_ms};
    request_ms_ = 4 * k.max_delay_ms + 20;
    const char* assignors[] = {"range", "roundrobin", "sticky", "cooperative-sticky"};
    int ng = int(r_.between(1, 2));
    for (int g = 0; g < ng; ++g) {
      group x;
      x.partition = int32_t(g % k.partitions);
      x.topics["t"] = int32_t(r_.between(1, 5));
      if (faults_.early_commit > 0) // early commits go there (member_step)
        x.topics["early"] = faults_.max_members;
      x.session_ms = int32_t(r_.between(150, 400) + 6 * k.max_delay_ms);
      auto& c = x.cfg;
      c.group_id = "g" + std::to_string(g);
      c.client_host = "h";
      c.assignor = assignors[r_.between(0, 3)];
      c.session_timeout_ms = x.session_ms;
      c.heartbeat_interval_ms = x.session_ms / 4;
      c.max_poll_interval_ms = x.session_ms; // the rebalance timeout too
      c.request_timeout_ms = request_ms_;
      c.retry_backoff_ms = r_.between(5, 50);
      c.join_timeout_slack_ms = request_ms_;
      x.members.resize(size_t(r_.between(1, faults_.max_members)));
      for (auto& m : x.members)
        m.until = r_.between(0, 200);
      groups_.push_back(std::move(x));
    }
    crash_ = double(r_.between(0, 300)) / 100000; // per member poll
  }
  /// One ms: move coordinators, deliver, tick machines and members.
  void step(int64_t now, bool calm, const locate& where, const alive& up) {
    now_ = now, up_ = &up, calm_ = calm;
    for (size_t g = 0; g < groups_.size(); ++g)
      place(g, where(groups_[g].partition));
    complete_due_writes();
    while (net_.has_due(now) && failure_.empty())
      deliver(net_.pop().m);
    for (size_t g = 0; g < groups_.size() && failure_.empty(); ++g) {
      auto& x = groups_[g];
      if (x.m && now % 5 == 0) {
        if (faults_.grow > 0 && !calm && x.topics["t"] < 12 && r_.chance(faults_.grow)) {
          x.m->on_topic_partitions("t", ++x.topics["t"], now);
          ++stats_.grown;
        }
        x.m->tick(now);
        drain(g);
      }
      for (size_t i = 0; i < x.members.size() && failure_.empty(); ++i)
        member_step(g, i, calm);
    }
  }
  /// Faults stop: crashed members come back at once.
  int64_t heal(int64_t now) {
    net_.faults_on = false;
    int64_t bound = faults_.initial_delay_ms + 2 * faults_.write_delay_ms;
    for (auto& x : groups_) {
      for (auto& m : x.members)
        m.until = std::min(m.until, now);
      bound = std::max(bound, 6 * int64_t(x.session_ms) + 10 * request_ms_ + 1000);
    }
    return bound; // after the coordinator is back (a stall ends within 2 sessions)
  }
  /// Every group Stable with all members in its generation, every partition
  /// owned, and the members' listeners told.
  bool converged() {
    for (auto& x : groups_) {
      if (!x.m || x.m->state() != group_state::stable || x.m->member_count() != x.members.size())
        return false;
      std::set<topic_partition> owned;
      for (auto& s : x.members) {
        if (!s.m || s.m->state() != consumer_member_machine::phase::stable || s.load != x.load ||
            s.m->generation() != x.m->generation_id() || s.owned != s.m->owned())
          return false;
        owned.insert(s.owned.begin(), s.owned.end());
      }
      if (int32_t(owned.size()) != x.topics.at("t"))
        return false;
    }
    return true;
  }
  const std::string& failure() const { return failure_; }
  group_stats result() const {
    auto s = stats_;
    for (auto& x : groups_)
      for (auto& m : x.members)
        s.revocations += m.revocations, s.stalls += m.stalls, s.refused += m.refused;
    return s;
  }

private:
  struct route { size_t member; int64_t incarnation; uint64_t seq; };
  struct group {
    int32_t partition = 0, session_ms = 0;
    partition_counts topics;
    consumer_member_config cfg;
    std::vector<sim_member> members;
    group_offsets durable; // committed offsets: survive every crash and move
    std::unique_ptr<group_machine> m;
    int node = 0;
    int64_t node_incarnation = 0, load = 0;
    std::map<group_request_id, route> routes;
    std::map<std::pair<int64_t, int32_t>, group_assignment> seen; // (load, generation)
    std::set<std::pair<int64_t, int32_t>> written; // (load, generation) whose metadata write succeeded
  };
  struct gmsg {
    size_t g = 0, member = 0;
    int node = 0; int64_t incarnation = 0; // the coordinator's process the connection goes to
    int64_t member_incarnation = 0, load = 0; // load: the coordinator's that answered
    uint64_t seq = 0;
    std::optional<member_request_body> req;
    std::optional<group_response> resp;
  };
  /// A member's connection to the coordinator: in order, never duplicated,
  /// lost only when it breaks, which the member hears (as the consumer actor
  /// hears a CAF connection drop). Kafka clients send on one TCP
  /// connection, and the consumer actor's messages to the coordinator actor
  /// keep their order too, so a commit sent before a rejoin is handled
  /// before it (seed 14769 of the older model found the reordered case: the
  /// member resumed from the offset its own in-flight commit was replacing).
  static int connection(size_t g, size_t member) { return int(g * 8 + member) + 1; }
  void fail(const std::string& what) { failure_ = failure_.empty() ? "groups: " + what : failure_; }
  void place(size_t g, std::pair<int, int64_t> at) {
    auto& x = groups_[g];
    if (x.node == at.first && x.node_incarnation == at.second)
      return;
    if (x.m && (*up_)(x.node, x.node_incarnation)) { // the old node runs: unload, answer NOT_COORDINATOR
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
    group_config cfg{x.cfg.group_id, 10, 1800000, faults_.initial_delay_ms,
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
        if (auto what = check_commit(*x.m, p); !what.empty())
          fail(what);
        start_write(g, group_write{p.persist_id, false, p.generation_id, p.offsets});
      }
      for (auto& p : ready.persist_group) {
        if (auto what = check_group_write(*x.m, p); !what.empty())
          fail(what);
        start_write(g, group_write{p.persist_id, true, p.metadata.generation_id, {}});
      }
      for (auto& resp : ready.responses) {
        auto it = x.routes.find(request_id_of(resp));
        if (it == x.routes.end())
          continue;
        if (error_of(resp) == errc::illegal_generation)
          ++stats_.fenced;
        if (std::holds_alternative<sync_group_response>(resp) && error_of(resp) == errc::none &&
            !x.written.count({x.load, x.m->generation_id()}))
          fail("an assignment of generation " + std::to_string(x.m->generation_id()) +
               " was handed out before the generation was written");
        respond(g, it->second, resp);
        x.routes.erase(it);
      }
    }
    if (!x.m)
      return;
    bool fresh = false;
    if (auto what = check_generation(*x.m, x.load, x.topics.at("t"), x.seen, fresh); !what.empty())
      fail(what);
    stats_.generations += fresh;
  }
  /// Appends with acks=all: at once, or (group_faults) later and in order,
  /// failing now and then with one of the log's errors.
  void start_write(size_t g, group_write w) {
    w.g = g, w.load = groups_[g].load;
    if (writes_.start(w, now_, calm_))
      complete_write(g, w);
  }
  void complete_due_writes() {
    while (failure_.empty()) {
      auto w = writes_.due(now_);
      if (!w)
        return;
      auto& x = groups_[w->g];
      if (x.m && x.load == w->load) { // else the coordinator moved: its writes are void
        complete_write(w->g, *w);
        drain(w->g);
      }
    }
  }
  void complete_write(size_t g, const group_write& w) {
    auto& x = groups_[g];
    if (w.result != errc::none) {
      ++stats_.failed_writes;
    } else if (w.metadata) {
      x.written.insert({x.load, w.generation});
    } else {
      for (auto& [tp, row] : w.offsets) { // monotone: owners resume from the durable row
        auto old = x.durable.find(tp);
        if (old != x.durable.end() && row.offset < old->second.offset)
          fail("committed offset of " + tp.topic + "-" + std::to_string(tp.partition) +
               " went back from " + std::to_string(old->second.offset) + " to " +
               std::to_string(row.offset));
        x.durable[tp] = row;
      }
      ++stats_.commits;
    }
    x.m->on_persisted(w.id, w.result, now_);
  }
  void respond(size_t g, const route& to, group_response resp) {
    gmsg out{g, to.member, 0, 0, to.incarnation, groups_[g].load, to.seq, {}, std::move(resp)};
    if (!net_.send(now_, 0, connection(g, to.member), out, true))
      if (auto& s = groups_[g].members[to.member]; s.incarnation == to.incarnation)
        s.broken = true;
  }
  void deliver(const gmsg& e) {
    auto& x = groups_[e.g];
    if (e.req)
      return on_request(e);
    auto& s = x.members[e.member];
    if (!s.m || s.incarnation != e.member_incarnation)
      return; // the process that asked is gone
    auto before = s.m->state();
    s.m->on_response(e.seq, *e.resp, now_);
    if (before != consumer_member_machine::phase::stable &&
        s.m->state() == consumer_member_machine::phase::stable)
      s.load = e.load; // synced into a generation of that coordinator load
    pump(e.g, e.member);
    if (auto what = check_members(x.members); !what.empty())
      fail(what);
  }
  void on_request(const gmsg& e) {
    auto& x = groups_[e.g];
    route back{e.member, e.member_incarnation, e.seq};
    if (!x.m || x.node != e.node || x.node_incarnation != e.incarnation) {
      if ((*up_)(e.node, e.incarnation)) // a broker not (or no longer) hosting the group
        respond(e.g, back, std::visit([](auto& q) { return not_coordinator(q); }, *e.req));
      return; // else lost with the process: the member hears the connection drop
    }
    auto id = next_id_++;
    x.routes[id] = back;
    std::visit([&](auto q) {
      q.request_id = id;
      using T = decltype(q);
      if constexpr (std::is_same_v<T, join_group_request>) x.m->on_join(q, now_);
      if constexpr (std::is_same_v<T, sync_group_request>) x.m->on_sync(q, now_);
      if constexpr (std::is_same_v<T, heartbeat_request>) x.m->on_heartbeat(q, now_);
      if constexpr (std::is_same_v<T, leave_group_request>) x.m->on_leave(q, now_);
      if constexpr (std::is_same_v<T, offset_commit_request>) x.m->on_offset_commit(q, now_);
    }, *e.req);
    drain(e.g);
  }
  void send(size_t g, size_t i, uint64_t seq, member_request_body q) {
    auto& s = groups_[g].members[i];
    if (!s.coordinator) { // the machine has not heard yet that its connection is gone
      s.broken = true;
      return;
    }
    gmsg e{g, i, s.coordinator, s.coordinator_incarnation, s.incarnation, 0, seq, std::move(q), {}};
    if (!net_.send(now_, connection(g, i), 0, e, true))
      s.broken = true;
  }
  /// Executes the member machine's effects (the consumer actor's order).
  void pump(size_t g, size_t i) {
    auto& x = groups_[g];
    auto& s = x.members[i];
    for (int guard = 0; guard < 10 && s.m; ++guard) {
      auto r = s.m->take_ready();
      if (r.empty())
        break;
      if (r.forget_coordinator)
        s.coordinator = 0;
      if (auto what = s.take(r, x.durable); !what.empty())
        return fail(what);
      for (auto& q : r.requests)
        send(g, i, q.seq, std::move(q.body));
      if (r.find_coordinator) { // FindCoordinator: the node hosting the group now
        if (!x.node) {
          s.m->coordinator_not_found(status{errc::coordinator_not_available, "moving"}, now_);
        } else {
          s.coordinator = x.node, s.coordinator_incarnation = x.node_incarnation;
          s.m->coordinator_found(now_);
        }
      }
    }
  }
  void member_step(size_t g, size_t i, bool calm) {
    auto& x = groups_[g];
    auto& s = x.members[i];
    if (!s.m) {
      if (now_ < s.until)
        return;
      auto cfg = x.cfg;
      cfg.client_id = "c" + std::to_string(i);
      s.start(cfg, now_);
    }
    if (s.coordinator && (s.broken || !(*up_)(s.coordinator, s.coordinator_incarnation))) {
      s.coordinator = 0, s.broken = false;
      s.m->coordinator_disconnected(now_);
    }
    s.broken = false;
    bool polling_turn = (now_ + int64_t(i)) % 10 == 0;
    if (polling_turn)
      s.poll(now_, calm, r_);
    if (!s.failure_.empty())
      return fail(s.failure_);
    if (auto at = s.m->next_deadline_ms(); at && *at <= now_)
      s.m->tick(now_);
    pump(g, i);
    auto bound = x.cfg.max_poll_interval_ms + x.cfg.heartbeat_interval_ms + x.session_ms +
                 2 * request_ms_ + 20;
    if (auto what = check_poll_interval(x.m.get(), s, now_, bound); !what.empty())
      fail(what);
    if (!polling_turn || calm)
      return;
    if (s.coordinator && s.m->state() == consumer_member_machine::phase::stable &&
        s.m->generation() > 0 && r_.chance(0.01)) {
      offset_commit_request q{0, s.m->member_id(), s.m->generation() - 1, {}}; // a zombie's late retry
      for (auto& tp : s.m->owned())
        q.offsets[tp] = offset_and_metadata{s.position[tp], "stale", -1};
      if (!q.offsets.empty())
        send(g, i, 0, std::move(q));
    }
    if (faults_.early_commit > 0 && s.coordinator &&
        s.m->state() == consumer_member_machine::phase::syncing && r_.chance(faults_.early_commit)) {
      // Before SyncGroup returned; to a topic no member subscribes to, so it
      // moves no member's position: what counts is whether the coordinator
      // takes it (only CompletingRebalance can refuse it).
      offset_commit_request q{0, s.m->member_id(), s.m->generation(), {}};
      q.offsets[{"early", int32_t(i)}] = offset_and_metadata{now_, "early", -1};
      send(g, i, 0, std::move(q));
      ++stats_.early_commits;
    }
    if (!r_.chance(crash_))
      return;
    ++stats_.member_crashes;
    if (r_.chance(0.3)) { // leaves cleanly first
      s.m->close(now_);
      pump(g, i);
    }
    s.stop();
    s.until = now_ + r_.between(10, 2 * x.session_ms);
  }
  sim::rng r_;
  sim::network<gmsg> net_;
  group_faults faults_;
  std::vector<group> groups_;
  group_writes writes_;
  double crash_ = 0;
  int64_t now_ = 0, request_ms_ = 0;
  bool calm_ = false;
  const alive* up_ = nullptr;
  group_request_id next_id_ = 1;
  std::string failure_;
  group_stats stats_;
};

} // namespace al::cluster_sim
