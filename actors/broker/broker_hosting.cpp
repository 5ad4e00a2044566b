#include "actors/broker/broker_hosting.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_groups.hpp"
#include "actors/broker/broker_txn.hpp"
#include "actors/controller/image_lookup.hpp"
#include "actors/partition/partition_state.hpp"
#include "storage/topic_config.hpp"

namespace al {

namespace {

using self_ptr = broker_api::stateful_pointer<broker_state>;
constexpr auto admin_timeout = std::chrono::seconds(30);

std::string partition_dir(const broker_setup& s, const topic_partition& tp) {
  return s.data_dir + "/" + to_string(tp);
}

void spawn_partition(self_ptr self, const topic_description& t, const partition_description& p) {
  auto& st = self->state;
  topic_partition tp{t.name, p.partition};
  auto cfg = apply_topic_configs(st.setup.log_defaults, t.configs);
  if (!cfg) {
    spdlog::error("broker: {}: bad topic config, using defaults: {}", to_string(tp),
                  cfg.error().to_string());
    cfg = st.setup.log_defaults;
  }
  partition_setup ps;
  ps.tp = tp;
  ps.dir = partition_dir(st.setup, tp);
  ps.log = *cfg;
  ps.topic_configs = t.configs;
  ps.default_min_insync_replicas = st.setup.default_min_insync_replicas;
  ps.state = p;
  ps.node_id = st.setup.node_id;
  ps.incarnation = st.setup.incarnation;
  ps.broker = caf::actor_cast<caf::actor>(self);
  ps.hw_table = st.hw_table;
  ps.recovery_table = st.recovery_table;
  ps.timer_wheel = st.timer_wheel;
  ps.timer_sweeper = st.timer_sweeper;
  if (!st.io_workers.empty()) // one worker per partition: its writes stay in order
    ps.io = st.io_workers[topic_partition_hash{}(tp) % st.io_workers.size()];
  ps.replica_lag_time_max_ms = st.setup.replica_lag_time_max_ms;
  ps.replica_fetch_max_bytes = st.setup.replica_fetch_max_bytes;
  ps.retention_check_interval_ms = st.setup.retention_check_interval_ms;
  ps.fetch_max_bytes = st.setup.fetch_max_bytes;
  ps.fetch_wait_max_ms = st.setup.fetch_wait_max_ms;
  ps.fetch_purgatory_max = st.setup.fetch_purgatory_max;
  ps.producer_id_expiration_ms = st.setup.producer_id_expiration_ms;
  partition_api actor;
  try {
    // On the scheduler: a partition never blocks on the disk (its fsyncs
    // run on its I/O worker), so the node's threads do not grow with them.
    actor = self->spawn<caf::linked>(partition_actor, ps);
  } catch (const std::exception& e) {
    // Out of memory: this partition stays offline until the next metadata
    // update retries it; the node and its other partitions go on.
    spdlog::error("broker {}: cannot start partition {}: {}", st.setup.node_id, to_string(tp),
                  e.what());
    return;
  }
  st.routes[tp] = actor;
  st.partitions[tp] = hosted_partition{actor, p, t.configs};
  spdlog::info("broker: hosting {} (leader {}, epoch {})", to_string(tp), p.leader,
               p.leader_epoch);
}

} // namespace

std::shared_ptr<hw_checkpoint_table> open_table(const broker_setup& s,
                                                std::shared_ptr<hw_checkpoint_table> table,
                                                const char* name, const char* without_it) {
  if (!table)
    table = std::make_shared<hw_checkpoint_table>(s.data_dir, name);
  std::string note;
  if (auto loaded = table->load(&note); !loaded)
    spdlog::warn("broker {}: {} ({})", s.node_id, loaded.to_string(), without_it);
  else if (!note.empty())
    spdlog::warn("broker {}: {}", s.node_id, note);
  return table;
}

namespace {

/// Act on leaderships only once the image holds this process's own
/// registration: while the controller replays the metadata log after a
/// restart, the image still shows the previous incarnation's leaderships,
/// and leading an old epoch with an old ISR can expose records the current
/// ISR lacks (found by the whole-cluster simulation, docs/replication.md).
bool registered_in_image(const broker_state& st) {
  auto inc = st.image.broker_incarnations.find(st.setup.node_id);
  return inc != st.image.broker_incarnations.end() && inc->second == st.setup.incarnation;
}

/// A hosted partition whose topic, partition or replica on this node is
/// gone from the image: stopped, its files deleted.
std::map<topic_partition, hosted_partition>::iterator remove_if_gone(
  self_ptr self, std::map<topic_partition, hosted_partition>::iterator i) {
  auto& st = self->state;
  auto* described = find_partition(st.image, i->first.topic, i->first.partition);
  bool gone = !described || std::find(described->replicas.begin(), described->replicas.end(),
                                       st.setup.node_id) == described->replicas.end();
  if (!gone)
    return std::next(i);
  spdlog::info("broker: {} removed", to_string(i->first));
  self->request(i->second.actor, admin_timeout, delete_atom::value).then([](bool) {});
  st.routes.erase(i->first);
  return st.partitions.erase(i);
}

/// Partition `p` of `t`, if it has a replica on this node: spawned, or
/// told what changed.
void host_partition(self_ptr self, const std::string& name, const topic_description& t,
                    const partition_description& p) {
  auto& st = self->state;
  auto& reps = p.replicas;
  if (std::find(reps.begin(), reps.end(), st.setup.node_id) == reps.end())
    return;
  auto hosted = st.partitions.find(topic_partition{name, p.partition});
  if (hosted == st.partitions.end()) {
    spawn_partition(self, t, p);
    return;
  }
  auto& h = hosted->second;
  if (h.configs != t.configs) {
    h.configs = t.configs;
    self->send(h.actor, config_atom::value, t.configs);
  }
  if (h.state.leader != p.leader || h.state.leader_epoch != p.leader_epoch ||
      h.state.partition_epoch != p.partition_epoch || h.state.isr != p.isr ||
      h.state.replicas != p.replicas) {
    h.state = p;
    self->send(h.actor, metadata_update_atom::value, p);
  }
}

void host_topic(self_ptr self, const std::string& name, const topic_description& t) {
  for (auto& p : t.partitions)
    host_partition(self, name, t, p);
}

/// What a delta changed, to act on: whole topics, and single partitions.
struct image_changes {
  std::set<std::string> topics;
  std::set<topic_partition> partitions;
};

/// Brings the hosted partitions in line with st.image for what `only`
/// names (everything when null), then the coordinators.
void act_on_image(self_ptr self, const image_changes* only) {
  auto& st = self->state;
  if (!only) {
    for (auto i = st.partitions.begin(); i != st.partitions.end();)
      i = remove_if_gone(self, i);
    for (auto& [name, t] : st.image.topics)
      host_topic(self, name, t);
  } else {
    for (auto& name : only->topics) {
      for (auto i = st.partitions.lower_bound(topic_partition{name, INT32_MIN});
           i != st.partitions.end() && i->first.topic == name;)
        i = remove_if_gone(self, i);
      if (auto t = st.image.topics.find(name); t != st.image.topics.end())
        host_topic(self, name, t->second);
    }
    for (auto& tp : only->partitions) {
      if (auto i = st.partitions.find(tp); i != st.partitions.end())
        remove_if_gone(self, i);
      auto& t = st.image.topics.at(tp.topic); // a delta names partitions of existing topics
      host_partition(self, tp.topic, t, t.partitions[size_t(tp.partition)]);
    }
  }
  sync_group_coordinators(self);
  sync_txn_coordinators(self);
}

/// The broker's image lost step with the deltas (a delta names a partition
/// it does not hold; not expected): it takes the controller's whole image
/// instead, and the deltas sent before that answer are dropped (the answer
/// comes after them, from the same actor, and holds what they hold).
void request_full_image(self_ptr self) {
  auto& st = self->state;
  if (st.awaiting_full_image)
    return;
  st.awaiting_full_image = true;
  self->request(st.setup.controller, admin_timeout, metadata_atom::value)
    .then(
      [self](metadata_image& image) {
        self->state.awaiting_full_image = false;
        self->state.image.last_offset = -1; // taken whatever its offset
        apply_image(self, std::move(image));
      },
      [self](caf::error& err) {
        spdlog::error("broker {}: the controller's image: {}; asking again",
                      self->state.setup.node_id, describe_error(err));
        self->state.awaiting_full_image = false;
        request_full_image(self);
      });
}

} // namespace

void apply_image(self_ptr self, metadata_image image) {
  auto& st = self->state;
  if (image.last_offset < st.image.last_offset)
    return; // stale push
  st.image = std::move(image); // for metadata answers and routing errors, acted on or not
  st.image_acted = registered_in_image(st);
  if (st.image_acted)
    act_on_image(self, nullptr);
}

void apply_delta(self_ptr self, metadata_delta delta) {
  auto& st = self->state;
  // Older than the image held (a registration answer from the active
  // controller, ahead of this node's): its changes are in that image.
  if (delta.last_offset < st.image.last_offset || st.awaiting_full_image)
    return;
  image_changes changed;
  if (delta.full) {
    st.image.topics = std::move(delta.topics);
  } else {
    for (auto& [name, t] : delta.topics) {
      changed.topics.insert(name);
      st.image.topics[name] = std::move(t);
    }
    for (auto& [name, parts] : delta.partitions) {
      for (auto& p : parts) {
        auto* held = find_partition(st.image, name, p.partition);
        if (!held) {
          spdlog::error("broker {}: metadata delta at {} changes {}-{}, which the image does not "
                        "hold; asking for the whole image",
                        st.setup.node_id, delta.last_offset, name, p.partition);
          return request_full_image(self);
        }
        changed.partitions.insert(topic_partition{name, p.partition});
        *held = std::move(p);
      }
    }
    for (auto& name : delta.deleted) {
      changed.topics.insert(name);
      st.image.topics.erase(name);
    }
  }
  st.image.brokers = std::move(delta.brokers);
  st.image.broker_incarnations = std::move(delta.broker_incarnations);
  st.image.last_offset = delta.last_offset;
  st.image.next_producer_id = delta.next_producer_id;
  bool acted_before = st.image_acted;
  st.image_acted = registered_in_image(st);
  if (!st.image_acted)
    return;
  // The first image acted on (this process's registration just arrived)
  // and a full delta: every topic; else only what changed.
  act_on_image(self, delta.full || !acted_before ? nullptr : &changed);
}

} // namespace al
