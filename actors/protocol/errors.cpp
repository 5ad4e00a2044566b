#include "actors/protocol/errors.hpp"

#include <caf/sec.hpp>

namespace al {

errc error_code_of(const caf::error& err) {
  if (!err)
    return errc::none;
  if (err.category() == error_category)
    return static_cast<errc>(err.code());
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout: return errc::request_timed_out;
      case caf::sec::request_receiver_down:
      case caf::sec::cannot_connect_to_node:
      case caf::sec::remote_linking_failed:
      case caf::sec::no_actor_published_at_port: return errc::network_exception;
      default: break;
    }
  }
  return errc::unknown_server_error;
}

std::string describe_error(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == error_category) {
    std::string out{to_string(static_cast<errc>(err.code()))};
    auto& ctx = err.context();
    if (!ctx.empty() && ctx.match_elements<std::string>())
      out += ": " + ctx.get_as<std::string>(0);
    return out;
  }
  return to_string(err);
}

} // namespace al
