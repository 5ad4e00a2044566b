#pragma once
// The node's long-poll expiry (issue 15, item 3): one sweeper actor per
// node and a deadline_wheel the partitions share. A partition with a
// parked fetch adds its deadline to the wheel (a mutex and a push) instead
// of arming a timer of its own; the sweeper wakes when the earliest bucket
// is due and sends each partition in it its expire_atom. The partitions'
// own code (partition_fetch.cpp) is unchanged past that message.
#include <memory>
#include <set>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/partition/deadline_wheel.hpp"

namespace al {

using expiry_wheel = deadline_wheel<caf::actor>;

/// Buckets of 10 ms: a parked fetch is answered at most 10 ms after its
/// fetch.max.wait.ms (partition_fetch.cpp groups its own deadlines as much).
constexpr int64_t expiry_wheel_granularity_ns = 10'000'000;

struct expiry_sweeper_state {
  std::set<int64_t> armed; // when the pending wake-ups fire (ns, the actor clock)
  static constexpr const char* name = "expiry-sweeper";
};

/// tick_atom: a partition added an earlier bucket than any pending (or
/// nothing was pending); (tick_atom, int64_t): an armed wake-up.
caf::behavior expiry_sweeper_actor(caf::stateful_actor<expiry_sweeper_state>* self,
                                   std::shared_ptr<expiry_wheel> wheel);

/// The actor clock's time as the wheel counts it (ns).
int64_t wheel_time(caf::actor_clock::time_point t);

} // namespace al
