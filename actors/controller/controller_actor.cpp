#include "actors/controller/controller_actor.hpp"

#include <chrono>
#include <random>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/errors.hpp"

namespace al {

namespace {

using self_ptr = controller_api::stateful_pointer<controller_state>;

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string new_topic_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i)
    id += hex[rng() % 16];
  return id;
}

void push_metadata(self_ptr self) {
  auto& st = self->state;
  if (st.setup.store)
    self->send(st.setup.store, apply_atom::value, st.machine.last_applied_offset(),
               st.machine.image());
  for (auto& [id, broker] : st.brokers)
    self->send(broker, metadata_update_atom::value, st.machine.image());
}

/// Appends the command (fsynced), applies it, publishes the new image.
status propose(self_ptr self, const metadata_command& cmd) {
  auto& st = self->state;
  if (!st.log)
    return st.open_error;
  auto offset = st.log->append(cmd, 0, wall_ms());
  if (!offset)
    return offset.error();
  auto applied = st.machine.apply(cmd, *offset);
  if (!applied)
    spdlog::warn("controller: {} at offset {} rejected: {}", describe(cmd), *offset,
                 applied.to_string());
  else
    spdlog::info("controller: {} committed at offset {}", describe(cmd), *offset);
  push_metadata(self);
  return applied;
}

caf::result<topic_description> topic_reply(self_ptr self, const std::string& name) {
  auto t = self->state.machine.find_topic(name);
  if (!t)
    return make_error(errc::unknown_topic_or_partition, name);
  return *t;
}

template <class Planned>
status propose_planned(self_ptr self, Planned planned) {
  if (!planned)
    return planned.error();
  return propose(self, metadata_command{std::move(*planned)});
}

caf::result<topic_description> on_alter(self_ptr self, const alter_topic_request& req) {
  auto& m = self->state.machine;
  if (!m.find_topic(req.name))
    return make_error(errc::unknown_topic_or_partition, "topic \"" + req.name + "\" does not exist");
  if (req.partitions != -1)
    if (auto st = propose_planned(self, m.plan_create_partitions(req.name, req.partitions)); !st)
      return to_caf_error(st);
  if (!req.set_configs.empty() || !req.delete_configs.empty())
    if (auto st = propose_planned(self, m.plan_alter_configs(req)); !st)
      return to_caf_error(st);
  return topic_reply(self, req.name);
}

caf::result<metadata_image> on_register(self_ptr self, const broker_description& b,
                                        int64_t incarnation, caf::actor broker) {
  auto& st = self->state;
  self->monitor(broker);
  st.brokers[b.id] = caf::actor_cast<broker_api>(broker);
  st.last_heartbeat_ms[b.id] = wall_ms();
  auto& img = st.machine.image();
  auto known = img.brokers.find(b.id);
  auto inc = img.broker_incarnations.find(b.id);
  bool same = known != img.brokers.end() && known->second.host == b.host &&
              known->second.port == b.port && !known->second.fenced &&
              inc != img.broker_incarnations.end() && inc->second == incarnation;
  if (!same)
    if (auto s = propose(self, register_broker_cmd{b.id, b.host, b.port, incarnation}); !s)
      return to_caf_error(s);
  return st.machine.image();
}

cluster_description on_describe_cluster(self_ptr self) {
  auto& st = self->state;
  cluster_description d;
  d.cluster_id = st.setup.cluster_id;
  d.controller_id = st.setup.node_id;
  d.metadata_offset = st.machine.last_applied_offset();
  for (auto& [id, b] : st.machine.image().brokers)
    d.brokers.push_back(b);
  d.quorum.push_back(quorum_member{st.setup.node_id, "leader", 0,
                                   st.machine.last_applied_offset()});
  return d;
}

void open_and_replay(self_ptr self) {
  auto& st = self->state;
  auto log = metadata_log::open(st.setup.data_dir, wall_ms());
  if (!log) {
    st.open_error = {errc::kafka_storage_error,
                     "controller: cannot open the metadata log: " + log.error().to_string()};
    spdlog::critical("{}", st.open_error.message());
    return;
  }
  st.log = std::move(*log);
  size_t n = 0;
  auto replayed = st.log->replay(0, [&](int64_t offset, const metadata_command& cmd) {
    (void)st.machine.apply(cmd, offset);
    ++n;
  });
  if (!replayed) {
    st.open_error = {errc::kafka_storage_error,
                     "controller: metadata log replay failed: " + replayed.to_string()};
    spdlog::critical("{}", st.open_error.message());
    st.log.reset();
    return;
  }
  spdlog::info("controller: replayed {} metadata commands, {} topic(s)", n,
               st.machine.image().topics.size());
  if (st.setup.store && st.machine.last_applied_offset() >= 0)
    self->send(st.setup.store, apply_atom::value, st.machine.last_applied_offset(),
               st.machine.image());
}

} // namespace

controller_api::behavior_type controller_actor(self_ptr self, controller_setup setup) {
  self->state.setup = std::move(setup);
  open_and_replay(self);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& brokers = self->state.brokers;
    for (auto i = brokers.begin(); i != brokers.end(); ++i)
      if (i->second.address() == dm.source) {
        spdlog::info("controller: broker {} went away", i->first);
        brokers.erase(i);
        break;
      }
  });
  return {
    [=](create_topic_atom, const create_topic_request& req) -> caf::result<topic_description> {
      auto& m = self->state.machine;
      auto planned = m.plan_create_topic(req, self->state.setup.defaults, new_topic_id());
      if (auto st = propose_planned(self, std::move(planned)); !st)
        return to_caf_error(st);
      return topic_reply(self, req.name);
    },
    [=](alter_topic_atom, const alter_topic_request& req) { return on_alter(self, req); },
    [=](delete_topic_atom, const std::string& name) -> caf::result<bool> {
      if (auto st = propose_planned(self, self->state.machine.plan_delete_topic(name)); !st)
        return to_caf_error(st);
      return true;
    },
    [=](metadata_atom) { return self->state.machine.image(); },
    [=](describe_cluster_atom) { return on_describe_cluster(self); },
    [=](register_atom, const broker_description& b, int64_t incarnation, caf::actor broker) {
      return on_register(self, b, incarnation, std::move(broker));
    },
    [=](init_pid_atom) -> caf::result<producer_id_response> {
      auto first = self->state.machine.image().next_producer_id;
      if (auto st = propose(self, allocate_producer_ids_cmd{first, 1}); !st)
        return to_caf_error(st);
      return producer_id_response{first, 0};
    },
    [=](heartbeat_atom, int32_t broker_id, int64_t) {
      self->state.last_heartbeat_ms[broker_id] = wall_ms();
    },
    [=](tick_atom) {},
  };
}

} // namespace al
