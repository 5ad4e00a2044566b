// The consumer's side of the group protocol (Kafka's ConsumerCoordinator and
// heartbeat thread), inside the consumer actor:
//
//   subscribe / poll after a poll timeout
//     -> [eager, owns partitions] revoking: rebalance_event{revoked} to the
//        polling thread, which commits (auto commit), calls the listener and
//        answers revoke_done
//     -> joining: FindCoordinator (once), JoinGroup (MEMBER_ID_REQUIRED:
//        again with the id), held by the coordinator until the join phase ends
//     -> syncing: SyncGroup returns this member's assignment
//     -> stable: positions from OffsetFetch, rebalance_event{assigned},
//        heartbeats every heartbeat.interval.ms
//   heartbeat REBALANCE_IN_PROGRESS -> rejoin (eager: revoke first)
//   ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID -> partitions lost, rejoin
//   no poll for max.poll.interval.ms -> LeaveGroup, partitions lost, state
//   left; the next poll rejoins.
// This file: subscription, heartbeats, max.poll.interval.ms, LeaveGroup and
// the group's message handlers. Revoking, joining, syncing and taking over
// an assignment: consumer_rebalance_actor.cpp. Coordinator discovery and
// commits: consumer_offsets_actor.cpp.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/client/consumer_actor.hpp"

