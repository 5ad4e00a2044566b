#pragma once
// The producer actor (Kafka's sender thread). For every leader broker with
// room for another request (max.in.flight.requests.per.connection, per
// broker as in Kafka) it sends one produce request carrying the first
// pending batch of each partition that broker leads, up to
// max.request.size. While every broker is busy, records stay in the
// accumulator, so batches grow with the load instead of each record
// becoming a request (issue 15: 10 000 partitions with keys spread over
// all of them). It numbers batches for idempotence, retries retriable
// errors (per partition, in sequence order) until delivery.timeout.ms, and
// completes each record's callback. User code talks to it through
// al::producer (producer_client.hpp) or, from actors, through its messages
// (see producer_client.hpp).
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/client/cluster_view.hpp"
#include "actors/client/record_accumulator.hpp"
#include "actors/txn/txn_machine.hpp"

namespace al {

/// A transactional producer's side of a transaction (producer_txn.cpp).
struct producer_txn_state {
  std::string id;                        // transactional.id; empty: not transactional
  std::optional<client_api> coordinator; // found with FindCoordinator(TRANSACTION)
  bool in_transaction = false;           // begun, not ended yet
  std::set<topic_partition> added;       // AddPartitionsToTxn done in this transaction
  std::set<topic_partition> wanted;      // batches wait for these to be added
  bool adding = false;                   // an AddPartitionsToTxn is on its way
  bool offsets_added = false;            // send_offsets_to_transaction in this transaction
  /// A batch or an AddPartitionsToTxn failed: the transaction can only be
  /// aborted (Kafka's abortable error). Fenced: the producer is done.
  status error;
  bool fenced = false;
  /// Continuations waiting for retry.backoff.ms (by retry id), and for
  /// every batch to be completed (commit/abort).
  std::map<uint64_t, std::function<void()>> retries;
  uint64_t next_retry = 1;
  std::vector<std::function<void()>> on_flushed;
  /// Coordinator requests in flight (by id): the broker each went to and
  /// what fails it when that connection drops, at once instead of after
  /// request.timeout.ms (a coordinator's node killed mid-request).
  struct watched_request {
    caf::actor_addr broker;
    std::function<void()> on_drop;
  };
  std::map<uint64_t, watched_request> watched;
  uint64_t next_watch = 1;
};

struct producer_state {
  struct partition_queue {
    std::deque<ready_batch> pending; // in sequence order
    int in_flight = 0;
    bool retrying = false;           // a batch failed: drain in-flight, then resend in order
    int64_t retry_after_ms = 0;
    uint64_t in_round = 0;           // the send_ready round that put a batch in a request
  };

  producer_config cfg;
  std::shared_ptr<record_accumulator> acc;
  cluster_view view;
  int64_t producer_id = no_producer_id;
  int16_t producer_epoch = no_producer_epoch;
  std::map<topic_partition, int32_t> next_sequence;
  std::unordered_map<topic_partition, partition_queue, topic_partition_hash> queues;
  size_t outstanding = 0; // drained batches not yet completed
  /// Partitions with pending batches, in order; each round of sends
  /// starts after `cursor` (the last partition served), so with more
  /// partitions than fit in one request every partition gets its turn.
  std::set<topic_partition> ready;
  topic_partition cursor;
  /// Produce requests awaiting an answer, by request number: a broker whose
  /// connection drops (down_msg) fails its requests at once, as Kafka's
  /// client does on a disconnect, instead of after request.timeout.ms.
  struct in_flight_request {
    std::vector<ready_batch> batches; // parts[i] of the request
    caf::actor_addr broker;
    bool open = false; // carries batches taken open from the accumulator
  };
  std::map<uint64_t, std::shared_ptr<in_flight_request>> requests;
  std::map<caf::actor_addr, int32_t> broker_in_flight; // requests per broker
  /// Requests per broker that carry open batches (taken before they were
  /// full): at most one at a time, so that while a broker is busy the
  /// partitions' batches keep filling instead of going out in fragments.
  std::map<caf::actor_addr, int32_t> broker_open_in_flight;
  uint64_t next_request = 1;
  uint64_t round = 0; // send_ready calls
  std::set<caf::actor_addr> monitored;
  bool linger_armed = false;
  bool pump_armed = false;
  std::vector<caf::response_promise> flush_waiters;
  producer_txn_state txn;
  /// send() for a topic the metadata does not know yet: asked again every
  /// retry.backoff.ms until max.block.ms (Kafka's waitOnMetadata).
  struct metadata_wait {
    std::string topic;
    int64_t deadline_ms;
    caf::response_promise rp;
  };
  std::vector<metadata_wait> metadata_waits;
  bool metadata_retry_armed = false;
  static constexpr const char* name = "producer";
};

using producer_actor_ptr = caf::stateful_actor<producer_state>*;

caf::behavior producer_actor(producer_actor_ptr self, producer_config cfg,
                             std::shared_ptr<record_accumulator> acc, caf::actor direct_broker);

// --- producer_send.cpp: the sender loop ---------------------------------
/// Sends what is ready to the brokers with room (see the file's top).
void producer_send_ready(producer_actor_ptr self);
/// Moves the accumulator's ready batches (all of them when `force`:
/// flush()) to their partitions' queues, numbered.
void producer_drain(producer_actor_ptr self, bool force);
/// Arms the linger timer for the oldest open batch, while a broker has room.
void producer_arm_linger(producer_actor_ptr self);
/// A broker's connection dropped: its requests fail now and are resent.
void producer_broker_down(producer_actor_ptr self, const caf::actor_addr& broker);
/// Completes a batch that will not be sent, with `why`.
void producer_fail_batch(producer_actor_ptr self, ready_batch& b, const status& why);

// --- producer_txn.cpp: transactions (issue 16) ------------------------------
/// Whether batches for `tp` must wait (a transactional producer sends to a
/// partition only once it is added to the transaction); notes it.
bool producer_txn_holds(producer_state& st, const topic_partition& tp);
/// Sends AddPartitionsToTxn for the partitions batches wait for.
void producer_txn_add(producer_actor_ptr self);
/// A batch failed for good inside a transaction: it can only abort now.
void producer_txn_failed(producer_actor_ptr self, const status& why);
/// Runs what waited for every batch to complete.
void producer_txn_flushed(producer_actor_ptr self);
/// InitProducerId with the transactional.id (fences older producers).
caf::result<txn_response> producer_init_transactions(producer_actor_ptr self);
void producer_begin_transaction(producer_actor_ptr self);
/// EndTxn once every batch is done (commit refused after a failure).
caf::result<txn_response> producer_end_transaction(producer_actor_ptr self, bool commit);
/// send_offsets_to_transaction: AddOffsetsToTxn, then TxnOffsetCommit at
/// the group's coordinator.
caf::result<txn_response> producer_send_offsets(producer_actor_ptr self, std::string group_id,
                                                offset_commit_map offsets);
/// A retry armed by the transaction code is due.
void producer_txn_retry(producer_actor_ptr self, uint64_t id);
/// A broker's connection dropped: the coordinator requests sent to it fail
/// now (retriable), and it is no longer taken for the coordinator.
void producer_txn_broker_down(producer_actor_ptr self, const caf::actor_addr& broker);

} // namespace al
