#include "tools/chaos/read_back.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/client/consumer_client.hpp"

namespace chaos {

read_back_result read_back(caf::actor_system& sys, const std::string& bootstrap,
                           const std::string& topic, const std::vector<int64_t>& end,
                           std::chrono::seconds bound, const read_options& ro) {
  read_back_result out;
  auto c = al::consumer::create(sys, {{"bootstrap.servers", bootstrap},
                                      {"client.id", "chaos-checker"},
                                      {"isolation.level", ro.isolation},
                                      {"auto.offset.reset", "earliest"},
                                      {"enable.auto.commit", "false"},
                                      {"max.poll.records", "2000"}});
  if (!c) {
    out.error = "consumer: " + c.error().to_string();
    return out;
  }
  std::vector<al::topic_partition> tps;
  for (size_t p = 0; p < end.size(); ++p)
    tps.push_back(al::topic_partition{topic, int32_t(p)});
  if (auto st = (*c)->assign(tps); !st) {
    out.error = "assign: " + st.to_string();
    return out;
  }
  (*c)->seek_to_beginning(tps);
  std::vector<int64_t> next(end.size(), 0); // next offset wanted per partition
  auto done = [&] {
    for (size_t p = 0; p < end.size(); ++p)
      if (next[p] < end[p])
        return false;
    return true;
  };
  auto deadline = std::chrono::steady_clock::now() + bound;
  auto last_log = std::chrono::steady_clock::now();
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    for (auto& r : (*c)->poll(std::chrono::milliseconds(500))) {
      if (r.partition < 0 || size_t(r.partition) >= end.size())
        continue;
      // Past the end: produced after the end was taken (nothing should be).
      if (r.offset >= end[size_t(r.partition)])
        continue;
      if (!ro.sentinel.empty() && r.value == ro.sentinel) {
        next[size_t(r.partition)] = end[size_t(r.partition)];
        continue;
      }
      out.records.push_back(read_record{r.partition, r.offset, r.value.value_or("")});
      next[size_t(r.partition)] = std::max(next[size_t(r.partition)], r.offset + 1);
    }
    if (std::chrono::steady_clock::now() - last_log > std::chrono::seconds(5)) {
      last_log = std::chrono::steady_clock::now();
      spdlog::info("read back: {} records so far", out.records.size());
    }
  }
  if (!done()) {
    std::string parts;
    for (size_t p = 0; p < end.size(); ++p)
      if (next[p] < end[p])
        parts += " p" + std::to_string(p) + " at " + std::to_string(next[p]) + "/" +
                 std::to_string(end[p]);
    out.error = topic + " (" + ro.isolation + ") read back incomplete after " + std::to_string(bound.count()) + " s:" + parts;
  }
  (*c)->close();
  return out;
}

} // namespace chaos
