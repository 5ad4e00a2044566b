// Rebalancing, the heart of the consumer's side of the group protocol
// (Kafka's ConsumerCoordinator): an eager revocation before joining,
// JoinGroup, SyncGroup, and taking over the assignment; rejoining after
// fencing. The state machine as a whole: consumer_group_actor.cpp.
#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/client/consumer_actor.hpp"

namespace al {

namespace {

using self_ptr = consumer_actor_ptr;
using phase = consumer_membership::phase;
using std::chrono::milliseconds;

bool eager(const consumer_state& st) {
  return st.cfg.partition_assignment_strategy != "cooperative-sticky";
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0)
    return "unknown";
  return buf;
}

// ---- assignment changes -----------------------------------------------------

std::vector<topic_partition> minus(const std::vector<topic_partition>& a,
                                   const std::vector<topic_partition>& b) {
  std::vector<topic_partition> out;
  for (auto& tp : a)
    if (std::find(b.begin(), b.end(), tp) == b.end())
      out.push_back(tp);
  return out;
}

void on_assignment(self_ptr self, std::vector<topic_partition> assignment) {
  auto& st = self->state;
  auto& g = st.group;
  g.state = phase::stable;
  ++g.rebalances_total;
  auto revoked = minus(g.owned, assignment); // cooperative: taken away this generation
  auto added = minus(assignment, g.owned);
  if (!revoked.empty())
    g.events.push_back(rebalance_event{rebalance_event::kind::revoked, revoked, assignment,
                                       consumed_positions(st, revoked), 0});
  g.owned = assignment;
  g.previously_owned.clear();
  set_fetched_partitions(self, assignment); // new ones start at their committed offset
  g.events.push_back(rebalance_event{rebalance_event::kind::assigned,
                                     eager(st) ? assignment : added, assignment, {}, 0});
  spdlog::info("consumer {}: member {} of group {} generation {}: {} partition(s)",
               st.cfg.client_id, g.member_id, st.cfg.group_id, g.generation, assignment.size());
  start_heartbeats(self);
  arm_poll_timer(self);
  deliver_poll(self);
}

// ---- join and sync ----------------------------------------------------------

void retry_join(self_ptr self, uint64_t seq) {
  defer(self, self->state.cfg.retry_backoff_ms, [self, seq]() {
    auto& g = self->state.group;
    if (seq == g.join_seq && (g.state == phase::joining || g.state == phase::syncing))
      send_join(self);
  });
}

void send_sync(self_ptr self) {
  auto& st = self->state;
  auto& g = st.group;
  g.state = phase::syncing;
  auto seq = g.join_seq;
  self->request(*g.coordinator, request_timeout(self), sync_group_atom::value, st.cfg.group_id,
                sync_group_request{0, g.member_id, g.generation})
    .then(
      [self, seq](sync_group_response& r) {
        auto& grp = self->state.group;
        if (seq != grp.join_seq || grp.state != phase::syncing)
          return;
        switch (r.error) {
          case errc::none: on_assignment(self, std::move(r.assignment)); return;
          case errc::unknown_member_id: rejoin_after_fencing(self, true); return;
          case errc::illegal_generation: rejoin_after_fencing(self, false); return;
          case errc::rebalance_in_progress: send_join(self); return;
          default:
            if (is_coordinator_error(r.error))
              coordinator_lost(self, std::string(to_string(r.error)));
            retry_join(self, seq);
        }
      },
      [self, seq](caf::error& err) {
        if (seq != self->state.group.join_seq)
          return;
        on_request_failure(self, err);
        retry_join(self, seq);
      });
}

void on_join_response(self_ptr self, uint64_t seq, join_group_response& r) {
  auto& st = self->state;
  auto& g = st.group;
  if (seq != g.join_seq || g.state != phase::joining)
    return;
  switch (r.error) {
    case errc::none:
      g.member_id = r.member_id;
      g.generation = r.generation_id;
      g.protocol = r.protocol_name;
      send_sync(self);
      return;
    case errc::member_id_required: // KIP-394: join again with the id we were given
      g.member_id = r.member_id;
      send_join(self);
      return;
    case errc::unknown_member_id: rejoin_after_fencing(self, true); return;
    case errc::illegal_generation: rejoin_after_fencing(self, false); return;
    case errc::rebalance_in_progress: retry_join(self, seq); return;
    default: break;
  }
  if (is_coordinator_error(r.error)) {
    coordinator_lost(self, std::string(to_string(r.error)));
    retry_join(self, seq);
    return;
  }
  // INCONSISTENT_GROUP_PROTOCOL, INVALID_SESSION_TIMEOUT, ...: the user must act.
  g.fatal = status{r.error, "JoinGroup of group " + st.cfg.group_id + " failed"};
  g.state = phase::idle;
  spdlog::error("consumer {}: {}", st.cfg.client_id, g.fatal.to_string());
  deliver_poll(self);
}

} // namespace

