// A partition's checkpoint files (replica_checkpoint_files.hpp) as the partition
// actor keeps them: leader-epoch-checkpoint written in line (records of a
// new epoch must not reach the disk before it), high-watermark every few
// seconds through the partition's I/O worker (partition_io.cpp).
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition/partition_state.hpp"
#include "actors/partition/replica_checkpoint_files.hpp"
#include "actors/protocol/atoms.hpp"

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

} // namespace

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

} // namespace al
