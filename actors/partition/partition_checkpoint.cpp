// A partition's checkpoint files (replica_checkpoint_files.hpp) as the partition
// actor keeps them: leader-epoch-checkpoint written in line (records of a
// new epoch must not reach the disk before it), high-watermark every few
// seconds through the partition's I/O worker, off the scheduler.
#include <mutex>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition/partition_state.hpp"
#include "actors/partition/replica_checkpoint_files.hpp"
#include "actors/protocol/atoms.hpp"

namespace al {

namespace {

using self_ptr = partition_ptr;

} // namespace

namespace {

/// The entries that describe records below `end`: a load cuts the cache to
/// the log end (truncate_from_end), so entries at or past it never matter.
std::vector<epoch_entry> below(const std::vector<epoch_entry>& entries, int64_t end) {
  std::vector<epoch_entry> out;
  for (auto& e : entries)
    if (e.start_offset < end)
      out.push_back(e);
  return out;
}

} // namespace

opened_partition open_partition_files(const open_partition_job& job) {
  opened_partition out;
  try {
    auto opened = partition_log::open(job.dir, job.log, wall_clock_ms(), &out.report);
    if (!opened) {
      out.error = opened.error();
      return out;
    }
    out.log = std::move(*opened);
    out.producers = load_producer_state(*out.log, &out.producers_note, wall_clock_ms());
  } catch (const std::exception& e) {
    out.log.reset();
    out.error = status{errc::kafka_storage_error, std::string{"opening the log failed: "} + e.what()};
  } catch (...) {
    out.log.reset();
    out.error = status{errc::kafka_storage_error, "opening the log failed"};
  }
  return out;
}

void checkpoint_epochs(self_ptr self, int64_t end) {
  auto& st = self->state;
  if (!st.replica || !st.log || st.replica->epochs().entries() == st.saved_epochs)
    return;
  if (end < 0)
    end = st.log->log_end_offset();
  // Only what a load would keep of either list counts. A leader's new epoch
  // starts at the log end and has no record yet: it is written before its
  // first record (on_produce asks with the end after the append), not on
  // the role change, which spared 10 000 restarted partitions two fsyncs
  // each (issue 15). A crash in between loses nothing: the load drops it.
  if (below(st.replica->epochs().entries(), end) == below(st.saved_epochs, end))
    return;
  if (auto s = save_epoch_checkpoint(st.setup.dir, st.replica->epochs()); !s) {
    spdlog::error("{}: {}", where(st), s.to_string());
    return;
  }
  st.saved_epochs = st.replica->epochs().entries();
}

void checkpoint_hw(self_ptr self, int64_t now_ms, bool force) {
  auto& st = self->state;
  // A forced checkpoint (a flush request) is written here and now even when
  // the value was handed to the I/O worker: that write may still be
  // queued when the node stops and the writer with it. (A queued older value
  // landing after this one only lowers the file: the HW is re-established
  // from the ISR, and the file is a lower bound anyway.)
  if (!st.log || (!force && st.high_watermark == st.saved_hw))
    return;
  if (!force && now_ms - st.last_hw_save_ms < hw_checkpoint_interval_ms)
    return;
  st.last_hw_save_ms = now_ms;
  if (!force && st.setup.io) {
    caf::anon_send(st.setup.io, hw_checkpoint_atom::value,
                   hw_checkpoint_job{st.setup.dir, st.high_watermark, st.fence,
                                     st.fence->generation});
    st.saved_hw = st.high_watermark;
    return;
  }
  if (auto s = save_hw_checkpoint(st.setup.dir, st.high_watermark); !s) {
    spdlog::error("{}: {}", where(st), s.to_string());
    return;
  }
  st.saved_hw = st.high_watermark;
}

caf::behavior io_worker_actor(caf::event_based_actor* self) {
  self->set_error_handler([](caf::error&) {}); // nothing it sends expects an answer
  return {
    [](hw_checkpoint_atom, const hw_checkpoint_job& job) {
      std::lock_guard<std::mutex> lock{job.fence->mutex};
      if (job.fence->generation != job.generation)
        return; // the log was truncated, restarted or deleted since
      if (auto st = save_hw_checkpoint(job.dir, job.high_watermark, false); !st)
        spdlog::debug("high-watermark checkpoint in {} not written: {}", job.dir, st.to_string());
    },
    [](open_log_atom, const open_partition_job& job) {
      return std::make_shared<opened_partition>(open_partition_files(job));
    },
    [](producer_snapshot_atom, const producer_snapshot_job& job) {
      auto written = write_snapshot_job(job);
      if (!written)
        spdlog::error("producer state snapshot in {} at {} not written: {}", job.dir, job.covers,
                      written.error().to_string());
      else if (!*written)
        spdlog::debug("producer state snapshot in {} at {} voided by a truncation", job.dir,
                      job.covers);
    },
  };
}

} // namespace al
