// SyncGroup, Heartbeat, LeaveGroup, session expiry, and settle(): the step
// every input ends with (finish a join phase that can finish, start the
// cooperative follow-up rebalance once revocations are acknowledged).
#include <algorithm>

#include "actors/group/group_machine.hpp"

namespace al {

errc group_machine::validate_member(const std::string& member_id, int32_t generation_id) const {
  if (state_ == group_state::dead)
    return errc::coordinator_not_available;
  if (!members_.count(member_id))
    return errc::unknown_member_id;
  if (generation_id != generation_)
    return errc::illegal_generation;
  return errc::none;
}

void group_machine::on_sync(const sync_group_request& req, int64_t now) {
  advance_clock(now);
  sync_group_response r{req.request_id, validate_member(req.member_id, req.generation_id),
                        {}, {}};
  if (r.error == errc::none && state_ == group_state::preparing_rebalance)
    r.error = errc::rebalance_in_progress; // this generation's assignment is being replaced
  if (r.error != errc::none)
    return respond(std::move(r));
  // The assignment is already computed, so the first member to sync ends the
  // rebalance (in Kafka it is the leader, who brings the assignment).
  if (state_ == group_state::completing_rebalance)
    transition(group_state::stable, now, "member " + req.member_id + " synced");
  AL_ASSERT(state_ == group_state::stable, to_string(state_));
  auto& m = members_.at(req.member_id);
  m.synced = true;
  m.last_heartbeat_ms = now;
  r.protocol_name = protocol_name_;
  r.assignment = assignment_.at(req.member_id);
  respond(std::move(r));
  settle(now);
}

void group_machine::on_heartbeat(const heartbeat_request& req, int64_t now) {
  advance_clock(now);
  heartbeat_response r{req.request_id, validate_member(req.member_id, req.generation_id)};
  if (r.error == errc::none) {
    members_.at(req.member_id).last_heartbeat_ms = now;
    if (state_ == group_state::preparing_rebalance)
      r.error = errc::rebalance_in_progress; // tells the member to rejoin
  }
  respond(std::move(r));
}

void group_machine::on_leave(const leave_group_request& req, int64_t now) {
  advance_clock(now);
  leave_group_response r{req.request_id, errc::none};
  if (state_ == group_state::dead) {
    r.error = errc::coordinator_not_available;
  } else if (pending_members_.erase(req.member_id)) {
    log(now, "member " + req.member_id + " left before its first join completed");
  } else if (members_.count(req.member_id)) {
    remove_member(req.member_id, now, "member " + req.member_id + " left the group");
  } else {
    r.error = errc::unknown_member_id;
  }
  respond(std::move(r));
  settle(now);
}

void group_machine::remove_member(const std::string& member_id, int64_t now,
                                  const std::string& reason) {
  auto it = members_.find(member_id);
  AL_ASSERT(it != members_.end(), member_id);
  if (it->second.pending_join)
    respond(join_group_response{*it->second.pending_join, errc::unknown_member_id, -1, {}, {},
                                member_id, {}});
  members_.erase(it);
  assignment_.erase(member_id);
  log(now, reason);
  if (state_ == group_state::stable || state_ == group_state::completing_rebalance)
    prepare_rebalance(now, reason);
  // In PreparingRebalance the join may now be complete: settle() checks.
}

void group_machine::expire_sessions(int64_t now) {
  for (auto it = pending_members_.begin(); it != pending_members_.end();) {
    if (now >= it->second) {
      log(now, "pending member " + it->first + " expired before rejoining");
      it = pending_members_.erase(it);
    } else {
      ++it;
    }
  }
  // A member waiting in a join is alive: the join itself is bounded by the
  // rebalance timeout (as Kafka's awaiting-join members).
  std::vector<std::string> expired;
  for (auto& [id, m] : members_)
    if (!m.pending_join && now >= m.last_heartbeat_ms + m.session_timeout_ms)
      expired.push_back(id);
  for (auto& id : expired)
    remove_member(id, now, "member " + id + " removed: session timeout expired");
}

void group_machine::settle(int64_t now) {
  maybe_complete_join(now);
  if (state_ != group_state::stable || revoking_.empty())
    return;
  bool all_synced = std::all_of(members_.begin(), members_.end(),
                                [](auto& e) { return e.second.synced; });
  if (all_synced) // every old owner has its revocation; hand the partitions out
    prepare_rebalance(now, "cooperative: reassign " + std::to_string(revoking_.size()) +
                               " revoked partitions");
}

} // namespace al
