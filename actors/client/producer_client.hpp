#pragma once
// al::producer: the producer as plain C++ (Kafka's KafkaProducer). send()
// appends to a batch on the caller's thread and returns at once; the
// producer actor sends batches in the background. Thread-safe.
//
//   auto p = al::producer::create(sys, {{"bootstrap.servers", "127.0.0.1:9101"}});
//   (*p)->send({"orders", -1, "AAPL", "BUY 100 @ 189.5"},
//              [](const al::record_metadata& md, const al::status& st) { ... });
//   (*p)->flush();
//
// Actors can message the producer actor (handle()) directly:
//   (wake_atom, bool), (flush_atom) -> bool, (metadata_atom, topic) -> int32_t.
#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/client/client_config.hpp"
#include "actors/client/partitioner.hpp"
#include "actors/client/producer_record.hpp"
#include "actors/client/record_accumulator.hpp"

namespace al {

class producer {
public:
  /// Validates `props` (Kafka names), spawns the producer actor and, with
  /// enable.idempotence, obtains a producer id. `direct_broker` (optional)
  /// is a broker in the same actor system, used instead of bootstrap.servers.
  static result<std::unique_ptr<producer>> create(caf::actor_system& sys, const properties& props,
                                                  caf::actor direct_broker = {});
  ~producer();

  /// Queues one record; `cb` runs once it is acknowledged or has failed.
  /// Errors known at once (unknown topic, bad partition) come back here.
  status send(const producer_record& rec, send_callback cb = {});
  /// send() and wait for the acknowledgement.
  result<record_metadata> send_sync(const producer_record& rec);
  /// Sends everything queued and waits until each record is acknowledged or failed.
  status flush(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// flush() and stop the producer actor.
  void close();

  // ---- transactions (transactional.id set; issue 16, docs/transactions.md)
  /// Gets the producer id and epoch for the transactional.id from its
  /// coordinator: any older producer with the same id is fenced, and a
  /// transaction it left open is aborted first. Once, before the first
  /// transaction.
  status init_transactions();
  /// Starts a transaction: every send() until commit or abort belongs to it.
  status begin_transaction();
  /// Sends what is queued, waits for every record's acknowledgement, then
  /// commits: the records become visible to read_committed consumers
  /// atomically. A failed record makes the commit fail (abort then).
  status commit_transaction();
  /// Drops what was not sent yet and aborts: read_committed consumers never
  /// see the transaction's records.
  status abort_transaction();
  /// Commits a consumer group's offsets (the next offset to read, per
  /// partition) inside the transaction: they take effect for the group
  /// only if the transaction commits (consume-transform-produce,
  /// exactly once). Kafka's sendOffsetsToTransaction.
  status send_offsets_to_transaction(const std::map<topic_partition, int64_t>& offsets,
                                     const std::string& group_id);

  caf::actor handle() const { return actor_; }
  const producer_config& config() const { return cfg_; }
  int64_t producer_id() const { return producer_id_; }

private:
  producer(caf::actor_system& sys, producer_config cfg);
  result<int32_t> partition_count(const std::string& topic);
  /// The count cached for `topic`, or -1.
  int32_t cached_partition_count(const std::string& topic) const;

  caf::actor_system& sys_;
  producer_config cfg_;
  std::shared_ptr<record_accumulator> acc_;
  caf::actor actor_;
  int64_t producer_id_ = -1;
  std::mutex mtx_; // guards count_maps_ and the sticky partitioner
  /// The partition count of each topic sent to, read without a lock on the
  /// hot path (send() with a key: the lock was 7 % of a producer writing
  /// to 10 000 partitions). A topic is added once: the map is copied with
  /// it and swapped in; earlier copies live as long as the producer.
  std::atomic<const std::map<std::string, int32_t>*> partition_counts_{nullptr};
  std::vector<std::unique_ptr<const std::map<std::string, int32_t>>> count_maps_;
  sticky_partitioner sticky_;
  bool closed_ = false;
  std::atomic<bool> in_transaction_{false};
  /// A transaction request to the producer actor, answered as a status.
  status transaction_call(const char* what, bool commit);
};

} // namespace al
