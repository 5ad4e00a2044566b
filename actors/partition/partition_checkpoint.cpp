// A partition's checkpoint files (replica_checkpoint_files.hpp) as the partition
// actor keeps them: leader-epoch-checkpoint written in line (records of a
// new epoch must not reach the disk before it), high-watermark every few
// seconds through the partition's I/O worker, off the scheduler.
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition/partition_state.hpp"
#include "actors/partition/replica_checkpoint_files.hpp"
#include "actors/protocol/atoms.hpp"

namespace al {

namespace {

using self_ptr = partition_ptr;

constexpr int64_t hw_checkpoint_interval_ms = 5000;

} // namespace

void checkpoint_epochs(self_ptr self) {
  auto& st = self->state;
  if (!st.replica || !st.log || st.replica->epochs().entries() == st.saved_epochs)
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
    caf::anon_send(st.setup.io, hw_checkpoint_atom::value, st.setup.dir,
                   st.high_watermark);
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
    [](hw_checkpoint_atom, const std::string& dir, int64_t hw) {
      if (auto st = save_hw_checkpoint(dir, hw); !st)
        spdlog::debug("high-watermark checkpoint in {} not written: {}", dir, st.to_string());
    },
  };
}

} // namespace al
