#include "actors/group/group_coordinator_actor.hpp"

#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/group/group_limits.hpp"
#include "actors/group/group_metadata_record.hpp"
#include "actors/group/group_placement.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

using self_ptr = group_coordinator_ptr;
using std::chrono::milliseconds;

coordinated_group& get_or_add(self_ptr self, const std::string& group_id) {
  if (auto g = find_group(self, group_id))
    return *g;
  return add_group(self, group_id, {}, 0);
}

/// Registers a response promise under a fresh request id and stamps it on `req`.
template <class Req>
void hold(self_ptr self, coordinated_group& g, Req& req) {
  req.request_id = self->state.next_request_id++;
  g.waiting.emplace(req.request_id, self->make_response_promise());
}

/// Feeds append outcomes to the machine in the order the appends were made.
/// An outcome for another incarnation of the group (deleted, or forgotten
/// and created again since) is dropped: its machine already answered.
void on_written(self_ptr self, const std::string& group_id, uint64_t incarnation,
                uint64_t persist_id, errc result) {
  auto g = find_group(self, group_id);
  if (!g || g->incarnation != incarnation)
    return;
  g->written[persist_id] = result;
  auto now = coordinator_now_ms(self);
  while (!g->persisting.empty() && g->written.count(g->persisting.front())) {
    auto id = g->persisting.front();
    g->persisting.pop_front();
    g->machine->on_persisted(id, g->written[id], now);
    g->written.erase(id);
  }
  process(self, group_id);
}

/// Appends the commit to the offsets partition; the machine answers the
/// committer only once the append succeeded. Then the SQLite view.
void persist(self_ptr self, coordinated_group& g, persist_offsets_effect effect) {
  AL_ASSERT(!effect.offsets.empty(), effect.persist_id);
  g.persisting.push_back(effect.persist_id);
  auto batch = offset_commit_batch(effect.group_id, effect.offsets,
                                   effect.offsets.begin()->second.commit_time_ms);
  auto id = effect.persist_id;
  auto incarnation = g.incarnation;
  auto group_id = effect.group_id;
  auto generation = effect.generation_id;
  auto rows = store_rows(effect.offsets);
  auto committed = effect.offsets;
  self->request(self->state.setup.log, milliseconds(self->state.setup.request_timeout_ms),
                produce_atom::value, offsets_append(self, std::move(batch)))
    .then(
      [=](const produce_response& r) {
        if (self->state.setup.store)
          self->send(self->state.setup.store, offset_commit_atom::value, group_id, generation,
                     rows);
        // A plain commit written after a pending transactional one wins
        // at its marker (txn_offsets_machine).
        if (auto grp = find_group(self, group_id);
            grp && grp->incarnation == incarnation && !grp->txn_offsets.producers().empty())
          grp->txn_offsets.on_plain_commit_appended(committed, r.base_offset);
        on_written(self, group_id, incarnation, id, errc::none);
      },
      [=](caf::error& err) {
        spdlog::warn("group {}: offsets append failed: {}", group_id, describe_error(err));
        on_written(self, group_id, incarnation, id, error_code_of(err));
      });
}

/// Appends the generation's metadata (acks=all) before any member gets its
/// assignment: on a deposed leader the append fails or times out, so a
/// stale coordinator hands out nothing (issue 12).
void persist_group(self_ptr self, coordinated_group& g, const persist_group_effect& effect) {
  g.persisting.push_back(effect.persist_id);
  auto batch = group_metadata_batch(effect.group_id, effect.metadata, coordinator_now_ms(self));
  auto id = effect.persist_id;
  auto incarnation = g.incarnation;
  auto group_id = effect.group_id;
  auto generation = effect.metadata.generation_id;
  self->request(self->state.setup.log, milliseconds(self->state.setup.request_timeout_ms),
                produce_atom::value, offsets_append(self, std::move(batch)))
    .then([=](const produce_response&) { on_written(self, group_id, incarnation, id, errc::none); },
          [=](caf::error& err) {
            spdlog::warn("group {}: writing generation {} failed: {}", group_id, generation,
                         describe_error(err));
            on_written(self, group_id, incarnation, id, error_code_of(err));
          });
}