// ---- rebalance and fencing ---------------------------------------------------

/// Partitions taken away without a revocation (fenced, expired, poll timeout).
void lose_partitions(self_ptr self) {
  auto& g = self->state.group;
  if (g.owned.empty())
    return;
  g.events.push_back(rebalance_event{rebalance_event::kind::lost, g.owned, {}, {}, 0});
  g.owned.clear();
  g.previously_owned.clear(); // no claim on partitions we lost
  set_fetched_partitions(self, {});
  deliver_poll(self);
}

/// ILLEGAL_GENERATION (keep the member id) or UNKNOWN_MEMBER_ID (forget it):
/// the partitions are lost, join again.
void rejoin_after_fencing(self_ptr self, bool forget_member_id) {
  auto& g = self->state.group;
  lose_partitions(self);
  g.generation = -1;
  if (forget_member_id)
    g.member_id.clear();
  send_join(self);
}

/// Starts a rebalance: eager assignors revoke everything first (through the
/// polling thread), cooperative ones join with what they own.
void begin_rebalance(self_ptr self) {
  auto& st = self->state;
  auto& g = st.group;
  if (g.topics.empty() || g.state == phase::revoking || g.state == phase::joining ||
      g.state == phase::syncing)
    return;
  if (eager(st) && !g.owned.empty()) {
    g.state = phase::revoking;
    auto positions = consumed_positions(st, g.owned);
    for (auto& tp : g.owned) {
      st.parts[tp].revoking = true;
      drop_buffered(self, tp);
    }
    g.events.push_back(
      rebalance_event{rebalance_event::kind::revoked, g.owned, {}, positions, ++g.revocation});
    deliver_poll(self);
    return;
  }
  send_join(self);
}

/// The polling thread handled an eager revocation: join owning nothing, but
/// keep what was owned as the sticky assignors' claim.
void on_revoke_done(self_ptr self, uint64_t revocation) {
  auto& g = self->state.group;
  if (g.state != phase::revoking || revocation != g.revocation)
    return;
  g.previously_owned = std::move(g.owned);
  g.previous_generation = g.generation;
  g.owned.clear();
  set_fetched_partitions(self, {});
  send_join(self);
}

void send_join(self_ptr self) {
  auto& g = self->state.group;
  g.state = phase::joining;
  ++g.heartbeat_seq; // no heartbeats while the join is held
  auto seq = ++g.join_seq;
  with_coordinator(self, [self, seq](const status& found) {
    auto& st = self->state;
    auto& grp = st.group;
    if (seq != grp.join_seq || grp.state != phase::joining)
      return;
    if (!found) {
      spdlog::debug("consumer {}: no coordinator yet: {}", st.cfg.client_id, found.to_string());
      retry_join(self, seq);
      return;
    }
    join_group_request req;
    req.member_id = grp.member_id;
    req.client_id = st.cfg.client_id;
    req.client_host = host_name();
    req.session_timeout_ms = int32_t(st.cfg.session_timeout_ms);
    req.rebalance_timeout_ms = int32_t(st.cfg.max_poll_interval_ms);
    // Owned partitions are the sticky assignors' claims (eager: what the
    // member had before it revoked them for this rebalance).
    bool revoked_all = eager(st) && grp.owned.empty();
    member_subscription sub{grp.topics, revoked_all ? grp.previously_owned : grp.owned,
                            revoked_all ? grp.previous_generation : grp.generation};
    req.protocols = {group_protocol{st.cfg.partition_assignment_strategy, std::move(sub)}};
    // The coordinator holds the join up to the rebalance timeout (Kafka: + 5 s).
    auto timeout = milliseconds(st.cfg.max_poll_interval_ms + 5000 + st.cfg.request_timeout_ms);
    self->request(*grp.coordinator, timeout, join_group_atom::value, st.cfg.group_id, req)
      .then([self, seq](join_group_response& r) { on_join_response(self, seq, r); },
            [self, seq](caf::error& err) {
              if (seq != self->state.group.join_seq)
                return;
              on_request_failure(self, err);
              retry_join(self, seq);
            });
  });
}

/// The connection to the coordinator dropped: a held JoinGroup or
/// SyncGroup answer is lost with it, so join again (with the coordinator
/// found anew) instead of waiting for the join's long timeout.
void on_coordinator_connection_lost(self_ptr self) {
  auto& g = self->state.group;
  coordinator_lost(self, "connection to the coordinator lost");
  if (g.state == phase::joining || g.state == phase::syncing)
    send_join(self);
}

} // namespace al
