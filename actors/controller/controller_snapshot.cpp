// Metadata snapshots in the controller actor: take, install, restore.
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "storage/clock.hpp"
#include "actors/controller/controller_snapshot.hpp"
#include "actors/controller/metadata_snapshot.hpp"
#include "actors/controller/raft_state_files.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

std::string summary(const metadata_image& img) {
  return std::to_string(img.topics.size()) + " topics, " + std::to_string(img.brokers.size()) +
         " brokers";
}

} // namespace

void maybe_take_snapshot(controller_ptr self) {
  auto& st = self->state;
  if (!st.raft || st.setup.snapshot_interval_entries <= 0)
    return;
  auto s = st.raft->status();
  if (s.applied - s.snapshot_index < st.setup.snapshot_interval_entries)
    return;
  auto term = st.raft->log().term_at(s.applied);
  AL_ASSERT(term.has_value(), s.applied, s.snapshot_index);
  raft_snapshot snap{raft_snapshot_meta{s.applied, *term}, encode_image(st.machine.image())};
  auto size = snap.data.size();
  if (auto saved = st.storage->save_snapshot(snap, wall_clock_ms()); !saved) {
    // The log stays whole: nothing is lost, the next apply tries again.
    spdlog::error("controller {}: cannot write snapshot at index {}: {}", st.setup.node_id,
                  s.applied, saved.to_string());
    return;
  }
  st.raft->compact(snap.meta.index, std::move(snap.data));
  spdlog::info("controller {}: took snapshot {} ({} bytes, {}); metadata log starts at offset {}",
               st.setup.node_id, snapshot_file_name(snap.meta), size,
               summary(st.machine.image()), st.storage->log().log_start_offset());
}

bool install_snapshot(controller_ptr self, const raft_snapshot& snap) {
  auto& st = self->state;
  auto image = decode_image(snap.data, "snapshot from the leader at index " +
                                         std::to_string(snap.meta.index));
  if (!image) {
    // Raft already made the snapshot our log; running on without its state
    // would diverge from the quorum.
    spdlog::critical("controller {}: {}", st.setup.node_id, image.error().to_string());
    self->quit(to_caf_error(image.error()));
    return false;
  }
  st.machine.restore(std::move(*image));
  spdlog::info("controller {}: installed snapshot at index {} (term {}) from the leader: {}",
               st.setup.node_id, snap.meta.index, snap.meta.term, summary(st.machine.image()));
  push_image(self);
  return true;
}

raft_storage::snapshot_check image_decodes() {
  return [](const raft_snapshot& snap) -> status {
    auto image = decode_image(snap.data, "image");
    return image ? status::ok() : image.error();
  };
}

status restore_snapshot(controller_ptr self, const raft_snapshot& snap) {
  auto& st = self->state;
  auto image = decode_image(snap.data, snapshot_file_name(snap.meta));
  if (!image)
    return image.error();
  st.machine.restore(std::move(*image));
  spdlog::info("controller {}: restored snapshot {}: {}", st.setup.node_id,
               snapshot_file_name(snap.meta), summary(st.machine.image()));
  push_image(self);
  return status::ok();
}

} // namespace al
