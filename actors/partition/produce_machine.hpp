#pragma once
// The partition leader's produce decisions (Kafka's
// Partition.appendRecordsToLeader with ProducerStateManager's check), CAF-
// free: the partition actor and the whole-cluster simulation both run them.
//
//   admit()     before anything is written: leader?, min.insync.replicas for
//               acks=all, the batch valid (the caller's validator, run only
//               when the cheaper checks pass), the idempotent producer's
//               sequence (duplicate: answer with the first write's offsets;
//               out of order / fenced epoch: refuse). Says `append` with
//               the leader epoch to stamp into the batch.
//   appended()  after the caller wrote the stamped batch at [base, last]:
//               producer state and the replica machine count it (even when
//               its fsync failed: a retry is a duplicate, followers fetch
//               past it), then answer now, refuse (not durable), or wait
//               until the high watermark passes `last`.
//
// The machine keeps no state of its own: it works on the partition's
// replica_machine and producer_state_table, which the caller owns. A `wait`
// has already been handed to replica_machine::wait_for under the caller's
// ack id; the replica's ready() completes it.
#include <cstdint>
#include <optional>
#include <string>

#include "actors/partition/producer_state_machine.hpp"
#include "actors/partition/replica_machine.hpp"
#include "actors/protocol/messages.hpp"
#include "storage/batch_header.hpp"
#include "storage/status.hpp"

namespace al {

struct produce_params {
  acks_mode acks = acks_mode::all;
  int32_t min_insync_replicas = 1;
  uint64_t ack_id = 0; // names an acks=all wait in the replica machine
  int64_t now_ms = 0;  // wall clock: producer state's last write time
};

struct produce_decision {
  enum class action : uint8_t {
    refuse, // answer `error`
    answer, // answer with base_offset now
    append, // write the batch stamped with leader_epoch, then call appended()
    wait,   // answer with base_offset once the replica completes ack_id
  };
  action what = action::refuse;
  status error;
  int64_t base_offset = -1;
  int32_t leader_epoch = -1;
  /// appended() of an ABORT marker: the transaction it aborted, for the
  /// segment's .txnindex.
  std::optional<aborted_txn> aborted;
};

class produce_machine {
public:
  /// `where` names the partition in errors ("produce to orders-0").
  produce_machine(replica_machine& replica, producer_state_table& producers,
                  const std::string& where)
      : replica_(replica), producers_(producers), where_(where) {}

  /// `validate()` returns result<batch_header>: the batch checked beyond its
  /// header (size, records, timestamps, control bit).
  template <class Validate>
  produce_decision admit(const produce_params& p, batch_header& header, Validate&& validate) {
    if (auto refused = check_leadership(p); refused.what == produce_decision::action::refuse)
      return refused;
    auto h = validate();
    if (!h)
      return refuse(h.error());
    header = *h;
    return check_producer(p, header);
  }

  /// A transaction marker (WriteTxnMarkers, issue 16) the coordinator asks
  /// for: leadership and min.insync.replicas as for a produce, then the
  /// marker's epoch against the newest seen for its producer (an older one
  /// is INVALID_PRODUCER_EPOCH: a stale coordinator; partition_txn_machine::
  /// check_marker). Says `append`.
  produce_decision admit_marker(const produce_params& p, const batch_header& marker,
                                bool epoch_bumped);

  /// `marker`: what a control batch says (admit_marker's batch).
  produce_decision appended(const produce_params& p, const batch_header& stamped, int64_t base,
                            int64_t last, int64_t log_end, const status& durable,
                            const txn_marker* marker = nullptr);

private:
  produce_decision check_leadership(const produce_params& p) const;
  produce_decision check_producer(const produce_params& p, const batch_header& h);
  produce_decision refuse(status s) const;
  produce_decision answer_or_wait(const produce_params& p, int64_t base, int64_t last);

  replica_machine& replica_;
  producer_state_table& producers_;
  const std::string& where_;
};

} // namespace al
