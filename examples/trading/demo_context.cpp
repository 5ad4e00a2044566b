#include "demo_context.hpp"

#include <cstdio>

namespace trading {

demo_context::demo_context(caf::actor_system& sys_ref, cluster_admin& admin_ref,
                           std::string topic_name, std::vector<int32_t> ids, offset_map first,
                           int64_t order_count, std::chrono::seconds timeout)
  : sys(sys_ref),
    admin(admin_ref),
    topic(std::move(topic_name)),
    partitions(std::move(ids)),
    start(std::move(first)),
    orders(order_count),
    deadline(clock_type::now() + timeout),
    started_(clock_type::now()) {}

al::properties demo_context::consumer_props(const std::string& group,
                                            const std::string& client_id) const {
  // A short session so a crashed member's partitions move within seconds;
  // the earliest reset is never used (offsets are committed before start).
  return {{"bootstrap.servers", admin.bootstrap()},
          {"group.id", group},
          {"client.id", client_id},
          {"auto.offset.reset", "earliest"},
          {"session.timeout.ms", "6000"},
          {"heartbeat.interval.ms", "500"}};
}

void demo_context::set_end(offset_map end) {
  std::lock_guard<std::mutex> guard{mtx_};
  end_ = std::move(end);
}

std::optional<offset_map> demo_context::end() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return end_;
}

void demo_context::say(const std::string& who, const std::string& text) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto secs = std::chrono::duration<double>(clock_type::now() - started_).count();
  std::printf("[%5.1f s] %-10s %s\n", secs, who.c_str(), text.c_str());
  std::fflush(stdout);
}

} // namespace trading
