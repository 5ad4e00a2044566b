#include "actors/group/consumer_protocol.hpp"

#include "actors/group/offsets_wire.hpp"

namespace al {

namespace {

using offsets_wire::put;
using offsets_wire::put_string;
using offsets_wire::reader;

constexpr int16_t subscription_version = 2; // ConsumerProtocolSubscription
constexpr int16_t assignment_version = 0;   // ConsumerProtocolAssignment
constexpr int16_t max_consumer_protocol_version = 3;

/// Kafka's array of (topic, partitions): one entry per run of one topic, so
/// the list decodes back in the same order.
void put_partitions(bytes& out, const std::vector<topic_partition>& tps) {
  auto count_at = out.size();
  put<int32_t>(out, 0);
  int32_t topics = 0;
  for (size_t i = 0; i < tps.size();) {
    size_t j = i;
    while (j < tps.size() && tps[j].topic == tps[i].topic)
      ++j;
    put_string(out, tps[i].topic);
    put<int32_t>(out, int32_t(j - i));
    for (; i < j; ++i)
      put<int32_t>(out, tps[i].partition);
    ++topics;
  }
  store_be<int32_t>(out.data() + count_at, topics);
}

status get_partitions(reader& r, const char* field, std::vector<topic_partition>& out) {
  auto topics = r.get_count(field, 6);
  if (!topics)
    return topics.error();
  for (size_t t = 0; t < *topics; ++t) {
    auto topic = r.get_string(field);
    if (!topic)
      return topic.error();
    auto n = r.get_count(field, 4);
    if (!n)
      return n.error();
    for (size_t p = 0; p < *n; ++p) {
      auto partition = r.get<int32_t>(field);
      if (!partition)
        return partition.error();
      out.push_back(topic_partition{*topic, *partition});
    }
  }
  return status::ok();
}

status check_version(reader& r, int16_t version, int16_t max) {
  if (version >= 0 && version <= max)
    return status::ok();
  return {errc::corrupt_message,
          std::string(r.what) + ": unsupported version " + std::to_string(version)};
}

} // namespace

bytes encode_subscription(const member_subscription& s) {
  bytes out;
  put<int16_t>(out, subscription_version);
  put<int32_t>(out, int32_t(s.topics.size()));
  for (auto& t : s.topics)
    put_string(out, t);
  put<int32_t>(out, -1); // user_data: null
  put_partitions(out, s.owned_partitions);
  put<int32_t>(out, s.generation_id);
  return out;
}

result<member_subscription> decode_subscription(byte_view data) {
  reader r{data, 0, "consumer protocol subscription"};
  auto version = r.get<int16_t>("version");
  if (!version)
    return version.error();
  if (auto st = check_version(r, *version, max_consumer_protocol_version); !st)
    return st;
  member_subscription s;
  auto topics = r.get_count("topics", 2);
  if (!topics)
    return topics.error();
  for (size_t i = 0; i < *topics; ++i) {
    auto t = r.get_string("topics");
    if (!t)
      return t.error();
    s.topics.push_back(std::move(*t));
  }
  if (auto user_data = r.get_bytes("user_data"); !user_data)
    return user_data.error();
  if (*version >= 1)
    if (auto st = get_partitions(r, "owned_partitions", s.owned_partitions); !st)
      return st;
  if (*version >= 2) {
    auto generation = r.get<int32_t>("generation_id");
    if (!generation)
      return generation.error();
    s.generation_id = *generation;
  }
  if (*version >= 3) // rack_id: not used by our assignors
    if (auto rack = r.get_string("rack_id", true); !rack)
      return rack.error();
  return s;
}

bytes encode_assignment(const std::vector<topic_partition>& tps) {
  bytes out;
  put<int16_t>(out, assignment_version);
  put_partitions(out, tps);
  put<int32_t>(out, -1); // user_data: null
  return out;
}

result<std::vector<topic_partition>> decode_assignment(byte_view data) {
  reader r{data, 0, "consumer protocol assignment"};
  auto version = r.get<int16_t>("version");
  if (!version)
    return version.error();
  if (auto st = check_version(r, *version, max_consumer_protocol_version); !st)
    return st;
  std::vector<topic_partition> out;
  if (auto st = get_partitions(r, "assigned_partitions", out); !st)
    return st;
  if (auto user_data = r.get_bytes("user_data"); !user_data)
    return user_data.error();
  return out;
}

} // namespace al
