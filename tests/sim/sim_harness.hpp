#pragma once
// The one simulator harness (TigerBeetle VOPR style) shared by the seeded
// simulations beside it: raft_sim_test.cpp (Raft alone), cluster_sim_test.cpp
// (the whole cluster: cluster_*.hpp), txn_sim_test.cpp (that cluster with
// transactions, cluster_txn*.hpp) and group_sim_test.cpp (its consumer
// groups alone, cluster_groups.hpp):
//
//   rng            splitmix64; every knob and fault of a run comes from one seed
//   for_each_seed  the seed loop: AL_SEED=N / --seed N runs only seed N,
//                  AL_SEED_COUNT=M / --seed-count M runs M seeds from there;
//                  a failure (or an abort inside a machine) prints
//                  "seed=N failed, reproduce with --seed N"
//   network<M>     virtual-time message queue: drops, duplicates, delays (so
//                  reorders) messages and cuts links between node pairs
//                  (link_table); ties deliver in send order, so a run is
//                  deterministic; ordered sends model a TCP connection
//   process_life   crash / restart of a simulated process with incarnations
//
// Time is an int64 of virtual ms owned by the simulation; nothing here reads
// the wall clock. The order of random draws is part of a seed's meaning:
// changing it changes what every seed does (and the "first failing seed"
// tables in docs/*.md).
#include <catch2/catch.hpp>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace al::sim {

struct rng { // splitmix64: portable, so a seed replays identically everywhere
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  int64_t between(int64_t lo, int64_t hi) { return lo + int64_t(next() % uint64_t(hi - lo + 1)); }
  bool chance(double p) { return double(next() >> 11) * 0x1.0p-53 < p; }
};

// --- seeds -------------------------------------------------------------------

struct seed_list {
  uint64_t first = 1, count = 0;
};

/// AL_SEED (set by --seed too, see tests/catch_main.cpp) picks one seed;
/// AL_SEED_COUNT (--seed-count) runs that many from the first.
inline seed_list seeds_from_env(uint64_t default_count) {
  seed_list s{1, default_count};
  if (auto* env = std::getenv("AL_SEED")) {
    s.first = std::strtoull(env, nullptr, 10);
    s.count = 1;
  }
  if (auto* env = std::getenv("AL_SEED_COUNT")) // a longer search, e.g. overnight
    s.count = std::strtoull(env, nullptr, 10);
  return s;
}

inline volatile uint64_t current_seed = 0;

extern "C" inline void on_abort_print_seed(int) { // an AL_ASSERT inside a machine
  char msg[128];
  auto s = (unsigned long long)current_seed;
  int n = std::snprintf(msg, sizeof msg, "seed=%llu failed (abort), reproduce with --seed %llu\n",
                        s, s);
  if (n > 0)
    (void)!write(2, msg, size_t(n));
}

/// Runs `run(seed)` (returns "" or what broke) for every seed; the first
/// failure fails the test case naming the seed. Returns how many ran.
template <class Run>
uint64_t for_each_seed(uint64_t default_count, Run&& run) {
  seed_list s = seeds_from_env(default_count);
  auto previous = std::signal(SIGABRT, on_abort_print_seed);
  for (uint64_t seed = s.first; seed < s.first + s.count; ++seed) {
    current_seed = seed;
    INFO("seed=" << seed << " failed, reproduce with --seed " << seed << " (or AL_SEED=" << seed
                 << ")");
    std::string failure = run(seed);
    if (!failure.empty()) {
      std::cerr << "seed=" << seed << " failed, reproduce with --seed " << seed << "\n"
                << failure << "\n";
      std::signal(SIGABRT, previous);
      FAIL(failure);
    }
  }
  std::signal(SIGABRT, previous);
  return s.count;
}

// --- phases ------------------------------------------------------------------

/// A run's two phases: `step` with faults until `safety_ms`; then `heal`
/// (the faults stop; it returns the deadline) and `step` until `done`.
/// Past the deadline, `late(ms since the faults stopped)` reports it (a
/// liveness failure). Stops early once `failure` is set.
inline void run_phases(const int64_t& now, int64_t safety_ms, const std::string& failure,
                       const std::function<void()>& step, const std::function<int64_t()>& heal,
                       const std::function<bool()>& done,
                       const std::function<void(int64_t)>& late) {
  while (now < safety_ms && failure.empty())
    step();
  int64_t healed_at = now, deadline = heal();
  while (failure.empty() && !done()) {
    step();
    if (now > deadline)
      late(now - healed_at);
  }
}

// --- network -------------------------------------------------------------------

