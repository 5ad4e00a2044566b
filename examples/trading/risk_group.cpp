// risk: an actor-style member (al::spawn_consumer). Its handler runs on the
// member's own thread for each batch; the member commits the batch after
// the handler returns.
#include <thread>

#include <caf/all.hpp>

#include <actorlog/client.hpp>

#include "groups.hpp"

namespace trading {

using namespace std::chrono_literals;

risk_group::risk_group(demo_context& ctx) : trading_group(ctx, "risk", "spawn_consumer actor") {}

void risk_group::start() {
  auto handler = [this](const std::vector<al::consumer_record>& batch) {
    for (auto& r : batch) {
      auto o = ledger_.on_record(r, 1);
      if (!o)
        continue;
      std::lock_guard<std::mutex> guard{mtx_};
      exposure_[o->account] += o->buy ? o->notional_cents() : -o->notional_cents();
    }
  };
  auto props = ctx_.consumer_props(name(), "risk-1");
  auto member = al::spawn_consumer(ctx_.sys, props, {ctx_.topic}, handler);
  if (!member) {
    add_check("risk member started", false, member.error().to_string());
    return;
  }
  member_ = *member;
  say("member spawned (actor style: handler per batch, commit after each batch)");
}

void risk_group::finish() {
  if (!member_)
    return;
  // Done when the coordinator has the end offsets as committed: the last
  // batch has been handled and committed.
  bool done = false;
  offset_map committed;
  while (!done && !ctx_.past_deadline()) {
    auto end = ctx_.end();
    if (end && ledger_.covers(*end)) {
      auto c = ctx_.admin.committed(name(), ctx_.topic, ctx_.partitions);
      if (c) {
        committed = *c;
        done = committed == *end;
      }
    }
    if (!done)
      std::this_thread::sleep_for(100ms); // polling a condition, bounded by the deadline
  }
  if (!done)
    add_check("risk read and committed everything", false, "deadline passed");
  caf::scoped_actor self{ctx_.sys};
  self->monitor(member_);
  caf::anon_send_exit(member_, caf::exit_reason::user_shutdown); // leaves the group, then quits
  self->receive([](const caf::down_msg&) {}, caf::after(std::chrono::seconds(30)) >> [] {});
  member_ = caf::actor{};
  say("stopped after " + std::to_string(ledger_.totals().unique) + " orders");
}

std::map<std::string, int64_t> risk_group::exposure() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return exposure_;
}

} // namespace trading
