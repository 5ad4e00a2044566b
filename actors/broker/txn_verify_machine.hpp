#pragma once
// Verification of transactional writes (KIP-890 part 1), CAF-free: before
// the partition leader's broker lets a producer's transactional batch open
// a transaction on a partition, the transaction coordinator of its
// transactional.id confirms that the producer (id and epoch) has an ongoing
// transaction with that partition added. Without it, a client that writes
// without AddPartitionsToTxn (a bug, a hostile client, a request that
// arrives after its transaction ended) opens a transaction no coordinator
// knows of: no marker ever closes it, and the partition's last stable
// offset stays there for good (Kafka's "hanging transaction").
//
// One entry per (partition, producer id): a confirmation for an epoch under
// a partition leader epoch. Batches that find a confirmed entry go on at
// once; the first one of a transaction asks the coordinator, and the ones
// after it wait behind it, in order (an idempotent producer's sequences
// must reach the partition in the order they were sent). A marker for the
// producer on the partition ends the confirmation: the next batch asks
// again. An answer that crosses a marker is not trusted (the coordinator
// may have answered before the transaction ended): the question is asked
// again. The broker sends batches and markers to the partition in the
// order it handles them, so a batch it lets through before a marker is
// written before that marker.
//
// The caller (broker_produce.cpp) feeds admit / on_answer / on_marker /
// expire and drains take_calls (questions to send to the coordinator) and
// take_outcomes (batches to send on, or to answer with an error).
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "actors/protocol/messages.hpp"
#include "storage/errc.hpp"

namespace al {

/// A transactional batch waiting for (or passing) verification.
struct txn_write {
  uint64_t token = 0; // the caller's name for the batch
  std::string transactional_id;
  topic_partition tp;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t leader_epoch = -1; // the partition's, from the broker's metadata
};

/// Ask the coordinator of `transactional_id` whether (producer_id,
/// producer_epoch) has `tp` in its ongoing transaction; report with
/// on_answer(call, ...).
struct txn_verify_call {
  uint64_t call = 0;
  std::string transactional_id;
  topic_partition tp;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

/// What becomes of a batch: error none, send it to the partition; else
/// answer it with the error (already mapped to a produce error).
struct txn_write_outcome {
  uint64_t token = 0;
  errc error = errc::none;
  std::string message;
};

class txn_verify_machine {
public:
  void admit(const txn_write& w, int64_t now_ms);
  /// The coordinator's answer (none: confirmed), or why it could not be
  /// asked (no connection, no coordinator).
  void on_answer(uint64_t call, errc error, const std::string& message, int64_t now_ms);
  /// A marker for the producer is being sent to the partition.
  void on_marker(const topic_partition& tp, int64_t producer_id);
  /// Forgets confirmations unused since before `idle_before_ms` (a producer
  /// that went away, a partition led elsewhere now).
  void expire(int64_t idle_before_ms);

  std::vector<txn_verify_call> take_calls();
  std::vector<txn_write_outcome> take_outcomes();

  size_t entries() const { return entries_.size(); }
  size_t waiting() const;

  /// A coordinator's error as the produce answer gives it: retriable
  /// coordinator trouble becomes NOT_ENOUGH_REPLICAS (every client retries
  /// a produce on it, as Kafka's broker answers), a fenced epoch
  /// INVALID_PRODUCER_EPOCH (the partition's own fencing error); the rest
  /// (INVALID_TXN_STATE, INVALID_PRODUCER_ID_MAPPING, ...) as they are.
  static errc produce_error_of(errc coordinator_error);

private:
  using key = std::tuple<std::string, int32_t, int64_t>; // topic, partition, producer id
  struct entry {
    bool confirmed = false;
    int16_t epoch = -1;
    int32_t leader_epoch = -1;
    uint64_t call = 0;  // the question in flight (not confirmed)
    bool stale = false; // a marker crossed the question
    int64_t used_ms = 0;
    std::deque<txn_write> waiting; // behind the question, in arrival order
  };

  void ask(entry& e, const txn_write& w);
  /// Runs the waiting batches again, in order, after an answer.
  void release(const key& k, entry& e, errc error, const std::string& message, int64_t now_ms);
  void pass(const txn_write& w) { outcomes_.push_back(txn_write_outcome{w.token, errc::none, {}}); }

  std::map<key, entry> entries_;
  std::map<uint64_t, key> calls_; // call -> entry
  uint64_t next_call_ = 1;
  std::vector<txn_verify_call> out_calls_;
  std::vector<txn_write_outcome> outcomes_;
};

} // namespace al
