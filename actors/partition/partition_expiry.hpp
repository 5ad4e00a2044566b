#pragma once
// The node's partition timers (issue 15, item 3): one sweeper actor per
// node and a deadline_wheel the partitions share. A partition adds each
// timer it needs (a parked fetch's expiry, its next housekeeping, its next
// replica tick) to the wheel (a mutex and a push) instead of arming a CAF
// timer of its own; the sweeper wakes when the earliest bucket is due and
// sends each partition in it the message the timer names. The partitions'
// handlers are the same as for their own timers.
#include <cstdint>
#include <memory>
#include <set>

#include <caf/actor.hpp>
#include <caf/behavior.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/partition/deadline_wheel.hpp"

namespace al {

using timer_wheel = deadline_wheel<caf::actor>;

/// What a wheel entry sends when it is due.
enum class wheel_timer : uint8_t {
  expire,       // (expire_atom, key): parked fetches due by then
  housekeeping, // tick_atom: retention, flush.ms, snapshots
  replica_tick, // replica_tick_atom: the replica machine's tick, acks=all timeouts
};

/// Buckets of 10 ms: a timer fires at most 10 ms after its due time
/// (partition_fetch.cpp groups its own long-poll deadlines as much).
constexpr int64_t timer_wheel_granularity_ns = 10'000'000;

struct timer_sweeper_state {
  std::set<int64_t> armed; // when the pending wake-ups fire (ns, the actor clock)
  static constexpr const char* name = "timer-sweeper";
};

/// tick_atom: a partition added an earlier bucket than any pending (or
/// nothing was pending); (tick_atom, int64_t): an armed wake-up.
caf::behavior timer_sweeper_actor(caf::stateful_actor<timer_sweeper_state>* self,
                                  std::shared_ptr<timer_wheel> wheel);

/// The actor clock's time as the wheel counts it (ns).
int64_t wheel_time(caf::actor_clock::time_point t);

} // namespace al
