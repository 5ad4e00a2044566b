// The group coordinator's group-wide requests: DeleteGroups (tombstones),
// OffsetFetch, DescribeGroups, ListGroups, the partition counts the broker
// pushes, and unloading.
#include <algorithm>
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/group/group_coordinator_actor.hpp"
#include "actors/group/group_limits.hpp"
#include "actors/group/group_metadata_record.hpp"
#include "actors/group/group_placement.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

using self_ptr = group_coordinator_ptr;
using std::chrono::milliseconds;

/// The counts to believe: a hostile or broken sender may put anything in a
/// metadata update (the coordinator's handle leaks to clients). An invalid
/// entry keeps the topic's previous count, so it cannot delete a topic.
partition_counts sane_counts(self_ptr self, partition_counts counts) {
  auto& known = self->state.setup.topics;
  size_t ignored = 0;
  for (auto i = counts.begin(); i != counts.end();) {
    if (!i->first.empty() && i->second >= 0 && i->second <= max_topic_partitions) {
      ++i;
      continue;
    }
    ++ignored;
    auto old = known.find(i->first);
    if (old == known.end()) {
      i = counts.erase(i);
      continue;
    }
    i->second = old->second;
    ++i;
  }
  if (ignored > 0)
    spdlog::warn("group coordinator {}-{}: ignored {} partition count(s) outside [0, {}]",
                 offsets_topic_name, self->state.setup.partition, ignored,
                 max_topic_partitions);
  return counts;
}

} // namespace

caf::result<bool> on_delete_group(group_coordinator_ptr self, const std::string& group_id) {
  if (auto err = check_group_request(self, group_id))
    return err;
  auto g = find_group(self, group_id);
  if (!g || g->deleting)
    return make_error(errc::group_id_not_found, "group " + group_id + " does not exist");
  auto offsets = g->machine->describe().offsets;
  auto generation = g->machine->generation_id();
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
  // Generation 0 was never rebalanced: no record of the group is in the log.
  if (offsets.empty() && generation == 0) {
    finish();
    return true;
  }
  // Tombstones for every offset and for the group's metadata record (a
  // generation may have been written even if nothing was committed).
  g->deleting = true;
  std::vector<topic_partition> keys;
  for (auto& [tp, v] : offsets)
    keys.push_back(tp);
  auto rp = self->make_response_promise<bool>();
  auto batch = group_tombstone_batch(group_id, keys, coordinator_now_ms(self));
  self->request(self->state.setup.log, milliseconds(self->state.setup.request_timeout_ms),
                produce_atom::value, offsets_append(self, std::move(batch)))
    .then(
      [rp, finish](const produce_response&) mutable {
        finish();
        rp.deliver(true);
      },
      [self, rp, group_id, offsets, generation](caf::error& err) mutable {
        // The log still has the group: bring it back as it was.
        self->state.groups.erase(group_id);
        add_group(self, group_id, offsets, generation);
        rp.deliver(make_error(errc::coordinator_not_available,
                              "group " + group_id + ": writing tombstones failed: " +
                                describe_error(err)));
      });
  return rp;
}

caf::result<group_offsets> on_offset_fetch(group_coordinator_ptr self,
                                           const std::string& group_id,
                                           const std::vector<topic_partition>& partitions,
                                           bool require_stable) {
  if (auto err = check_group_request(self, group_id))
    return err;
  auto g = find_group(self, group_id);
  if (g && require_stable) {
    auto& pending = g->txn_offsets;
    bool unstable = partitions.empty() ? !pending.producers().empty()
                                       : std::any_of(partitions.begin(), partitions.end(),
                                                     [&](auto& tp) { return pending.has_pending(tp); });
    if (unstable)
      return make_error(errc::unstable_offset_commit,
                        "group " + group_id + " has offsets pending in an open transaction");
  }
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

caf::result<group_description> on_describe_group(group_coordinator_ptr self,
                                                 const std::string& group_id) {
  if (auto err = check_group_request(self, group_id))
    return err;
  auto g = find_group(self, group_id);
  if (!g || g->machine->state() == group_state::dead)
    return make_error(errc::group_id_not_found, "group " + group_id + " does not exist");
  return g->machine->describe();
}

caf::result<std::vector<group_listing>> list_coordinated_groups(group_coordinator_ptr self) {
  if (!self->state.loaded)
    return make_error(errc::coordinator_not_available,
                      "the coordinator of " + std::string(offsets_topic_name) + "-" +
                        std::to_string(self->state.setup.partition) + " is loading");
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

void on_topic_counts(group_coordinator_ptr self, partition_counts pushed) {
  auto& st = self->state;
  auto counts = sane_counts(self, std::move(pushed));
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
  std::vector<std::string> ids; // process() may forget a group
  for (auto& [id, g] : st.groups)
    ids.push_back(id);
  for (auto& id : ids)
    process(self, id);
}

void unload(group_coordinator_ptr self) {
  auto now = coordinator_now_ms(self);
  for (auto& [id, g] : self->state.groups) {
    g.machine->unload(now);
    process(self, id); // a Dead machine is never forgotten here
    for (auto& [rid, rp] : g.waiting)
      rp.deliver(make_error(errc::not_coordinator, "the coordinator of group " + id + " moved"));
    g.waiting.clear();
  }
  spdlog::info("group coordinator {}-{}: unloaded {} group(s)", offsets_topic_name,
               self->state.setup.partition, self->state.groups.size());
  self->state.groups.clear();
  self->quit();
}

} // namespace al