void deliver(coordinated_group& g, group_response& r) {
  auto i = g.waiting.find(request_id_of(r));
  if (i == g.waiting.end())
    return;
  std::visit([&](auto& x) { i->second.deliver(std::move(x)); }, r);
  g.waiting.erase(i);
}

void arm_timer(self_ptr self, const std::string& group_id, coordinated_group& g) {
  auto next = g.machine->next_deadline_ms();
  if (!next || (g.timer_at && *g.timer_at <= *next))
    return;
  g.timer_at = next;
  auto wait = std::max<int64_t>(*next - coordinator_now_ms(self), 0);
  self->delayed_send(self, milliseconds(wait), group_tick_atom::value, group_id, *next);
}

/// The common path of join/sync/heartbeat/leave/commit: checks (all of them
/// before a group is created), a held promise, the machine input, the effects.
template <class Resp, class Req, class Feed>
caf::result<Resp> handle(self_ptr self, const std::string& group_id, Req& req, bool create,
                         const status& checked, Feed feed) {
  if (auto err = check_group_request(self, group_id))
    return err;
  if (!checked)
    return to_caf_error(checked);
  auto g = create ? &get_or_add(self, group_id) : find_group(self, group_id);
  if (!g) {
    Resp r;
    r.error = errc::unknown_member_id; // no such group: nobody is a member
    return r;
  }
  hold(self, *g, req);
  feed(*g->machine, req, coordinator_now_ms(self));
  process(self, group_id);
  return caf::delegated<Resp>{};
}

caf::result<offset_commit_response> on_alter_offsets(self_ptr self, const std::string& group_id,
                                                     offset_commit_map& offsets) {
  if (auto err = check_group_request(self, group_id))
    return err;
  if (auto g = find_group(self, group_id); g && g->machine->member_count() > 0)
    return make_error(errc::non_empty_group,
                      "group " + group_id + " has " + std::to_string(g->machine->member_count()) +
                        " active member(s) (" + std::string(to_string(g->machine->state())) +
                        "); offsets can only be reset while it has none");
  auto checked = check_offset_commit("", offsets);
  offset_commit_request req{0, "", -1, std::move(offsets)};
  return handle<offset_commit_response>(
    self, group_id, req, true, checked,
    [](group_machine& m, const offset_commit_request& r, int64_t now) { m.on_offset_commit(r, now); });
}

/// Handlers that keep the coordinator up whatever a sender does with its
/// handle (it leaks to clients as the sender of every delegated reply).
void set_lifecycle_handlers(self_ptr self) {
  auto partition = self->state.setup.partition;
  self->set_default_handler([partition](caf::scheduled_actor*, caf::message_view&)
                              -> caf::result<caf::message> {
    spdlog::warn("group coordinator {}-{}: dropped an unexpected message", offsets_topic_name,
                 partition);
    return caf::sec::unexpected_message;
  });
  self->set_error_handler([partition](caf::scheduled_actor*, caf::error& err) {
    spdlog::warn("group coordinator {}-{}: ignored an error message: {}", offsets_topic_name,
                 partition, describe_error(err));
  });
  // Nothing is linked to the coordinator: any exit message is a stranger's
  // and is ignored (exit_reason::kill cannot be; the broker then starts a
  // new coordinator). Its broker is monitored: when it ends, so does this.
  self->set_exit_handler([partition](caf::scheduled_actor*, caf::exit_msg& em) {
    spdlog::warn("group coordinator {}-{}: ignored an exit message ({})", offsets_topic_name,
                 partition, describe_error(em.reason));
  });
  self->set_down_handler([self](caf::scheduled_actor*, caf::down_msg& dm) {
    if (dm.source != self->state.setup.owner)
      return;
    spdlog::info("group coordinator {}-{}: its broker ended ({})", offsets_topic_name,
                 self->state.setup.partition, describe_error(dm.reason));
    unload(self);
  });
  self->set_exception_handler([partition](caf::scheduled_actor*, std::exception_ptr& ep)
                                -> caf::error {
    // State may be half-updated: quit; the broker starts a new coordinator,
    // which reloads everything from the offsets partition.
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("group coordinator {}-{}: {}; stopping", offsets_topic_name, partition, what);
    return make_error(errc::unknown_server_error, "group coordinator: " + what);
  });
  if (auto& owner = self->state.setup.owner)
    self->monitor(owner);
}

} // namespace

