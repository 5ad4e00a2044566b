// OffsetCommit (validate, persist effect, reply after the ack) and
// OffsetFetch. Commit validation follows Kafka's classic group:
//  - member id or generation given: the member must exist and the
//    generation must be the current one (ILLEGAL_GENERATION fences zombies);
//  - neither given (assign() without membership): only while Empty;
//  - CompletingRebalance: REBALANCE_IN_PROGRESS. PreparingRebalance still
//    accepts the current generation: members commit what they processed
//    before rejoining, and they still own their partitions until the new
//    generation's assignment exists.
// Then each partition on its own (topic name, topic and partition known,
// metadata size; group_limits.hpp): refused ones get their code in the
// reply, the others are written.
#include "actors/group/group_machine.hpp"
#include "actors/group/group_limits.hpp"

namespace al {

namespace {

errc validate_commit(group_state state, bool known_member, int32_t current_generation,
                     const offset_commit_request& req) {
  if (state == group_state::dead)
    return errc::coordinator_not_available;
  if (req.generation_id >= 0 || !req.member_id.empty()) {
    if (!known_member)
      return errc::unknown_member_id;
    if (req.generation_id != current_generation)
      return errc::illegal_generation;
  } else if (state != group_state::empty) {
    return errc::unknown_member_id;
  }
  if (state == group_state::completing_rebalance)
    return errc::rebalance_in_progress;
  return errc::none;
}

} // namespace

void group_machine::on_offset_commit(const offset_commit_request& req, int64_t now) {
  advance_clock(now);
  auto error = validate_commit(state_, is_member(req.member_id), generation_, req);
  if (error != errc::none || req.offsets.empty())
    return respond(offset_commit_response{req.request_id, error, {}});
  if (auto it = members_.find(req.member_id); it != members_.end())
    it->second.last_heartbeat_ms = now; // a commit shows the member is alive (as Kafka)
  AL_ASSERT(req.generation_id == generation_ || req.generation_id < 0, req.generation_id);
  // Each partition on its own (as Kafka): a refused one does not stop the others.
  pending_commit commit{req.request_id, {}, {}};
  for (auto& [tp, om] : req.offsets) {
    auto e = check_committed_partition(tp, om, topics_, config_.offset_metadata_max_bytes);
    if (e != errc::none)
      commit.refused.emplace(tp, e);
    else
      commit.offsets[tp] =
          group_offset{om.offset, om.metadata, req.generation_id, now, om.leader_epoch};
  }
  if (commit.offsets.empty())
    return respond(commit_response(commit, errc::none));
  auto id = next_persist_id_++;
  ready_.persist.push_back(
      persist_offsets_effect{id, config_.group_id, req.member_id, req.generation_id,
                             commit.offsets});
  pending_commits_.emplace(id, std::move(commit));
}

void group_machine::on_persisted(uint64_t persist_id, errc append_error, int64_t now) {
  advance_clock(now);
  if (state_ == group_state::dead)
    return; // unload() already answered the commit and the syncs
  if (auto w = pending_group_writes_.find(persist_id); w != pending_group_writes_.end()) {
    AL_ASSERT(w == pending_group_writes_.begin(), "group writes must be acknowledged in order:",
              persist_id, pending_group_writes_.begin()->first);
    auto generation = w->second;
    pending_group_writes_.erase(w);
    return on_assignment_written(generation, append_error, now);
  }
  AL_ASSERT(!pending_commits_.empty() && pending_commits_.begin()->first == persist_id,
            "persist acks must come in order:", persist_id);
  auto commit = std::move(pending_commits_.begin()->second);
  pending_commits_.erase(pending_commits_.begin());
  if (append_error == errc::none)
    for (auto& [tp, row] : commit.offsets)
      offsets_[tp] = row;
  respond(commit_response(commit, commit_error_for(append_error)));
}

void group_machine::install_offsets(const group_offsets& offsets) {
  for (auto& [tp, row] : offsets)
    offsets_[tp] = row;
}

errc commit_error_for(errc append_error) {
  switch (append_error) {
    case errc::none: return errc::none;
    // As Kafka: the batch can never fit, so retrying cannot help.
    case errc::message_too_large:
    case errc::record_list_too_large:
    case errc::invalid_fetch_size: return errc::invalid_commit_offset_size;
    case errc::not_leader_or_follower: return errc::not_coordinator;
    case errc::not_enough_replicas: return errc::not_enough_replicas;
    // Kafka maps other log failures to a retriable coordinator error.
    default: return errc::coordinator_not_available;
  }
}

offset_commit_response group_machine::commit_response(const pending_commit& commit,
                                                      errc written) const {
  offset_commit_response r{commit.request_id, written, commit.refused};
  if (written == errc::none && !commit.refused.empty())
    r.error = commit.refused.begin()->second;
  return r;
}

result<group_offsets>
group_machine::fetch_offsets(const std::vector<topic_partition>& partitions) const {
  if (state_ == group_state::dead)
    return status{errc::coordinator_not_available, "group " + config_.group_id + " is dead"};
  if (partitions.empty())
    return offsets_;
  group_offsets out;
  for (auto& tp : partitions) {
    auto it = offsets_.find(tp);
    out[tp] = it != offsets_.end() ? it->second : group_offset{};
  }
  return out;
}

} // namespace al
