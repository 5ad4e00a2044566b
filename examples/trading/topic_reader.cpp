#include "topic_reader.hpp"

#include <chrono>

namespace trading {

using namespace std::chrono_literals;

al::result<std::vector<al::consumer_record>>
read_range(caf::actor_system& sys, const std::string& bootstrap, const std::string& client_id,
           const std::string& isolation, const std::string& topic, int32_t partitions,
           const std::map<int32_t, int64_t>& start, std::optional<std::map<int32_t, int64_t>> end) {
  auto c = al::consumer::create(sys, {{"bootstrap.servers", bootstrap},
                                      {"client.id", client_id},
                                      {"isolation.level", isolation}});
  if (!c)
    return c.error();
  std::vector<al::topic_partition> tps;
  for (int32_t p = 0; p < partitions; ++p)
    tps.push_back({topic, p});
  if (auto st = (*c)->assign(tps); !st)
    return st;
  if (!end) {
    (*c)->seek_to_end(tps);
    end.emplace();
    for (auto& tp : tps) {
      auto pos = (*c)->position(tp);
      if (!pos)
        return pos.error();
      (*end)[tp.partition] = *pos;
    }
  }
  for (auto& tp : tps)
    (*c)->seek(tp, start.count(tp.partition) ? start.at(tp.partition) : 0);
  std::vector<al::consumer_record> out;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    bool done = true;
    for (auto& tp : tps) {
      auto pos = (*c)->position(tp);
      done = done && pos && *pos >= end->at(tp.partition);
    }
    if (done)
      break;
    if (std::chrono::steady_clock::now() > deadline)
      return al::status{al::errc::request_timed_out, "reading " + topic + " " + isolation};
    for (auto& r : (*c)->poll(200ms))
      if (r.offset < end->at(r.partition))
        out.push_back(std::move(r));
  }
  (*c)->close();
  return out;
}

} // namespace trading
