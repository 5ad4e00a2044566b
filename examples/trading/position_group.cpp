// position: a plain al::consumer with enable.auto.commit (what earlier
// polls returned is committed every auto.commit.interval.ms and on close).
#include <caf/all.hpp>

#include "group_member.hpp"
#include "groups.hpp"

namespace trading {

using namespace std::chrono_literals;

position_group::position_group(demo_context& ctx)
  : trading_group(ctx, "position", "consumer, auto commit") {}

void position_group::run() {
  al::rebalance_listener listener;
  listener.on_partitions_assigned = [this](const std::vector<al::topic_partition>& tps) {
    say("assigned " + std::to_string(tps.size()) + " partitions");
  };
  auto c = start_member(ctx_, name(), "position-1",
                        {{"enable.auto.commit", "true"}, {"auto.commit.interval.ms", "1000"}},
                        listener);
  if (!c) {
    add_check("position member started", false, c.error().to_string());
    return;
  }
  while (!read_everything() && !ctx_.past_deadline()) {
    for (auto& r : (*c)->poll(200ms)) {
      auto o = ledger_.on_record(r, 1);
      if (!o)
        continue;
      std::lock_guard<std::mutex> guard{mtx_};
      net_[o->symbol] += o->signed_quantity();
    }
  }
  if (!read_everything())
    add_check("position read everything", false, "deadline passed");
  (*c)->close(); // commits what poll() returned, leaves the group
  say("closed after " + std::to_string(ledger_.totals().unique) + " orders (commit on close)");
}

std::map<std::string, int64_t> position_group::positions() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return net_;
}

} // namespace trading
