// Seeded simulation of one consumer group (TigerBeetle VOPR style): every
// knob comes from one seed; a virtual clock in ms; a network that delays,
// drops, duplicates and reorders messages between N simulated consumers and
// the coordinator machine; consumers join, leave, crash, pause (and resume
// with stale beliefs), resubscribe and commit with whatever generation they
// believe in. Invariants are checked after every step; after the safety
// phase the faults stop and the group must become Stable in bounded time.
// A failure prints "seed=N failed, reproduce with --seed N"; --seed N (or
// AL_SEED=N) replays one seed. Harness (rng, network as the event queue,
// seed loop): tests/sim/sim_harness.hpp.
#include <cstdlib>
#include <iostream>
#include <set>

#include "actors/group/group_machine.hpp"
#include "tests/sim/sim_harness.hpp"

using namespace al;
using sim::rng;

namespace {

using tps = std::vector<topic_partition>;
using client_request = std::variant<join_group_request, sync_group_request, heartbeat_request,
                                    leave_group_request, offset_commit_request>;

struct knobs {
  size_t consumers;
  partition_counts partitions;
  std::string assignor;
  int32_t session_ms, rebalance_ms, heartbeat_ms, commit_ms, initial_delay_ms, request_ms;
  int64_t max_delay_ms, tick_ms, client_tick_ms, safety_ms;
  double drop, duplicate, crash, pause, leave, resubscribe, grow, persist_fail, early_commit;

  static knobs from(rng& r) {
    knobs k;
    k.consumers = size_t(r.between(1, 6));
    for (int t = 0, n = int(r.between(1, 3)); t < n; ++t)
      k.partitions["t" + std::to_string(t)] = int32_t(r.between(1, 8));
    const char* names[] = {"range", "roundrobin", "sticky", "cooperative-sticky"};
    k.assignor = names[r.between(0, 3)];
    k.session_ms = int32_t(r.between(6000, 15000));
    k.rebalance_ms = int32_t(r.between(k.session_ms, 30000));
    k.heartbeat_ms = k.session_ms / 3;
    k.commit_ms = int32_t(r.between(500, 5000));
    k.initial_delay_ms = r.chance(0.5) ? 0 : int32_t(r.between(0, 3000));
    k.request_ms = int32_t(r.between(3000, 10000));
    k.max_delay_ms = r.between(1, 3000);
    k.tick_ms = r.between(10, 500);
    k.client_tick_ms = r.between(50, 250);
    k.safety_ms = r.between(20000, 60000);
    k.drop = r.chance(0.3) ? 0 : double(r.between(0, 100)) / 1000;
    k.duplicate = double(r.between(0, 50)) / 1000;
    k.crash = double(r.between(0, 20)) / 10000;
    k.pause = double(r.between(0, 20)) / 10000;
    k.leave = double(r.between(0, 10)) / 10000;
    k.resubscribe = double(r.between(0, 10)) / 10000;
    k.grow = double(r.between(0, 20)) / 1000;
    k.persist_fail = double(r.between(0, 50)) / 1000;
    k.early_commit = double(r.between(0, 200)) / 1000;
    return k;
  }
};

enum class phase { down, idle, joining, syncing, stable };

struct consumer {
  std::string client_id;
  std::vector<std::string> topics;
  phase ph = phase::idle;
  int64_t until = 0; // end of down / idle / pause
  bool paused = false;
  std::string member_id;
  int32_t generation = -1;
  tps owned;
  tps previous; // what it owned before its last rejoin (eager: already revoked)
  int32_t owned_generation = -1;
  uint64_t next_seq = 1, waiting_seq = 0;
  int64_t waiting_deadline = 0, next_heartbeat = 0, next_commit = 0;
  std::map<uint64_t, int32_t> sent_generation; // heartbeat/commit seq -> generation used
  std::map<topic_partition, int64_t> position;
};

struct event {
  enum kind_t { to_coordinator, to_client, client_timer, machine_tick, persisted };
  int64_t at = 0;
  kind_t kind = machine_tick;
  size_t client = 0;
  uint64_t client_seq = 0;
  std::optional<client_request> request;
  std::optional<group_response> response;
  uint64_t persist_id = 0;
  errc persist_result = errc::none;
};

event make_event(int64_t at, event::kind_t kind, size_t client = 0, uint64_t client_seq = 0) {
  event e;
  e.at = at;
  e.kind = kind;
  e.client = client;
  e.client_seq = client_seq;
  return e;
}

struct sim_stats {
  uint64_t events = 0, accepted_commits = 0, fenced_commits = 0, generations = 0;
  uint64_t failed_generation_writes = 0;
  int64_t stable_after_ms = 0;
};

class simulation {
public:
  explicit simulation(uint64_t seed)
    : r_{seed}, k_(knobs::from(r_)),
      m_(group_config{"sim", 6000, 1800000, k_.initial_delay_ms, "s"}, k_.partitions, {}, 0),
      queue_(r_, 0) {
    queue_.faults = {k_.drop, k_.duplicate, 1, k_.max_delay_ms};
    for (size_t i = 0; i < k_.consumers; ++i) {
      consumers_.push_back(consumer{});
      consumers_[i].client_id = "c" + std::to_string(i);
      for (auto& [t, n] : k_.partitions)
        consumers_[i].topics.push_back(t);
      schedule(make_event(r_.between(0, 2000), event::client_timer, i));
    }
    schedule(make_event(k_.tick_ms, event::machine_tick));
  }

