#pragma once
// The broker's transaction part (broker_txn.cpp, issue 16): one
// transaction coordinator actor per __transaction_state partition this
// node leads, the topic created on the first FindCoordinator for a
// transactional.id, transaction requests routed to the id's coordinator,
// and WriteTxnMarkers routed to the partition's leader.
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/broker/broker_groups.hpp"
#include "actors/protocol/errors.hpp"
#include "actors/txn/txn_coordinator_api.hpp"

namespace al {

/// After every metadata image: coordinators for newly led partitions (and
/// a new one when the leader epoch moved), unload the others, answer
/// FindCoordinator requests that waited for the topic.
void sync_txn_coordinators(broker_ptr self);

/// FindCoordinator with key type TRANSACTION.
caf::result<coordinator_info> on_find_txn_coordinator(broker_ptr self,
                                                      const std::string& transactional_id);

/// The local coordinator of the id, or NOT_COORDINATOR /
/// COORDINATOR_NOT_AVAILABLE / INVALID_REQUEST (an empty or oversized id).
caf::expected<txn_coordinator_api> txn_coordinator_for(broker_ptr self,
                                                       const std::string& transactional_id);

/// ListTransactions over every coordinator on this node.
caf::result<std::vector<txn_description>> on_list_txns(broker_ptr self);
/// DescribeTransactions: each id asked of its coordinator here (ids
/// coordinated elsewhere, or unknown, are left out).
caf::result<std::vector<txn_description>> on_describe_txns(broker_ptr self,
                                                           const std::vector<std::string>& ids);

/// AddOffsetsToTxn: the group's __consumer_offsets partition is added to
/// the transaction at the id's coordinator.
caf::result<txn_response> on_add_offsets(broker_ptr self, txn_add_offsets_request& req);

/// WriteTxnMarkers for one partition: to the local leader, or (for a
/// request from this node) to the leader node's broker.
caf::result<produce_response> on_write_marker(broker_ptr self, txn_marker_request& req);

/// A request naming a transactional id goes to its coordinator (the reply
/// goes straight to the client); errors are answered as txn_response.
template <class Atom, class Request>
caf::result<txn_response> route_txn_request(broker_ptr self, Atom atm, Request& req) {
  auto c = txn_coordinator_for(self, req.transactional_id);
  if (!c) {
    txn_response r;
    r.error = error_code_of(c.error());
    r.message = describe_error(c.error());
    return r;
  }
  return self->delegate(*c, atm, std::move(req));
}

} // namespace al
