// Consumer groups inside the broker: coordinator placement, the offsets
// topic, coordinator lifecycle and request routing (broker_groups.hpp).
#include "actors/broker/broker_groups.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <functional>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/group/group_coordinator_actor.hpp"
#include "actors/group/group_limits.hpp"
#include "actors/group/group_placement.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

constexpr auto create_timeout = std::chrono::seconds(30);

const topic_description* offsets_topic(broker_ptr self) {
  return coordinator_topic(self, offsets_topic_name);
}

/// Kafka creates __consumer_offsets on the first FindCoordinator, compacted,
/// with offsets.topic.replication.factor capped at the live brokers.
void create_offsets_topic(broker_ptr self) {
  auto& st = self->state;
  create_topic_request req;
  req.name = offsets_topic_name;
  req.partitions = std::max(st.setup.offsets_topic_num_partitions, 1);
  req.replication_factor = st.setup.offsets_topic_replication_factor;
  req.configs = {{"cleanup.policy", "compact"}};
  create_coordinator_topic(self, st.groups.topic, std::move(req));
}

std::string coordinator_salt(broker_ptr self, int32_t partition) {
  auto& st = self->state;
  // Member ids must never repeat across coordinator incarnations.
  auto mix = uint64_t(st.setup.incarnation) * 1000003u + uint64_t(st.setup.node_id) * 7919u +
             uint64_t(partition) * 131u + ++st.groups.coordinators_started;
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%08x-", unsigned((mix ^ (mix >> 32)) & 0xffffffffu));
  return buf;
}

void start_coordinator(broker_ptr self, int32_t partition, const partition_api& log) {
  auto& st = self->state;
  group_coordinator_setup gs;
  gs.node_id = st.setup.node_id;
  gs.partition = partition;
  gs.log = log;
  gs.store = st.setup.store;
  gs.group_defaults.min_session_timeout_ms = st.setup.group_min_session_timeout_ms;
  gs.group_defaults.max_session_timeout_ms = st.setup.group_max_session_timeout_ms;
  gs.group_defaults.initial_rebalance_delay_ms = st.setup.group_initial_rebalance_delay_ms;
  gs.group_defaults.offset_metadata_max_bytes =
    std::clamp(st.setup.offset_metadata_max_bytes, 0, max_offset_metadata_bytes);
  gs.group_defaults.group_max_size = std::max(st.setup.group_max_size, 1);
  gs.salt = coordinator_salt(self, partition);
  gs.topics = st.groups.pushed_counts;
  gs.owner = self->address();
  // Not linked: a link would carry a coordinator's exit_reason::kill (which
  // no exit handler can trap) to the broker. The coordinator monitors the
  // broker instead, and the broker learns of its end through `running`.
  auto c = self->spawn(group_coordinator_actor, gs);
  auto running = std::make_shared<std::atomic<bool>>(true);
  c->attach_functor([running](const caf::error&) { *running = false; });
  st.groups.coordinators[partition] = c;
  st.groups.coordinator_running[partition] = running;
  spdlog::info("broker {}: coordinating the groups of {}-{}", st.setup.node_id,
               offsets_topic_name, partition);
}

/// Forgets a partition's coordinator if it ended on its own (a failure, an
/// unload or a kill through a leaked handle); a new one starts when needed.
void forget_if_ended(broker_ptr self, int32_t partition) {
  auto& g = self->state.groups;
  auto r = g.coordinator_running.find(partition);
  if (!g.coordinators.count(partition) || (r != g.coordinator_running.end() && *r->second))
    return;
  spdlog::error("broker {}: the group coordinator of {}-{} ended; a new one starts when needed",
                self->state.setup.node_id, offsets_topic_name, partition);
  if (r != g.coordinator_running.end())
    g.coordinator_running.erase(r);
  g.coordinators.erase(partition);
}

void forget_ended_coordinators(broker_ptr self) {
  std::vector<int32_t> partitions;
  for (auto& [p, c] : self->state.groups.coordinators)
    partitions.push_back(p);
  for (auto p : partitions)
    forget_if_ended(self, p);
}

partition_counts topic_counts(broker_ptr self) {
  partition_counts out;
  for (auto& [name, t] : self->state.image.topics)
    out[name] = int32_t(t.partitions.size());
  return out;
}

} // namespace

const topic_description* coordinator_topic(broker_ptr self, const std::string& name) {
  auto& topics = self->state.image.topics;
  auto t = topics.find(name);
  return t == topics.end() || t->second.partitions.empty() ? nullptr : &t->second;
}

caf::expected<coordinator_info> locate_coordinator(broker_ptr self, const std::string& topic,
                                                   const std::string& key) {
  auto t = coordinator_topic(self, topic);
  if (!t)
    return make_error(errc::coordinator_not_available, topic + " does not exist yet");
  auto p = offsets_partition_for(key, int32_t(t->partitions.size()));
  auto leader = t->partitions[size_t(p)].leader;
  auto b = self->state.image.brokers.find(leader);
  if (leader < 0 || b == self->state.image.brokers.end())
    return make_error(errc::coordinator_not_available,
                      topic + "-" + std::to_string(p) + " has no leader");
  coordinator_info info{leader, b->second.host, b->second.port, p};
  if (leader == self->state.setup.node_id) { // our own address as we know it
    info.host = self->state.setup.host;
    info.port = self->state.setup.port != 0 ? self->state.setup.port : b->second.port;
  }
  return info;
}

void answer_finding(broker_ptr self, coordinator_topic_state& ct) {
  if (ct.finding.empty() || !coordinator_topic(self, ct.name))
    return;
  auto finding = std::move(ct.finding);
  ct.finding.clear();
  for (auto& [key, rp] : finding) {
    auto info = locate_coordinator(self, ct.name, key);
    if (info)
      rp.deliver(std::move(*info));
    else
      rp.deliver(std::move(info.error()));
  }
}

