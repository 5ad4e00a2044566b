#pragma once
// Starting a member of one of the demo's consumer groups (the al::consumer
// style groups share it).
#include <memory>
#include <string>

#include <actorlog/client.hpp>

#include "demo_context.hpp"

namespace trading {

/// An al::consumer of the demo's topic, member `client_id` of `group`: the
/// demo's consumer properties with `overrides` on top, subscribed with
/// `listener`. Else why it could not be created or subscribe.
al::result<std::unique_ptr<al::consumer>> start_member(demo_context& ctx, const std::string& group,
                                                       const std::string& client_id,
                                                       const al::properties& overrides,
                                                       al::rebalance_listener listener = {});

} // namespace trading
