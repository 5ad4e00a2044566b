#pragma once
// Whole-cluster simulation: one partition replica's files on its machine's
// disk, as partition_log and producer_state_store keep them.
//   log          offsets [log_start, end()); the vector keeps the deleted
//                prefix only so that an offset indexes it
//   flushed      the fsynced prefix: a machine crash (page cache lost) keeps
//                the log up to a batch boundary in [flushed, end()]; a
//                process crash keeps all of it
//   HW checkpoint written (page cache) and synced; a machine crash keeps
//                the synced one
//   snapshots    producer-state snapshot files by the offset they cover,
//                written durably (replace_file_durably) from the table as
//                it stands, covering the log end
// truncate_to, restart_at and retention are durable on return, as in
// partition_log. load_producer_state itself needs a partition_log on disk;
// load_producers models its rule on these files, with the shipped snapshot
// codec (producer_state_table::snapshot, restore): delete every
// snapshot above the log end, restore the newest at or below it, scan the
// batches from there (from the log start without one). It runs on start,
// after a truncation and after a restart at the leader's log start, never
// trims the table (issue 12, items 1 and 4).
// One difference, on purpose: a snapshot below the log start is deleted
// too, as Kafka's truncateAndReload does, instead of restored and scanned
// from the log start (producer_state_store.cpp: "retention may have passed
// it"). That table misses the batches retention deleted after the snapshot:
// a producer's last sequence goes back, its next batch is refused with
// OUT_OF_ORDER_SEQUENCE for good, and a retry of a deleted batch would be
// appended again. check_producers catches it (docs/replication.md,
// "Whole-cluster simulation", has the seed).
#include <map>
#include <optional>
#include <vector>

#include "actors/partition/producer_state_machine.hpp"
#include "storage/assert.hpp"
#include "tests/sim/cluster_model.hpp"

namespace al::cluster_sim {

inline batch_header header_of(const log_entry& e) {
  batch_header h;
  h.base_offset = e.batch_base;
  h.last_offset_delta = e.batch_len - 1;
  h.producer_id = e.type == entry_type::txn_state ? no_producer_id : e.producer;
  h.producer_epoch = e.type == entry_type::txn_state ? no_producer_epoch : e.producer_epoch;
  h.base_sequence = e.marker() || e.type == entry_type::txn_state ? no_sequence : e.seq;
  if (e.type != entry_type::data && e.type != entry_type::txn_state)
    h.attributes |= batch_attr::transactional;
  if (e.marker())
    h.attributes |= batch_attr::control;
  return h;
}

/// What a marker batch says (decode_txn_marker of the real one).
inline std::optional<txn_marker> marker_of(const log_entry& e) {
  if (!e.marker())
    return std::nullopt;
  return txn_marker{e.type == entry_type::commit_marker, 0};
}

/// A batch now in the log, into the producer state (and its
/// partition_txn_machine), as the partition actor's on_batch_appended does.
inline void note_batch(producer_state_table& table, const log_entry& e, int64_t hw = 0) {
  auto m = marker_of(e);
  table.on_append(header_of(e), producer_state_table::no_clock, m ? &*m : nullptr, hw);
}

struct replica_disk {
  std::vector<log_entry> log;
  int64_t log_start = 0;
  int64_t flushed = 0;
  int64_t checkpoint_hw = 0, synced_hw = 0;
  std::map<int64_t, bytes> snapshots;
  static constexpr size_t kept_snapshots = 3; // the newest; Kafka keeps about one per segment

  int64_t end() const { return int64_t(log.size()); }
  bool batch_start(int64_t o) const { return o == end() || log[size_t(o)].batch_base == o; }

  void append_batch(const std::vector<log_entry>& batch) {
    AL_ASSERT(!batch.empty() && batch.front().batch_base == end(), "batch at",
              batch.empty() ? -1 : batch.front().batch_base, "log end", end());
    log.insert(log.end(), batch.begin(), batch.end());
  }
  void flush() {
    flushed = end();
    synced_hw = checkpoint_hw;
  }
  /// Cuts [to, end); below the log start the log restarts empty at `to`.
  void truncate_to(int64_t to) {
    AL_ASSERT(to >= 0 && to <= end() && batch_start(to), "truncate to", to, "end", end());
    log.resize(size_t(to));
    log_start = std::min(log_start, to);
    flushed = to;
  }
  /// Kafka's truncateFullyAndStartAt: snapshots first, then the log.
  void restart_at(int64_t offset) {
    AL_ASSERT(offset > end(), "restart at", offset, "end", end());
    snapshots.clear();
    log.assign(size_t(offset), log_entry{});
    log_start = flushed = offset;
  }
  /// A follower takes its leader's log start (partition_log::advance_log_start):
  /// [log_start, to) stays on disk, unreadable; the file saying so is written
  /// durably, but what lies below it need not be flushed (tear restarts the
  /// log empty there when it cuts below it).
  /// At or below the log start (retention got there first): nothing.
  void advance_log_start(int64_t to) {
    AL_ASSERT(to <= end() && batch_start(to), "log start to", to, "log", log_start, end());
    log_start = std::max(log_start, to);
  }
  /// Retention: drops [log_start, to).
  void delete_prefix(int64_t to) {
    AL_ASSERT(to > log_start && to <= end() && batch_start(to), "delete to", to, "log", log_start,
              end());
    log_start = to;
    flushed = std::max(flushed, to);
  }
  /// A machine crash: the tail past a random batch boundary in [flushed,
  /// end] is gone, with an unsynced HW checkpoint. Returns records lost.
  int64_t tear(sim::rng& r) {
    std::vector<int64_t> bounds;
    for (int64_t o = flushed; o <= end(); o += o < end() ? log[size_t(o)].batch_len : 1)
      bounds.push_back(o);
    int64_t keep = bounds[size_t(r.between(0, int64_t(bounds.size()) - 1))];
    int64_t lost = end() - keep;
    log.resize(size_t(keep));
    checkpoint_hw = synced_hw;
    if (keep < log_start) { // partition_log's recovery: restarted empty at the log start
      log.assign(size_t(log_start), log_entry{});
      flushed = log_start;
    }
    return lost;
  }
  void take_snapshot(const producer_state_table& table) {
    snapshots[end()] = table.snapshot(end());
    while (snapshots.size() > kept_snapshots)
      snapshots.erase(snapshots.begin());
  }
  struct load_note {
    int64_t above_end = 0, below_start = 0; // snapshots deleted
    bool restored = false;
    int64_t inside_batch = -1; // a restored snapshot's offset that is not a batch boundary
  };
  /// load_producer_state on these files.
  producer_state_table load_producers(load_note& note) {
    for (auto it = snapshots.upper_bound(end()); it != snapshots.end(); ++note.above_end)
      it = snapshots.erase(it);
    for (auto it = snapshots.begin(); it != snapshots.lower_bound(log_start); ++note.below_start)
      it = snapshots.erase(it);
    producer_state_table table;
    int64_t from = log_start;
    note.restored = !snapshots.empty();
    if (note.restored) {
      auto covers = table.restore(byte_view{snapshots.rbegin()->second}, "sim snapshot");
      AL_ASSERT(covers && *covers == snapshots.rbegin()->first, "snapshot at",
                snapshots.rbegin()->first, "does not restore");
      from = *covers;
    }
    if (!batch_start(from)) { // it describes another log: one truncated since
      note.inside_batch = from;
      return table;
    }
    for (int64_t o = from; o < end(); o += log[size_t(o)].batch_len)
      note_batch(table, log[size_t(o)]);
    return table;
  }
};

} // namespace al::cluster_sim
