// Seeded whole-cluster simulation of the controller quorum's Raft
// (TigerBeetle VOPR style). Every knob comes from one seed: 3 or 5 voters,
// timeouts, message delays; a network that drops, duplicates, delays and so
// reorders messages and cuts links (symmetric splits, one-way cuts); voters
// that crash and restart from what they persisted (an fsync takes virtual
// time; a crash before it completes loses that ready's writes and
// messages); clients proposing all the time; snapshots. Invariants are
// checked after every event:
//   election safety     at most one leader per term;
//   log matching        same (index, term) => same entry and same prefix;
//   leader completeness a new leader of term L holds every entry committed
//                       in a term below L;
//   state machine safety every voter applies a prefix of one sequence
//                       (hash chain over applied entries, snapshots too);
//   monotonic commit    a voter's commit index never goes down (per run).
// Then the faults stop (links heal, crashed voters restart, no drops) and a
// new proposal must be applied by every voter within bounded virtual time.
// A failure prints "seed=N failed, reproduce with --seed N"; --seed N (or
// AL_SEED=N) replays one seed, --seed-count M (AL_SEED_COUNT=M) runs M seeds.
// Harness (rng, network, seed loop): tests/sim/sim_harness.hpp.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>

#include "actors/controller/raft_machine.hpp"
#include "actors/controller/raft_memory_storage.hpp"
#include "tests/sim/sim_harness.hpp"

using namespace al;
using sim::rng;