  /// Empty when every invariant held and the group converged; else what broke.
  std::string run();
  const sim_stats& stats() const { return stats_; }

private:
  void schedule(event e) { queue_.push(e.at, std::move(e)); }
  void send(event e) { queue_.send(now_, -1, -1, e); } // delay, drop, duplicate
  void fail(const std::string& what) {
    if (failure_.empty())
      failure_ = "t=" + std::to_string(now_) + "ms: " + what;
  }
  void check(bool ok, const std::string& what) {
    if (!ok)
      fail(what);
  }

  // coordinator side (the actor's job in production)
  void deliver_to_coordinator(event& e);
  void drain_machine();
  void check_commit_effect(const persist_offsets_effect& p);
  void check_group_write(const persist_group_effect& p);
  void check_step();
  bool converged() const;

  // consumer side
  uint64_t client_send(size_t i, client_request req);
  void start_join(size_t i);
  void start_sync(size_t i);
  void reset_identity(consumer& c);
  void on_client_timer(size_t i);
  void maybe_fault(size_t i);
  void on_response(size_t i, uint64_t seq, const group_response& r);
  void on_join_response(size_t i, const join_group_response& r);
  void on_sync_response(size_t i, const sync_group_response& r);
  void on_async_response(size_t i, uint64_t seq, errc error, bool is_commit);
  void start_liveness();

