#pragma once
// One consumer group's coordinator as a pure state machine (etcd-raft
// surface): the actor feeds requests, persistence acks, topic metadata and
// time (every input carries now_ms; it never goes backwards), then drains
// take_ready() and executes it in order: persist offsets, send responses,
// log events. No CAF, no clock, no I/O: the simulator runs the same class.
//
// States and transitions are Kafka's (docs/groups.md has the diagram):
//   Empty -> PreparingRebalance -> CompletingRebalance -> Stable, any -> Dead.
// Two ways to compute a generation's assignment (docs/groups.md):
//  - server-side (only our CAF clients in the generation): the coordinator
//    runs the assignor when the join phase ends; SyncGroup only fetches the
//    member's share;
//  - relay (some member joined with client_assigns, i.e. a Kafka wire
//    client): Kafka's classic protocol. That kind of member leads, gets
//    every member's metadata in its JoinGroup response and brings everyone's
//    assignment bytes in its SyncGroup; the others' syncs wait for it.
// In both, no member gets its share before the generation is written to the
// offsets partition (persist_group_effect, once the assignment exists and a
// member syncs): a coordinator whose partition has moved to another leader
// cannot write, so it hands out nothing.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/group/group_messages.hpp"
#include "storage/status.hpp"

namespace al {

struct group_config {
  std::string group_id;
  int32_t min_session_timeout_ms = 6000;     // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;  // group.max.session.timeout.ms
  int32_t initial_rebalance_delay_ms = 3000; // group.initial.rebalance.delay.ms
  /// Part of every generated member id; the actor passes something unique
  /// per coordinator incarnation (node id + load epoch) so ids never repeat.
  std::string member_id_salt;
  /// Generation to continue from: the actor passes the highest generation in
  /// the stored offset rows, so ids keep growing across coordinator moves.
  int32_t initial_generation_id = 0;
  /// offset.metadata.max.bytes: longer commit metadata is refused for its
  /// partition with OFFSET_METADATA_TOO_LARGE (0..max_offset_metadata_bytes).
  int32_t offset_metadata_max_bytes = 4096;
  /// group.max.size: members plus handed-out member ids; a newcomer beyond
  /// it gets GROUP_MAX_SIZE_REACHED (Kafka's default is unlimited).
  int32_t group_max_size = 1000;
};

/// What a committer gets when the append of its commit failed with `append_error`.
errc commit_error_for(errc append_error);
/// What the members waiting in SyncGroup get when the append of their
/// generation's metadata failed with `append_error`.
errc sync_error_for(errc append_error);

class group_machine {
public:
  /// `topics`: partition counts of (at least) every topic members subscribe
  /// to; `offsets`: the committed offsets the actor loaded from storage.
  group_machine(group_config config, partition_counts topics, group_offsets offsets,
                int64_t now_ms);

  // ---- inputs -------------------------------------------------------------
  void on_join(const join_group_request& req, int64_t now_ms);
  void on_sync(const sync_group_request& req, int64_t now_ms);
  void on_heartbeat(const heartbeat_request& req, int64_t now_ms);
  /// Also what a consumer sends when its max.poll.interval.ms expires.
  void on_leave(const leave_group_request& req, int64_t now_ms);
  void on_offset_commit(const offset_commit_request& req, int64_t now_ms);
  /// The append of persist effect `persist_id` succeeded (none) or failed
  /// with the log's error; the machine maps it to what the waiting members
  /// get (commit_error_for, sync_error_for). Outcomes of commits come in
  /// persist_id order, and so do those of group writes.
  void on_persisted(uint64_t persist_id, errc append_error, int64_t now_ms);
  /// A topic's partition count changed (or became known; 0 = deleted).
  /// Counts outside [0, max_topic_partitions] are ignored (logged).
  void on_topic_partitions(const std::string& topic, int32_t partitions, int64_t now_ms);
  /// Session, rebalance, initial-delay and pending-member timeouts.
  void tick(int64_t now_ms);
  /// DeleteGroups: only an Empty group; then Dead and its offsets forgotten
  /// (the actor deletes the stored rows on success).
  errc delete_group(int64_t now_ms);
  /// The coordinator moved away: Dead, pending requests get NOT_COORDINATOR.
  void unload(int64_t now_ms);

  // ---- outputs ------------------------------------------------------------
  group_ready take_ready();
  /// Earliest time at which tick() has something to do, if any.
  std::optional<int64_t> next_deadline_ms() const;