/// Who can reach whom, [from][to], for nodes 0..n-1. Other ids (clients)
/// are always reachable.
class link_table {
public:
  explicit link_table(int nodes = 0) : n_(nodes) { heal(); }
  bool up(int from, int to) const {
    return from < 0 || to < 0 || from >= n_ || to >= n_ || links_[size_t(from)][size_t(to)];
  }
  void heal() { links_.assign(size_t(n_), std::vector<bool>(size_t(n_), true)); }
  void cut(int from, int to) { links_[size_t(from)][size_t(to)] = false; } // one way
  void cut_both(int a, int b) { cut(a, b), cut(b, a); }
  /// `a` hears no one in [first, last] and no one hears it.
  void isolate(int a, int first, int last) {
    for (int x = first; x <= last; ++x)
      links_[size_t(a)][size_t(x)] = links_[size_t(x)][size_t(a)] = x == a;
  }
  /// Two random sides within [first, last]; links only within a side.
  void split(rng& r, int first, int last) {
    std::vector<bool> side(static_cast<size_t>(n_));
    for (int x = first; x <= last; ++x)
      side[size_t(x)] = r.chance(0.5);
    for (int x = first; x <= last; ++x)
      for (int y = first; y <= last; ++y)
        links_[size_t(x)][size_t(y)] = side[size_t(x)] == side[size_t(y)];
  }

private:
  int n_;
  std::vector<std::vector<bool>> links_;
};

struct net_faults {
  double drop = 0, duplicate = 0;
  int64_t min_delay_ms = 1, max_delay_ms = 1;
};

template <class M>
struct delivery {
  int64_t due;
  M m;
};

/// Messages in flight in virtual time. While `faults_on`, send() drops a
/// message on a cut link or with probability faults.drop and duplicates it
/// with probability faults.duplicate; every copy gets its own random delay,
/// so messages overtake each other. Once calm nothing is lost.
template <class M>
class network {
public:
  network(rng& r, int nodes) : links(nodes), r_(r) {}

  link_table links;
  net_faults faults;
  bool faults_on = true;
  bool fifo_when_calm = false;      // once calm, each link delivers in order, like TCP
  bool draw_drop_when_calm = false; // draws the (zero) drop chance when calm: raft_sim's seeds
  /// Extra delay per copy, after the base delay is drawn (may draw itself).
  std::function<int64_t(int from, int to)> extra_delay;
  int64_t dropped = 0, duplicated = 0;

  /// Queues 0, 1 or 2 copies of m from `from` to `to`; returns how many.
  /// `ordered`: a message on a TCP connection, never duplicated and never
  /// overtaking an earlier one on the link, even while faults are on (a drop
  /// stands for the connection breaking; the sender sees 0 and must not send
  /// on that connection again).
  int send(int64_t now, int from, int to, const M& m, bool ordered = false) {
    bool lost = faults_on ? !links.up(from, to) || r_.chance(faults.drop)
                          : !links.up(from, to) || (draw_drop_when_calm && r_.chance(0));
    if (lost) {
      ++dropped;
      return 0;
    }
    int copies = faults_on && !ordered && r_.chance(faults.duplicate) ? 2 : 1;
    duplicated += copies - 1;
    for (int c = 0; c < copies; ++c) {
      int64_t due = now + r_.between(faults.min_delay_ms, faults.max_delay_ms);
      if (extra_delay)
        due += extra_delay(from, to);
      auto& last = last_due_[{from, to}];
      if (ordered || (!faults_on && fifo_when_calm))
        due = std::max(due, last);
      last = due;
      push(due, m);
    }
    return copies;
  }

  /// Queues m for `due` without faults (local events, timers).
  void push(int64_t due, M m) { queue_.push(entry{due, seq_++, std::move(m)}); }

  bool has_due(int64_t now) const { return !queue_.empty() && queue_.top().due <= now; }
  bool empty() const { return queue_.empty(); }
  size_t size() const { return queue_.size(); }
  int64_t next_due() const { return queue_.top().due; }

  /// The earliest message (ties: first sent first).
  delivery<M> pop() {
    // Moving out of top() is safe: pop() only compares (due, seq), which a move keeps.
    auto& top = const_cast<entry&>(queue_.top());
    delivery<M> d{top.due, std::move(top.m)};
    queue_.pop();
    return d;
  }

private:
  struct entry {
    int64_t due;
    uint64_t seq;
    M m;
    bool operator>(const entry& o) const { return due != o.due ? due > o.due : seq > o.seq; }
  };

  rng& r_;
  std::priority_queue<entry, std::vector<entry>, std::greater<>> queue_;
  std::map<std::pair<int, int>, int64_t> last_due_; // per link: latest delivery time
  uint64_t seq_ = 0;
};

// --- processes ---------------------------------------------------------------

/// A simulated process that crashes (everything not on "disk" is lost) and
/// restarts after a random downtime with the next incarnation.
struct process_life {
  bool up = true;
  int64_t incarnation = 1;
  int64_t restart_at = 0;
  int64_t crashes = 0;

  void crash(int64_t now, rng& r, int64_t max_down_ms) {
    up = false;
    restart_at = now + r.between(1, max_down_ms);
    ++crashes;
  }
  bool restart_due(int64_t now) const { return !up && now >= restart_at; }
  void restart() {
    up = true;
    ++incarnation;
  }
};

} // namespace al::sim
