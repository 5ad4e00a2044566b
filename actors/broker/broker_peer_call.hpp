#pragma once
// A request the broker sends on to another node's broker (a transaction
// marker for a partition led there, a follower's fetch or epoch query),
// answered through a promise that fails at once, with NETWORK_EXCEPTION,
// when the connection to that node drops. CAF 0.17 gives a request to a
// peer that died no early error (docs/DESIGN.md): a
// plain delegate waited out its timeout, so a coordinator's marker sent
// just before a node's kill held the transaction in PrepareCommit for
// request.timeout.ms (actorlog-chaos --workload transactional, seed 7).
#include <chrono>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "actors/broker/broker_actor.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

/// A bound for a forwarded request whose sender gave none: the sender's
/// own timeout (shorter) ends its wait first.
inline constexpr std::chrono::milliseconds peer_call_timeout{30000};

namespace detail {

/// Forgets call `id` to `node`; false when it was failed already.
inline bool end_peer_call(broker_state& st, int32_t node, uint64_t id) {
  auto n = st.peer_calls.find(node);
  if (n == st.peer_calls.end() || n->second.erase(id) == 0)
    return false;
  if (n->second.empty())
    st.peer_calls.erase(n);
  return true;
}

} // namespace detail

/// Sends `xs...` to node `node`'s broker: `on_answer(Response&)` with its
/// answer, or `on_error(caf::error)` with its error, with NETWORK_EXCEPTION
/// when the connection drops first, or at once when there is none.
template <class Response, class OnAnswer, class OnError, class... Ts>
void call_peer(broker_api::stateful_pointer<broker_state> self, int32_t node,
               std::chrono::milliseconds timeout, OnAnswer on_answer, OnError on_error,
               Ts&&... xs) {
  auto peer = peer_broker(self, node);
  if (!peer)
    return on_error(to_caf_error(peer.error()));
  auto& st = self->state;
  auto id = st.next_peer_call++;
  st.peer_calls[node][id] = [on_error](caf::error err) mutable { on_error(std::move(err)); };
  self->request(*peer, timeout, std::forward<Ts>(xs)...)
    .then(
      [self, node, id, on_answer](Response& r) mutable {
        if (detail::end_peer_call(self->state, node, id))
          on_answer(r);
      },
      [self, node, id, on_error](caf::error& err) mutable {
        if (detail::end_peer_call(self->state, node, id))
          on_error(std::move(err));
      });
}

/// Sends `xs...` to node `node`'s broker; its answer (or error) answers the
/// current request.
template <class Response, class... Ts>
caf::result<Response> forward_to_peer(broker_api::stateful_pointer<broker_state> self,
                                      int32_t node, std::chrono::milliseconds timeout,
                                      Ts&&... xs) {
  auto rp = self->template make_response_promise<Response>();
  call_peer<Response>(
    self, node, timeout, [rp](Response& r) mutable { rp.deliver(std::move(r)); },
    [rp](caf::error err) mutable { rp.deliver(std::move(err)); }, std::forward<Ts>(xs)...);
  return rp;
}

/// The connection to `node` dropped: every call to it fails now.
inline void fail_peer_calls(broker_api::stateful_pointer<broker_state> self, int32_t node) {
  auto n = self->state.peer_calls.find(node);
  if (n == self->state.peer_calls.end())
    return;
  auto calls = std::move(n->second);
  self->state.peer_calls.erase(n);
  for (auto& [id, fail] : calls)
    fail(make_error(errc::network_exception,
                    "lost the connection to node " + std::to_string(node)));
}

} // namespace al
