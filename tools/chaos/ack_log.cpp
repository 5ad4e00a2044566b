#include "tools/chaos/ack_log.hpp"

namespace chaos {

void ack_log::record(int32_t partition) {
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    times_[partition].push_back(now);
  }
  cv_.notify_all();
}

size_t ack_log::count(int32_t partition) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = times_.find(partition);
  return i == times_.end() ? 0 : i->second.size();
}

std::optional<ack_log::time_point> ack_log::wait(int32_t partition, size_t index,
                                                 time_point deadline) const {
  std::unique_lock<std::mutex> lock{mtx_};
  auto have = [&] {
    auto i = times_.find(partition);
    return i != times_.end() && i->second.size() > index;
  };
  if (!cv_.wait_until(lock, deadline, have))
    return std::nullopt;
  return times_.at(partition)[index];
}

} // namespace chaos
