#pragma once
// The group coordinator actor of one __consumer_offsets partition led by
// this node (docs/groups.md, "Coordinator"). It loads the partition (every
// committed offset since its start), then serves the groups that hash to it:
// each group is a group_machine whose effects it executes in order:
//   persist: append the commit as records to the offsets partition
//            (acks=all), then on_persisted, then the SQLite view (store);
//   persist_group: append a generation's metadata record (acks=all), then
//            on_persisted: the generation's SyncGroups wait for it;
//   responses: deliver the held response promise of each request;
//   events: log lines.
// on_persisted gets the append's own error; the machine decides what the
// waiting members are told.
// A timer per group is armed at the machine's next_deadline_ms(). Requests
// are checked against group_limits.hpp before a group is created; a group
// left with nothing to remember (machine forgettable()) is dropped.
// Lifetime: not linked to its broker (a link would carry exit_reason::kill,
// which no handler traps, to the broker). It monitors the broker and unloads
// when it ends; the broker notices a coordinator's end and starts a new one
// when next needed. Unexpected messages, stray error messages and exit
// messages are logged and dropped.
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/actor_clock.hpp>
#include <caf/result.hpp>
#include <caf/response_promise.hpp>

#include "actors/group/group_coordinator_api.hpp"
#include "actors/group/group_machine.hpp"
#include "actors/group/offsets_record.hpp"
#include "actors/group/txn_offsets_machine.hpp"
#include "actors/partition/partition_api.hpp"
#include "actors/store/store_api.hpp"

namespace al {

struct group_coordinator_setup {
  int32_t node_id = -1;
  int32_t partition = 0;       // of __consumer_offsets
  partition_api log;           // that partition's actor (leader on this node)
  store_api store;             // SQLite view; may be null (tests)
  group_config group_defaults; // timeouts and initial delay; group_id unused
  std::string salt;            // unique per coordinator incarnation (member ids)
  partition_counts topics;     // partition count of every topic
  int64_t request_timeout_ms = 30000;
  int32_t load_fetch_bytes = 1 << 20;
  caf::actor_addr owner;       // the broker, monitored; may be null (tests)
};

/// One group served by the coordinator.
struct coordinated_group {
  std::unique_ptr<group_machine> machine;
  /// Unique per machine in this coordinator: appends still in flight for a
  /// deleted (or forgotten) group's machine never reach a later one.
  uint64_t incarnation = 0;
  std::map<group_request_id, caf::response_promise> waiting; // by the machine's request id
  std::deque<uint64_t> persisting;  // persist ids, in the order they were appended
  std::map<uint64_t, errc> written; // outcomes that wait for an earlier one
  std::optional<int64_t> timer_at;  // the earliest armed tick
  bool deleting = false;            // tombstones being written
  /// Offsets committed in open transactions (issue 16), until their markers.
  txn_offsets_machine txn_offsets;
};

struct group_coordinator_state {
  group_coordinator_setup setup;
  bool loaded = false;
  bool loading = false;       // a load is under way (a retry tick must not start another)
  int64_t load_started_ms = 0;
  offsets_loader loader;
  std::map<std::string, coordinated_group> groups;
  group_request_id next_request_id = 1;
  uint64_t groups_created = 0; // each machine's incarnation, part of its member id salt
  caf::actor_clock::time_point clock_base;
  int64_t wall_base_ms = 0;
  /// Transaction markers that came while loading: applied after the load
  /// (a marker the load read already has nothing left to apply).
  std::vector<std::pair<int64_t, bool>> markers_while_loading;
  static constexpr const char* name = "group_coordinator";
};

using group_coordinator_ptr = group_coordinator_api::stateful_pointer<group_coordinator_state>;

group_coordinator_api::behavior_type group_coordinator_actor(group_coordinator_ptr self,
                                                             group_coordinator_setup setup);

// ---- shared by the coordinator's files --------------------------------------

/// Milliseconds on a clock that starts at the wall clock and then follows
/// the actor clock (monotonic; virtual time under the test scheduler).
int64_t coordinator_now_ms(group_coordinator_ptr self);
/// Reads the offsets partition from its start to its log end, then creates
/// the machines (group_coordinator_load.cpp). Does nothing while
/// loaded or loading.
void load_offsets_partition(group_coordinator_ptr self);
/// A new machine for `group_id` with these offsets.
coordinated_group& add_group(group_coordinator_ptr self, const std::string& group_id,
                             group_offsets offsets, int32_t initial_generation);
coordinated_group* find_group(group_coordinator_ptr self, const std::string& group_id);
/// COORDINATOR_NOT_AVAILABLE while loading, INVALID_GROUP_ID (group_limits.hpp).
caf::error check_group_request(group_coordinator_ptr self, const std::string& group_id);
/// meta.db rows for committed offsets (the store's view).
std::vector<offset_commit> store_rows(const group_offsets& offsets);
/// An acks=all append of `batch` to this coordinator's offsets partition.
produce_request offsets_append(group_coordinator_ptr self, bytes batch);
/// Executes the machine's effects in order (persist, respond, log), then
/// forgets the group if nothing is left to remember, else re-arms its timer.
void process(group_coordinator_ptr self, const std::string& group_id);

// group_coordinator_txn.cpp (issue 16)
/// TxnOffsetCommit: appended as the producer's transactional batch,
/// pending until its marker.
caf::result<offset_commit_response> on_txn_offset_commit(group_coordinator_ptr self,
                                                         const std::string& group_id,
                                                         txn_offset_commit_request& req);
/// A marker for `producer_id` reached the offsets partition.
void on_txn_marker(group_coordinator_ptr self, int64_t producer_id, bool commit);
/// After a load: the transactional commits still waiting for their markers.
void restore_pending_txn_offsets(group_coordinator_ptr self, const offsets_loader& loader);

// group_coordinator_admin.cpp
caf::result<bool> on_delete_group(group_coordinator_ptr self, const std::string& group_id);
/// `require_stable`: UNSTABLE_OFFSET_COMMIT while one of the partitions
/// (any, when none are named) has offsets pending in an open transaction.
caf::result<group_offsets> on_offset_fetch(group_coordinator_ptr self,
                                           const std::string& group_id,
                                           const std::vector<topic_partition>& partitions,
                                           bool require_stable);
caf::result<group_description> on_describe_group(group_coordinator_ptr self,
                                                 const std::string& group_id);
caf::result<std::vector<group_listing>> list_coordinated_groups(group_coordinator_ptr self);
/// Partition counts pushed by the broker; entries outside [0,
/// max_topic_partitions] are not believed.
void on_topic_counts(group_coordinator_ptr self, partition_counts counts);
/// Pending requests get NOT_COORDINATOR, then the actor quits.
void unload(group_coordinator_ptr self);

} // namespace al
