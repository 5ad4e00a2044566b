#pragma once
// The request handler: a normal scheduled (event-based) CAF actor, the
// stand-in for the node's client gateway. Both servers hand it each request
// frame as a CAF message; it answers with a response frame.
//   io::broker server: request(handler, timeout, std::vector<char>) -> std::vector<char>
//   Asio server:       anon_send(handler, sink_request{...}); the actor calls
//                      sink->deliver(seq, frame), which posts to the connection's strand
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

namespace iobench {

/// Where a response goes back to when the sender is not an actor.
struct reply_sink {
  virtual ~reply_sink() = default;
  /// Called on the handler's (CAF worker) thread; must not block.
  virtual void deliver(uint64_t seq, std::vector<char> frame) = 0;
};

struct sink_request {
  std::shared_ptr<reply_sink> to;
  uint64_t seq = 0;
  std::vector<char> body;
};

caf::actor spawn_handler(caf::actor_system& sys, size_t response_size);

} // namespace iobench

// Local only (it holds a pointer): never serialized.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(iobench::sink_request)
