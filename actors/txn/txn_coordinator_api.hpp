#pragma once
// Typed interface of a transaction coordinator actor (issue 16): one per
// __transaction_state partition whose leader is this node's broker. It
// owns the txn_machine of every transactional.id that hashes to that
// partition. The broker routes the transaction requests here. Answers are
// txn_response values with the error inside (none on success), so a client
// sees Kafka's error codes (CONCURRENT_TRANSACTIONS, PRODUCER_FENCED, ...)
// and retries what is retriable.
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/protocol/atoms.hpp"
#include "actors/txn/txn_machine.hpp"

namespace al {

/// The transaction requests a broker forwards to a coordinator (also in
/// client_api).
#define AL_TXN_REQUESTS                                                                   \
  caf::replies_to<init_pid_atom, txn_init_request>::with<txn_response>,                   \
    caf::replies_to<txn_add_atom, txn_add_partitions_request>::with<txn_response>,        \
    caf::replies_to<txn_end_atom, txn_end_request>::with<txn_response>,                   \
    /* DescribeTransactions: unknown ids are left out */                                  \
    caf::replies_to<txn_describe_atom, std::vector<std::string>>::with<                   \
      std::vector<txn_description>>,                                                      \
    /* ListTransactions: every id this node coordinates */                                \
    caf::replies_to<txn_list_atom>::with<std::vector<txn_description>>

using txn_coordinator_api = caf::typed_actor<
  AL_TXN_REQUESTS,
  // KIP-890 part 1: a partition leader's broker asks before a producer's
  // transactional batch opens a transaction there (txn_machine::verify).
  caf::replies_to<txn_verify_atom, txn_add_partitions_request>::with<txn_response>,
  // The machine's deadline (timeouts, marker retries, expiry), or a load retry.
  caf::reacts_to<txn_tick_atom>,
  // Leadership moved away or the broker stops: answer pending requests
  // with NOT_COORDINATOR, then quit.
  caf::reacts_to<unload_atom>>;

} // namespace al
