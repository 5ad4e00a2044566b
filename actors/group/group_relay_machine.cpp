// Relay generations: Kafka's classic group protocol, for Kafka wire clients
// (join_group_request::client_assigns). The coordinator picks the protocol
// and a leader that assigns itself, relays every member's metadata to it in
// its JoinGroup response, takes everyone's assignment bytes from its
// SyncGroup and hands each member its own. For protocol type "consumer" the
// bytes are Kafka's consumer protocol, which the coordinator decodes for
// its own CAF members, commit checks and describe; other types (Connect's
// "connect", ...) stay opaque. Server-side generations (the coordinator
// runs the assignor) share the helpers that build responses and records.
#include <algorithm>

#include "actors/group/consumer_protocol.hpp"
#include "actors/group/group_machine.hpp"

namespace al {

void group_machine::choose_mode_and_leader() {
  AL_ASSERT(!members_.empty());
  relay_ = std::any_of(members_.begin(), members_.end(),
                       [](auto& e) { return e.second.client_assigns; });
  auto leads = [&](const std::string& id) {
    auto it = members_.find(id);
    return it != members_.end() && (!relay_ || it->second.client_assigns);
  };
  if (leads(leader_)) // the leader stays while it qualifies (as Kafka)
    return;
  auto first = std::find_if(members_.begin(), members_.end(),
                            [&](auto& e) { return leads(e.first); });
  AL_ASSERT(first != members_.end(), relay_);
  leader_ = first->first;
}

const group_protocol& group_machine::chosen_protocol(const member& m) const {
  auto p = std::find_if(m.protocols.begin(), m.protocols.end(),
                        [&](auto& x) { return x.name == protocol_name_; });
  AL_ASSERT(p != m.protocols.end(), m.member_id, protocol_name_);
  return *p;
}

bytes group_machine::metadata_in_protocol(const member& m) const {
  auto& p = chosen_protocol(m);
  // Our clients send their subscription decoded; their groups are always
  // of type "consumer" (check_join_request), so a Kafka leader reads it as
  // a ConsumerProtocolSubscription.
  return m.client_assigns ? p.metadata : encode_subscription(p.subscription);
}

void group_machine::take_leader_assignment(const sync_group_request& req, int64_t now) {
  AL_ASSERT(relay_ && !assignment_ready_ && req.member_id == leader_, req.member_id, leader_);
  std::map<std::string, bytes> sent;
  size_t strangers = 0;
  for (auto& [id, a] : req.assignments) {
    if (members_.count(id))
      sent[id] = a; // a repeated id: the last one counts (as Kafka's toMap)
    else
      ++strangers;
  }
  assignment_.clear();
  assignment_bytes_.clear();
  for (auto& [id, m] : members_) {
    auto it = sent.find(id);
    auto& raw = assignment_bytes_[id] = it != sent.end() ? it->second : bytes{};
    auto& decoded = assignment_[id]; // left empty when the bytes do not decode
    if (protocol_type_ == "consumer" && !raw.empty())
      if (auto d = decode_assignment(byte_view{raw}))
        decoded = std::move(*d);
  }
  assignment_ready_ = true;
  log(now, "leader " + leader_ + " sent the assignment of " + std::to_string(sent.size()) +
             " of " + std::to_string(members_.size()) + " members" +
             (strangers ? " (" + std::to_string(strangers) + " unknown ids ignored)" : ""));
}

bool group_machine::sync_protocol_matches(const sync_group_request& req) const {
  return (req.protocol_type.empty() || req.protocol_type == protocol_type_) &&
         (req.protocol_name.empty() || req.protocol_name == protocol_name_);
}

void group_machine::fill_share(sync_group_response& r, const std::string& member_id) const {
  AL_ASSERT(assignment_ready_, member_id);
  r.protocol_name = protocol_name_;
  r.protocol_type = protocol_type_;
  r.assignment = assignment_.at(member_id);
  r.assignment_bytes = assignment_bytes_.at(member_id);
}

group_metadata group_machine::generation_metadata(int64_t now) const {
  AL_ASSERT(assignment_ready_, generation_);
  group_metadata md{protocol_type_, generation_, protocol_name_, leader_, now, {}};
  for (auto& [id, m] : members_) {
    group_member_metadata gm{id, m.client_id, m.client_host, m.rebalance_timeout_ms,
                             m.session_timeout_ms, chosen_protocol(m).subscription,
                             assignment_.at(id), std::nullopt, std::nullopt};
    if (relay_) { // opaque bytes, stored as they came (as Kafka)
      gm.subscription_bytes = metadata_in_protocol(m);
      gm.assignment_bytes = assignment_bytes_.at(id);
    }
    md.members.push_back(std::move(gm));
  }
  return md;
}

} // namespace al
