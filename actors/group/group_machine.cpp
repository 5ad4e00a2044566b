// group_machine: construction, time, outputs, queries and the group-wide
// inputs (tick, topic metadata, delete, unload). Joins are in
// group_join_machine.cpp, sync/heartbeat/leave in
// group_membership_machine.cpp, offsets in group_offsets_machine.cpp.
#include "actors/group/group_machine.hpp"

#include <algorithm>

#include "actors/group/group_limits.hpp"

namespace al {

group_request_id request_id_of(const group_response& r) {
  return std::visit([](auto& x) { return x.request_id; }, r);
}

errc error_of(const group_response& r) {
  return std::visit([](auto& x) { return x.error; }, r);
}

group_machine::group_machine(group_config config, partition_counts topics,
                             group_offsets offsets, int64_t now_ms)
  : config_(std::move(config)), topics_(std::move(topics)), offsets_(std::move(offsets)),
    now_ms_(now_ms), generation_(config_.initial_generation_id) {
  AL_ASSERT(!config_.group_id.empty());
  AL_ASSERT(generation_ >= 0, generation_);
  AL_ASSERT(config_.min_session_timeout_ms <= config_.max_session_timeout_ms,
            config_.min_session_timeout_ms, config_.max_session_timeout_ms);
  AL_ASSERT(config_.initial_rebalance_delay_ms >= 0, config_.initial_rebalance_delay_ms);
  AL_ASSERT(config_.offset_metadata_max_bytes >= 0 &&
                config_.offset_metadata_max_bytes <= max_offset_metadata_bytes,
            config_.offset_metadata_max_bytes);
  AL_ASSERT(config_.group_max_size >= 1, config_.group_max_size);
}

void group_machine::advance_clock(int64_t now) {
  AL_ASSERT(now >= now_ms_, "time went backwards:", now, "<", now_ms_);
  now_ms_ = now;
}

void group_machine::transition(group_state to, int64_t now, const std::string& why) {
  // Kafka's valid previous states for each target state.
  auto from = state_;
  switch (to) {
    case group_state::preparing_rebalance:
      AL_ASSERT(from == group_state::empty || from == group_state::stable ||
                    from == group_state::completing_rebalance,
                to_string(from));
      break;
    case group_state::completing_rebalance:
    case group_state::empty:
      AL_ASSERT(from == group_state::preparing_rebalance, to_string(from));
      break;
    case group_state::stable:
      AL_ASSERT(from == group_state::completing_rebalance, to_string(from));
      break;
    case group_state::dead: break;
  }
  state_ = to;
  ready_.events.push_back(group_event{now, from, to, generation_, why});
}

void group_machine::log(int64_t now, std::string what) {
  ready_.events.push_back(group_event{now, state_, state_, generation_, std::move(what)});
}

join_group_response group_machine::join_error(group_request_id id, errc e,
                                              std::string member_id) {
  join_group_response r;
  r.request_id = id;
  r.error = e;
  r.member_id = std::move(member_id);
  return r;
}

sync_group_response group_machine::sync_error(group_request_id id, errc e) {
  sync_group_response r;
  r.request_id = id;
  r.error = e;
  return r;
}

std::string group_machine::new_member_id(const std::string& client_id) {
  // Kafka uses client_id + "-" + a random UUID; a counter plus the salt is
  // unique too and keeps the simulator deterministic.
  auto id = (client_id.empty() ? std::string("member") : client_id) + "-" +
            config_.member_id_salt + std::to_string(++next_member_seq_);
  AL_ASSERT(!members_.count(id) && !pending_members_.count(id), id);
  return id;
}

group_ready group_machine::take_ready() {
  group_ready out = std::move(ready_);
  ready_ = group_ready{};
  return out;
}

std::optional<int64_t> group_machine::next_deadline_ms() const {
  std::optional<int64_t> next;
  auto consider = [&](int64_t t) { next = next ? std::min(*next, t) : t; };
  for (auto& [id, expiry] : pending_members_)
    consider(expiry);
  if (state_ == group_state::empty || state_ == group_state::dead)
    return next;
  for (auto& [id, m] : members_)
    if (!m.pending_join && !m.pending_sync)
      consider(m.last_heartbeat_ms + m.session_timeout_ms);
  if (sync_deadline_ms_ != 0 &&
      std::any_of(members_.begin(), members_.end(),
                  [](auto& e) { return !e.second.synced && !e.second.pending_sync; }))
    consider(sync_deadline_ms_);
  if (state_ == group_state::preparing_rebalance) {
    consider(rebalance_deadline_ms_);
    if (join_not_before_ms_ > now_ms_) // a passed one needs no tick (avoids a busy loop)
      consider(join_not_before_ms_);
  }
  return next;
}

void group_machine::tick(int64_t now) {
  advance_clock(now);
  if (state_ == group_state::dead)
    return;
  expire_sessions(now);
  expire_pending_syncs(now);
  settle(now);
}

void group_machine::on_topic_partitions(const std::string& topic, int32_t partitions,
                                        int64_t now) {
  advance_clock(now);
  if (partitions < 0 || partitions > max_topic_partitions)
    return log(now, "ignored partition count " + std::to_string(partitions) + " of topic " +
                      topic);
  auto old = topics_.count(topic) ? topics_[topic] : 0;
  topics_[topic] = partitions;
  if (old == partitions || !subscribed_topics().count(topic))
    return;
  if (state_ == group_state::stable || state_ == group_state::completing_rebalance)
    prepare_rebalance(now, "topic " + topic + " now has " + std::to_string(partitions) +
                               " partitions (was " + std::to_string(old) + ")");
  settle(now);
}

errc group_machine::delete_group(int64_t now) {
  advance_clock(now);
  if (state_ == group_state::dead)
    return errc::group_id_not_found;
  if (state_ != group_state::empty)
    return errc::non_empty_group;
  AL_ASSERT(members_.empty(), members_.size());
  for (auto& [pid, commit] : pending_commits_)
    respond(offset_commit_response{commit.request_id, errc::coordinator_not_available, {}});
  pending_commits_.clear();
  pending_group_writes_.clear(); // of generations long over: nobody waits on them
  offsets_.clear();
  transition(group_state::dead, now, "group deleted");
  return errc::none;
}

void group_machine::unload(int64_t now) {
  advance_clock(now);
  if (state_ == group_state::dead)
    return;
  for (auto& [id, m] : members_)
    if (m.pending_join)
      respond(join_error(*m.pending_join, errc::not_coordinator, id));
  for (auto& [pid, commit] : pending_commits_)
    respond(offset_commit_response{commit.request_id, errc::not_coordinator, {}});
  pending_commits_.clear();
  answer_held_syncs(errc::not_coordinator);
  pending_group_writes_.clear();
  members_.clear();
  pending_members_.clear();
  assignment_.clear();
  assignment_bytes_.clear();
  assignment_ready_ = false;
  transition(group_state::dead, now, "coordinator unloaded the group");
}

bool group_machine::forgettable() const {
  return state_ == group_state::empty && members_.empty() && pending_members_.empty() &&
         offsets_.empty() && pending_commits_.empty() && pending_group_writes_.empty();
}

std::set<std::string> group_machine::subscribed_topics() const {
  std::set<std::string> out;
  for (auto& [id, m] : members_)
    for (auto& p : m.protocols)
      out.insert(p.subscription.topics.begin(), p.subscription.topics.end());
  return out;
}

group_description group_machine::describe() const {
  group_description d;
  d.group_id = config_.group_id;
  d.state = state_;
  d.protocol_type = protocol_type_;
  d.protocol_name = protocol_name_;
  d.generation_id = generation_;
  d.leader_id = leader_;
  for (auto& [id, m] : members_) {
    member_description md;
    md.member_id = id;
    md.client_id = m.client_id;
    md.client_host = m.client_host;
    md.session_timeout_ms = m.session_timeout_ms;
    md.rebalance_timeout_ms = m.rebalance_timeout_ms;
    bool in_protocol = false; // a newcomer may not support the current protocol yet
    for (auto& p : m.protocols) {
      if (p.name == protocol_name_ || (protocol_name_.empty() && md.topics.empty()))
        md.topics = p.subscription.topics;
      in_protocol = in_protocol || p.name == protocol_name_;
    }
    if (in_protocol)
      md.metadata = metadata_in_protocol(m);
    if (auto it = assignment_.find(id); it != assignment_.end())
      md.assignment = it->second;
    if (auto it = assignment_bytes_.find(id); it != assignment_bytes_.end())
      md.assignment_bytes = it->second;
    d.members.push_back(std::move(md));
  }
  d.offsets = offsets_;
  return d;
}

} // namespace al
