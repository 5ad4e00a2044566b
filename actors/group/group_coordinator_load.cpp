// Loading a group coordinator: read its __consumer_offsets partition from the
// log start to the log end (fetches with no wait and isolation log_end, as
// Kafka's loader reads the local log), replay every record into
// offsets_loader, then create a machine per group that still has offsets,
// continuing from the highest generation seen (generation records
// included). Records no coordinator writes (empty group id, undecodable key
// or value, absurd generation) are skipped and counted, and logged once when
// the load ends.
// The SQLite view is rewritten from what was loaded (it may lag the log
// after a crash).
//
// Why the log end and not the high watermark: the coordinator runs on the
// partition's leader, and right after an election the leader's HW lags until
// its followers fetch in the new epoch. Every acknowledged commit is in the
// leader's log (acks=all), but may be above its HW: a load that stopped at
// the HW would lose it, hand out older offsets and overwrite the SQLite view
// with them (issue 12). What is above the HW is the leader's and becomes
// committed, or the leader is deposed and this coordinator unloaded.
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/group/group_coordinator_actor.hpp"
#include "actors/group/group_placement.hpp"
#include "actors/partition/partition_reader.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

using self_ptr = group_coordinator_ptr;
using std::chrono::milliseconds;

void retry_load(self_ptr self, const caf::error& err) {
  spdlog::warn("group coordinator {}-{}: loading failed ({}), retrying", offsets_topic_name,
               self->state.setup.partition, describe_error(err));
  self->state.loader = offsets_loader{};
  self->state.loading = false;
  self->delayed_send(self, std::chrono::seconds(1), group_tick_atom::value, std::string{},
                     int64_t{0});
}

void sync_store(self_ptr self) {
  auto& st = self->state;
  if (!st.setup.store)
    return;
  for (auto& [group_id, g] : st.loader.groups()) {
    // One call per generation: meta.db stores the committer's generation per row.
    std::map<int32_t, std::vector<offset_commit>> by_generation;
    for (auto& [tp, v] : g.offsets)
      by_generation[v.generation_id].push_back(offset_commit{
        tp.topic, tp.partition, v.offset, v.leader_epoch, v.metadata, v.commit_time_ms});
    for (auto& [generation, rows] : by_generation)
      self->send(st.setup.store, offset_commit_atom::value, group_id, generation, rows);
  }
  for (auto& group_id : st.loader.deleted_groups())
    self->send(st.setup.store, delete_group_atom::value, group_id);
}

void finish_load(self_ptr self) {
  auto& st = self->state;
  for (auto& [group_id, g] : st.loader.groups())
    add_group(self, group_id, g.offsets, g.max_generation);
  restore_pending_txn_offsets(self, st.loader);
  sync_store(self);
  st.loaded = true;
  st.loading = false;
  auto& skipped = st.loader.skipped();
  if (st.loader.unreadable() > 0 || skipped.total() > 0) // once per load, not per record
    spdlog::warn("group coordinator {}-{}: skipped {} record(s) with a bad key, {} with an "
                 "unreadable value, {} with an absurd generation; first: {}",
                 offsets_topic_name, st.setup.partition, skipped.bad_key,
                 st.loader.unreadable(), skipped.absurd_generation, st.loader.first_skipped());
  spdlog::info("group coordinator {}-{}: loaded {} group(s) from {} record(s) in {} ms",
               offsets_topic_name, st.setup.partition, st.groups.size(), st.loader.records(),
               coordinator_now_ms(self) - st.load_started_ms);
  st.loader = offsets_loader{};
  auto markers = std::move(st.markers_while_loading);
  st.markers_while_loading.clear();
  for (auto& [pid, commit] : markers)
    on_txn_marker(self, pid, commit);
}

} // namespace

void load_offsets_partition(group_coordinator_ptr self) {
  auto& st = self->state;
  if (st.loaded || st.loading)
    return;
  st.loading = true;
  st.load_started_ms = coordinator_now_ms(self);
  auto how = std::make_shared<partition_read>();
  how->apply = [self](byte_view data, int64_t from) { return self->state.loader.apply(data, from); };
  how->done = [self] { finish_load(self); };
  how->failed = [self](const caf::error& err) { retry_load(self, err); };
  read_partition_to_end(self, st.setup.log, topic_partition{offsets_topic_name, st.setup.partition},
                        milliseconds(st.setup.request_timeout_ms), st.setup.load_fetch_bytes, how);
}

} // namespace al
