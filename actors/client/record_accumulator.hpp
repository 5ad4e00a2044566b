#pragma once
// The producer's record accumulator (Kafka's RecordAccumulator): user
// threads append records straight into per-partition batches under a lock;
// the producer actor drains finished batches and sends one request per
// batch. This keeps actor messages per batch, not per record. CAF-free.
#include <cstdint>
#include <deque>
#include <map>
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

  /// Records appended but not yet drained.
  size_t pending_records() const;
  /// Milliseconds until the oldest open batch reaches linger.ms (0: due now; -1: none).
  int64_t next_linger_due(int64_t now_ms) const;
  /// Bytes buffered (open + closed batches), for buffer.memory back-pressure.
  int64_t buffered_bytes() const;

private:
  struct open_batch {
    batch_builder builder;
    std::vector<send_callback> callbacks;
    bool any_callback = false;
    int64_t created_ms = 0;
    int64_t max_timestamp = -1;
  };

  ready_batch close(const topic_partition& tp, open_batch& ob);

  accumulator_config cfg_;
  mutable std::mutex mtx_;
  std::map<topic_partition, open_batch> open_;
  /// Open batches in the order they got their first record (created_ms,
  /// partition): drain and next_linger_due look at the oldest ones only,
  /// not at every partition (a producer writing to 10 000 partitions
  /// scanned them all every linger.ms; issue 15). An entry whose batch was
  /// closed by size since is stale and skipped.
  mutable std::deque<std::pair<int64_t, topic_partition>> lingering_;
  std::deque<ready_batch> closed_;
  int64_t buffered_bytes_ = 0;
  size_t pending_ = 0;
};

} // namespace al
