#include "handler.hpp"

#include <caf/all.hpp>

#include "common.hpp"

namespace iobench {

namespace {

caf::behavior handler(caf::event_based_actor*, size_t response_size) {
  return {
    [=](const std::vector<char>& body) -> std::vector<char> {
      return make_response(body.data(), body.size(), response_size);
    },
    [=](const sink_request& req) {
      req.to->deliver(req.seq, make_response(req.body.data(), req.body.size(), response_size));
    },
  };
}

} // namespace

caf::actor spawn_handler(caf::actor_system& sys, size_t response_size) {
  return sys.spawn(handler, response_size);
}

} // namespace iobench
