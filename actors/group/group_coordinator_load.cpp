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

void read_from(self_ptr self, int64_t offset, int32_t max_bytes) {
  auto& st = self->state;
  fetch_request req;
  req.topic = offsets_topic_name;
  req.partition = st.setup.partition;
  req.offset = offset;
  req.max_bytes = max_bytes;
  req.max_wait_ms = 0;
  req.isolation = fetch_isolation::log_end;
  self->request(st.setup.log, milliseconds(st.setup.request_timeout_ms), fetch_atom::value, req)
    .then(
      [self, offset, max_bytes](const fetch_response& resp) {
        auto next = self->state.loader.apply(byte_view{resp.records}, offset);
        if (!next) {
          retry_load(self, to_caf_error(next.error()));
          return;
        }
        if (*next >= resp.log_end_offset) {
          finish_load(self);
          return;
        }
        // No whole batch fitted: read more at once.
        if (*next == offset && max_bytes > (1 << 29)) {
          retry_load(self, make_error(errc::corrupt_message,
                                      "no batch readable at offset " + std::to_string(offset)));
          return;
        }
        auto bytes_next = *next == offset ? max_bytes * 2 : self->state.setup.load_fetch_bytes;
        read_from(self, *next, bytes_next);
      },
      [self](caf::error& err) { retry_load(self, err); });
}

} // namespace

void load_offsets_partition(group_coordinator_ptr self) {
  auto& st = self->state;
  if (st.loaded || st.loading)
    return;
  st.loading = true;
  st.load_started_ms = coordinator_now_ms(self);
  list_offsets_request req{offsets_topic_name, st.setup.partition, earliest_timestamp};
  self->request(st.setup.log, milliseconds(st.setup.request_timeout_ms), list_offsets_atom::value,
                req)
    .then(
      [self](const list_offsets_response& r) {
        read_from(self, std::max<int64_t>(r.offset, 0), self->state.setup.load_fetch_bytes);
      },
      [self](caf::error& err) { retry_load(self, err); });
}

} // namespace al
