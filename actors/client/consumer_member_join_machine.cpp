// consumer_member_machine: rebalancing, the heart of the consumer's side of
// the group protocol. An eager revocation before joining, JoinGroup,
// SyncGroup, taking over the assignment; losing partitions and rejoining
// after fencing. The state machine as a whole: consumer_member_machine.hpp.
#include <algorithm>

#include "actors/client/consumer_member_machine.hpp"

namespace al {

namespace {

std::vector<topic_partition> minus(const std::vector<topic_partition>& a,
                                   const std::vector<topic_partition>& b) {
  std::vector<topic_partition> out;
  for (auto& tp : a)
    if (std::find(b.begin(), b.end(), tp) == b.end())
      out.push_back(tp);
  return out;
}

} // namespace

/// Starts a rebalance: eager assignors revoke everything first (through the
/// polling thread), cooperative ones join with what they own.
void consumer_member_machine::begin_rebalance() {
  if (topics_.empty() || phase_ == phase::revoking || phase_ == phase::joining ||
      phase_ == phase::syncing)
    return;
  if (config_.eager() && !owned_.empty()) {
    phase_ = phase::revoking; // still a member: heartbeats go on, commits are accepted
    ready_.stop_fetching.insert(ready_.stop_fetching.end(), owned_.begin(), owned_.end());
    ready_.events.push_back(
      rebalance_event{rebalance_event::kind::revoked, owned_, {}, {}, ++revocation_, generation_});
    return;
  }
  send_join();
}

/// The polling thread handled an eager revocation: join owning nothing, but
/// keep what was owned as the sticky assignors' claim.
void consumer_member_machine::revoke_done(uint64_t revocation, int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  if (phase_ != phase::revoking || revocation != revocation_)
    return;
  previously_owned_ = std::move(owned_);
  previous_generation_ = generation_;
  owned_.clear();
  ready_.fetched = std::vector<topic_partition>{};
  send_join();
}

void consumer_member_machine::send_join() {
  phase_ = phase::joining;
  next_heartbeat_ms_ = 0; // no heartbeats while the join is held
  sync_step_ = false;
  send_join_step();
}

/// Sends the join or sync under way, once the coordinator is known.
void consumer_member_machine::send_join_step() {
  join_seq_ = 0, join_retry_at_ms_ = 0;
  if (!coordinator_known_) {
    join_waits_coordinator_ = true;
    return need_coordinator();
  }
  join_waits_coordinator_ = false;
  if (sync_step_)
    return send_sync();
  join_group_request req;
  req.member_id = member_id_;
  req.client_id = config_.client_id;
  req.client_host = config_.client_host;
  req.session_timeout_ms = int32_t(config_.session_timeout_ms);
  req.rebalance_timeout_ms = int32_t(config_.max_poll_interval_ms);
  // Owned partitions are the sticky assignors' claims (eager: what the
  // member had before it revoked them for this rebalance).
  bool revoked_all = config_.eager() && owned_.empty();
  member_subscription sub{topics_, revoked_all ? previously_owned_ : owned_,
                          revoked_all ? previous_generation_ : generation_};
  req.protocols = {group_protocol{config_.assignor, std::move(sub)}};
  // The coordinator holds the join up to the rebalance timeout.
  auto timeout =
    config_.max_poll_interval_ms + config_.join_timeout_slack_ms + config_.request_timeout_ms;
  join_seq_ = send(std::move(req), timeout, in_flight{kind::join});
}

void consumer_member_machine::send_sync() {
  phase_ = phase::syncing;
  sync_step_ = true;
  if (!coordinator_known_) { // lost between the join's answer and now
    join_seq_ = 0;
    join_waits_coordinator_ = true;
    return need_coordinator();
  }
  join_seq_ = send(sync_group_request{0, member_id_, generation_}, config_.request_timeout_ms,
                   in_flight{kind::sync});
}

void consumer_member_machine::retry_join() {
  join_seq_ = 0;
  join_retry_at_ms_ = now_ms_ + config_.retry_backoff_ms;
}

void consumer_member_machine::on_join_response(uint64_t seq, const join_group_response& r) {
  if (seq != join_seq_ || phase_ != phase::joining)
    return;
  join_seq_ = 0;
  switch (r.error) {
    case errc::none:
      member_id_ = r.member_id;
      generation_ = r.generation_id;
      protocol_ = r.protocol_name;
      return send_sync();
    case errc::member_id_required: // KIP-394: join again with the id we were given
      member_id_ = r.member_id;
      return send_join();
    case errc::unknown_member_id: return rejoin_after_fencing(true);
    case errc::illegal_generation: return rejoin_after_fencing(false);
    case errc::rebalance_in_progress: return retry_join();
    default: break;
  }
  if (is_coordinator_error(r.error)) {
    forget_coordinator(std::string(to_string(r.error)));
    return retry_join();
  }
  // INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT, ...: the user must act.
  ready_.fatal = status{r.error, "JoinGroup of group " + config_.group_id + " failed"};
  phase_ = phase::idle;
  log(member_log::level::error, ready_.fatal.to_string());
}

void consumer_member_machine::on_sync_response(uint64_t seq, const sync_group_response& r) {
  if (seq != join_seq_ || phase_ != phase::syncing)
    return;
  join_seq_ = 0;
  switch (r.error) {
    case errc::none: return on_assignment(r.assignment);
    case errc::unknown_member_id: return rejoin_after_fencing(true);
    case errc::illegal_generation: return rejoin_after_fencing(false);
    case errc::rebalance_in_progress: return send_join();
    default:
      if (is_coordinator_error(r.error))
        forget_coordinator(std::string(to_string(r.error)));
      retry_join();
  }
}

void consumer_member_machine::on_assignment(std::vector<topic_partition> assignment) {
  phase_ = phase::stable;
  ++rebalances_total_;
  auto revoked = minus(owned_, assignment); // cooperative: taken away this generation
  auto added = minus(assignment, owned_);
  if (!revoked.empty())
    ready_.events.push_back(
      rebalance_event{rebalance_event::kind::revoked, revoked, assignment, {}, 0, generation_});
  owned_ = assignment;
  previously_owned_.clear();
  ready_.fetched = assignment; // new ones start at their committed offset
  ready_.events.push_back(rebalance_event{rebalance_event::kind::assigned,
                                          config_.eager() ? assignment : added, assignment, {},
                                          0, generation_});
  log(member_log::level::info, "member " + member_id_ + " of group " + config_.group_id +
                                 " generation " + std::to_string(generation_) + ": " +
                                 std::to_string(assignment.size()) + " partition(s)");
  next_heartbeat_ms_ = now_ms_ + config_.heartbeat_interval_ms;
  heartbeat_in_flight_ = false;
  poll_check_armed_ = true;
}

/// Partitions taken away without a revocation (fenced, expired, poll timeout).
void consumer_member_machine::lose_partitions() {
  if (owned_.empty())
    return;
  // Revoking: the polling thread was already told to give them up (the
  // revoked event's `owned` is empty); telling it they are lost too would
  // name partitions its listener no longer has.
  if (phase_ != phase::revoking)
    ready_.events.push_back(
      rebalance_event{rebalance_event::kind::lost, owned_, {}, {}, 0, generation_});
  owned_.clear();
  previously_owned_.clear(); // no claim on partitions we lost
  ready_.fetched = std::vector<topic_partition>{};
}

/// ILLEGAL_GENERATION (keep the member id) or UNKNOWN_MEMBER_ID (forget it):
/// the partitions are lost, join again.
void consumer_member_machine::rejoin_after_fencing(bool forget_member_id) {
  lose_partitions();
  generation_ = -1;
  if (forget_member_id)
    member_id_.clear();
  send_join();
}

/// Unsubscribed or gone past max.poll.interval.ms: no longer a member.
void consumer_member_machine::leave_group_state(phase to) {
  lose_partitions();
  member_id_.clear();
  generation_ = -1;
  phase_ = to;
  join_seq_ = 0, join_waits_coordinator_ = false, join_retry_at_ms_ = 0;
  next_heartbeat_ms_ = 0;
  poll_check_armed_ = false;
}

} // namespace al
