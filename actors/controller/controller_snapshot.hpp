#pragma once
// Metadata snapshots in the controller actor (controller_snapshot.cpp):
// taking one every `controller_setup::snapshot_interval_entries` applied
// entries, installing one the leader sent, and restoring the newest on
// start. Format and files: docs/raft.md, "Snapshots".
#include "actors/controller/controller_actor.hpp"

namespace al {

/// After advance(): snapshot the image when enough entries were applied
/// since the last snapshot, then let Raft drop the log prefix.
void maybe_take_snapshot(controller_ptr self);
/// A snapshot from the leader is durable (raft_storage::save): restore the
/// image from it and publish it. False (and the actor quits) when its data
/// does not decode.
bool install_snapshot(controller_ptr self, const raft_snapshot& snap);
/// Recovery check: a snapshot whose data does not decode is skipped.
raft_storage::snapshot_check image_decodes();
/// On start: the machine takes the image of the snapshot recovery chose.
status restore_snapshot(controller_ptr self, const raft_snapshot& snap);

} // namespace al
