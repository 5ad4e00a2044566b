// The node's partition timer sweeper (partition_expiry.hpp).
#include "actors/partition/partition_expiry.hpp"

#include <chrono>

#include <caf/all.hpp>

#include "actors/protocol/atoms.hpp"

namespace al {

int64_t wheel_time(caf::actor_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

caf::behavior timer_sweeper_actor(caf::stateful_actor<timer_sweeper_state>* self,
                                  std::shared_ptr<timer_wheel> wheel) {
  auto sweep = [self, wheel] {
    auto now = wheel_time(self->clock().now());
    for (auto& e : wheel->take_due(now))
      switch (wheel_timer(e.kind)) {
        case wheel_timer::expire:
          self->send(e.who, expire_atom::value, e.key);
          break;
        case wheel_timer::housekeeping:
          self->send(e.who, tick_atom::value);
          break;
        case wheel_timer::replica_tick:
          self->send(e.who, replica_tick_atom::value);
          break;
      }
    auto next = wheel->next_due();
    if (!next)
      return;
    auto& armed = self->state.armed;
    if (!armed.empty() && *armed.begin() <= *next)
      return; // that one fires first and arms again
    armed.insert(*next);
    self->delayed_send(self, std::chrono::nanoseconds(std::max<int64_t>(0, *next - now)),
                       tick_atom::value, *next);
  };
  return {
    [=](tick_atom) { sweep(); },
    [=](tick_atom, int64_t at) {
      self->state.armed.erase(at);
      sweep();
    },
  };
}

} // namespace al
