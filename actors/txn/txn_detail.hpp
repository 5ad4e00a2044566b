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
