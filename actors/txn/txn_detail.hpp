#pragma once
// Helpers txn_machine.cpp and txn_machine_outcomes.cpp share; nothing else
// includes this.
#include <string>

#include "actors/txn/txn_machine.hpp"

namespace al::txn_detail {

inline bool preparing(txn_state s) {
  return s == txn_state::prepare_commit || s == txn_state::prepare_abort;
}

inline bool completed(txn_state s) {
  return s == txn_state::empty || s == txn_state::complete_commit ||
         s == txn_state::complete_abort;
}

inline txn_response error_response(uint64_t request, errc code, std::string message) {
  txn_response r;
  r.request = request;
  r.error = code;
  r.message = std::move(message);
  return r;
}

/// (producer_id, producer_epoch) against the id's committed entry `c`:
/// INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED (an older epoch: a zombie),
/// INVALID_PRODUCER_EPOCH (one ahead of the coordinator's), or none.
inline txn_response check_producer_identity(const txn_log_entry& c, uint64_t request,
                                            int64_t producer_id, int16_t producer_epoch) {
  if (producer_id != c.producer_id)
    return error_response(request, errc::invalid_producer_id_mapping,
                          "transactional id " + c.transactional_id + " has producer id " +
                            std::to_string(c.producer_id) + ", not " +
                            std::to_string(producer_id));
  if (producer_epoch < c.producer_epoch)
    return error_response(request, errc::producer_fenced,
                          "producer epoch " + std::to_string(producer_epoch) + " of " +
                            c.transactional_id + " is fenced by epoch " +
                            std::to_string(c.producer_epoch));
  if (producer_epoch > c.producer_epoch)
    return error_response(request, errc::invalid_producer_epoch,
                          "producer epoch " + std::to_string(producer_epoch) + " of " +
                            c.transactional_id + " is ahead of the coordinator's " +
                            std::to_string(c.producer_epoch));
  return error_response(request, errc::none, "");
}

/// What waiters get when their write failed: a coordinator whose log
/// refuses appends is no longer the coordinator.
inline errc persist_error_for(errc append_error) {
  switch (append_error) {
    case errc::not_leader_or_follower:
    case errc::unknown_topic_or_partition:
    case errc::fenced_leader_epoch:
      return errc::not_coordinator;
    case errc::request_timed_out:
    case errc::not_enough_replicas:
    case errc::not_enough_replicas_after_append:
      return errc::coordinator_not_available;
    default:
      return append_error;
  }
}

} // namespace al::txn_detail
