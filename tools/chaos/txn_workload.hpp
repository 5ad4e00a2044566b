#pragma once
// The transactional workload's writers: `writers` al::producers, each with
// its own transactional.id (chaos-txn-<i>), write transactions of 2-4
// records spread over the input topic's partitions ("t<writer>:<txn>:<i>",
// txn_history.hpp). About one transaction in `abort_every` is aborted on
// purpose after its records were flushed to the log (seeded). Every
// transaction's values and outcome go to the history: committed when
// commit_transaction succeeded, aborted when commit was never asked for or
// abort_transaction succeeded, unknown otherwise (Jepsen's indeterminate).
// A writer whose producer is fenced or in an unknown state closes it and
// starts a new one with the same transactional.id (init_transactions
// fences the old one and aborts what it left open), as a Kafka app does.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/client/client_config.hpp"
#include "tools/chaos/ack_log.hpp"
#include "tools/chaos/txn_history.hpp"

namespace al {
class producer;
}

namespace chaos {

/// The properties of every transactional producer of the run.
al::properties txn_producer_props(const std::string& bootstrap, const std::string& txn_id);

/// A transactional producer that is replaced when it fails: get() creates
/// one and runs init_transactions, retrying while `running` holds.
class txn_producer_slot {
public:
  txn_producer_slot(caf::actor_system& sys, std::string bootstrap, std::string txn_id);
  ~txn_producer_slot();
  /// The producer, ready for begin_transaction; null once `running` is false.
  al::producer* get(const std::atomic<bool>& running);
  /// Closes the producer; the next get() starts a new one (same transactional.id).
  void reset();
  /// Hands the producer over as it is (a transaction may be open): the
  /// next get() starts a new one, which fences it.
  std::unique_ptr<al::producer> release() { return std::move(producer_); }
  /// Producers started so far.
  int64_t generation() const { return generation_; }
  /// The last error get() met.
  const std::string& last_error() const { return last_error_; }

private:
  caf::actor_system& sys_;
  std::string bootstrap_;
  std::string txn_id_;
  std::unique_ptr<al::producer> producer_;
  int64_t generation_ = 0;
  std::string last_error_;
};

struct txn_workload_options {
  std::string bootstrap;
  std::string topic;
  int32_t partitions = 3;
  uint64_t seed = 1;
  int writers = 3;
  int txns_per_s = 15; // all writers together
  int abort_every = 5; // about one transaction in this many is aborted on purpose
};

class txn_workload : public load_view {
public:
  txn_workload(caf::actor_system& sys, txn_workload_options opts);
  ~txn_workload() override;

  void start();
  /// Stops the writers after their current transaction (each ends it).
  void stop();

  std::vector<txn_entry> history() const;
  const ack_log& acks() const override { return acks_; }
  std::string progress() const override;
  /// The first few errors the writers met, for the log.
  std::vector<std::string> sample_errors() const;

private:
  void writer_loop(int32_t writer);
  void note_error(const std::string& what);

  caf::actor_system& sys_;
  txn_workload_options opts_;
  std::vector<std::thread> threads_;
  std::atomic<bool> running_{false};
  std::atomic<int64_t> recreated_{0};
  ack_log acks_;
  mutable std::mutex mtx_;
  std::vector<txn_entry> history_;
  std::vector<std::string> errors_;
};

} // namespace chaos
