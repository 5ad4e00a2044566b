// A partition's checkpoints as the partition actor keeps them:
// leader-epoch-checkpoint (replica_checkpoint_files.hpp) handed to its I/O
// worker when a new epoch gets its first record, after truncation and on a
// role change, written without fsync (a load checks it against the log and
// rebuilds one that disagrees, so a late or lost write is safe), and its HW in
// the node's table (hw_checkpoint_files.hpp), which the broker writes every
// few seconds through an I/O worker.
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition/partition_state.hpp"
#include "actors/partition/replica_checkpoint_files.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

using self_ptr = partition_ptr;

/// The entries that describe records below `end`: a load cuts the cache to
/// the log end (truncate_from_end), so entries at or past it never matter.
std::vector<epoch_entry> below(const std::vector<epoch_entry>& entries, int64_t end) {
  std::vector<epoch_entry> out;
  for (auto& e : entries)
    if (e.start_offset < end)
      out.push_back(e);
  return out;
}

void store_recovery_point(partition_state& st) {
  if (st.recovery_cell)
    st.recovery_cell->store(st.log->flushed_offset(), std::memory_order_relaxed);
}

} // namespace

void checkpoint_epochs(self_ptr self, int64_t end) {
  auto& st = self->state;
  if (!st.replica || !st.log || st.replica->epochs().entries() == st.saved_epochs)
    return;
  if (end < 0)
    end = st.log->log_end_offset();
  // Only what a load would keep of either list counts. A leader's new epoch
  // starts at the log end and has no record yet: it is handed on with its
  // first record (on_produce asks with the end after the append), not on
  // the role change, which spared 10 000 restarted partitions a file each
  // (issue 15). A file without it is rebuilt on load, so a crash in
  // between loses nothing.
  if (below(st.replica->epochs().entries(), end) == below(st.saved_epochs, end))
    return;
  if (st.setup.io) {
    // Off the produce path: the first record of each partition's epoch
    // used to create and rename a file in line (10 000 of them when
    // producing to 10 000 partitions).
    caf::anon_send(st.setup.io, epoch_checkpoint_atom::value,
                   epoch_checkpoint_job{st.setup.dir, st.replica->epochs(), st.fence,
                                        st.fence->generation});
    st.saved_epochs = st.replica->epochs().entries();
    return;
  }
  if (auto s = save_epoch_checkpoint(st.setup.dir, st.replica->epochs()); !s) {
    spdlog::error("{}: {}", where(st), s.to_string());
    return;
  }
  st.saved_epochs = st.replica->epochs().entries();
}

void after_log_change(self_ptr self) {
  auto& st = self->state;
  if (!st.log)
    return;
  for (auto& job : st.log->take_sync_jobs()) {
    if (!st.setup.io) {
      if (auto s = run_segment_sync(job); !s)
        mark_write_failed(st, s);
      else if (st.write_error.is_ok()) // after a failure no fsync is trusted (below)
        (void)st.log->segment_synced(job); // queues nothing: a log without a worker flushes in line
      continue;
    }
    auto done = job; // what segment_synced needs; the descriptor stays with the worker
    done.log.reset();
    self->request(st.setup.io, caf::infinite, segment_sync_atom::value, std::move(job))
      .then(
        [=](const std::string& error) {
          auto& s = self->state;
          if (!s.log)
            return;
          if (!error.empty()) { // like a failed fsync in line: no more writes here
            mark_write_failed(s, status{errc::kafka_storage_error, error});
            return;
          }
          // After a failed write or fsync, a later fsync that succeeds proves
          // nothing: Linux may have dropped the dirty pages of the failed one
          // and reports success for what is left ("fsyncgate"). The flushed
          // offset, and with it the recovery point a restart trusts without
          // scanning, stays where it was.
          if (!s.write_error.is_ok())
            return;
          if (auto more = s.log->segment_synced(done); !more)
            mark_write_failed(s, more); // the next fsync could not be queued
          after_log_change(self); // hands on that next fsync, answers who waited
          release_held_requests(self);
        },
        [=](caf::error& err) {
          mark_write_failed(self->state, status{errc::kafka_storage_error,
                                                "segment sync: " + describe_error(err)});
        });
  }
  if (auto spare = st.log->take_spare_job(); !spare.dir.empty()) {
    if (!st.setup.io) {
      st.log->spare_files_ready(bool(run_spare_files(spare)));
    } else {
      self->request(st.setup.io, caf::infinite, segment_sync_atom::value, std::move(spare))
        .then(
          [=](bool made) {
            if (self->state.log)
              self->state.log->spare_files_ready(made);
          },
          [=](caf::error&) {
            if (self->state.log)
              self->state.log->spare_files_ready(false);
          });
    }
  }
  if (auto doomed = st.log->take_delete_job(); !doomed.paths.empty()) {
    if (st.setup.io)
      caf::anon_send(st.setup.io, delete_files_atom::value, std::move(doomed));
    else if (auto s = run_file_delete(doomed); !s)
      spdlog::error("{}: {}", where(st), s.to_string());
  }
  store_recovery_point(st);
  deliver_durable(self);
}

void release_held_requests(self_ptr self) {
  auto& st = self->state;
  if (st.held_requests.empty() || (st.log && st.log->truncation_unsynced()))
    return;
  auto held = std::move(st.held_requests);
  st.held_requests.clear();
  for (auto& send : held)
    send();
}

caf::result<produce_response> answer_when_durable(self_ptr self, produce_response resp,
                                                  int64_t durable_upto) {
  auto& st = self->state;
  if (!st.log || durable_upto <= st.log->flushed_offset())
    return resp;
  auto promise = self->make_response_promise<produce_response>();
  st.durable_waits.emplace(durable_upto, durable_wait{promise, std::move(resp)});
  return promise;
}

void deliver_when_durable(self_ptr self, produce_response resp, int64_t durable_upto,
                          caf::typed_response_promise<produce_response> promise) {
  auto& st = self->state;
  if (!st.log || durable_upto <= st.log->flushed_offset())
    promise.deliver(std::move(resp));
  else if (!st.write_error.is_ok()) // that fsync will never come (mark_write_failed)
    promise.deliver(to_caf_error(st.write_error));
  else
    st.durable_waits.emplace(durable_upto, durable_wait{std::move(promise), std::move(resp)});
}

void deliver_durable(self_ptr self) {
  auto& st = self->state;
  if (st.durable_waits.empty() || !st.log)
    return;
  auto flushed = st.log->flushed_offset();
  auto end = st.log->log_end_offset();
  for (auto i = st.durable_waits.begin(); i != st.durable_waits.end();) {
    if (i->first <= flushed) {
      i->second.promise.deliver(std::move(i->second.response));
    } else if (i->first > end) { // a truncation took the records away
      i->second.promise.deliver(make_error(
        errc::not_leader_or_follower,
        where(st) + ": the log was truncated below the write before its fsync"));
    } else {
      ++i;
      continue;
    }
    i = st.durable_waits.erase(i);
  }
}

void checkpoint_hw(self_ptr self, bool durable) {
  auto& st = self->state;
  if (st.hw_cell)
    st.hw_cell->store(st.high_watermark, std::memory_order_relaxed);
  if (durable) {
    if (auto s = st.setup.hw_table->write(true); !s)
      spdlog::error("{}: {}", where(st), s.to_string());
    after_log_change(self);
    if (st.setup.recovery_table)
      if (auto s = st.setup.recovery_table->write(true); !s)
        spdlog::error("{}: {}", where(st), s.to_string());
  }
}

} // namespace al
