// replica_machine: construction, role transitions, metadata, ready().
// The leader's work is in replica_leader.cpp, the follower's in
// replica_follower.cpp.
#include "actors/partition/replica_machine.hpp"

#include <algorithm>
#include <sstream>

#include "storage/assert.hpp"

namespace al {

const char* to_string(replica_role role) {
  switch (role) {
    case replica_role::none: return "none";
    case replica_role::follower: return "follower";
    case replica_role::leader: return "leader";
  }
  return "?";
}

const char* to_string(alter_isr_error e) {
  switch (e) {
    case alter_isr_error::none: return "NONE";
    case alter_isr_error::unknown_topic_or_partition: return "UNKNOWN_TOPIC_OR_PARTITION";
    case alter_isr_error::fenced_leader_epoch: return "FENCED_LEADER_EPOCH";
    case alter_isr_error::invalid_update_version: return "INVALID_UPDATE_VERSION";
    case alter_isr_error::ineligible_replica: return "INELIGIBLE_REPLICA";
    case alter_isr_error::invalid_request: return "INVALID_REQUEST";
  }
  return "?";
}

errc to_errc(alter_isr_error e) {
  switch (e) {
    case alter_isr_error::none: return errc::none;
    case alter_isr_error::unknown_topic_or_partition: return errc::unknown_topic_or_partition;
    case alter_isr_error::fenced_leader_epoch: return errc::fenced_leader_epoch;
    case alter_isr_error::invalid_update_version: return errc::invalid_update_version;
    case alter_isr_error::ineligible_replica: return errc::ineligible_replica;
    case alter_isr_error::invalid_request: return errc::invalid_request;
  }
  return errc::unknown_server_error;
}

std::string describe_ids(const std::vector<int32_t>& ids) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < ids.size(); ++i)
    os << (i ? ", " : "") << ids[i];
  os << ']';
  return os.str();
}

replica_machine::replica_machine(replica_config config, replica_log_state log)
  : config_(std::move(config)), log_start_(log.log_start_offset), leo_(log.log_end_offset),
    hw_(std::min(log.high_watermark, log.log_end_offset)), epochs_(std::move(log.epochs)) {
  AL_ASSERT(config_.broker_id >= 0, config_.broker_id);
  AL_ASSERT(leo_ >= 0 && hw_ >= 0, "leo", leo_, "hw", hw_);
  AL_ASSERT(log_start_ >= 0 && log_start_ <= leo_, "log start", log_start_, "leo", leo_);
  AL_ASSERT(epochs_.empty() || epochs_.entries().back().start_offset <= leo_,
            "epoch cache", epochs_.describe(), "beyond the log end", leo_);
  AL_ASSERT(config_.replica_lag_time_max_ms > 0 && config_.request_timeout_ms > 0);
}

void replica_machine::on_metadata(const partition_leadership& m, int64_t now_ms) {
  AL_ASSERT(m.leader_epoch >= 0, m.leader_epoch);
  if (m.leader_epoch < leader_epoch_)
    return; // stale: the controller has moved on since
  if (m.leader_epoch == leader_epoch_) {
    // Same epoch: same leader (the controller bumps the epoch on every
    // leader change); only the ISR can have moved.
    AL_ASSERT(role_ == replica_role::none || m.leader == leader_id_, "epoch", m.leader_epoch,
              "has leader", m.leader, "but this replica follows", leader_id_);
    if (role_ == replica_role::leader && m.partition_epoch > partition_epoch_)
      commit_isr(m.isr, m.partition_epoch);
    else if (role_ != replica_role::leader)
      partition_epoch_ = std::max(partition_epoch_, m.partition_epoch);
    return;
  }
  bool member = std::count(m.replicas.begin(), m.replicas.end(), config_.broker_id) > 0;
  if (!member || m.leader < 0)
    become_none(m.leader_epoch);
  else if (m.leader == config_.broker_id)
    become_leader(m, now_ms);
  else
    become_follower(m.leader, m.leader_epoch, now_ms);
  replicas_ = m.replicas;
  partition_epoch_ = m.partition_epoch;
}

void replica_machine::become_leader(const partition_leadership& m, int64_t now_ms) {
  auto self = config_.broker_id;
  AL_ASSERT(m.leader == self && m.leader_epoch >= leader_epoch_, "leader", m.leader, "epoch",
            m.leader_epoch, "current epoch", leader_epoch_);
  AL_ASSERT(std::count(m.isr.begin(), m.isr.end(), self) == 1, "leader", self,
            "not in ISR", describe_ids(m.isr));
  for (auto id : m.isr)
    AL_ASSERT(std::count(m.replicas.begin(), m.replicas.end(), id) == 1, "ISR member", id,
              "not a replica", describe_ids(m.replicas));
  // A new epoch while already leading (metadata jumped E -> E+2, or the
  // controller re-elected us) counts as a change too: the caller fails
  // fetches parked under the old epoch and checkpoints the new one before
  // any record of it is written (issue 12, item 5).
  if (role_ != replica_role::leader || m.leader_epoch != leader_epoch_)
    ready_.role_changed = true;
  role_ = replica_role::leader;
  leader_id_ = self;
  leader_epoch_ = m.leader_epoch;
  partition_epoch_ = m.partition_epoch;
  replicas_ = m.replicas;
  isr_ = m.isr;
  maximal_isr_ = m.isr;
  last_proposed_.clear();
  awaiting_metadata_ = false;
  epoch_first_proposal_id_ = next_proposal_id_;
  truncating_ = in_flight_ = false;
  // The new epoch starts at the log end (Kafka: maybeAssignEpochStartOffset).
  // Re-elected in the same epoch after a restart: keep its start.
  AL_ASSERT(epochs_.latest_epoch() <= leader_epoch_, "epoch cache", epochs_.describe(),
            "is ahead of leader epoch", leader_epoch_);
  epochs_.assign(leader_epoch_, leo_);
  epoch_start_offset_ = epochs_.start_offset_of(leader_epoch_);
  AL_ASSERT(epoch_start_offset_ >= 0 && epoch_start_offset_ <= leo_, epoch_start_offset_, leo_);
  reset_followers(now_ms);
  maybe_advance_hw(); // an ISR of one
}