  // ---- queries ------------------------------------------------------------
  group_state state() const { return state_; }
  int32_t generation_id() const { return generation_; }
  const std::string& protocol_name() const { return protocol_name_; }
  const std::string& leader_id() const { return leader_; }
  const std::string& protocol_type() const { return protocol_type_; }
  /// The current generation's assignment comes from its leader's SyncGroup.
  bool relay() const { return relay_; }
  const group_config& config() const { return config_; }
  /// Assignment of the current generation (empty while Empty, and in a
  /// relay generation until its leader synced; there decoded from the
  /// leader's bytes, empty for a member whose bytes do not decode).
  const group_assignment& assignment() const { return assignment_; }
  /// Partitions held back this generation by cooperative-sticky.
  const std::vector<topic_partition>& revoking() const { return revoking_; }
  bool is_member(const std::string& member_id) const { return members_.count(member_id) > 0; }
  size_t member_count() const { return members_.size(); }
  /// Empty with nothing to remember: no members, no handed-out member ids,
  /// no offsets, no commit in flight. The actor forgets such a group.
  bool forgettable() const;
  const partition_counts& topics() const { return topics_; }
  group_description describe() const;
  /// Offsets committed by a transaction's COMMIT marker (already in the
  /// log, issue 16): they become the group's committed offsets.
  void install_offsets(const group_offsets& offsets);
  /// OffsetFetch: all offsets when `partitions` is empty; unknown ones as -1.
  result<group_offsets> fetch_offsets(const std::vector<topic_partition>& partitions) const;
  /// Topics whose partition counts the actor must report (union of subscriptions).
  std::set<std::string> subscribed_topics() const;

private:
  struct member {
    std::string member_id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::vector<group_protocol> protocols;
    bool client_assigns = false; // a Kafka wire member: may lead a relay generation
    std::optional<group_request_id> pending_join; // join waiting for the rebalance
    int64_t last_heartbeat_ms = 0;
    bool synced = false; // fetched this generation's assignment
    /// SyncGroup held until the generation's metadata is written.
    std::optional<group_request_id> pending_sync;
  };
  struct pending_commit {
    group_request_id request_id = 0;
    group_offsets offsets;
    std::map<topic_partition, errc> refused; // partitions answered with an error
  };

  // group_join_machine.cpp
  errc validate_join(const join_group_request& req) const;
  void add_member(const join_group_request& req, int64_t now);
  void rejoin_member(member& m, const join_group_request& req, int64_t now);
  void prepare_rebalance(int64_t now, const std::string& reason);
  void maybe_complete_join(int64_t now);
  void complete_join(int64_t now);
  std::set<std::string> candidate_protocols() const;
  std::string select_protocol() const;
  member_subscriptions subscriptions() const;
  join_group_response join_response(const member& m, group_request_id id) const;

  // group_relay_machine.cpp
  /// Server-side or relay for the generation that starts now; picks the
  /// leader (a relay generation's is a member that assigns itself).
  void choose_mode_and_leader();
  const group_protocol& chosen_protocol(const member& m) const;
  /// The member's metadata in the chosen protocol, as Kafka's wire has it.
  bytes metadata_in_protocol(const member& m) const;
  /// The leader's SyncGroup of a relay generation: everyone's assignment.
  void take_leader_assignment(const sync_group_request& req, int64_t now);
  bool sync_protocol_matches(const sync_group_request& req) const;
  /// Protocol, decoded and raw assignment of `member_id` (the generation's).
  void fill_share(sync_group_response& r, const std::string& member_id) const;
  /// The record of the current generation (GroupMetadataValue).
  group_metadata generation_metadata(int64_t now) const;

  // group_membership_machine.cpp
  errc validate_member(const std::string& member_id, int32_t generation_id) const;
  void start_assignment_write(int64_t now);
  void on_assignment_written(int32_t generation, errc append_error, int64_t now);
  /// Answers every held SyncGroup with `error` (none: its share).
  void answer_held_syncs(errc error);
  void remove_member(const std::string& member_id, int64_t now, const std::string& reason);
  void expire_sessions(int64_t now);
  /// Kafka's onExpirePendingSync: at sync_deadline_ms_, members of the
  /// generation that never sent SyncGroup are removed (a rebalance follows).
  void expire_pending_syncs(int64_t now);
  void settle(int64_t now);

  // group_offsets_machine.cpp
  offset_commit_response commit_response(const pending_commit& commit, errc written) const;

  // group_machine.cpp
  void advance_clock(int64_t now);
  void transition(group_state to, int64_t now, const std::string& why);
  void log(int64_t now, std::string what);
  void respond(group_response r) { ready_.responses.push_back(std::move(r)); }
  static join_group_response join_error(group_request_id id, errc e, std::string member_id);
  static sync_group_response sync_error(group_request_id id, errc e);
  std::string new_member_id(const std::string& client_id);

  group_config config_;
  partition_counts topics_;
  group_offsets offsets_;
  int64_t now_ms_ = 0;

  group_state state_ = group_state::empty;
  int32_t generation_ = 0;
  std::string protocol_type_;
  std::string protocol_name_;
  std::string leader_;
  std::map<std::string, member> members_;
  std::map<std::string, int64_t> pending_members_; // MEMBER_ID_REQUIRED given; id -> expiry
  group_assignment assignment_;
  std::map<std::string, bytes> assignment_bytes_; // as the wire carries them
  bool relay_ = false;            // the leader brings the assignment (see top)
  bool assignment_ready_ = false; // this generation's assignment exists
  std::vector<topic_partition> revoking_;

  int64_t rebalance_deadline_ms_ = 0; // members not rejoined by then are removed
  int64_t join_not_before_ms_ = 0;    // group.initial.rebalance.delay.ms holds the join
  /// Members that have not sent SyncGroup by then are removed (Kafka's
  /// pending-sync expiry): the generation's rebalance timeout after the join.
  int64_t sync_deadline_ms_ = 0;
  bool initial_delay_phase_ = false;

  uint64_t next_member_seq_ = 0;
  uint64_t next_persist_id_ = 1;
  std::map<uint64_t, pending_commit> pending_commits_;
  std::map<uint64_t, int32_t> pending_group_writes_; // persist id -> generation written
  bool assignment_write_started_ = false;             // for the current generation
  group_ready ready_;
};

} // namespace al
