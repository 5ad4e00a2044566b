// The connections from one broker to the other nodes' brokers
// (replication, forwarded requests, transaction markers and verification):
// opened on first use, monitored, and after a failed connect tried again no
// sooner than peer_reconnect_backoff_ms, with one warning per streak.
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_actor.hpp"
#include "actors/client/cluster_view.hpp"
#include "storage/clock.hpp"

namespace al {

namespace {

using self_ptr = broker_api::stateful_pointer<broker_state>;

/// Between connect attempts to a node that refused the last one.
constexpr int64_t peer_reconnect_backoff_ms = 500;

} // namespace

result<broker_api> peer_broker(self_ptr self, int32_t id) {
  auto& st = self->state;
  if (id == st.setup.node_id)
    return caf::actor_cast<broker_api>(self);
  if (st.cut_peers.count(id))
    return status{errc::network_exception,
                  "link to node " + std::to_string(id) + " is cut (fault injection)"};
  if (auto i = st.peers.find(id); i != st.peers.end())
    return i->second;
  auto b = st.image.brokers.find(id);
  if (b == st.image.brokers.end())
    return status{errc::broker_not_available, "node " + std::to_string(id) + " is not registered"};
  if (auto r = st.reconnect_at.find(id); r != st.reconnect_at.end() && wall_clock_ms() < r->second)
    return status{errc::network_exception, "node " + std::to_string(id) +
                                             " is unreachable (the last connect failed)"};
  if (st.connecting.insert(id).second) {
    connect_actor<broker_api>(self, b->second.host, b->second.peer_port, [self, id](result<broker_api> h) {
      auto& state = self->state;
      state.connecting.erase(id);
      if (!h) {
        // Callers retry (marker retries every 100-200 ms while a node is
        // down): one warning per streak, and a pause between attempts.
        bool first = state.reconnect_at.count(id) == 0;
        state.reconnect_at[id] = wall_clock_ms() + peer_reconnect_backoff_ms;
        if (first)
          spdlog::warn("broker {}: cannot reach node {}: {} (retrying every {} ms)",
                       state.setup.node_id, id, h.error().to_string(), peer_reconnect_backoff_ms);
        else
          spdlog::debug("broker {}: still cannot reach node {}: {}", state.setup.node_id, id,
                        h.error().to_string());
        return;
      }
      state.reconnect_at.erase(id);
      spdlog::info("broker {}: connected to node {}", state.setup.node_id, id);
      self->monitor(*h);
      state.peers[id] = *h;
    });
  }
  return status{errc::network_exception,
                "node " + std::to_string(id) + " not connected yet (connecting)"};
}

} // namespace al
