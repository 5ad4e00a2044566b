#pragma once
// The transaction coordinator actor of one __transaction_state partition
// led by this node (issue 16, docs/transactions.md). It loads the
// partition (every transition since its start, latest per id wins), then
// serves the transactional.ids that hash to it through one txn_machine,
// executing the machine's effects in order:
//   persists:  append the entry to the partition (acks=all), then
//              on_persisted with the append's own outcome;
//   markers:   WriteTxnMarkers to every partition of the transaction,
//              through the broker (which routes to the leader's node),
//              then on_marker_written per partition;
//   producer id asks: a new producer id from the controller (through the
//              broker's InitProducerId);
//   responses: deliver the held promise of each request;
//   events:    log lines.
// One timer is armed at the machine's next_deadline_ms(). Lifetime as the
// group coordinator's: not linked to the broker, monitors it and unloads
// when it ends; the broker starts a new one when next needed.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include <caf/actor_addr.hpp>
#include <caf/actor_clock.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/broker/broker_api.hpp"
#include "actors/partition/partition_api.hpp"
#include "actors/txn/txn_coordinator_api.hpp"
#include "actors/txn/txn_machine.hpp"
#include "actors/txn/txn_record.hpp"

namespace al {

struct txn_coordinator_setup {
  int32_t node_id = -1;
  int32_t partition = 0;          // of __transaction_state
  int32_t coordinator_epoch = 0;  // that partition's leader epoch: in every marker
  partition_api log;              // that partition's actor (leader on this node)
  broker_api broker;              // markers and producer ids go through it
  txn_config config;
  int64_t request_timeout_ms = 30000;
  int32_t load_fetch_bytes = 1 << 20;
  caf::actor_addr owner;          // the broker, monitored; may be null (tests)
};

struct txn_coordinator_state {
  txn_coordinator_setup setup;
  std::unique_ptr<txn_machine> machine;
  bool loaded = false;
  bool loading = false;
  int64_t load_started_ms = 0;
  txn_log_reader reader;
  std::map<uint64_t, caf::typed_response_promise<txn_response>> waiting; // by request id
  uint64_t next_request = 1;
  std::optional<int64_t> timer_at; // the armed tick's deadline
  caf::actor_clock::time_point clock_base;
  int64_t wall_base_ms = 0;
  static constexpr const char* name = "txn_coordinator";
};

using txn_coordinator_ptr = txn_coordinator_api::stateful_pointer<txn_coordinator_state>;

txn_coordinator_api::behavior_type txn_coordinator_actor(txn_coordinator_ptr self,
                                                         txn_coordinator_setup setup);

// ---- shared by the coordinator's files --------------------------------------

/// Milliseconds on a clock that starts at the wall clock and then follows
/// the actor clock (monotonic; virtual time under the test scheduler).
int64_t txn_now_ms(txn_coordinator_ptr self);
/// Reads the partition from its start to its log end, then loads the
/// machine (txn_coordinator_load.cpp). Nothing while loaded or loading.
void load_txn_partition(txn_coordinator_ptr self);
/// Executes the machine's effects and re-arms its timer.
void process_txn(txn_coordinator_ptr self);

} // namespace al
