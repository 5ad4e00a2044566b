#include "actors/group/group_limits.hpp"

#include "actors/controller/metadata_machine.hpp"

namespace al {

namespace {

status too_long(const char* field, size_t size, size_t limit) {
  return {errc::invalid_request, std::string(field) + " is " + std::to_string(size) +
                                   " bytes, the limit is " + std::to_string(limit)};
}

status too_many(const std::string& field, size_t count, size_t limit) {
  return {errc::invalid_request,
          field + " has " + std::to_string(count) + " entries, the limit is " +
            std::to_string(limit)};
}

status check_subscription(const group_protocol& p) {
  auto field = "protocol " + p.name + " subscription";
  auto& s = p.subscription;
  if (s.topics.size() > max_subscribed_topics)
    return too_many(field + " topics", s.topics.size(), max_subscribed_topics);
  if (s.owned_partitions.size() > max_owned_partitions)
    return too_many(field + " owned_partitions", s.owned_partitions.size(),
                    max_owned_partitions);
  for (auto& t : s.topics)
    if (auto st = validate_topic_name(t); !st)
      return {errc::invalid_request, field + " topics: " + st.message()};
  for (auto& tp : s.owned_partitions)
    if (auto st = validate_topic_name(tp.topic); !st || tp.partition < 0)
      return {errc::invalid_request, field + " owned_partitions: " +
                                       (st ? "partition " + std::to_string(tp.partition)
                                           : st.message())};
  return status::ok();
}

} // namespace

status check_group_id(const std::string& group_id) {
  if (group_id.empty())
    return {errc::invalid_group_id, "the group id is empty"};
  if (group_id.size() > max_group_id_bytes)
    return {errc::invalid_group_id, "the group id is " + std::to_string(group_id.size()) +
                                      " bytes, the limit is " +
                                      std::to_string(max_group_id_bytes)};
  return status::ok();
}

status check_member_id(const std::string& member_id) {
  if (member_id.size() > max_member_id_bytes)
    return too_long("member_id", member_id.size(), max_member_id_bytes);
  return status::ok();
}

status check_join_request(const join_group_request& req, int32_t min_session_timeout_ms,
                          int32_t max_session_timeout_ms) {
  if (req.session_timeout_ms < min_session_timeout_ms ||
      req.session_timeout_ms > max_session_timeout_ms)
    return {errc::invalid_session_timeout,
            "session_timeout_ms " + std::to_string(req.session_timeout_ms) + " is outside [" +
              std::to_string(min_session_timeout_ms) + ", " +
              std::to_string(max_session_timeout_ms) + "]"};
  if (auto st = check_member_id(req.member_id); !st)
    return st;
  if (req.client_id.size() > max_client_id_bytes)
    return too_long("client_id", req.client_id.size(), max_client_id_bytes);
  if (req.client_host.size() > max_client_id_bytes)
    return too_long("client_host", req.client_host.size(), max_client_id_bytes);
  if (req.protocol_type.size() > max_protocol_name_bytes)
    return too_long("protocol_type", req.protocol_type.size(), max_protocol_name_bytes);
  if (req.protocols.size() > max_group_protocols)
    return too_many("protocols", req.protocols.size(), max_group_protocols);
  for (auto& p : req.protocols) {
    if (p.name.size() > max_protocol_name_bytes)
      return too_long("protocol name", p.name.size(), max_protocol_name_bytes);
    if (p.metadata.size() > max_protocol_metadata_bytes)
      return too_long("protocol metadata", p.metadata.size(), max_protocol_metadata_bytes);
    if (auto st = check_subscription(p); !st)
      return st;
  }
  if (req.protocols.empty())
    return {errc::inconsistent_group_protocol, "no protocols"};
  if (req.client_assigns) // Kafka's classic protocol: type and names are the members' business
    return req.protocol_type.empty()
             ? status{errc::inconsistent_group_protocol, "an empty protocol_type"}
             : status::ok();
  if (req.protocol_type != "consumer")
    return {errc::inconsistent_group_protocol,
            "protocol_type \"" + req.protocol_type + "\" (only \"consumer\" is supported)"};
  for (auto& p : req.protocols)
    if (assignor_from_name(p.name))
      return status::ok();
  return {errc::inconsistent_group_protocol, "no protocol names a known assignor"};
}

status check_sync_request(const sync_group_request& req) {
  if (auto st = check_member_id(req.member_id); !st)
    return st;
  if (req.assignments.size() > max_sync_assignments)
    return too_many("assignments", req.assignments.size(), max_sync_assignments);
  for (auto& [member_id, assignment] : req.assignments) {
    if (member_id.size() > max_member_id_bytes)
      return too_long("assignments member_id", member_id.size(), max_member_id_bytes);
    if (assignment.size() > max_protocol_metadata_bytes)
      return too_long("assignment", assignment.size(), max_protocol_metadata_bytes);
  }
  if (req.protocol_type.size() > max_protocol_name_bytes)
    return too_long("protocol_type", req.protocol_type.size(), max_protocol_name_bytes);
  if (req.protocol_name.size() > max_protocol_name_bytes)
    return too_long("protocol name", req.protocol_name.size(), max_protocol_name_bytes);
  return status::ok();
}

status check_offset_commit(const std::string& member_id, const offset_commit_map& offsets) {
  if (auto st = check_member_id(member_id); !st)
    return st;
  for (auto& [tp, om] : offsets)
    if (om.offset < 0 || tp.partition < 0)
      return {errc::invalid_request, "cannot commit offset " + std::to_string(om.offset) +
                                       " for partition " + std::to_string(tp.partition)};
  return status::ok();
}

errc check_committed_partition(const topic_partition& tp, const offset_and_metadata& om,
                               const partition_counts& topics, int32_t metadata_max_bytes) {
  if (!validate_topic_name(tp.topic))
    return errc::invalid_topic_exception;
  auto t = topics.find(tp.topic);
  if (t == topics.end() || tp.partition < 0 || tp.partition >= t->second)
    return errc::unknown_topic_or_partition;
  if (om.metadata.size() > size_t(metadata_max_bytes))
    return errc::offset_metadata_too_large;
  return errc::none;
}

} // namespace al