namespace {

uint64_t hash_bytes(const bytes& b, uint64_t h = 1469598103934665603ull) { // FNV-1a
  for (uint8_t c : b)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

struct knobs {
  int profile; // 0 calm, 1 network, 2 crashes
  int nodes;
  int32_t election_ticks, heartbeat_ticks;
  bool pre_vote;
  size_t max_entries;
  int64_t tick_ms, min_delay_ms, max_delay_ms, max_fsync_ms, snapshot_every, safety_ms, max_down_ms;
  double drop, duplicate, crash, partition, heal, propose;

  static knobs from(rng& r) {
    knobs k;
    // Swarm testing: each seed picks a profile. "calm" has some of every
    // fault; "network" many short-lived leaders from drops and partitions;
    // "crashes" plain Raft (no pre-vote) whose voters crash every few
    // election timeouts and lose unsynced writes, one entry per append:
    // the ground on which Figure 8 (§5.4.2) grows.
    k.profile = int(r.between(0, 3)) % 3; // calm twice as often
    bool network = k.profile == 1, crashes = k.profile == 2;
    k.nodes = r.chance(network ? 0.2 : crashes ? 0.8 : 0.5) ? 3 : 5;
    k.election_ticks = int32_t(r.between(5, 15));
    k.heartbeat_ticks = int32_t(r.between(1, k.election_ticks / 3));
    k.pre_vote = !crashes && r.chance(network ? 0.3 : 0.75);
    k.max_entries = crashes ? 1 : network ? size_t(r.between(1, 2)) : size_t(r.between(1, 64));
    k.tick_ms = r.between(5, 20);
    // Raft needs broadcast time << election timeout (§5.6); only faults it
    // claims to survive are injected, so one message + one fsync stays
    // within a quarter of the shortest election timeout.
    int64_t budget = k.election_ticks * k.tick_ms / 4;
    k.max_fsync_ms = r.between(0, budget / (k.profile ? 2 : 4));
    k.min_delay_ms = r.between(0, budget / 4);
    k.max_delay_ms = r.between(k.min_delay_ms, budget - k.max_fsync_ms);
    k.snapshot_every = r.between(5, 100);
    k.safety_ms = r.between(4000, 12000);
    k.drop = crashes ? double(r.between(30, 60)) / 100
                     : r.chance(0.2) ? 0 : double(r.between(0, network ? 40 : 25)) / 100;
    k.duplicate = double(r.between(0, 10)) / 100;
    k.crash = double(crashes ? r.between(50, 500) : r.between(0, 20)) / 10000; // per ms
    k.max_down_ms = (crashes ? 2 : 6) * k.election_ticks * k.tick_ms;
    k.partition = double(r.between(0, network ? 60 : 20)) / 10000; // per ms
    k.heal = double(r.between(5, network ? 100 : 50)) / 10000;     // per ms
    k.propose = double(r.between(5, k.profile ? 200 : 50)) / 1000; // per ms
    return k;
  }

  std::string describe() const {
    static const char* profiles[] = {"calm", "network", "crashes"};
    std::ostringstream os;
    os << profiles[profile] << ": " << nodes << " voters, T=" << election_ticks << " ticks of "
       << tick_ms << " ms, heartbeat " << heartbeat_ticks << ", pre-vote " << pre_vote << ", "
       << max_entries << " entries/append, delay " << min_delay_ms << "-" << max_delay_ms
       << " ms, fsync <= " << max_fsync_ms << " ms, drop " << drop << ", dup " << duplicate
       << ", crash " << crash << "/ms (down <= " << max_down_ms << " ms), partition "
       << partition << "/ms, heal " << heal << "/ms, propose " << propose
       << "/ms, snapshot every " << snapshot_every << ", faults for " << safety_ms << " ms";
    return os.str();
  }
};

struct sim_stats {
  int64_t leaders = 0, applied = 0, crashes = 0, snapshots_installed = 0, dropped = 0,
          partitions = 0, proposals = 0, worst_liveness_ms = 0;
};

struct sim_node {
  std::unique_ptr<raft_machine> m; // null while crashed
  raft_memory_storage disk;
  std::optional<raft_ready> syncing; // handed out, fsync not done yet
  int64_t sync_done = 0, restart_at = 0, phase = 0;
  int incarnation = 0;
  int64_t applied = 0;         // the simulated state machine: a hash chain
  uint64_t chain = 0;          //   over every applied entry
  int64_t last_commit = 0;     // per incarnation, for monotonicity
  raft_role role = raft_role::follower;
  int64_t term = 0;
  int64_t checked_index = 0, checked_term = 0; // log matching done up to here
  bool got_liveness = false;
};

struct entry_fact {
  int64_t prev_term;
  uint64_t data;
};

struct commit_fact {
  int64_t in_term;    // lowest term a voter knew it committed in
  int64_t entry_term; // the entry's term (0: not seen, compacted)
};

class simulation {
public:
  explicit simulation(uint64_t seed)
    : seed_(seed), r_{seed}, k_(knobs::from(r_)), net_(r_, k_.nodes + 1) {
    nodes_.resize(size_t(k_.nodes) + 1); // ids 1..n
    net_.faults = {k_.drop, k_.duplicate, k_.min_delay_ms, k_.max_delay_ms};
    net_.fifo_when_calm = true;      // faults over: links deliver in order, like TCP
    net_.draw_drop_when_calm = true; // the draw order this test's seeds were found with
    for (int id = 1; id <= k_.nodes; ++id) {
      nodes_[id].phase = r_.between(0, k_.tick_ms - 1);
      restart(id);
    }
  }

  std::string run() {
    sim::run_phases(
      now_, k_.safety_ms, failure_, [&] { step(); }, [&] { start_liveness(); return deadline_; },
      [&] { return liveness_done(); }, [&](int64_t ms) {
        fail("liveness: no new proposal applied everywhere " + std::to_string(ms) +
             " ms after the faults stopped");
      });
    stats_.worst_liveness_ms = now_ - heal_at_;
    stats_.dropped = net_.dropped;
    for (int id = 1; id <= k_.nodes && failure_.empty(); ++id)
      check_log(id, true);
    return failure_;
  }
  const sim_stats& stats() const { return stats_; }

private:
  void step() {
    ++now_;
    if (!liveness_)
      inject_faults();
    deliver_due();
    for (int id = 1; id <= k_.nodes; ++id) {
      auto& n = nodes_[id];
      if (!n.m && now_ >= n.restart_at)
        restart(id);
      if (n.m && n.syncing && now_ >= n.sync_done)
        finish_sync(id);
      if (n.m && (now_ + n.phase) % k_.tick_ms == 0) {
        n.m->tick();
        check(id);
      }
    }
    client();
    for (int id = 1; id <= k_.nodes; ++id)
      pump(id);
  }

  // --- voters ---------------------------------------------------------------

  void restart(int id) {
    auto& n = nodes_[id];
    raft_config c;
    c.id = id;
    for (int v = 1; v <= k_.nodes; ++v)
      c.voters.push_back(v);
    c.election_ticks = k_.election_ticks;
    c.heartbeat_ticks = k_.heartbeat_ticks;
    c.pre_vote = k_.pre_vote;
    c.max_entries_per_message = k_.max_entries;
    c.seed = seed_ * 7919 + uint64_t(id) * 131 + uint64_t(n.incarnation++);
    n.m = std::make_unique<raft_machine>(c, n.disk.persisted());
    n.syncing.reset();
    n.applied = 0, n.chain = 0, n.got_liveness = false;
    if (auto& snap = n.disk.snapshot())
      restore_snapshot(id, *snap);
    n.last_commit = n.m->commit_index();
    n.role = raft_role::follower, n.term = n.m->term();
    n.checked_index = n.checked_term = 0;
    check(id);
  }

  void crash(int id) {
    auto& n = nodes_[id];
    if (!n.m)
      return;
    n.m.reset(); // an fsync in progress never completes: its writes and messages are lost
    n.syncing.reset();
    n.restart_at = now_ + r_.between(1, k_.max_down_ms);
    ++stats_.crashes;
  }

  /// Hands out readies; an fsync of 0 ms completes at once.
  void pump(int id) {
    auto& n = nodes_[id];
    while (n.m && !n.syncing && n.m->has_ready() && failure_.empty()) {
      n.syncing = n.m->ready();
      n.sync_done = now_ + r_.between(0, k_.max_fsync_ms);
      if (n.sync_done > now_)
        return;
      finish_sync(id);
    }
  }

  /// The fsync is done: storage counts it, then messages go, then apply.
  void finish_sync(int id) {
    auto& n = nodes_[id];
    raft_ready rd = std::move(*n.syncing);
    n.syncing.reset();
    n.disk.save(rd);
    for (auto& m : rd.messages)
      send(m);
    if (rd.snapshot) {
      ++stats_.snapshots_installed;
      restore_snapshot(id, *rd.snapshot);
    }
    for (auto& e : rd.committed)
      apply(id, e);
    n.m->advance(rd);
    check(id);
    if (n.applied >= n.m->log().base().index + k_.snapshot_every) { // compact
      if (n.applied != n.m->applied_index())
        return fail("node " + std::to_string(id) + " applied " + std::to_string(n.applied) +
                    " but raft says " + std::to_string(n.m->applied_index()));
      bytes data(17); // the state machine: index, hash chain, liveness entry seen
      store_be<int64_t>(data.data(), n.applied);
      store_be<uint64_t>(data.data() + 8, n.chain);
      data[16] = n.got_liveness;
      raft_snapshot_meta meta{n.applied, *n.m->log().term_at(n.applied)};
      n.disk.save_snapshot(std::make_shared<raft_snapshot>(raft_snapshot{meta, data}));
      n.m->compact(n.applied, data);
    }
  }

  void apply(int id, const raft_entry& e) {
    auto& n = nodes_[id];
    if (e.index != n.applied + 1)
      return fail("node " + std::to_string(id) + " applies index " + std::to_string(e.index) +
                  " after " + std::to_string(n.applied));
    n.applied = e.index;
    n.chain = hash_bytes(e.data, (n.chain ^ uint64_t(e.term)) * 0x100000001b3ull);
    if (chain_.size() <= size_t(e.index))
      chain_.resize(size_t(e.index) + 1, 0);
    if (chain_[size_t(e.index)] == 0)
      chain_[size_t(e.index)] = n.chain;
    else if (chain_[size_t(e.index)] != n.chain)
      fail("state machine safety: node " + std::to_string(id) + " applied a different entry " +
           std::to_string(e.index) + " (term " + std::to_string(e.term) + ")");
    ++stats_.applied;
    n.got_liveness |= e.data.size() == 9 && e.data[0] == 'L';
  }

  void restore_snapshot(int id, const raft_snapshot& snap) {
    auto& n = nodes_[id];
    int64_t index = load_be<int64_t>(snap.data.data());
    n.applied = index;
    n.chain = load_be<uint64_t>(snap.data.data() + 8);
    n.got_liveness = snap.data[16] != 0;
    if (index != snap.meta.index || size_t(index) >= chain_.size() || chain_[size_t(index)] != n.chain)
      fail("state machine safety: node " + std::to_string(id) + " got a snapshot at " +
           std::to_string(index) + " that no one applied");
  }

  // --- invariants -------------------------------------------------------------

  void fail(const std::string& what) {
    if (!failure_.empty())
      return;
    failure_ = "t=" + std::to_string(now_) + " ms: " + what + "; knobs: " + k_.describe() +
               "; voters:";
    for (int id = 1; id <= k_.nodes; ++id) {
      if (!nodes_[id].m) {
        failure_ += " [" + std::to_string(id) + " down]";
        continue;
      }
      raft_status st = nodes_[id].m->status();
      failure_ += " [" + std::to_string(id) + " " + to_string(st.role) + " term " +
                  std::to_string(st.term) + " leader " + std::to_string(st.leader) + " log " +
                  std::to_string(st.snapshot_index) + ".." + std::to_string(st.last_index) +
                  " commit " + std::to_string(st.commit) + " applied " +
                  std::to_string(st.applied) + "]";
    }
  }

  void check(int id) {
    auto& n = nodes_[id];
    raft_machine& m = *n.m;
    auto who = [&] {
      return "node " + std::to_string(id) + " term " + std::to_string(m.term());
    };
    if (m.role() == raft_role::leader) {
      auto [it, fresh] = leaders_.emplace(m.term(), id);
      if (it->second != id)
        fail("election safety: " + who() + " and node " + std::to_string(it->second) + " lead");
      if (fresh || n.role != raft_role::leader || n.term != m.term())
        check_leader_completeness(id);
      stats_.leaders += fresh ? 1 : 0;
    }
    n.role = m.role(), n.term = m.term();
    if (m.commit_index() < n.last_commit)
      fail("commit index went down on " + who());
    for (int64_t i = n.last_commit + 1; i <= m.commit_index(); ++i) {
      int64_t entry_term = m.log().term_at(i).value_or(0);
      auto [it, fresh] = committed_.emplace(i, commit_fact{m.term(), entry_term});
      commit_fact& f = it->second;
      f.in_term = std::min(f.in_term, m.term()); // committed in a term <= ours
      if (f.entry_term && entry_term && f.entry_term != entry_term)
        fail("state machine safety: " + who() + " committed entry " + std::to_string(i) +
             " of term " + std::to_string(entry_term) + ", others of term " +
             std::to_string(f.entry_term));
      f.entry_term = f.entry_term ? f.entry_term : entry_term;
    }
    n.last_commit = m.commit_index();
    check_log(id, false);
  }

  /// A new leader of term L must hold every entry committed in a term < L.
  void check_leader_completeness(int id) {
    raft_machine& m = *nodes_[id].m;
    for (auto& [index, f] : committed_) {
      if (f.in_term >= m.term() || index <= m.log().base().index)
        continue;
      if (index > m.log().last_index() || (f.entry_term && f.entry_term != *m.log().term_at(index)))
        return fail("leader completeness: node " + std::to_string(id) + " leads term " +
                    std::to_string(m.term()) + " without committed entry " +
                    std::to_string(index) + " (term " + std::to_string(f.entry_term) + ")");
    }
  }

  /// Log matching against every entry any voter ever held; incremental
  /// unless `full`.
  void check_log(int id, bool full) {
    auto& n = nodes_[id];
    if (!n.m)
      return;
    const raft_log& log = n.m->log();
    int64_t from = log.first_index();
    if (!full && n.checked_index >= from && log.match_term(n.checked_index, n.checked_term))
      from = n.checked_index + 1;
    for (int64_t i = from; i <= log.last_index(); ++i) {
      const raft_entry& e = log.at(i);
      entry_fact f{*log.term_at(i - 1), hash_bytes(e.data)};
      auto [it, fresh] = facts_.emplace(std::make_pair(i, e.term), f);
      if (!fresh && (it->second.prev_term != f.prev_term || it->second.data != f.data))
        return fail("log matching: node " + std::to_string(id) + " holds a different entry " +
                    std::to_string(i) + " of term " + std::to_string(e.term));
    }
    n.checked_index = log.last_index(), n.checked_term = log.last_term();
  }

  // --- network, faults, clients ---------------------------------------------

  void send(const raft_message& m) { net_.send(now_, m.from, m.to, m); }

  void deliver_due() {
    while (net_.has_due(now_) && failure_.empty()) {
      raft_message m = net_.pop().m;
      auto& n = nodes_[m.to];
      if (!n.m)
        continue; // lost with the crashed voter
      if (trace_)
        std::cerr << now_ << " " << describe(m) << "\n";
      n.m->step(m);
      check(m.to);
    }
  }

  void inject_faults() {
    if (r_.chance(k_.crash)) { // leaders are the interesting victims
      int leader = current_leader();
      crash(leader && r_.chance(0.5) ? leader : int(r_.between(1, k_.nodes)));
    }
    if (r_.chance(k_.heal))
      net_.links.heal();
    if (!r_.chance(k_.partition))
      return;
    ++stats_.partitions;
    int a = int(r_.between(1, k_.nodes)), b = int(r_.between(1, k_.nodes));
    switch (r_.between(0, 2)) {
      case 0: net_.links.split(r_, 1, k_.nodes); break; // two random groups
      case 1: net_.links.cut(a, b); break;              // one way
      default: net_.links.isolate(a, 1, k_.nodes);      // one voter alone
    }
  }

  void client() {
    if (liveness_) {
      if (int leader = current_leader(); leader && nodes_[leader].term != liveness_term_) {
        bytes cmd{'L', 0, 0, 0, 0, 0, 0, 0, 0};
        store_be<int64_t>(cmd.data() + 1, now_);
        if (auto r = nodes_[leader].m->propose(cmd); r)
          liveness_term_ = nodes_[leader].term;
      }
      return;
    }
    if (!r_.chance(k_.propose))
      return;
    auto& n = nodes_[client_target_];
    if (!n.m) {
      client_target_ = int(r_.between(1, k_.nodes));
      return;
    }
    bytes cmd(8);
    store_be<uint64_t>(cmd.data(), ++proposals_);
    auto r = n.m->propose(cmd);
    ++stats_.proposals;
    if (!r) // NOT_CONTROLLER: follow the hint, or guess
      client_target_ = n.m->leader() != raft_no_node ? n.m->leader() : int(r_.between(1, k_.nodes));
  }

  int current_leader() const {
    int best = 0;
    for (int id = 1; id <= k_.nodes; ++id)
      if (nodes_[id].m && nodes_[id].role == raft_role::leader &&
          (!best || nodes_[id].term > nodes_[best].term))
        best = id;
    return best;
  }

  void start_liveness() {
    liveness_ = true;
    net_.faults_on = false;
    heal_at_ = now_;
    net_.links.heal();
    for (int id = 1; id <= k_.nodes; ++id)
      if (!nodes_[id].m)
        restart(id);
    for (auto& n : nodes_)
      n.got_liveness = false;
    // Stale messages drain, a leader is elected (a few rounds of [T, 2T)),
    // it replicates the backlog clients left (a pipeline of round trips)
    // and the new entry, and a lagging voter may need a snapshot.
    int64_t last = 0, applied = INT64_MAX;
    for (int id = 1; id <= k_.nodes; ++id) {
      last = std::max(last, nodes_[id].m->log().last_index());
      applied = std::min(applied, nodes_[id].applied);
    }
    int64_t round_trip = 2 * (k_.max_delay_ms + k_.max_fsync_ms) + k_.tick_ms;
    int64_t per_round_trip = 8 * int64_t(k_.max_entries); // raft_config::max_inflight_messages
    deadline_ = now_ + 30 * int64_t(k_.election_ticks) * k_.tick_ms + 20 * round_trip +
                2 * (last - applied) * round_trip / per_round_trip;
  }

  bool liveness_done() const {
    for (int id = 1; id <= k_.nodes; ++id)
      if (!nodes_[id].got_liveness)
        return false;
    return true;
  }

  uint64_t seed_;
  rng r_;
  knobs k_;
  std::vector<sim_node> nodes_;
  sim::network<raft_message> net_; // nodes 1..n
  std::map<int64_t, int> leaders_;             // term -> leader
  std::map<int64_t, commit_fact> committed_;   // index -> what voters saw committed
  std::map<std::pair<int64_t, int64_t>, entry_fact> facts_; // (index, term) -> entry
  std::vector<uint64_t> chain_;                // index -> state hash after applying it
  sim_stats stats_;
  std::string failure_;
  int64_t now_ = 0, heal_at_ = 0, deadline_ = 0, liveness_term_ = -1;
  uint64_t proposals_ = 0;
  int client_target_ = 1;
  bool liveness_ = false;
  bool trace_ = std::getenv("AL_RAFT_TRACE") != nullptr; // every delivered message
};

} // namespace

TEST_CASE("raft simulation: seeded faults, safety invariants, liveness", "[raft][sim]") {
  auto started = std::chrono::steady_clock::now();
  sim_stats total;
  uint64_t count = sim::for_each_seed(400, [&](uint64_t seed) {
    simulation sim(seed);
    std::string failure = sim.run();
    const sim_stats& s = sim.stats();
    total.leaders += s.leaders, total.applied += s.applied, total.crashes += s.crashes;
    total.snapshots_installed += s.snapshots_installed, total.dropped += s.dropped;
    total.partitions += s.partitions, total.proposals += s.proposals;
    total.worst_liveness_ms = std::max(total.worst_liveness_ms, s.worst_liveness_ms);
    return failure;
  });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started).count();
  std::cout << "raft sim: " << count << " seeds in " << ms << " ms: " << total.leaders
            << " leaders elected, " << total.proposals << " proposals, " << total.applied
            << " entries applied, " << total.crashes << " crashes, " << total.partitions
            << " partitions, " << total.dropped << " messages dropped, "
            << total.snapshots_installed << " snapshots installed; worst time to apply a new "
            << "proposal everywhere after the faults stopped: " << total.worst_liveness_ms
            << " ms\n";
  if (count > 1) { // the faults must actually exercise the machine
    CHECK(total.crashes > 0);
    CHECK(total.snapshots_installed > 0);
    CHECK(total.leaders > int64_t(count));
  }
}
