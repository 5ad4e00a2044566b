#pragma once
// The producer's record accumulator (Kafka's RecordAccumulator): user
// threads append records straight into per-partition batches under a lock;
// the producer actor drains finished batches and sends one request per
// batch. This keeps actor messages per batch, not per record. CAF-free.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "actors/client/producer_record.hpp"
#include "actors/protocol/messages.hpp"
#include "storage/record_batch.hpp"

namespace al {

struct accumulator_config {
  int32_t batch_size = 16384;
  int64_t linger_ms = 5;
  compression codec = compression::none;
  int64_t producer_id = no_producer_id;
  int16_t producer_epoch = no_producer_epoch;
  int64_t buffer_memory = 32 << 20;
};

/// A closed batch, ready to send: the RecordBatch bytes and a callback slot
/// per record (empty slots for fire-and-forget sends).
struct ready_batch {
  topic_partition tp;
  bytes data;
  int32_t record_count = 0;
  std::vector<send_callback> callbacks; // empty when no record has one
  int64_t created_ms = 0;
  int64_t max_timestamp = -1;
  int32_t base_sequence = no_sequence;
  int attempts = 0;
};

class record_accumulator {
public:
  explicit record_accumulator(accumulator_config cfg) : cfg_(cfg) {}

  enum class wake { no, linger, now };

  /// Appends one record to the partition's open batch, closing it first when
  /// the record would not fit. Returns whether the sender should be woken:
  /// `now` when a batch is ready, `linger` when this is the first pending
  /// record (start the linger timer). RECORD_LIST_TOO_LARGE... never: an
  /// oversized record gets a batch of its own.
  wake append(const topic_partition& tp, const producer_record& rec, int64_t now_ms,
              send_callback cb);

  /// Closed batches, plus open ones that are at least linger.ms old (all of
  /// them when `force`, e.g. flush()).
  std::vector<ready_batch> drain(int64_t now_ms, bool force);

  /// Full batches (closed by size), oldest first.
  std::vector<ready_batch> drain_closed();

  /// What the sender does with an open batch offered by drain_open.
  enum class offer { take, leave, stop };
  /// Kafka's drain at send time: open batches at least linger.ms old (all
  /// of them when `force`), oldest first, each offered to `decide` with its
  /// partition and size. A taken one is closed and returned; a left one
  /// stays open and keeps filling (while its leader's requests are all in
  /// flight, a batch grows instead of going out with a record or two);
  /// `stop` ends the walk. `decide` runs under the accumulator's lock: it
  /// must not append.
  template <class Decide>
  std::vector<ready_batch> drain_open(int64_t now_ms, bool force, Decide&& decide);

  /// Records appended but not yet drained.
  size_t pending_records() const;
  /// Milliseconds until the oldest open batch reaches linger.ms (0: due now; -1: none).
  int64_t next_linger_due(int64_t now_ms) const;
  /// Bytes buffered (open + closed batches), for buffer.memory back-pressure.
  int64_t buffered_bytes() const;

private:
  std::vector<ready_batch> drain_open_impl(
    int64_t now_ms, bool force, const std::function<offer(const topic_partition&, size_t)>& decide);

  struct open_batch {
    explicit open_batch(topic_partition p, batch_options opts)
      : tp(std::move(p)), builder(opts) {}
    topic_partition tp;
    batch_builder builder;
    std::vector<send_callback> callbacks;
    bool any_callback = false;
    int64_t created_ms = 0;
    int64_t max_timestamp = -1;
    uint64_t generation = 0; // +1 each time the batch gets its first record
    int32_t last_count = 0;  // records in this partition's last closed batch
  };
  /// An open batch in linger order; stale once the batch was closed since
  /// (its generation moved on).
  struct lingering {
    int64_t created_ms;
    open_batch* batch;
    uint64_t generation;
    bool live() const { return !batch->builder.empty() && batch->generation == generation; }
  };

  /// Builds the batch and reopens `ob` empty; buffered bytes follow the
  /// built size.
  ready_batch close(open_batch& ob);
  /// A batch leaving the accumulator: no longer pending or buffered here.
  ready_batch released(ready_batch rb);
  // drain, drain_closed and drain_open under the lock:
  std::vector<ready_batch> take_closed();
  std::vector<ready_batch> take_open(int64_t now_ms, bool force,
                                     const std::function<offer(const topic_partition&, size_t)>& decide);
  open_batch& open_for(const topic_partition& tp);

  accumulator_config cfg_;
  mutable std::mutex mtx_;
  /// Open batches by topic, then partition: one short map lookup (a
  /// producer writes to few topics) and an index per record. A map keyed
  /// by topic_partition was 39 % of a producer's CPU with 10 000
  /// partitions (string compares and cache misses down a deep tree).
  std::map<std::string, std::vector<std::unique_ptr<open_batch>>, std::less<>> open_;
  /// Open batches in the order they got their first record: drain and
  /// next_linger_due look at the oldest ones only, not at every partition
  /// (a producer writing to 10 000 partitions scanned them all every
  /// linger.ms; issue 15).
  mutable std::deque<lingering> lingering_;
  std::deque<ready_batch> closed_;
  int64_t buffered_bytes_ = 0;
  size_t pending_ = 0;
};

template <class Decide>
std::vector<ready_batch> record_accumulator::drain_open(int64_t now_ms, bool force,
                                                        Decide&& decide) {
  return drain_open_impl(now_ms, force, std::forward<Decide>(decide));
}

} // namespace al
