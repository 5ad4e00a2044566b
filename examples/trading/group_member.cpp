#include "group_member.hpp"

#include <caf/all.hpp>

namespace trading {

al::result<std::unique_ptr<al::consumer>> start_member(demo_context& ctx, const std::string& group,
                                                       const std::string& client_id,
                                                       const al::properties& overrides,
                                                       al::rebalance_listener listener) {
  auto props = ctx.consumer_props(group, client_id);
  for (const auto& [key, value] : overrides)
    props[key] = value;
  auto c = al::consumer::create(ctx.sys, props);
  if (!c)
    return c.error();
  if (auto st = (*c)->subscribe({ctx.topic}, std::move(listener)); !st)
    return st;
  return c;
}

} // namespace trading