  rng r_;
  knobs k_;
  group_machine m_;
  std::vector<consumer> consumers_;
  sim::network<event> queue_; // messages and timers; no links to cut
  int64_t now_ = 0, last_persist_at_ = 0, liveness_start_ = 0, liveness_deadline_ = 0;
  bool liveness_ = false;
  group_request_id next_request_id_ = 1;
  std::map<group_request_id, std::pair<size_t, uint64_t>> routes_; // -> consumer, its seq
  int32_t last_generation_ = 0;
  std::map<int32_t, group_assignment> generation_assignment_; // as first seen
  std::map<uint64_t, int32_t> group_writes_;  // persist id -> generation being written
  std::set<int32_t> written_generations_;     // whose metadata write succeeded
  std::string failure_;
  sim_stats stats_;
};

std::string simulation::run() {
  while (failure_.empty()) {
    AL_ASSERT(!queue_.empty()); // timers always re-arm
    auto [at, e] = queue_.pop();
    now_ = at;
    if (++stats_.events > 2'000'000)
      return "too many events";
    if (!liveness_ && now_ >= k_.safety_ms)
      start_liveness();
    if (liveness_ && now_ > liveness_deadline_)
      fail("no Stable group within " + std::to_string(liveness_deadline_ - liveness_start_) +
           "ms after faults stopped; state " + std::string(to_string(m_.state())));
    switch (e.kind) {
      case event::to_coordinator: deliver_to_coordinator(e); break;
      case event::to_client: {
        auto& c = consumers_[e.client];
        if (c.ph != phase::down && !c.paused)
          on_response(e.client, e.client_seq, *e.response);
        break;
      }
      case event::client_timer:
        on_client_timer(e.client);
        schedule(make_event(now_ + k_.client_tick_ms, event::client_timer, e.client));
        break;
      case event::machine_tick:
        if (!liveness_ && r_.chance(k_.grow)) {
          auto it = std::next(k_.partitions.begin(), long(r_.between(0, long(k_.partitions.size()) - 1)));
          if (it->second < 12)
            m_.on_topic_partitions(it->first, ++it->second, now_);
        }
        m_.tick(now_);
        schedule(make_event(now_ + k_.tick_ms, event::machine_tick));
        break;
      case event::persisted:
        if (auto w = group_writes_.find(e.persist_id); w != group_writes_.end()) {
          if (e.persist_result == errc::none)
            written_generations_.insert(w->second);
          group_writes_.erase(w);
        }
        m_.on_persisted(e.persist_id, e.persist_result, now_);
        break;
    }
    drain_machine();
    check_step();
    if (liveness_ && converged()) {
      stats_.stable_after_ms = now_ - liveness_start_;
      break;
    }
  }
  return failure_;
}

// ---- coordinator side ------------------------------------------------------

void simulation::deliver_to_coordinator(event& e) {
  auto id = next_request_id_++; // the actor numbers each arriving message
  routes_[id] = {e.client, e.client_seq};
  std::visit(
      [&](auto req) {
        req.request_id = id;
        using T = decltype(req);
        if constexpr (std::is_same_v<T, join_group_request>) m_.on_join(req, now_);
        if constexpr (std::is_same_v<T, sync_group_request>) m_.on_sync(req, now_);
        if constexpr (std::is_same_v<T, heartbeat_request>) m_.on_heartbeat(req, now_);
        if constexpr (std::is_same_v<T, leave_group_request>) m_.on_leave(req, now_);
        if constexpr (std::is_same_v<T, offset_commit_request>) m_.on_offset_commit(req, now_);
      },
      *e.request);
}

void simulation::drain_machine() {
  auto ready = m_.take_ready();
  // The actor appends in order; acks come back in order. A failed append
  // fails with one of the log's errors (a deposed leader's times out).
  auto append = [&](uint64_t persist_id) {
    last_persist_at_ = std::max(last_persist_at_, now_ + r_.between(1, 50));
    auto done = make_event(last_persist_at_, event::persisted);
    done.persist_id = persist_id;
    if (!liveness_ && r_.chance(k_.persist_fail)) {
      const errc failures[] = {errc::kafka_storage_error, errc::request_timed_out,
                               errc::not_enough_replicas, errc::not_leader_or_follower};
      done.persist_result = failures[r_.between(0, 3)];
    }
    schedule(done);
    return done.persist_result;
  };
  for (auto& p : ready.persist) {
    check_commit_effect(p);
    append(p.persist_id);
  }
  for (auto& p : ready.persist_group) {
    check_group_write(p);
    group_writes_[p.persist_id] = p.metadata.generation_id;
    stats_.failed_generation_writes += append(p.persist_id) != errc::none;
  }
  for (auto& resp : ready.responses) {
    auto route = routes_.find(request_id_of(resp));
    AL_ASSERT(route != routes_.end(), request_id_of(resp));
    if (std::holds_alternative<sync_group_response>(resp) && error_of(resp) == errc::none)
      check(written_generations_.count(m_.generation_id()) == 1,
            "an assignment of generation " + std::to_string(m_.generation_id()) +
                " was handed out before the generation was written");
    if (std::holds_alternative<offset_commit_response>(resp) &&
        error_of(resp) == errc::illegal_generation)
      ++stats_.fenced_commits;
    auto e = make_event(0, event::to_client, route->second.first, route->second.second);
    e.response = resp;
    routes_.erase(route);
    send(std::move(e));
  }
}

// A commit the machine accepted must come from a current member with the
// current generation (or from a membership-less client of an Empty group),
// outside CompletingRebalance, for partitions that member owns.
void simulation::check_commit_effect(const persist_offsets_effect& p) {
  ++stats_.accepted_commits;
  if (p.generation_id < 0) {
    check(p.member_id.empty() && m_.state() == group_state::empty,
          "generation -1 commit accepted outside Empty from " + p.member_id);
    return;
  }
  check(p.generation_id == m_.generation_id(),
        "stale commit accepted: generation " + std::to_string(p.generation_id) + " from " +
            p.member_id + ", group is at " + std::to_string(m_.generation_id()));
  check(m_.is_member(p.member_id), "commit accepted from non-member " + p.member_id);
  check(m_.state() != group_state::completing_rebalance, "commit accepted while completing");
  auto it = m_.assignment().find(p.member_id);
  for (auto& [tp, row] : p.offsets)
    check(row.metadata == "early" || // the client broke the contract, not the coordinator
              (it != m_.assignment().end() &&
              std::count(it->second.begin(), it->second.end(), tp) == 1),
          "commit accepted from " + p.member_id + " for a partition it does not own: " +
              tp.topic + "-" + std::to_string(tp.partition));
}

// The metadata write of the generation being completed, with its assignment.
void simulation::check_group_write(const persist_group_effect& p) {
  check(m_.state() == group_state::completing_rebalance &&
            p.metadata.generation_id == m_.generation_id(),
        "metadata write of generation " + std::to_string(p.metadata.generation_id) +
            " outside its CompletingRebalance");
  check(p.metadata.members.size() == m_.member_count(), "metadata write misses members");
  for (auto& mm : p.metadata.members)
    check(m_.assignment().count(mm.member_id) &&
              m_.assignment().at(mm.member_id) == mm.assignment,
          "metadata write of " + mm.member_id + " differs from the assignment");
}

void simulation::check_step() {
  auto g = m_.generation_id();
  check(g >= last_generation_, "generation went backwards");
  stats_.generations += uint64_t(g - last_generation_);
  last_generation_ = g;
  auto state = m_.state();
  if (state == group_state::empty || state == group_state::dead)
    return;
  // Within one generation the assignment never changes (members only leave)
  // and no partition has two owners.
  auto first = generation_assignment_.find(g);
  if (first == generation_assignment_.end())
    first = generation_assignment_.emplace(g, m_.assignment()).first;
  std::set<topic_partition> owned;
  for (auto& [member, list] : m_.assignment()) {
    check(first->second.count(member) && first->second.at(member) == list,
          "assignment of generation " + std::to_string(g) + " changed for " + member);
    for (auto& tp : list)
      check(owned.insert(tp).second, "partition owned twice in generation " + std::to_string(g));
  }
  if (state != group_state::stable || m_.member_count() == 0)
    return;
  owned.insert(m_.revoking().begin(), m_.revoking().end()); // cooperative: handed out next round
  std::set<topic_partition> all;
  for (auto& t : m_.subscribed_topics()) // every member lists one protocol here
    for (int32_t p = 0; m_.topics().count(t) && p < m_.topics().at(t); ++p)
      all.insert(topic_partition{t, p});
  check(owned == all, "Stable group leaves subscribed partitions unowned");
}

bool simulation::converged() const {
  if (m_.state() != group_state::stable || !m_.revoking().empty() ||
      m_.member_count() != consumers_.size())
    return false;
  for (auto& c : consumers_)
    if (c.ph != phase::stable || c.generation != m_.generation_id() || !m_.is_member(c.member_id))
      return false;
  return true;
}

// ---- consumer side (a Kafka consumer's coordinator client, simplified) -------

uint64_t simulation::client_send(size_t i, client_request req) {
  auto seq = consumers_[i].next_seq++;
  auto e = make_event(0, event::to_coordinator, i, seq);
  e.request = std::move(req);
  send(std::move(e));
  return seq;
}

void simulation::reset_identity(consumer& c) {
  c.member_id.clear();
  c.generation = -1;
  c.owned.clear();
  c.previous.clear();
  c.owned_generation = -1;
}

void simulation::start_join(size_t i) {
  auto& c = consumers_[i];
  member_subscription sub{c.topics, c.owned, c.owned_generation};
  c.previous = c.owned;
  if (k_.assignor != "cooperative-sticky")
    c.owned.clear(); // eager: revoke everything before rejoining
  c.ph = phase::joining;
  c.waiting_seq = client_send(i, join_group_request{0, c.member_id, c.client_id, "host",
                                                    k_.session_ms, k_.rebalance_ms, "consumer",
                                                    {group_protocol{k_.assignor, sub}}});
  c.waiting_deadline = now_ + k_.rebalance_ms + 5000; // Kafka's join request timeout
}

void simulation::start_sync(size_t i) {
  auto& c = consumers_[i];
  c.ph = phase::syncing;
  c.waiting_seq = client_send(i, sync_group_request{0, c.member_id, c.generation});
  c.waiting_deadline = now_ + k_.request_ms;
  c.next_heartbeat = now_ + k_.heartbeat_ms;
}

void simulation::on_client_timer(size_t i) {
  auto& c = consumers_[i];
  if (c.paused && now_ >= c.until)
    c.paused = false; // resumes with whatever it believed before
  if (c.paused)
    return;
  if ((c.ph == phase::down || c.ph == phase::idle) && now_ >= c.until) {
    if (c.ph == phase::down)
      reset_identity(c); // a restarted process remembers nothing
    start_join(i);
  }
  if ((c.ph == phase::joining || c.ph == phase::syncing) && now_ >= c.waiting_deadline)
    c.ph == phase::joining ? start_join(i) : start_sync(i); // request timed out: retry
  if ((c.ph == phase::syncing || c.ph == phase::stable) && now_ >= c.next_heartbeat) {
    c.sent_generation[client_send(i, heartbeat_request{0, c.member_id, c.generation})] =
        c.generation;
    c.next_heartbeat = now_ + k_.heartbeat_ms;
  }
  if (c.ph == phase::stable && !c.owned.empty() && now_ >= c.next_commit) {
    offset_commit_request req{0, c.member_id, c.generation, {}};
    for (auto& tp : c.owned)
      req.offsets[tp] = offset_and_metadata{c.position[tp] += r_.between(0, 100), ""};
    c.sent_generation[client_send(i, std::move(req))] = c.generation;
    c.next_commit = now_ + k_.commit_ms;
  }
  if (c.ph == phase::syncing && !c.previous.empty() && !liveness_ && r_.chance(k_.early_commit)) {
    // Misbehaving client: commits with the generation from its join response
    // before SyncGroup returned. Only CompletingRebalance can refuse it.
    offset_commit_request req{0, c.member_id, c.generation, {}};
    for (auto& tp : c.previous)
      req.offsets[tp] = offset_and_metadata{c.position[tp], "early"};
    client_send(i, std::move(req));
  }
  if (!liveness_)
    maybe_fault(i);
}

void simulation::maybe_fault(size_t i) {
  auto& c = consumers_[i];
  if (c.ph == phase::down || c.ph == phase::idle)
    return;
  if (r_.chance(k_.crash)) { // process dies: no heartbeats, no leave
    c.ph = phase::down;
    c.until = now_ + r_.between(1000, 3 * int64_t(k_.session_ms));
  } else if (r_.chance(k_.pause)) { // GC pause / SIGSTOP: keeps its stale beliefs
    c.paused = true;
    c.until = now_ + r_.between(500, 2 * int64_t(k_.session_ms));
  } else if (r_.chance(k_.leave)) { // max.poll.interval.ms expired: leave, rejoin later
    if (!c.member_id.empty())
      client_send(i, leave_group_request{0, c.member_id});
    reset_identity(c);
    c.ph = phase::idle;
    c.until = now_ + r_.between(0, 5000);
  } else if (r_.chance(k_.resubscribe)) {
    std::vector<std::string> topics;
    for (auto& [t, n] : k_.partitions)
      if (r_.chance(0.5) || (topics.empty() && t == k_.partitions.rbegin()->first))
        topics.push_back(t);
    c.topics = topics;
    start_join(i);
  }
}

void simulation::on_response(size_t i, uint64_t seq, const group_response& r) {
  auto& c = consumers_[i];
  if (auto* j = std::get_if<join_group_response>(&r)) {
    if (seq == c.waiting_seq && c.ph == phase::joining)
      on_join_response(i, *j);
  } else if (auto* s = std::get_if<sync_group_response>(&r)) {
    if (seq == c.waiting_seq && c.ph == phase::syncing)
      on_sync_response(i, *s);
  } else if (std::holds_alternative<heartbeat_response>(r)) {
    on_async_response(i, seq, error_of(r), false);
  } else if (std::holds_alternative<offset_commit_response>(r)) {
    on_async_response(i, seq, error_of(r), true);
  }
}

void simulation::on_join_response(size_t i, const join_group_response& r) {
  auto& c = consumers_[i];
  switch (r.error) {
    case errc::none:
      c.member_id = r.member_id;
      c.generation = r.generation_id;
      return start_sync(i);
    case errc::member_id_required: c.member_id = r.member_id; return start_join(i);
    case errc::unknown_member_id: reset_identity(c); return start_join(i);
    case errc::rebalance_in_progress: return start_join(i);
    default: fail("unexpected join error " + std::string(to_string(r.error)));
  }
}

void simulation::on_sync_response(size_t i, const sync_group_response& r) {
  auto& c = consumers_[i];
  if (r.error == errc::unknown_member_id)
    reset_identity(c);
  if (r.error != errc::none)
    return start_join(i);
  auto& seen = generation_assignment_[c.generation];
  check(seen.count(c.member_id) && seen.at(c.member_id) == r.assignment,
        "sync handed out an assignment the generation did not have");
  c.owned = r.assignment;
  c.owned_generation = c.generation;
  c.ph = phase::stable;
  c.next_commit = now_ + r_.between(0, k_.commit_ms);
}

void simulation::on_async_response(size_t i, uint64_t seq, errc error, bool is_commit) {
  auto& c = consumers_[i];
  auto sent = c.sent_generation.find(seq);
  if (sent == c.sent_generation.end())
    return; // a duplicate
  bool current = sent->second == c.generation && (c.ph == phase::syncing || c.ph == phase::stable);
  c.sent_generation.erase(sent);
  // A failed commit append (COORDINATOR_NOT_AVAILABLE, NOT_ENOUGH_REPLICAS):
  // the next commit carries the position again.
  if (!current || error == errc::none ||
      (is_commit &&
       (error == errc::coordinator_not_available || error == errc::not_enough_replicas)))
    return;
  if (error == errc::rebalance_in_progress && !is_commit && c.ph == phase::stable) {
    offset_commit_request req{0, c.member_id, c.generation, {}}; // commit before revoking
    for (auto& tp : c.owned)
      req.offsets[tp] = offset_and_metadata{c.position[tp], ""};
    if (!req.offsets.empty())
      c.sent_generation[client_send(i, std::move(req))] = c.generation;
  }
  if (error == errc::unknown_member_id)
    reset_identity(c);
  start_join(i);
}

void simulation::start_liveness() {
  liveness_ = true;
  queue_.faults_on = false;
  liveness_start_ = now_;
  int64_t join_timeout = k_.rebalance_ms + 5000;
  liveness_deadline_ = now_ + 2 * (join_timeout + k_.session_ms + k_.request_ms) +
                       k_.initial_delay_ms + 10000;
  for (auto& c : consumers_) {
    c.paused = false;
    c.until = std::min(c.until, now_);
  }
}

} // namespace

TEST_CASE("group simulation: seeded faults, invariants, liveness", "[group][sim]") {
  sim_stats total;
  int64_t worst_stable_ms = 0;
  uint64_t count = sim::for_each_seed(250, [&](uint64_t seed) {
    simulation sim(seed);
    auto failure = sim.run();
    total.events += sim.stats().events;
    total.accepted_commits += sim.stats().accepted_commits;
    total.fenced_commits += sim.stats().fenced_commits;
    total.generations += sim.stats().generations;
    total.failed_generation_writes += sim.stats().failed_generation_writes;
    worst_stable_ms = std::max(worst_stable_ms, sim.stats().stable_after_ms);
    return failure;
  });
  std::cout << "group sim: " << count << " seeds, " << total.events << " events, "
            << total.generations << " generations, " << total.accepted_commits
            << " commits accepted, " << total.fenced_commits
            << " stale commits fenced, " << total.failed_generation_writes
            << " generation writes failed, worst time to Stable after faults "
            << worst_stable_ms << " ms\n";
  if (count > 1) { // the faults must actually exercise fencing and rebalancing
    CHECK(total.fenced_commits > 0);
    CHECK(total.generations > count);
    CHECK(total.failed_generation_writes > 0);
  }
}
