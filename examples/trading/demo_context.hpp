#pragma once
// What every part of the demo shares: the actor system, where the cluster
// is, the topic and this run's first offsets, the end offsets once the
// order service has finished, a deadline, and one way to print progress.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include <actorlog/client.hpp>

#include "cluster_admin.hpp"

namespace trading {

using clock_type = std::chrono::steady_clock;

/// One verdict for the summary.
struct check_result {
  std::string name;
  bool ok = false;
  std::string detail;
};

class demo_context {
public:
  demo_context(caf::actor_system& sys, cluster_admin& admin, std::string topic,
               std::vector<int32_t> partitions, offset_map start, int64_t orders,
               std::chrono::seconds timeout);

  caf::actor_system& sys;
  cluster_admin& admin;
  const std::string topic;
  const std::vector<int32_t> partitions;
  const offset_map start;     // first offset of this run, per partition
  const int64_t orders;       // how many the order service sends
  const clock_type::time_point deadline;

  /// Consumer properties shared by every group member (Kafka's names).
  al::properties consumer_props(const std::string& group, const std::string& client_id) const;

  /// The order service has finished: groups read up to `end`.
  void set_end(offset_map end);
  /// The end offsets once known.
  std::optional<offset_map> end() const;
  bool past_deadline() const { return clock_type::now() > deadline; }

  /// Prints "[  3.2 s] group: text" (one line, whole, from any thread).
  void say(const std::string& who, const std::string& text) const;

private:
  mutable std::mutex mtx_;
  std::optional<offset_map> end_;
  clock_type::time_point started_;
};

} // namespace trading