namespace al {

namespace {

using self_ptr = consumer_actor_ptr;
using phase = consumer_membership::phase;
using std::chrono::milliseconds;

// ---- heartbeats, leaving, max.poll.interval.ms -------------------------------

void on_heartbeat_response(self_ptr self, int32_t generation, errc e) {
  auto& g = self->state.group;
  if (generation != g.generation || (g.state != phase::stable && g.state != phase::revoking))
    return; // the member moved on meanwhile
  switch (e) {
    case errc::none: return;
    case errc::rebalance_in_progress: begin_rebalance(self); return;
    case errc::illegal_generation: rejoin_after_fencing(self, false); return;
    case errc::unknown_member_id: rejoin_after_fencing(self, true); return;
    default:
      if (is_coordinator_error(e))
        coordinator_lost(self, std::string(to_string(e)));
  }
}

void heartbeat_tick(self_ptr self, uint64_t seq) {
  auto& st = self->state;
  auto& g = st.group;
  if (seq != g.heartbeat_seq || (g.state != phase::stable && g.state != phase::revoking))
    return; // this loop was stopped
  self->delayed_send(self, milliseconds(st.cfg.heartbeat_interval_ms),
                     group_heartbeat_atom::value, seq);
  if (g.heartbeat_in_flight)
    return;
  if (!g.coordinator) {
    with_coordinator(self, [](const status&) {});
    return;
  }
  g.heartbeat_in_flight = true;
  auto generation = g.generation;
  self->request(*g.coordinator, request_timeout(self), group_heartbeat_atom::value,
                st.cfg.group_id, heartbeat_request{0, g.member_id, g.generation})
    .then(
      [self, generation](const heartbeat_response& r) {
        self->state.group.heartbeat_in_flight = false;
        on_heartbeat_response(self, generation, r.error);
      },
      [self](caf::error& err) {
        self->state.group.heartbeat_in_flight = false;
        on_request_failure(self, err);
      });
}

void send_leave(self_ptr self, std::function<void()> done) {
  auto& st = self->state;
  auto& g = st.group;
  if (!g.coordinator || g.member_id.empty()) {
    done();
    return;
  }
  auto timeout = std::min(request_timeout(self), milliseconds(5000));
  self->request(*g.coordinator, timeout, leave_group_atom::value, st.cfg.group_id,
                leave_group_request{0, g.member_id})
    .then([done](const leave_group_response&) { done(); },
          [done](caf::error&) { done(); });
}

void leave_for_poll_timeout(self_ptr self) {
  auto& st = self->state;
  auto& g = st.group;
  spdlog::warn("consumer {}: poll() was not called for max.poll.interval.ms ({} ms): "
               "leaving group {} so its partitions move; the next poll rejoins",
               st.cfg.client_id, st.cfg.max_poll_interval_ms, st.cfg.group_id);
  send_leave(self, [] {});
  lose_partitions(self);
  g.member_id.clear();
  g.generation = -1;
  g.state = phase::left;
  ++g.join_seq;
  ++g.heartbeat_seq;
}

void poll_check(self_ptr self) {
  auto& g = self->state.group;
  g.poll_timer_armed = false;
  if (g.state == phase::idle || g.state == phase::left || g.topics.empty())
    return;
  if (consumer_now_ms() >= g.poll_deadline_ms)
    leave_for_poll_timeout(self);
  else
    arm_poll_timer(self);
}

void subscribe(self_ptr self, std::vector<std::string> topics) {
  auto& g = self->state.group;
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  bool changed = topics != g.topics;
  g.topics = std::move(topics);
  g.fatal = status::ok();
  if (g.topics.empty()) { // unsubscribe: leave, give everything up
    send_leave(self, [] {});
    lose_partitions(self);
    g.member_id.clear();
    g.generation = -1;
    g.state = phase::idle;
    ++g.join_seq;
    ++g.heartbeat_seq;
    return;
  }
  g.poll_deadline_ms = consumer_now_ms() + self->state.cfg.max_poll_interval_ms;
  if (g.state == phase::idle || g.state == phase::left)
    begin_rebalance(self);
  else if (changed && g.state == phase::stable)
    begin_rebalance(self);
}

} // namespace

void start_heartbeats(self_ptr self) {
  auto& g = self->state.group;
  auto seq = ++g.heartbeat_seq;
  g.heartbeat_in_flight = false;
  self->delayed_send(self, milliseconds(self->state.cfg.heartbeat_interval_ms),
                     group_heartbeat_atom::value, seq);
}

void arm_poll_timer(self_ptr self) {
  auto& g = self->state.group;
  if (g.poll_timer_armed)
    return;
  g.poll_timer_armed = true;
  auto wait = std::max<int64_t>(g.poll_deadline_ms - consumer_now_ms(), 1);
  self->delayed_send(self, milliseconds(wait), poll_check_atom::value);
}

void on_poll_for_group(self_ptr self) {
  auto& st = self->state;
  auto& g = st.group;
  g.poll_deadline_ms = consumer_now_ms() + st.cfg.max_poll_interval_ms;
  if (g.topics.empty())
    return;
  if (g.state == phase::left)
    begin_rebalance(self);
  if (g.state == phase::stable || g.state == phase::revoking)
    arm_poll_timer(self);
}

caf::behavior consumer_group_behavior(self_ptr self) {
  return {
    [=](subscribe_atom, std::vector<std::string>& topics) { subscribe(self, std::move(topics)); },
    [=](revoke_done_atom, uint64_t revocation) { on_revoke_done(self, revocation); },
    [=](commit_atom) { // commit_sync(): everything poll() returned so far
      return commit_sync(self, consumed_positions(self->state));
    },
    [=](commit_atom, offset_commit_map& offsets) { return commit_sync(self, std::move(offsets)); },
    [=](commit_atom, uint64_t id) { commit_async(self, consumed_positions(self->state), id); },
    [=](commit_atom, offset_commit_map& offsets, uint64_t id) {
      commit_async(self, std::move(offsets), id);
    },
    [=](committed_atom, std::vector<topic_partition>& tps) {
      return committed(self, std::move(tps));
    },
    [=](group_heartbeat_atom, uint64_t seq) { heartbeat_tick(self, seq); },
    [=](poll_check_atom) { poll_check(self); },
    [=](retry_atom, uint64_t id) {
      auto& deferred = self->state.group.deferred;
      auto i = deferred.find(id);
      if (i == deferred.end())
        return;
      auto fn = std::move(i->second);
      deferred.erase(i);
      fn();
    },
    [=](close_atom) -> caf::result<std::vector<commit_outcome>> {
      auto& g = self->state.group;
      auto outcomes = std::move(g.commits_done);
      g.commits_done.clear();
      auto rp = self->make_response_promise<std::vector<commit_outcome>>();
      bool member = !g.topics.empty() && g.state != phase::idle && g.state != phase::left;
      ++g.join_seq;
      ++g.heartbeat_seq;
      g.state = phase::idle;
      if (!member) {
        rp.deliver(std::move(outcomes));
        return rp;
      }
      send_leave(self, [self, rp, outcomes]() mutable { rp.deliver(std::move(outcomes)); });
      return rp;
    },
  };
}

} // namespace al