coordinated_group* find_group(group_coordinator_ptr self, const std::string& group_id) {
  auto i = self->state.groups.find(group_id);
  return i == self->state.groups.end() ? nullptr : &i->second;
}

caf::error check_group_request(group_coordinator_ptr self, const std::string& group_id) {
  if (!self->state.loaded)
    return make_error(errc::coordinator_not_available,
                      "the coordinator of " + std::string(offsets_topic_name) + "-" +
                        std::to_string(self->state.setup.partition) + " is loading");
  if (auto st = check_group_id(group_id); !st)
    return to_caf_error(st);
  return {};
}

std::vector<offset_commit> store_rows(const group_offsets& offsets) {
  std::vector<offset_commit> rows;
  for (auto& [tp, v] : offsets)
    rows.push_back(offset_commit{tp.topic, tp.partition, v.offset, v.leader_epoch, v.metadata,
                                 v.commit_time_ms});
  return rows;
}

produce_request offsets_append(group_coordinator_ptr self, bytes batch) {
  produce_request req;
  req.topic = offsets_topic_name;
  req.partition = self->state.setup.partition;
  req.acks = acks_mode::all;
  req.timeout_ms = int32_t(self->state.setup.request_timeout_ms);
  req.batch = std::move(batch);
  return req;
}

void process(group_coordinator_ptr self, const std::string& group_id) {
  auto g = find_group(self, group_id);
  if (!g)
    return;
  auto ready = g->machine->take_ready();
  for (auto& p : ready.persist)
    persist(self, *g, std::move(p));
  for (auto& p : ready.persist_group)
    persist_group(self, *g, p);
  for (auto& r : ready.responses)
    deliver(*g, r);
  for (auto& e : ready.events) {
    if (e.from != e.to)
      spdlog::info("group {}: {} -> {} (generation {}): {}", group_id, to_string(e.from),
                   to_string(e.to), e.generation_id, e.what);
    else
      spdlog::info("group {}: {}", group_id, e.what);
  }
  // Nothing to remember (as Kafka's cleanup of Empty groups without offsets):
  // forget it, so groups that only ever got a failed request do not pile up.
  if (g->machine->forgettable() && g->waiting.empty() && g->persisting.empty() &&
      !g->deleting && g->txn_offsets.producers().empty()) {
    self->state.groups.erase(group_id);
    return;
  }
  arm_timer(self, group_id, *g);
}

int64_t coordinator_now_ms(group_coordinator_ptr self) {
  auto& st = self->state;
  auto since = std::chrono::duration_cast<milliseconds>(self->clock().now() - st.clock_base);
  return st.wall_base_ms + since.count();
}

coordinated_group& add_group(group_coordinator_ptr self, const std::string& group_id,
                             group_offsets offsets, int32_t initial_generation) {
  auto& st = self->state;
  auto cfg = st.setup.group_defaults;
  cfg.group_id = group_id;
  auto incarnation = ++st.groups_created;
  // Unique per coordinator incarnation and per machine, so no member id repeats.
  cfg.member_id_salt = st.setup.salt + std::to_string(incarnation) + "-";
  cfg.initial_generation_id = std::max(initial_generation, 0);
  auto& g = st.groups[group_id];
  g.machine = std::make_unique<group_machine>(cfg, st.setup.topics, std::move(offsets),
                                              coordinator_now_ms(self));
  g.incarnation = incarnation;
  return g;
}

