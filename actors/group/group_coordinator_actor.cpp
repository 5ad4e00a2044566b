#include "actors/group/group_coordinator_actor.hpp"

#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/group/group_placement.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

using self_ptr = group_coordinator_ptr;
using std::chrono::milliseconds;

void process(self_ptr self, const std::string& group_id);

caf::error not_loaded(self_ptr self) {
  return make_error(errc::coordinator_not_available,
                    "the coordinator of " + std::string(offsets_topic_name) + "-" +
                      std::to_string(self->state.setup.partition) + " is loading");
}

coordinated_group* find_group(self_ptr self, const std::string& group_id) {
  auto i = self->state.groups.find(group_id);
  return i == self->state.groups.end() ? nullptr : &i->second;
}

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

std::vector<offset_commit> store_rows(const group_offsets& offsets) {
  std::vector<offset_commit> rows;
  for (auto& [tp, v] : offsets)
    rows.push_back(offset_commit{tp.topic, tp.partition, v.offset, v.leader_epoch, v.metadata,
                                 v.commit_time_ms});
  return rows;
}

produce_request offsets_append(self_ptr self, bytes batch) {
  produce_request req;
  req.topic = offsets_topic_name;
  req.partition = self->state.setup.partition;
  req.acks = acks_mode::all;
  req.timeout_ms = int32_t(self->state.setup.request_timeout_ms);
  req.batch = std::move(batch);
  return req;
}

