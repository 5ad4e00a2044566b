#include "actors/group/group_metadata_record.hpp"

#include "actors/group/consumer_protocol.hpp"
#include "actors/group/offsets_record.hpp"
#include "actors/group/offsets_wire.hpp"
#include "storage/record_batch.hpp"

namespace al {

namespace {

using offsets_wire::put;
using offsets_wire::put_bytes;
using offsets_wire::put_nullable_string;
using offsets_wire::put_string;
using offsets_wire::reader;

status check_version(reader& r, int16_t version, int16_t max) {
  if (version >= 0 && version <= max)
    return status::ok();
  return {errc::corrupt_message,
          std::string(r.what) + ": unsupported version " + std::to_string(version)};
}

/// The raw bytes, unless they are exactly what encoding the decoded fields
/// gives (then the fields say it all, and records of server-side
/// generations read back equal to what was written).
std::optional<bytes> raw_unless_canonical(byte_view raw, const bytes& canonical) {
  if (raw == byte_view{canonical})
    return std::nullopt;
  return bytes(raw.data, raw.data + raw.size);
}

result<group_member_metadata> decode_member(reader& r, int16_t version,
                                           const std::string& protocol_type) {
  group_member_metadata m;
  auto id = r.get_string("member_id");
  if (!id)
    return id.error();
  m.member_id = std::move(*id);
  if (version >= 3) // group_instance_id: static membership is not supported
    if (auto instance = r.get_string("group_instance_id", true); !instance)
      return instance.error();
  auto client = r.get_string("client_id");
  if (!client)
    return client.error();
  auto host = r.get_string("client_host");
  if (!host)
    return host.error();
  m.client_id = std::move(*client);
  m.client_host = std::move(*host);
  if (version >= 1) {
    auto rebalance = r.get<int32_t>("rebalance_timeout");
    if (!rebalance)
      return rebalance.error();
    m.rebalance_timeout_ms = *rebalance;
  }
  auto session = r.get<int32_t>("session_timeout");
  if (!session)
    return session.error();
  m.session_timeout_ms = *session;
  if (version == 0)
    m.rebalance_timeout_ms = m.session_timeout_ms; // as Kafka reads v0
  auto subscription = r.get_bytes("subscription");
  if (!subscription)
    return subscription.error();
  auto assignment = r.get_bytes("assignment");
  if (!assignment)
    return assignment.error();
  // Opaque to the coordinator (as in Kafka): bytes a relay generation's
  // members sent that do not decode are kept as they are, not refused.
  if (protocol_type == "consumer") {
    if (auto s = decode_subscription(*subscription))
      m.subscription = std::move(*s);
    if (auto a = decode_assignment(*assignment))
      m.assignment = std::move(*a);
  }
  m.subscription_bytes = raw_unless_canonical(*subscription, encode_subscription(m.subscription));
  m.assignment_bytes = raw_unless_canonical(*assignment, encode_assignment(m.assignment));
  return m;
}

} // namespace

bytes encoded_subscription(const group_member_metadata& m) {
  return m.subscription_bytes ? *m.subscription_bytes : encode_subscription(m.subscription);
}

bytes encoded_assignment(const group_member_metadata& m) {
  return m.assignment_bytes ? *m.assignment_bytes : encode_assignment(m.assignment);
}

bytes encode_group_metadata_key(const std::string& group_id) {
  bytes out;
  put<int16_t>(out, group_metadata_key_version);
  put_string(out, group_id);
  return out;
}

bytes encode_group_metadata_value(const group_metadata& v) {
  bytes out;
  put<int16_t>(out, group_metadata_value_version);
  put_string(out, v.protocol_type);
  put<int32_t>(out, v.generation_id);
  put_nullable_string(out, v.protocol_name);
  put_nullable_string(out, v.leader_id);
  put<int64_t>(out, v.state_time_ms);
  put<int32_t>(out, int32_t(v.members.size()));
  for (auto& m : v.members) {
    put_string(out, m.member_id);
    put<int16_t>(out, -1); // group_instance_id: null
    put_string(out, m.client_id);
    put_string(out, m.client_host);
    put<int32_t>(out, m.rebalance_timeout_ms);
    put<int32_t>(out, m.session_timeout_ms);
    put_bytes(out, encoded_subscription(m));
    put_bytes(out, encoded_assignment(m));
  }
  return out;
}

result<std::string> decode_group_metadata_key(byte_view data) {
  reader r{data, 0, "group metadata key"};
  auto version = r.get<int16_t>("version");
  if (!version)
    return version.error();
  if (*version != group_metadata_key_version)
    return status{errc::corrupt_message,
                  "group metadata key: unsupported version " + std::to_string(*version)};
  return r.get_string("group");
}

result<group_metadata> decode_group_metadata_value(byte_view data) {
  reader r{data, 0, "group metadata value"};
  auto version = r.get<int16_t>("version");
  if (!version)
    return version.error();
  if (auto st = check_version(r, *version, group_metadata_value_version); !st)
    return st;
  group_metadata v;
  auto protocol_type = r.get_string("protocol_type");
  if (!protocol_type)
    return protocol_type.error();
  auto generation = r.get<int32_t>("generation");
  if (!generation)
    return generation.error();
  auto protocol = r.get_string("protocol", true);
  if (!protocol)
    return protocol.error();
  auto leader = r.get_string("leader", true);
  if (!leader)
    return leader.error();
  v.protocol_type = std::move(*protocol_type);
  v.generation_id = *generation;
  v.protocol_name = std::move(*protocol);
  v.leader_id = std::move(*leader);
  v.state_time_ms = -1; // Kafka's default before v2
  if (*version >= 2) {
    auto time = r.get<int64_t>("current_state_timestamp");
    if (!time)
      return time.error();
    v.state_time_ms = *time;
  }
  auto members = r.get_count("members", 18);
  if (!members)
    return members.error();
  for (size_t i = 0; i < *members; ++i) {
    auto m = decode_member(r, *version, v.protocol_type);
    if (!m)
      return m.error();
    v.members.push_back(std::move(*m));
  }
  return v;
}

bytes group_metadata_batch(const std::string& group_id, const group_metadata& value,
                           int64_t timestamp_ms) {
  auto key = encode_group_metadata_key(group_id);
  auto encoded = encode_group_metadata_value(value);
  batch_builder b;
  b.append(timestamp_ms, byte_view{key}, byte_view{encoded});
  return b.build();
}

bytes group_tombstone_batch(const std::string& group_id,
                            const std::vector<topic_partition>& partitions,
                            int64_t timestamp_ms) {
  batch_builder b;
  for (auto& tp : partitions) {
    auto key = encode_offset_key(offset_key{group_id, tp});
    b.append(timestamp_ms, byte_view{key}, std::nullopt);
  }
  auto key = encode_group_metadata_key(group_id);
  b.append(timestamp_ms, byte_view{key}, std::nullopt);
  return b.build();
}

} // namespace al
