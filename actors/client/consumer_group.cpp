// The consumer's side of the group protocol inside the consumer actor: a
// thin shell over consumer_member_machine (which holds every decision and
// documents the states). This file feeds it the user's calls (subscribe,
// poll, revoke_done, commits, close) and its tick, and executes its effects
// in member_ready's order: the coordinator's handle, the fetcher's
// partitions, the rebalance events and commit outcomes for the polling
// thread. Requests to the coordinator and finding it:
// consumer_offsets.cpp.
#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/client/consumer_actor.hpp"

namespace al {

namespace {

using self_ptr = consumer_actor_ptr;
using phase = consumer_member_machine::phase;
using std::chrono::milliseconds;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0)
    return "unknown";
  return buf;
}

consumer_member_machine& machine(self_ptr self) { return *self->state.group.machine; }

void log_line(const consumer_state& st, const member_log& l) {
  switch (l.lvl) {
    case member_log::level::debug: spdlog::debug("consumer {}: {}", st.cfg.client_id, l.text); return;
    case member_log::level::info: spdlog::info("consumer {}: {}", st.cfg.client_id, l.text); return;
    case member_log::level::warn: spdlog::warn("consumer {}: {}", st.cfg.client_id, l.text); return;
    case member_log::level::error: spdlog::error("consumer {}: {}", st.cfg.client_id, l.text); return;
  }
}

/// Arms one member_tick_atom for the machine's next deadline (an earlier
/// one already armed stays).
void arm_tick(self_ptr self) {
  auto& g = self->state.group;
  auto at = g.machine->next_deadline_ms();
  if (!at || (g.tick_at_ms && g.tick_at_ms <= *at))
    return;
  g.tick_at_ms = *at;
  auto wait = std::max<int64_t>(*at - consumer_now_ms(), 1);
  self->delayed_send(self, milliseconds(wait), member_tick_atom::value, *at);
}

/// Effects 1-5 of member_ready: they change the fetcher.
void apply_to_fetcher(self_ptr self, member_ready& r) {
  auto& st = self->state;
  auto& g = st.group;
  if (r.forget_coordinator)
    coordinator_lost(self, *r.forget_coordinator, false);
  for (auto& ev : r.events)
    if (ev.what == rebalance_event::kind::revoked)
      ev.positions = consumed_positions(st, ev.partitions);
  for (auto& tp : r.stop_fetching) {
    st.parts[tp].revoking = true;
    drop_buffered(self, tp);
  }
  if (r.fetched)
    set_fetched_partitions(self, *r.fetched);
  for (auto& ev : r.events)
    g.events.push_back(std::move(ev));
}

void commit_async(self_ptr self, offset_commit_map offsets, uint64_t id) {
  auto commit = machine(self).commit(std::move(offsets), consumer_now_ms());
  self->state.group.commit_waiters.emplace(commit, [self, id](commit_outcome& c) {
    if (!c.result)
      spdlog::warn("consumer {}: commit failed: {}", self->state.cfg.client_id,
                   c.result.to_string());
    if (id != 0) // the user's callback runs with the next poll reply
      self->state.group.commits_done.push_back(commit_outcome{id, std::move(c.offsets), c.result});
  });
  run_member_ready(self);
}

caf::result<offset_commit_map> commit_sync(self_ptr self, offset_commit_map offsets,
                                           std::optional<int32_t> generation = std::nullopt) {
  if (self->state.cfg.group_id.empty())
    return make_error(errc::invalid_group_id, "commit needs group.id");
  auto rp = self->make_response_promise<offset_commit_map>();
  auto commit = machine(self).commit(offsets, consumer_now_ms(), generation);
  self->state.group.commit_waiters.emplace(commit, [rp, offsets](commit_outcome& c) mutable {
    if (c.result)
      rp.deliver(offsets);
    else
      rp.deliver(to_caf_error(c.result));
  });
  run_member_ready(self);
  return rp;
}

} // namespace

void run_member_ready(self_ptr self) {
  auto& st = self->state;
  auto& g = st.group;
  for (int round = 0; round < 100; ++round) {
    auto r = g.machine->take_ready();
    if (r.empty())
      break;
    apply_to_fetcher(self, r);
    for (auto& req : r.requests)
      send_member_request(self, std::move(req));
    if (r.find_coordinator) // answered through finish_finding; may feed the machine now
      find_coordinator_for_machine(self);
    for (auto& c : r.commits) {
      auto w = g.commit_waiters.find(c.id);
      if (w == g.commit_waiters.end())
        continue;
      auto done = std::move(w->second);
      g.commit_waiters.erase(w);
      done(c);
    }
    if (!r.fatal.is_ok())
      g.fatal = r.fatal;
    for (auto& l : r.log)
      log_line(st, l);
    if (r.closed) {
      auto closing = std::move(g.closing);
      g.closing.clear();
      for (auto& fn : closing)
        fn();
    }
  }
  deliver_poll(self);
  arm_tick(self);
}

void on_poll_for_group(self_ptr self) {
  machine(self).poll(consumer_now_ms());
  run_member_ready(self);
}

void on_coordinator_connection_lost(self_ptr self) {
  machine(self).coordinator_disconnected(consumer_now_ms());
  run_member_ready(self);
}

caf::behavior consumer_group_behavior(self_ptr self) {
  auto& st = self->state;
  consumer_member_config mc;
  mc.group_id = st.cfg.group_id;
  mc.client_id = st.cfg.client_id;
  mc.client_host = host_name();
  mc.assignor = st.cfg.partition_assignment_strategy;
  mc.session_timeout_ms = st.cfg.session_timeout_ms;
  mc.heartbeat_interval_ms = st.cfg.heartbeat_interval_ms;
  mc.max_poll_interval_ms = st.cfg.max_poll_interval_ms;
  mc.request_timeout_ms = st.cfg.request_timeout_ms;
  mc.retry_backoff_ms = st.cfg.retry_backoff_ms;
  st.group.machine.emplace(std::move(mc));
  return {
    [=](subscribe_atom, std::vector<std::string>& topics) {
      self->state.group.fatal = status::ok();
      machine(self).subscribe(std::move(topics), consumer_now_ms());
      run_member_ready(self);
    },
    [=](revoke_done_atom, uint64_t revocation) {
      machine(self).revoke_done(revocation, consumer_now_ms());
      run_member_ready(self);
    },
    [=](commit_atom) { // commit_sync(): everything poll() returned so far
      return commit_sync(self, consumed_positions(self->state));
    },
    [=](commit_atom, offset_commit_map& offsets) { return commit_sync(self, std::move(offsets)); },
    [=](commit_atom, offset_commit_map& offsets, int32_t generation) { // a revocation's positions
      return commit_sync(self, std::move(offsets), generation);
    },
    [=](commit_atom, uint64_t id) { commit_async(self, consumed_positions(self->state), id); },
    [=](commit_atom, offset_commit_map& offsets, uint64_t id) {
      commit_async(self, std::move(offsets), id);
    },
    [=](committed_atom, std::vector<topic_partition>& tps) {
      return committed(self, std::move(tps));
    },
    [=](member_tick_atom, int64_t at) {
      auto& g = self->state.group;
      if (at == g.tick_at_ms)
        g.tick_at_ms = 0;
      machine(self).tick(consumer_now_ms());
      run_member_ready(self);
    },
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
      g.closing.push_back([rp, outcomes]() mutable { rp.deliver(std::move(outcomes)); });
      machine(self).close(consumer_now_ms());
      run_member_ready(self);
      return rp;
    },
  };
}

} // namespace al
