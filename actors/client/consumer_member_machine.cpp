// consumer_member_machine: subscription, poll deadline, heartbeats, leaving,
// the coordinator's whereabouts, requests in flight and their deadlines.
// Joining and syncing: consumer_member_join_machine.cpp; commits:
// consumer_member_commit_machine.cpp.
#include "actors/client/consumer_member_machine.hpp"

#include <algorithm>

namespace al {

bool is_coordinator_error(errc e) {
  return e == errc::not_coordinator || e == errc::coordinator_not_available ||
         e == errc::coordinator_load_in_progress || e == errc::request_timed_out ||
         e == errc::network_exception;
}

std::string_view to_string(consumer_member_machine::phase p) {
  using phase = consumer_member_machine::phase;
  switch (p) {
    case phase::idle: return "idle";
    case phase::revoking: return "revoking";
    case phase::joining: return "joining";
    case phase::syncing: return "syncing";
    case phase::stable: return "stable";
    case phase::left: return "left";
  }
  return "unknown";
}

consumer_member_machine::consumer_member_machine(consumer_member_config config)
    : config_(std::move(config)) {
  AL_ASSERT(config_.heartbeat_interval_ms > 0 && config_.request_timeout_ms > 0,
            config_.heartbeat_interval_ms, config_.request_timeout_ms);
}

// ---- the polling thread ------------------------------------------------------

void consumer_member_machine::subscribe(std::vector<std::string> topics, int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  bool changed = topics != topics_;
  topics_ = std::move(topics);
  if (topics_.empty()) { // unsubscribe: leave, give everything up
    send_leave();
    leave_group_state(phase::idle);
    return;
  }
  poll_deadline_ms_ = now_ms_ + config_.max_poll_interval_ms;
  if (phase_ == phase::idle || phase_ == phase::left || (changed && phase_ == phase::stable))
    begin_rebalance();
}

void consumer_member_machine::poll(int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  poll_deadline_ms_ = now_ms_ + config_.max_poll_interval_ms;
  if (topics_.empty())
    return;
  if (phase_ == phase::left)
    begin_rebalance();
  if (phase_ == phase::stable || phase_ == phase::revoking)
    poll_check_armed_ = true;
}

void consumer_member_machine::close(int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  bool member = !topics_.empty() && phase_ != phase::idle && phase_ != phase::left;
  join_seq_ = 0, join_waits_coordinator_ = false, join_retry_at_ms_ = 0;
  next_heartbeat_ms_ = 0;
  poll_check_armed_ = false;
  phase_ = phase::idle;
  close_seq_ = 0;
  if (member && send_leave())
    close_seq_ = next_seq_ - 1;
  else
    ready_.closed = true;
}

// ---- the coordinator -----------------------------------------------------------

void consumer_member_machine::coordinator_found(int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  finding_ = false;
  coordinator_known_ = true;
  if (join_waits_coordinator_) {
    join_waits_coordinator_ = false;
    send_join_step();
  }
  for (auto& [id, c] : commits_)
    if (c.waiting_coordinator) {
      c.waiting_coordinator = false;
      send_commit(id);
    }
}

void consumer_member_machine::coordinator_not_found(const status& why, int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  finding_ = false;
  if (join_waits_coordinator_) {
    join_waits_coordinator_ = false;
    log(member_log::level::debug, "no coordinator yet: " + why.to_string());
    retry_join();
  }
  std::vector<uint64_t> waiting;
  for (auto& [id, c] : commits_)
    if (c.waiting_coordinator)
      waiting.push_back(id);
  for (auto id : waiting) {
    commits_.at(id).waiting_coordinator = false;
    retry_or_fail(id, why);
  }
}

void consumer_member_machine::coordinator_lost(const std::string& why, int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  if (coordinator_known_)
    log(member_log::level::info, "group coordinator lost: " + why);
  coordinator_known_ = false;
}

void consumer_member_machine::coordinator_disconnected(int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  // A held JoinGroup or SyncGroup answer is lost with the connection: join
  // again (the coordinator found anew) instead of waiting for its long timeout.
  forget_coordinator("connection to the coordinator lost");
  if (phase_ == phase::joining || phase_ == phase::syncing)
    send_join();
}

void consumer_member_machine::forget_coordinator(const std::string& why) {
  if (coordinator_known_) {
    log(member_log::level::info, "group coordinator lost: " + why);
    ready_.forget_coordinator = why;
  }
  coordinator_known_ = false;
}

void consumer_member_machine::need_coordinator() {
  if (finding_)
    return;
  finding_ = true;
  ready_.find_coordinator = true;
}

// ---- requests ------------------------------------------------------------------

uint64_t consumer_member_machine::send(member_request_body body, int64_t timeout_ms,
                                       in_flight what) {
  AL_ASSERT(coordinator_known_ && timeout_ms > 0, timeout_ms);
  auto seq = next_seq_++;
  what.deadline_ms = now_ms_ + timeout_ms;
  in_flight_.emplace(seq, what);
  ready_.requests.push_back(member_request{seq, timeout_ms, std::move(body)});
  return seq;
}

bool consumer_member_machine::send_leave() {
  if (!coordinator_known_ || member_id_.empty())
    return false;
  send(leave_group_request{0, member_id_}, std::min<int64_t>(config_.request_timeout_ms, 5000),
       in_flight{kind::leave});
  return true;
}

void consumer_member_machine::on_response(uint64_t seq, const group_response& r, int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  auto it = in_flight_.find(seq);
  if (it == in_flight_.end())
    return; // failed already (deadline), or answered twice
  auto f = it->second;
  in_flight_.erase(it);
  switch (f.what) {
    case kind::join: return on_join_response(seq, std::get<join_group_response>(r));
    case kind::sync: return on_sync_response(seq, std::get<sync_group_response>(r));
    case kind::heartbeat:
      heartbeat_in_flight_ = false;
      return on_heartbeat_response(f.generation, std::get<heartbeat_response>(r).error);
    case kind::leave:
      if (seq == close_seq_)
        ready_.closed = true;
      return;
    case kind::commit: return on_commit_response(f.commit, std::get<offset_commit_response>(r));
  }
}

void consumer_member_machine::on_request_failed(uint64_t seq, errc e, const std::string& why,
                                                int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  auto it = in_flight_.find(seq);
  if (it == in_flight_.end())
    return;
  auto f = it->second;
  in_flight_.erase(it);
  on_failed(seq, f, e, why);
}

void consumer_member_machine::on_failed(uint64_t seq, const in_flight& f, errc e,
                                        const std::string& why) {
  if (is_coordinator_error(e))
    forget_coordinator(why);
  switch (f.what) {
    case kind::join:
    case kind::sync:
      if (seq == join_seq_)
        retry_join();
      return;
    case kind::heartbeat: heartbeat_in_flight_ = false; return;
    case kind::leave:
      if (seq == close_seq_)
        ready_.closed = true;
      return;
    case kind::commit:
      if (commits_.count(f.commit))
        retry_or_fail(f.commit, status{e, why});
      return;
  }
}

// ---- time ------------------------------------------------------------------------

void consumer_member_machine::tick(int64_t now) {
  now_ms_ = std::max(now_ms_, now);
  std::vector<std::pair<uint64_t, in_flight>> expired;
  for (auto& [seq, f] : in_flight_)
    if (f.deadline_ms <= now_ms_)
      expired.emplace_back(seq, f);
  for (auto& [seq, f] : expired) {
    in_flight_.erase(seq);
    on_failed(seq, f, errc::request_timed_out, "request timed out");
  }
  if (join_retry_at_ms_ && now_ms_ >= join_retry_at_ms_) {
    join_retry_at_ms_ = 0;
    if (phase_ == phase::joining || phase_ == phase::syncing)
      send_join();
  }
  std::vector<uint64_t> retry;
  for (auto& [id, c] : commits_)
    if (c.retry_at_ms && now_ms_ >= c.retry_at_ms)
      retry.push_back(id);
  for (auto id : retry) {
    commits_.at(id).retry_at_ms = 0;
    send_commit(id);
  }
  if (poll_check_armed_ && now_ms_ >= poll_deadline_ms_ && !topics_.empty() &&
      phase_ != phase::idle && phase_ != phase::left) {
    log(member_log::level::warn,
        "poll() was not called for max.poll.interval.ms (" +
          std::to_string(config_.max_poll_interval_ms) + " ms): leaving group " +
          config_.group_id + " so its partitions move; the next poll rejoins");
    send_leave();
    leave_group_state(phase::left);
  }
  if (next_heartbeat_ms_ && now_ms_ >= next_heartbeat_ms_)
    heartbeat_tick();
}

std::optional<int64_t> consumer_member_machine::next_deadline_ms() const {
  std::optional<int64_t> at;
  auto consider = [&at](int64_t t) {
    if (t > 0 && (!at || t < *at))
      at = t;
  };
  for (auto& [seq, f] : in_flight_)
    consider(f.deadline_ms);
  consider(join_retry_at_ms_);
  for (auto& [id, c] : commits_)
    consider(c.retry_at_ms);
  consider(next_heartbeat_ms_);
  if (poll_check_armed_ && phase_ != phase::idle && phase_ != phase::left)
    consider(std::max<int64_t>(poll_deadline_ms_, 1));
  return at;
}

// ---- heartbeats ------------------------------------------------------------------

void consumer_member_machine::heartbeat_tick() {
  if (phase_ != phase::stable && phase_ != phase::revoking) {
    next_heartbeat_ms_ = 0;
    return;
  }
  next_heartbeat_ms_ = now_ms_ + config_.heartbeat_interval_ms;
  if (heartbeat_in_flight_)
    return;
  if (!coordinator_known_)
    return need_coordinator();
  heartbeat_in_flight_ = true;
  in_flight f{kind::heartbeat};
  f.generation = generation_;
  send(heartbeat_request{0, member_id_, generation_}, config_.request_timeout_ms, f);
}

void consumer_member_machine::on_heartbeat_response(int32_t generation, errc e) {
  if (generation != generation_ || (phase_ != phase::stable && phase_ != phase::revoking))
    return; // the member moved on meanwhile
  switch (e) {
    case errc::none: return;
    case errc::rebalance_in_progress: return begin_rebalance();
    case errc::illegal_generation: return rejoin_after_fencing(false);
    case errc::unknown_member_id: return rejoin_after_fencing(true);
    default:
      if (is_coordinator_error(e))
        forget_coordinator(std::string(to_string(e)));
  }
}

// ---- effects ---------------------------------------------------------------------

void consumer_member_machine::log(member_log::level lvl, std::string text) {
  ready_.log.push_back(member_log{lvl, std::move(text)});
}

member_ready consumer_member_machine::take_ready() {
  member_ready out = std::move(ready_);
  ready_ = member_ready{};
  return out;
}

} // namespace al
