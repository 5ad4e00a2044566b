#include "actors/store/metadata_view_store.hpp"

#include <set>

namespace al {

topic_uuid parse_topic_id(const std::string& hex) {
  topic_uuid id{};
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string digits;
  for (char c : hex)
    if (c != '-')
      digits += c;
  if (digits.size() != 32)
    return id;
  for (size_t i = 0; i < 16; ++i) {
    auto hi = nibble(digits[2 * i]);
    auto lo = nibble(digits[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return topic_uuid{};
    id[i] = uint8_t(hi * 16 + lo);
  }
  return id;
}

namespace {

status sync_topic(meta_store& store, const topic_description& t, int64_t now_ms) {
  auto existing = store.get_topic(t.name);
  auto count = int32_t(t.partitions.size());
  if (!existing) {
    topic_record rec;
    rec.name = t.name;
    rec.topic_id = parse_topic_id(t.topic_id);
    rec.partition_count = count;
    rec.replication_factor =
      int16_t(t.partitions.empty() ? 0 : t.partitions.front().replicas.size());
    rec.created_at_ms = now_ms;
    if (auto st = store.create_topic(rec, t.configs); !st)
      return st;
  } else {
    if (existing->partition_count != count)
      if (auto st = store.set_partition_count(t.name, count); !st)
        return st;
    if (auto st = store.replace_topic_configs(t.name, t.configs); !st)
      return st;
  }
  for (auto& p : t.partitions) {
    partition_record rec;
    rec.topic = t.name;
    rec.partition = p.partition;
    rec.replicas = p.replicas;
    rec.leader = p.leader;
    rec.leader_epoch = p.leader_epoch;
    rec.isr = p.isr;
    if (auto st = store.upsert_partition(rec); !st)
      return st;
  }
  return status::ok();
}

} // namespace

status materialize(meta_store& store, const metadata_image& image, int64_t offset,
                   int64_t now_ms) {
  auto applied = store.apply(metadata_log_position{offset, 0}, [&]() -> status {
    auto topics = store.list_topics();
    if (!topics)
      return topics.error();
    for (auto& t : *topics)
      if (!image.topics.count(t.name))
        if (auto st = store.delete_topic(t.name); !st)
          return st;
    for (auto& [name, t] : image.topics)
      if (auto st = sync_topic(store, t, now_ms); !st)
        return st;
    return status::ok();
  });
  if (!applied)
    return applied.error();
  return status::ok();
}

} // namespace al
