// consumer_member_machine: offset commits. A member's commit is fenced by
// its generation here before the coordinator fences it: it carries the
// member id and generation it was made in, and each attempt leaves only
// while the member is still in that generation, stable or revoking before a
// rejoin (Kafka's generationIfStable); otherwise it fails without a request
// (REBALANCE_IN_PROGRESS while joining, ILLEGAL_GENERATION when the member
// moved on or is not in the group). A commit without a subscription
// (assign()) goes as nobody. Coordinator errors are retried after
// retry.backoff.ms until request.timeout.ms after the commit began.
#include "actors/client/consumer_member_machine.hpp"

namespace al {

uint64_t consumer_member_machine::commit(offset_commit_map offsets, int64_t now,
                                         std::optional<int32_t> generation) {
  now_ms_ = std::max(now_ms_, now);
  auto id = next_commit_++;
  if (offsets.empty()) {
    ready_.commits.push_back(commit_outcome{id, {}, status::ok()});
    return id;
  }
  if (config_.group_id.empty()) {
    ++commits_failed_;
    ready_.commits.push_back(
      commit_outcome{id, std::move(offsets), status{errc::invalid_group_id, "commit needs group.id"}});
    return id;
  }
  pending_commit c;
  c.offsets = std::move(offsets);
  c.as_member = !topics_.empty();
  c.member_id = member_id_;
  c.generation = generation.value_or(generation_);
  c.deadline_ms = now_ms_ + config_.request_timeout_ms;
  commits_.emplace(id, std::move(c));
  send_commit(id);
  return id;
}

void consumer_member_machine::send_commit(uint64_t id) {
  auto& c = commits_.at(id);
  if (c.as_member) {
    bool in_generation = (phase_ == phase::stable || phase_ == phase::revoking) &&
                         generation_ >= 0 && generation_ == c.generation &&
                         member_id_ == c.member_id;
    if (!in_generation) {
      bool rebalancing = phase_ == phase::joining || phase_ == phase::syncing;
      return finish_commit(
        id, rebalancing ? status{errc::rebalance_in_progress,
                                 "commit to group " + config_.group_id + ": rebalancing"}
                        : status{errc::illegal_generation,
                                 "commit to group " + config_.group_id + " from generation " +
                                   std::to_string(c.generation) + ": not a member of it"});
    }
  }
  if (!coordinator_known_) {
    c.waiting_coordinator = true;
    return need_coordinator();
  }
  in_flight f{kind::commit};
  f.commit = id;
  offset_commit_request req{0, c.as_member ? c.member_id : "", c.as_member ? c.generation : -1,
                            c.offsets};
  send(std::move(req), config_.request_timeout_ms, f);
}

void consumer_member_machine::on_commit_response(uint64_t id, const offset_commit_response& r) {
  if (!commits_.count(id))
    return;
  if (r.error == errc::none) {
    ++commits_total_;
    return finish_commit(id, status::ok());
  }
  if (is_coordinator_error(r.error))
    forget_coordinator(std::string(to_string(r.error)));
  retry_or_fail(id, status{r.error, "commit to group " + config_.group_id});
}

void consumer_member_machine::retry_or_fail(uint64_t id, const status& s) {
  auto& c = commits_.at(id);
  if (is_coordinator_error(s.code()) && now_ms_ + config_.retry_backoff_ms < c.deadline_ms) {
    c.retry_at_ms = now_ms_ + config_.retry_backoff_ms;
    return;
  }
  finish_commit(id, s);
}

void consumer_member_machine::finish_commit(uint64_t id, const status& s) {
  auto it = commits_.find(id);
  AL_ASSERT(it != commits_.end(), id);
  if (!s)
    ++commits_failed_;
  ready_.commits.push_back(commit_outcome{id, std::move(it->second.offsets), s});
  commits_.erase(it);
}

} // namespace al
