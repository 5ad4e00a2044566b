#pragma once
// When each partition's acknowledgements arrived, kept by every workload;
// the fault runner reads leader failover times off them (the first ack
// after a leader's death comes from its successor).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace chaos {

class ack_log {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// An acknowledgement of `partition` arrived now.
  void record(int32_t partition);
  /// Acknowledgements of `partition` so far.
  size_t count(int32_t partition) const;
  /// When the acknowledgement number `index` (0-based) of `partition`
  /// arrived; waits up to `deadline` for it. Nullopt if it did not.
  std::optional<time_point> wait(int32_t partition, size_t index, time_point deadline) const;

private:
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  std::map<int32_t, std::vector<time_point>> times_;
};

/// What the fault runner needs of a workload.
class load_view {
public:
  virtual ~load_view() = default;
  virtual const ack_log& acks() const = 0;
  /// One line for the log after each fault ("N sent, N acked, ...").
  virtual std::string progress() const = 0;
};

} // namespace chaos
