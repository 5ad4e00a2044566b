// The broker's heartbeats on a thread of their own (broker_setup::
// heartbeat_thread): spawned detached once the broker is registered, linked
// to it, so they stop with it.
#include <chrono>

#include <caf/all.hpp>

#include "actors/broker/broker_actor.hpp"

namespace al {

caf::behavior heartbeat_actor(caf::event_based_actor* self, controller_api controller,
                              int32_t node, int64_t incarnation, int64_t interval_ms) {
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) {
      self->send(controller, heartbeat_atom::value, node, incarnation);
      self->delayed_send(self, std::chrono::milliseconds(interval_ms), tick_atom::value);
    },
  };
}

} // namespace al