namespace {

void fail_finding(coordinator_topic_state& ct, const caf::error& err) {
  auto finding = std::move(ct.finding);
  ct.finding.clear();
  for (auto& [key, rp] : finding)
    rp.deliver(err);
}

int32_t live_brokers(broker_ptr self) {
  int32_t n = 0;
  for (auto& [id, b] : self->state.image.brokers)
    if (!b.fenced)
      ++n;
  return n;
}

} // namespace

void create_coordinator_topic(broker_ptr self, coordinator_topic_state& ct,
                              create_topic_request req) {
  auto& st = self->state;
  if (ct.creating)
    return;
  ct.creating = true;
  req.replication_factor = std::max(1, std::min(req.replication_factor, live_brokers(self)));
  if (auto m = req.configs.find("min.insync.replicas"); m != req.configs.end())
    m->second = std::to_string(std::min(std::stoi(m->second), int(req.replication_factor)));
  spdlog::info("broker {}: creating {} ({} partitions, replication factor {})", st.setup.node_id,
               req.name, req.partitions, req.replication_factor);
  self->request(st.setup.controller, create_timeout, create_topic_atom::value, req)
    .then(
      [self, &ct](const topic_description&) {
        ct.creating = false;
        answer_finding(self, ct); // the controller pushed the image before replying
      },
      [self, &ct](caf::error& err) {
        ct.creating = false;
        if (error_code_of(err) == errc::topic_already_exists) {
          answer_finding(self, ct);
          return;
        }
        spdlog::warn("broker: creating {} failed: {}", ct.name, describe_error(err));
        fail_finding(ct, make_error(errc::coordinator_not_available,
                                    "cannot create " + ct.name + ": " + describe_error(err)));
      });
}

caf::result<coordinator_info> find_coordinator(broker_ptr self, coordinator_topic_state& ct,
                                               const std::string& key,
                                               const std::function<void()>& create) {
  if (coordinator_topic(self, ct.name)) {
    auto info = locate_coordinator(self, ct.name, key);
    if (!info)
      return std::move(info.error());
    return std::move(*info);
  }
  auto rp = self->make_response_promise<coordinator_info>();
  ct.finding.emplace_back(key, rp);
  create();
  return rp;
}

void sync_group_coordinators(broker_ptr self) {
  auto& st = self->state;
  forget_ended_coordinators(self);
  auto counts = topic_counts(self);
  bool counts_changed = counts != st.groups.pushed_counts;
  st.groups.pushed_counts = counts;
  std::set<int32_t> led;
  if (auto t = offsets_topic(self))
    for (auto& p : t->partitions) {
      auto hosted = st.partitions.find(topic_partition{offsets_topic_name, p.partition});
      if (p.leader == st.setup.node_id && hosted != st.partitions.end())
        led.insert(p.partition);
    }
  for (auto i = st.groups.coordinators.begin(); i != st.groups.coordinators.end();) {
    if (led.count(i->first)) {
      if (counts_changed)
        self->send(i->second, metadata_update_atom::value, counts);
      ++i;
      continue;
    }
    spdlog::info("broker {}: no longer coordinating {}-{}", st.setup.node_id, offsets_topic_name,
                 i->first);
    self->send(i->second, unload_atom::value);
    st.groups.coordinator_running.erase(i->first);
    i = st.groups.coordinators.erase(i);
  }
  for (auto p : led)
    if (!st.groups.coordinators.count(p))
      start_coordinator(self, p,
                        st.partitions.at(topic_partition{offsets_topic_name, p}).actor);
  answer_finding(self, st.groups.topic);
}

void ensure_offsets_topic(broker_ptr self) {
  if (!offsets_topic(self))
    create_offsets_topic(self);
}

caf::result<coordinator_info> on_find_coordinator(broker_ptr self, const std::string& group_id) {
  if (auto st = check_group_id(group_id); !st)
    return to_caf_error(st);
  return find_coordinator(self, self->state.groups.topic, group_id,
                          [self] { create_offsets_topic(self); });
}

caf::expected<group_coordinator_api> coordinator_for(broker_ptr self,
                                                     const std::string& group_id) {
  if (auto st = check_group_id(group_id); !st)
    return to_caf_error(st);
  auto info = locate_coordinator(self, offsets_topic_name, group_id);
  if (!info)
    return std::move(info.error());
  auto& st = self->state;
  if (info->node_id != st.setup.node_id)
    return make_error(errc::not_coordinator, "group " + group_id + " is coordinated by node " +
                                               std::to_string(info->node_id));
  forget_if_ended(self, info->partition);
  auto c = st.groups.coordinators.find(info->partition);
  auto hosted = st.partitions.find(topic_partition{offsets_topic_name, info->partition});
  if (c == st.groups.coordinators.end() && hosted != st.partitions.end()) {
    // Led and hosted here, but its coordinator ended (and was forgotten):
    // a new one loads the partition again; until then it answers "loading".
    start_coordinator(self, info->partition, hosted->second.actor);
    c = st.groups.coordinators.find(info->partition);
  }
  if (c == st.groups.coordinators.end())
    return make_error(errc::coordinator_not_available,
                      "the coordinator of " + std::string(offsets_topic_name) + "-" +
                        std::to_string(info->partition) + " is starting");
  return c->second;
}

caf::result<std::vector<group_listing>> on_list_groups(broker_ptr self) {
  forget_ended_coordinators(self);
  return gather_lists<group_listing>(self, self->state.groups.coordinators,
                                     list_groups_atom::value, std::less<group_listing>{});
}

} // namespace al