void replica_machine::become_follower(int32_t leader_id, int32_t leader_epoch, int64_t now_ms) {
  AL_ASSERT(leader_id >= 0 && leader_id != config_.broker_id, "leader", leader_id);
  AL_ASSERT(leader_epoch >= leader_epoch_, "epoch", leader_epoch, "current", leader_epoch_);
  if (role_ == replica_role::leader)
    fail_acks(errc::not_leader_or_follower);
  if (role_ != replica_role::follower)
    ready_.role_changed = true;
  role_ = replica_role::follower;
  leader_id_ = leader_id;
  leader_epoch_ = leader_epoch;
  followers_.clear();
  isr_.clear();
  maximal_isr_.clear();
  epoch_start_offset_ = -1;
  start_truncation(now_ms);
}

void replica_machine::become_none(int32_t leader_epoch) {
  AL_ASSERT(leader_epoch >= leader_epoch_, "epoch", leader_epoch, "current", leader_epoch_);
  if (role_ == replica_role::leader)
    fail_acks(errc::not_leader_or_follower);
  if (role_ != replica_role::none)
    ready_.role_changed = true;
  role_ = replica_role::none;
  leader_id_ = -1;
  leader_epoch_ = leader_epoch;
  followers_.clear();
  isr_.clear();
  maximal_isr_.clear();
  truncating_ = in_flight_ = false;
}

errc replica_machine::check_leader_epoch(int32_t current_leader_epoch) const {
  if (current_leader_epoch >= 0 && current_leader_epoch < leader_epoch_)
    return errc::fenced_leader_epoch;
  // The requester claims metadata we have not seen. Kafka answers so and
  // changes nothing: only the controller's metadata moves leadership, and
  // the claim may be a client's invention (INT32_MAX would otherwise take
  // the partition offline until a restart).
  if (current_leader_epoch > leader_epoch_)
    return errc::unknown_leader_epoch;
  if (role_ != replica_role::leader)
    return errc::not_leader_or_follower;
  return errc::none;
}

std::optional<int64_t> replica_machine::next_tick_ms() const {
  if (role_ == replica_role::follower)
    return in_flight_ ? sent_ms_ + config_.request_timeout_ms : next_fetch_ms_;
  if (role_ != replica_role::leader || awaiting_metadata_)
    return std::nullopt;
  // A proposal out (or in doubt): its timeout, when maybe_change_isr looks
  // at every member again.
  if (!last_proposed_.empty() || maximal_isr_ != isr_)
    return last_proposed_ms_ + config_.request_timeout_ms;
  std::optional<int64_t> due;
  auto at = [&](int64_t t) { due = due ? std::min(*due, t) : t; };
  for (auto id : isr_) {
    if (id == config_.broker_id)
      continue;
    const auto& f = followers_.at(id);
    if (f.log_end_offset != leo_) // caught_up() turns false just after this
      at(f.last_caught_up_ms + config_.replica_lag_time_max_ms + 1);
  }
  return due;
}

void replica_machine::tick(int64_t now_ms) {
  if (role_ == replica_role::leader)
    maybe_change_isr(now_ms);
  else if (role_ == replica_role::follower)
    tick_follower(now_ms);
}

status not_leader_status(const std::string& where, int32_t node_id, int32_t leader) {
  return {errc::not_leader_or_follower,
          where + ": not the leader here (node " + std::to_string(node_id) + "); leader is " +
            (leader < 0 ? std::string{"unknown"} : "node " + std::to_string(leader))};
}

replica_ready replica_machine::ready() {
  replica_ready out = std::move(ready_);
  ready_ = replica_ready{};
  if (out.high_watermark)
    AL_ASSERT(*out.high_watermark == hw_ && hw_ <= leo_, "hw", hw_, "leo", leo_);
  if (out.truncate_to)
    AL_ASSERT(*out.truncate_to >= leo_ || role_ != replica_role::follower,
              "truncate to", *out.truncate_to, "below the counted log end", leo_);
  return out;
}

void replica_machine::set_hw(int64_t hw) {
  AL_ASSERT(hw >= 0 && hw <= leo_, "hw", hw, "leo", leo_);
  if (hw == hw_ && !ready_.high_watermark)
    return;
  AL_ASSERT(role_ != replica_role::leader || hw >= hw_, "a leader's HW went down from", hw_,
            "to", hw);
  hw_ = hw;
  ready_.high_watermark = hw;
}

const follower_progress* replica_machine::progress(int32_t follower) const {
  auto i = followers_.find(follower);
  return i == followers_.end() ? nullptr : &i->second;
}

} // namespace al
