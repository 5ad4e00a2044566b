#include "actors/broker/fetch_session_machine.hpp"

namespace al {

std::optional<uint64_t> fetch_session_machine::add(int32_t leader, fetch_request fetch,
                                                   uint64_t id) {
  std::optional<uint64_t> superseded;
  entry e{leader, fetch.offset, fetch.current_leader_epoch, id, false};
  auto [i, fresh] = entries_.try_emplace(topic_partition{fetch.topic, fetch.partition}, e);
  if (!fresh) {
    superseded = i->second.id; // an unsent copy in unsent_ is skipped by its id
    i->second = e;
  }
  unsent_[leader].push_back(queued{id, std::move(fetch)});
  return superseded;
}

std::vector<int32_t> fetch_session_machine::leaders_with_unsent() const {
  std::vector<int32_t> out;
  for (auto& [leader, q] : unsent_)
    if (!q.empty())
      out.push_back(leader);
  return out;
}

std::vector<fetch_request> fetch_session_machine::take_unsent(int32_t leader) {
  std::vector<fetch_request> out;
  auto q = unsent_.find(leader);
  if (q == unsent_.end())
    return out;
  out.reserve(q->second.size());
  for (auto& u : q->second) {
    auto e = entries_.find(topic_partition{u.fetch.topic, u.fetch.partition});
    if (e == entries_.end() || e->second.id != u.id)
      continue; // superseded or dropped since
    e->second.sent = true;
    out.push_back(std::move(u.fetch));
  }
  unsent_.erase(q);
  return out;
}

std::optional<uint64_t> fetch_session_machine::match(int32_t leader, const std::string& topic,
                                                     int32_t partition, int64_t fetch_offset,
                                                     int32_t current_leader_epoch) {
  auto e = entries_.find(topic_partition{topic, partition});
  if (e == entries_.end() || !e->second.sent || e->second.leader != leader ||
      e->second.offset != fetch_offset || e->second.epoch != current_leader_epoch)
    return std::nullopt;
  auto id = e->second.id;
  entries_.erase(e);
  return id;
}

std::vector<uint64_t> fetch_session_machine::drop_leader(int32_t leader) {
  std::vector<uint64_t> out;
  for (auto i = entries_.begin(); i != entries_.end();) {
    if (i->second.leader != leader) {
      ++i;
      continue;
    }
    out.push_back(i->second.id);
    i = entries_.erase(i);
  }
  unsent_.erase(leader);
  return out;
}

} // namespace al
