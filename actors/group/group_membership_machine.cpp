// SyncGroup (held until the generation's metadata is written), Heartbeat,
// LeaveGroup, session expiry, and settle(): the step every input ends with
// (finish a join phase that can finish, start the cooperative follow-up
// rebalance once revocations are acknowledged).
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
  auto error = validate_member(req.member_id, req.generation_id);
  if (error == errc::none && !sync_protocol_matches(req))
    error = errc::inconsistent_group_protocol; // SyncGroup v5 (as Kafka)
  if (error == errc::none && state_ == group_state::preparing_rebalance)
    error = errc::rebalance_in_progress; // this generation's assignment is being replaced
  if (error != errc::none)
    return respond(sync_error(req.request_id, error));
  auto& m = members_.at(req.member_id);
  m.last_heartbeat_ms = now;
  if (state_ == group_state::completing_rebalance) {
    // Server-side, the assignment exists already, so the first member to
    // sync has it written; relay, the leader's sync brings it (Kafka's
    // way). Every sync waits for that write.
    if (m.pending_sync) // superseded by this one
      respond(sync_error(*m.pending_sync, errc::rebalance_in_progress));
    m.pending_sync = req.request_id;
    if (relay_ && !assignment_ready_ && req.member_id == leader_)
      take_leader_assignment(req, now);
    if (assignment_ready_ && !assignment_write_started_)
      start_assignment_write(now);
    return;
  }
  AL_ASSERT(state_ == group_state::stable, to_string(state_));
  m.synced = true;
  sync_group_response r;
  r.request_id = req.request_id;
  fill_share(r, req.member_id);
  respond(std::move(r));
  settle(now);
}

void group_machine::start_assignment_write(int64_t now) {
  AL_ASSERT(state_ == group_state::completing_rebalance && !assignment_write_started_,
            to_string(state_));
  assignment_write_started_ = true;
  auto md = generation_metadata(now);
  auto persist_id = next_persist_id_++;
  pending_group_writes_.emplace(persist_id, generation_);
  ready_.persist_group.push_back(persist_group_effect{persist_id, config_.group_id, std::move(md)});
}

void group_machine::on_assignment_written(int32_t generation, errc append_error, int64_t now) {
  // Only the generation still completing may use the outcome: one that
  // moved on already answered its syncs (REBALANCE_IN_PROGRESS).
  if (state_ != group_state::completing_rebalance || generation != generation_)
    return log(now, "generation " + std::to_string(generation) +
                      ": the outcome of its metadata write came after the group moved on");
  if (append_error != errc::none) {
    answer_held_syncs(sync_error_for(append_error));
    prepare_rebalance(now, "writing generation " + std::to_string(generation) +
                             " to the offsets partition failed (" +
                             std::string(to_string(append_error)) + ")");
    return settle(now);
  }
  transition(group_state::stable, now,
             "generation " + std::to_string(generation) + " written to the offsets partition");
  answer_held_syncs(errc::none);
  settle(now);
}

void group_machine::answer_held_syncs(errc error) {
  for (auto& [id, m] : members_) {
    if (!m.pending_sync)
      continue;
    auto r = sync_error(*m.pending_sync, error);
    m.pending_sync.reset();
    if (error == errc::none) {
      AL_ASSERT(state_ == group_state::stable, to_string(state_));
      m.synced = true;
      m.last_heartbeat_ms = now_ms_; // it waited on us, not on its session
      fill_share(r, id);
    }
    respond(std::move(r));
  }
}

errc sync_error_for(errc append_error) {
  switch (append_error) {
    case errc::none: return errc::none;
    // As Kafka: the partition is not ours to write (any more).
    case errc::not_leader_or_follower:
    case errc::kafka_storage_error:
    // Kafka answers REBALANCE_IN_PROGRESS here. But an acks=all append on a
    // deposed leader is never acknowledged (the new leader does not fetch
    // from it) and ends in a timeout, and a rejoin would go to the same
    // stale coordinator; NOT_COORDINATOR sends the members to
    // FindCoordinator, which costs one lookup if we are still the leader.
    case errc::request_timed_out:
    case errc::network_exception: return errc::not_coordinator;
    case errc::unknown_topic_or_partition:
    case errc::not_enough_replicas:
    case errc::not_enough_replicas_after_append: return errc::coordinator_not_available;
    default: return errc::unknown_server_error; // as Kafka (a record too large, ...)
  }
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
    respond(join_error(*it->second.pending_join, errc::unknown_member_id, member_id));
  if (it->second.pending_sync)
    respond(sync_error(*it->second.pending_sync, errc::unknown_member_id));
  members_.erase(it);
  assignment_.erase(member_id);
  assignment_bytes_.erase(member_id);
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
  // rebalance timeout (as Kafka's awaiting-join members); one waiting in a
  // sync by the metadata write's timeout.
  std::vector<std::string> expired;
  for (auto& [id, m] : members_)
    if (!m.pending_join && !m.pending_sync && now >= m.last_heartbeat_ms + m.session_timeout_ms)
      expired.push_back(id);
  for (auto& id : expired)
    remove_member(id, now, "member " + id + " removed: session timeout expired");
}

void group_machine::expire_pending_syncs(int64_t now) {
  if (sync_deadline_ms_ == 0 || now < sync_deadline_ms_)
    return;
  sync_deadline_ms_ = 0;
  if (state_ != group_state::completing_rebalance && state_ != group_state::stable)
    return;
  // A relay generation's leader that heartbeats but never syncs would hold
  // the group in CompletingRebalance for ever, and a member that never
  // fetched its assignment holds its partitions unread.
  std::vector<std::string> silent;
  for (auto& [id, m] : members_)
    if (!m.synced && !m.pending_sync)
      silent.push_back(id);
  for (auto& id : silent)
    remove_member(id, now, "member " + id + " removed: no SyncGroup within the rebalance timeout of generation " +
                             std::to_string(generation_));
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
