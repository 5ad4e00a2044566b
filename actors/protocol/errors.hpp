#pragma once
// actorlog errors inside CAF: a caf::error in the "actorlog" category whose
// code is an al::errc (Kafka's codes) and whose context is a message string.
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "storage/status.hpp"

namespace al {

constexpr caf::atom_value error_category = caf::atom("actorlog");

/// Found by ADL: `return make_error(errc::x, "topic orders");` in handlers.
inline caf::error make_error(errc code, std::string context = {}) {
  if (context.empty())
    return {static_cast<uint8_t>(code), error_category};
  return {static_cast<uint8_t>(code), error_category, caf::make_message(std::move(context))};
}

inline caf::error to_caf_error(const status& s) { return make_error(s.code(), s.message()); }

/// The Kafka code inside a caf::error: an actorlog error maps directly, a
/// CAF request timeout to REQUEST_TIMED_OUT, a dead or unreachable peer to
/// NETWORK_EXCEPTION, anything else to UNKNOWN_SERVER_ERROR.
errc error_code_of(const caf::error& err);

/// One line for users: "UNKNOWN_TOPIC_OR_PARTITION: orders-7".
std::string describe_error(const caf::error& err);

} // namespace al
