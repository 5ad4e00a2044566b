#pragma once
// Typed interface of the node's store actor: the only owner of meta.db.
// Spawned detached (SQLite commits fsync; they must not block scheduler
// threads).
#include <string>
#include <vector>

#include <memory>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/controller/metadata_machine.hpp"
#include "actors/protocol/atoms.hpp"
#include "storage/meta_types.hpp"

namespace al {

using store_api = caf::typed_actor<
  // Materialise the metadata image as of metadata log offset N. Images that
  // arrive while one waits replace it: only the newest is written (tick).
  caf::reacts_to<apply_atom, int64_t, metadata_image>,
  // (to itself) write the newest image received.
  caf::reacts_to<tick_atom>,
  // Barrier: replies once everything sent before is committed.
  caf::replies_to<flush_atom>::with<bool>,
  // Committed consumer offsets (a view of __consumer_offsets, written by the
  // group coordinators after the offsets topic has the commit): group,
  // generation, rows.
  caf::reacts_to<offset_commit_atom, std::string, int32_t, std::vector<offset_commit>>,
  // DeleteGroups: forget the group's offsets.
  caf::reacts_to<delete_group_atom, std::string>,
  caf::replies_to<offset_fetch_atom, std::string>::with<std::vector<committed_offset>>,
  caf::replies_to<list_groups_atom>::with<std::vector<std::string>>>;

class meta_store;

struct store_state {
  /// The newest image not yet written, and its offset (-1: none). A
  /// materialize of 10 000 partitions takes ~25 ms; pushes come with every
  /// batch of applied commands, faster than that in an election storm, so
  /// the ones queued behind each other collapse into the newest (issue 15).
  metadata_image pending;
  int64_t pending_offset = -1;
  bool scheduled = false;
  std::shared_ptr<meta_store> db;
  ~store_state();
  static constexpr const char* name = "store";
};

/// Opens `db_path` (creating it); quits with the open error if that fails.
store_api::behavior_type store_actor(store_api::stateful_pointer<store_state> self,
                                     std::string db_path);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, offset_commit& x) {
  return f(x.topic, x.partition, x.offset, x.leader_epoch, x.metadata, x.commit_time_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, committed_offset& x) {
  return f(x.group, x.generation_id, x.topic, x.partition, x.offset, x.leader_epoch, x.metadata,
           x.commit_time_ms);
}

} // namespace al
