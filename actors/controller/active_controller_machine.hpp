#pragma once
// The active controller's decisions about brokers and partition leadership,
// CAF-free (KRaft's ReplicationControlManager and ClusterControlManager):
// the controller actor and the whole-cluster simulation both run it.
//
//   broker registration   a broker registers every process start, with a
//                         new incarnation. The same registration again is
//                         answered at once. A new incarnation of a live
//                         broker is fenced first and its partitions move
//                         (it may have lost what it had not flushed); then
//                         the registration is logged and the broker is
//                         elected where it is the last in-sync replica of
//                         an offline partition.
//   sessions              a heartbeat renews the broker's session; silent
//                         for broker.session.timeout.ms: fenced. A fenced
//                         broker that heartbeats again with its current
//                         incarnation is registered again (unfenced).
//   reconciliation        every tick: partitions led by fenced brokers get
//                         new leaders, fenced brokers leave ISRs, offline
//                         partitions whose last ISR member is back get it as
//                         leader: one batch of proposals in flight at a time.
//   AlterPartition        KIP-497 compare-and-set on the partition epoch,
//                         answered once the change is applied (or refused).
//
// Effects are data: ready() returns the metadata commands to propose, in
// order (Raft keeps it), and the answers to send. The shell reports each
// proposal's fate with on_proposal_done(): applied with the apply outcome,
// or lost (leadership gone). Every input carries the applied metadata image
// and the time; there is no clock inside. Proposals are planned against the
// applied image, which may lag the log: every change is a compare-and-set
// (partition epoch, broker incarnation), so a stale plan is refused at apply
// time, never applied twice.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/controller/metadata_commands.hpp"
#include "actors/controller/metadata_machine.hpp"
#include "actors/controller/partition_election_machine.hpp"
#include "actors/partition/replica_messages.hpp"
#include "storage/status.hpp"

namespace al {

struct active_controller_config {
  int64_t broker_session_timeout_ms = 9000;
  bool unclean_leader_election = false;
};

struct controller_proposal {
  uint64_t id = 0; // for on_proposal_done
  metadata_command cmd;
};

/// Answer to the RegisterBroker request `request`: ok once the image holds
/// the registration (and the elections it allows were proposed and done).
struct registration_answer {
  uint64_t request = 0;
  status result;
};

/// Answer to the AlterPartition request `request`: `response` (which may
/// carry a refusal), or, when `failure` is not ok, an error instead.
struct alter_answer {
  uint64_t request = 0;
  alter_isr_response response;
  status failure;
};

/// A line for the shell's log.
struct controller_note {
  enum class level : uint8_t { info, warn } lvl = level::info;
  std::string text;
};

struct active_controller_ready {
  std::vector<controller_proposal> proposals;
  std::vector<registration_answer> registrations;
  std::vector<alter_answer> alters;
  std::vector<controller_note> notes;
  bool empty() const {
    return proposals.empty() && registrations.empty() && alters.empty() && notes.empty();
  }
};

class active_controller_machine {
public:
  explicit active_controller_machine(active_controller_config cfg = {}) : cfg_(cfg) {}

  /// This controller became the active one: every registered broker gets a
  /// full session from now on before it can be fenced.
  void activate(const metadata_image& img, int64_t now);
  /// Leadership lost: every request waiting on us is refused NOT_CONTROLLER,
  /// proposals in flight are forgotten.
  void deactivate();
  bool active() const { return active_; }

  void on_register(uint64_t request, const broker_description& b, int64_t incarnation,
                   const metadata_image& img, int64_t now);
  void on_heartbeat(int32_t broker, int64_t incarnation, const metadata_image& img, int64_t now);
  void on_alter_partition(uint64_t request, const alter_isr_request& req,
                          const metadata_image& img);
  /// Session checks and reconciliation.
  void tick(const metadata_image& img, int64_t now);
  /// Proposal `id` was applied (`outcome`: the metadata machine's verdict)
  /// or lost. `img` is the image after it.
  void on_proposal_done(uint64_t id, const status& outcome, const metadata_image& img,
                        int64_t now);

  bool has_ready() const { return !out_.empty(); }
  active_controller_ready ready();

  // Introspection (tests, metrics).
  bool elections_in_flight() const { return reconcile_left_ > 0; }
  size_t proposals_in_flight() const { return proposals_.size(); }
  std::optional<int64_t> last_heartbeat(int32_t broker) const {
    auto it = last_heartbeat_ms_.find(broker);
    return it == last_heartbeat_ms_.end() ? std::nullopt : std::optional<int64_t>{it->second};
  }

private:
  enum class step : uint8_t {
    session_fence,   // fence a silent broker
    reconcile,       // one of the tick's batch of elections
    fence_old,       // registration: fence the previous incarnation
    move_from_old,   // registration: elections away from it
    record,          // registration: the register_broker_cmd
    elect,           // registration: elections the new incarnation allows
    alter,           // AlterPartition
  };
  struct in_flight {
    step s;
    uint64_t job = 0; // registration or alter request
    int32_t broker = -1;
  };
  struct registration {
    std::optional<uint64_t> request; // none: an unfencing heartbeat
    broker_description broker;
    int64_t incarnation = 0;
    size_t left = 0; // proposals of the current step still in flight
  };
  struct alter_job {
    uint64_t request = 0;
    alter_isr_response response;
  };

  election_options options() const { return {cfg_.unclean_leader_election}; }
  uint64_t propose(metadata_command cmd, in_flight what);
  void propose_changes(std::vector<change_partition_cmd> cmds, in_flight what, size_t* left);
  void start_registration(uint64_t job, const metadata_image& img);
  void record_registration(uint64_t job);
  void finish_registration(uint64_t job, status s);
  void registration_step_done(const in_flight& f, const status& s, const metadata_image& img);
  void alter_done(uint64_t id, const status& s, const metadata_image& img);
  void check_sessions(const metadata_image& img, int64_t now);
  void reconcile(const metadata_image& img);
  void note(controller_note::level l, std::string text);

  active_controller_config cfg_;
  bool active_ = false;
  std::map<int32_t, int64_t> last_heartbeat_ms_;
  std::set<int32_t> unfencing_; // unfencing registrations in flight
  std::map<uint64_t, registration> registrations_;
  std::map<uint64_t, alter_job> alters_; // by proposal id
  std::map<uint64_t, in_flight> proposals_;
  size_t reconcile_left_ = 0;
  uint64_t next_proposal_ = 1, next_job_ = 1;
  active_controller_ready out_;
};

/// Fills an AlterPartition answer with the partition's current leader epoch,
/// partition epoch and ISR from `image` (nothing when it is unknown).
void fill_alter_response(alter_isr_response& r, const metadata_image& image);

} // namespace al