/// Feeds append outcomes to the machine in the order the appends were made.
void on_written(self_ptr self, const std::string& group_id, uint64_t persist_id, errc result) {
  auto g = find_group(self, group_id);
  if (!g)
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
  g.persisting.push_back(effect.persist_id);
  auto batch = offset_commit_batch(effect.group_id, effect.offsets,
                                   effect.offsets.begin()->second.commit_time_ms);
  auto id = effect.persist_id;
  auto group_id = effect.group_id;
  auto generation = effect.generation_id;
  auto rows = store_rows(effect.offsets);
  self->request(self->state.setup.log, milliseconds(self->state.setup.request_timeout_ms),
                produce_atom::value, offsets_append(self, std::move(batch)))
    .then(
      [=](const produce_response&) {
        if (self->state.setup.store)
          self->send(self->state.setup.store, offset_commit_atom::value, group_id, generation,
                     rows);
        on_written(self, group_id, id, errc::none);
      },
      [=](caf::error& err) {
        spdlog::warn("group {}: offsets append failed: {}", group_id, describe_error(err));
        auto code = error_code_of(err);
        // Kafka maps log failures to retriable coordinator errors.
        if (code == errc::not_leader_or_follower)
          code = errc::not_coordinator;
        else if (code != errc::not_enough_replicas)
          code = errc::coordinator_not_available;
        on_written(self, group_id, id, code);
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

/// Executes the machine's effects in order: persist, respond, log; re-arms the timer.
void process(self_ptr self, const std::string& group_id) {
  auto g = find_group(self, group_id);
  if (!g)
    return;
  auto ready = g->machine->take_ready();
  for (auto& p : ready.persist)
    persist(self, *g, std::move(p));
  for (auto& r : ready.responses)
    deliver(*g, r);
  for (auto& e : ready.events) {
    if (e.from != e.to)
      spdlog::info("group {}: {} -> {} (generation {}): {}", group_id, to_string(e.from),
                   to_string(e.to), e.generation_id, e.what);
    else
      spdlog::info("group {}: {}", group_id, e.what);
  }
  arm_timer(self, group_id, *g);
}

/// The common path of join/sync/heartbeat/leave/commit: checks, a held
/// promise, the machine input, the effects.
template <class Resp, class Req, class Feed>
caf::result<Resp> handle(self_ptr self, const std::string& group_id, Req& req, bool create,
                         Feed feed) {
  if (!self->state.loaded)
    return not_loaded(self);
  if (group_id.empty())
    return make_error(errc::invalid_group_id, "the group id is empty");
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

caf::error check_offsets(const offset_commit_map& offsets) {
  for (auto& [tp, om] : offsets)
    if (om.offset < 0 || tp.partition < 0 || tp.topic.empty())
      return make_error(errc::invalid_request, "cannot commit offset " +
                                                 std::to_string(om.offset) + " for " +
                                                 to_string(tp));
  return {};
}

caf::result<offset_commit_response> on_alter_offsets(self_ptr self, const std::string& group_id,
                                                     offset_commit_map& offsets) {
  if (!self->state.loaded)
    return not_loaded(self);
  if (auto err = check_offsets(offsets))
    return err;
  if (auto g = find_group(self, group_id); g && g->machine->member_count() > 0)
    return make_error(errc::non_empty_group,
                      "group " + group_id + " has " + std::to_string(g->machine->member_count()) +
                        " active member(s) (" + std::string(to_string(g->machine->state())) +
                        "); offsets can only be reset while it has none");
  offset_commit_request req{0, "", -1, std::move(offsets)};
  return handle<offset_commit_response>(
    self, group_id, req, true,
    [](group_machine& m, const offset_commit_request& r, int64_t now) { m.on_offset_commit(r, now); });
}

caf::result<bool> on_delete_group(self_ptr self, const std::string& group_id) {
  if (!self->state.loaded)
    return not_loaded(self);
  auto g = find_group(self, group_id);
  if (!g || g->deleting)
    return make_error(errc::group_id_not_found, "group " + group_id + " does not exist");
  auto offsets = g->machine->describe().offsets;
  if (auto e = g->machine->delete_group(coordinator_now_ms(self)); e != errc::none)
    return make_error(e, "group " + group_id + " has " +
                           std::to_string(g->machine->member_count()) + " active member(s)");
  process(self, group_id);
  auto finish = [self, group_id]() {
    self->state.groups.erase(group_id);
    if (self->state.setup.store)
      self->send(self->state.setup.store, delete_group_atom::value, group_id);
    spdlog::info("group {}: deleted", group_id);
  };
  if (offsets.empty()) {
    finish();
    return true;
  }
  g->deleting = true;
  std::vector<topic_partition> keys;
  for (auto& [tp, v] : offsets)
    keys.push_back(tp);
  auto rp = self->make_response_promise<bool>();
  auto batch = offset_tombstone_batch(group_id, keys, coordinator_now_ms(self));
  self->request(self->state.setup.log, milliseconds(self->state.setup.request_timeout_ms),
                produce_atom::value, offsets_append(self, std::move(batch)))
    .then(
      [rp, finish](const produce_response&) mutable {
        finish();
        rp.deliver(true);
      },
      [self, rp, group_id, offsets](caf::error& err) mutable {
        // The log still has the offsets: bring the group back as it was.
        self->state.groups.erase(group_id);
        auto& restored = add_group(self, group_id, offsets, 0);
        (void)restored;
        rp.deliver(make_error(errc::coordinator_not_available,
                              "group " + group_id + ": writing tombstones failed: " +
                                describe_error(err)));
      });
  return rp;
}

caf::result<group_offsets> on_offset_fetch(self_ptr self, const std::string& group_id,
                                           const std::vector<topic_partition>& partitions) {
  if (!self->state.loaded)
    return not_loaded(self);
  auto g = find_group(self, group_id);
  if (!g) {
    group_offsets none;
    for (auto& tp : partitions)
      none[tp] = group_offset{};
    return none;
  }
  auto offsets = g->machine->fetch_offsets(partitions);
  if (!offsets)
    return to_caf_error(offsets.error());
  return std::move(*offsets);
}

std::vector<group_listing> list_groups(self_ptr self) {
  std::vector<group_listing> out;
  for (auto& [id, g] : self->state.groups) {
    auto& m = *g.machine;
    if (m.state() == group_state::dead)
      continue;
    out.push_back(group_listing{id, m.state(), m.state() == group_state::empty ? "" : "consumer",
                                int32_t(m.member_count())});
  }
  return out;
}

void on_topic_counts(self_ptr self, partition_counts counts) {
  auto& st = self->state;
  auto now = coordinator_now_ms(self);
  for (auto& [topic, n] : st.setup.topics)
    if (!counts.count(topic))
      counts.emplace(topic, 0); // deleted
  for (auto& [topic, n] : counts) {
    auto old = st.setup.topics.find(topic);
    if (old != st.setup.topics.end() && old->second == n)
      continue;
    for (auto& [id, g] : st.groups)
      if (g.machine->state() != group_state::dead)
        g.machine->on_topic_partitions(topic, n, now);
  }
  for (auto i = counts.begin(); i != counts.end();)
    i = i->second == 0 ? counts.erase(i) : std::next(i);
  st.setup.topics = std::move(counts);
  for (auto& [id, g] : st.groups)
    process(self, id);
}

void unload(self_ptr self) {
  auto now = coordinator_now_ms(self);
  for (auto& [id, g] : self->state.groups) {
    g.machine->unload(now);
    process(self, id);
    for (auto& [rid, rp] : g.waiting)
      rp.deliver(make_error(errc::not_coordinator, "the coordinator of group " + id + " moved"));
    g.waiting.clear();
  }
  spdlog::info("group coordinator {}-{}: unloaded {} group(s)", offsets_topic_name,
               self->state.setup.partition, self->state.groups.size());
  self->state.groups.clear();
  self->quit();
}

} // namespace

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
  // Unique per coordinator incarnation and per machine, so no member id repeats.
  cfg.member_id_salt = st.setup.salt + std::to_string(++st.groups_created) + "-";
  cfg.initial_generation_id = std::max(initial_generation, 0);
  auto& g = st.groups[group_id];
  g.machine = std::make_unique<group_machine>(cfg, st.setup.topics, std::move(offsets),
                                              coordinator_now_ms(self));
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
  load_offsets_partition(self);
  using mreq = group_machine;
  return {
    [=](join_group_atom, const std::string& g, join_group_request& req) {
      return handle<join_group_response>(
        self, g, req, true, [](mreq& m, const join_group_request& r, int64_t t) { m.on_join(r, t); });
    },
    [=](sync_group_atom, const std::string& g, sync_group_request& req) {
      return handle<sync_group_response>(
        self, g, req, false, [](mreq& m, const sync_group_request& r, int64_t t) { m.on_sync(r, t); });
    },
    [=](group_heartbeat_atom, const std::string& g, heartbeat_request& req) {
      return handle<heartbeat_response>(self, g, req, false,
                                        [](mreq& m, const heartbeat_request& r, int64_t t) {
                                          m.on_heartbeat(r, t);
                                        });
    },
    [=](leave_group_atom, const std::string& g, leave_group_request& req) {
      return handle<leave_group_response>(self, g, req, false,
                                          [](mreq& m, const leave_group_request& r, int64_t t) {
                                            m.on_leave(r, t);
                                          });
    },
    [=](offset_commit_atom, const std::string& g,
        offset_commit_request& req) -> caf::result<offset_commit_response> {
      if (auto err = check_offsets(req.offsets))
        return err;
      return handle<offset_commit_response>(
        self, g, req, true,
        [](mreq& m, const offset_commit_request& r, int64_t t) { m.on_offset_commit(r, t); });
    },
    [=](offset_fetch_atom, const std::string& g, const std::vector<topic_partition>& tps) {
      return on_offset_fetch(self, g, tps);
    },
    [=](describe_group_atom, const std::string& g) -> caf::result<group_description> {
      if (!self->state.loaded)
        return not_loaded(self);
      auto grp = find_group(self, g);
      if (!grp || grp->machine->state() == group_state::dead)
        return make_error(errc::group_id_not_found, "group " + g + " does not exist");
      return grp->machine->describe();
    },
    [=](delete_group_atom, const std::string& g) { return on_delete_group(self, g); },
    [=](alter_offsets_atom, const std::string& g, offset_commit_map& offsets) {
      return on_alter_offsets(self, g, offsets);
    },
    [=](list_groups_atom) -> caf::result<std::vector<group_listing>> {
      if (!self->state.loaded)
        return not_loaded(self);
      return list_groups(self);
    },
    [=](metadata_update_atom, partition_counts& counts) { on_topic_counts(self, std::move(counts)); },
    [=](group_tick_atom, const std::string& g, int64_t deadline) {
      if (g.empty()) { // retry a failed load
        if (!self->state.loaded)
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