group_coordinator_api::behavior_type group_coordinator_actor(self_ptr self,
                                                             group_coordinator_setup setup) {
  auto& st = self->state;
  st.setup = std::move(setup);
  st.clock_base = self->clock().now();
  st.wall_base_ms = std::chrono::duration_cast<milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  set_lifecycle_handlers(self);
  load_offsets_partition(self);
  using mreq = group_machine;
  auto& defaults = st.setup.group_defaults;
  auto min_session_ms = defaults.min_session_timeout_ms;
  auto max_session_ms = defaults.max_session_timeout_ms;
  return {
    [=](join_group_atom, const std::string& g, join_group_request& req) {
      auto checked = check_join_request(req, min_session_ms, max_session_ms);
      return handle<join_group_response>(
        self, g, req, true, checked,
        [](mreq& m, const join_group_request& r, int64_t t) { m.on_join(r, t); });
    },
    [=](sync_group_atom, const std::string& g, sync_group_request& req) {
      return handle<sync_group_response>(
        self, g, req, false, check_sync_request(req),
        [](mreq& m, const sync_group_request& r, int64_t t) { m.on_sync(r, t); });
    },
    [=](group_heartbeat_atom, const std::string& g, heartbeat_request& req) {
      return handle<heartbeat_response>(
        self, g, req, false, check_member_id(req.member_id),
        [](mreq& m, const heartbeat_request& r, int64_t t) { m.on_heartbeat(r, t); });
    },
    [=](leave_group_atom, const std::string& g, leave_group_request& req) {
      return handle<leave_group_response>(
        self, g, req, false, check_member_id(req.member_id),
        [](mreq& m, const leave_group_request& r, int64_t t) { m.on_leave(r, t); });
    },
    [=](offset_commit_atom, const std::string& g, offset_commit_request& req) {
      auto checked = check_offset_commit(req.member_id, req.offsets);
      return handle<offset_commit_response>(
        self, g, req, true, checked,
        [](mreq& m, const offset_commit_request& r, int64_t t) { m.on_offset_commit(r, t); });
    },
    [=](offset_fetch_atom, const std::string& g, const std::vector<topic_partition>& tps) {
      return on_offset_fetch(self, g, tps, false);
    },
    [=](offset_fetch_atom, const std::string& g, const std::vector<topic_partition>& tps,
        require_stable_atom) { return on_offset_fetch(self, g, tps, true); },
    [=](describe_group_atom, const std::string& g) { return on_describe_group(self, g); },
    [=](delete_group_atom, const std::string& g) { return on_delete_group(self, g); },
    [=](alter_offsets_atom, const std::string& g, offset_commit_map& offsets) {
      return on_alter_offsets(self, g, offsets);
    },
    [=](list_groups_atom) { return list_coordinated_groups(self); },
    [=](offset_commit_atom, const std::string& g, txn_offset_commit_request& req) {
      return on_txn_offset_commit(self, g, req);
    },
    [=](txn_marker_atom, int64_t producer_id, bool commit) {
      on_txn_marker(self, producer_id, commit);
    },
    [=](metadata_update_atom, partition_counts& counts) { on_topic_counts(self, std::move(counts)); },
    [=](group_tick_atom, const std::string& g, int64_t deadline) {
      if (g.empty()) { // retry a failed load
        load_offsets_partition(self);
        return;
      }
      auto grp = find_group(self, g);
      if (!grp)
        return;
      auto now = coordinator_now_ms(self);
      if (grp->timer_at == deadline) // the armed one (others were superseded)
        grp->timer_at.reset();
      grp->machine->tick(now);
      process(self, g);
    },
    [=](unload_atom) { unload(self); },
  };
}

} // namespace al
