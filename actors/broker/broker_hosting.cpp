#include "actors/broker/broker_hosting.hpp"

#include <algorithm>
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_groups.hpp"
#include "actors/broker/broker_txn.hpp"
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

void apply_image(self_ptr self, metadata_image image) {
  auto& st = self->state;
  if (image.last_offset < st.image.last_offset)
    return; // stale push
  // Act on leaderships only once the image holds this process's own
  // registration: while the controller replays the metadata log after a
  // restart, the image still shows the previous incarnation's leaderships,
  // and leading an old epoch with an old ISR can expose records the current
  // ISR lacks (found by the whole-cluster simulation, docs/replication.md).
  auto inc = image.broker_incarnations.find(st.setup.node_id);
  if (inc == image.broker_incarnations.end() || inc->second != st.setup.incarnation) {
    st.image = std::move(image); // for metadata answers and routing errors
    return;
  }
  for (auto i = st.partitions.begin(); i != st.partitions.end();) {
    auto t = image.topics.find(i->first.topic);
    bool gone = t == image.topics.end() || i->first.partition >= int32_t(t->second.partitions.size());
    if (!gone) {
      auto& reps = t->second.partitions[size_t(i->first.partition)].replicas;
      gone = std::find(reps.begin(), reps.end(), st.setup.node_id) == reps.end();
    }
    if (gone) {
      spdlog::info("broker: {} removed", to_string(i->first));
      self->request(i->second.actor, admin_timeout, delete_atom::value).then([](bool) {});
      st.routes.erase(i->first);
      i = st.partitions.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& [name, t] : image.topics) {
    for (auto& p : t.partitions) {
      auto& reps = p.replicas;
      if (std::find(reps.begin(), reps.end(), st.setup.node_id) == reps.end())
        continue;
      auto hosted = st.partitions.find(topic_partition{name, p.partition});
      if (hosted == st.partitions.end()) {
        spawn_partition(self, t, p);
        continue;
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
  }
  st.image = std::move(image);
  sync_group_coordinators(self);
  sync_txn_coordinators(self);
}

} // namespace al
