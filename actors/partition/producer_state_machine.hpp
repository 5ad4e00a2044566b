#pragma once
// Idempotent-producer state of one partition (Kafka's ProducerStateManager):
// per producer id the current epoch and the metadata of its last 5 batches.
// Decides whether an incoming batch is the next in sequence (append), a
// retry of one already written (duplicate: answer with its original
// offset), or out of order. Pure: no CAF, no I/O, no clock.
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <string>

#include "storage/batch_header.hpp"
#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

struct producer_batch_meta {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  /// The batch's max timestamp (no later than its append time when that is
  /// known): the producer's last write time, from which it expires.
  int64_t max_timestamp = -1;
};

struct producer_entry {
  int16_t epoch = 0;
  std::deque<producer_batch_meta> batches; // oldest first, at most max_batches
};

class producer_state_table {
public:
  static constexpr size_t max_batches = 5;

  enum class verdict { append, duplicate, reject };
  struct decision {
    verdict kind = verdict::append;
    int64_t duplicate_base_offset = -1; // for duplicates
    status error;                       // for rejections
  };

  /// Checks a batch from an idempotent producer (h.producer_id >= 0).
  decision check(const batch_header& h) const;
  static constexpr int64_t no_clock = std::numeric_limits<int64_t>::max();

  /// Records a batch that is now in the log (leader append, follower
  /// append, or log scan on recovery). Batches without producer id are
  /// ignored. With `now_ms`, a write time in the future (or none) counts as
  /// now_ms, so a producer's clock cannot keep its entry from expiring.
  void on_append(const batch_header& h, int64_t now_ms = no_clock);
  /// Forgets batches at or after `offset` (log truncation).
  void truncate_from(int64_t offset);
  /// Kafka's removeExpiredProducers (producer.id.expiration.ms): forgets every
  /// producer whose last write is expiration_ms or more before now_ms.
  /// (Kafka keeps producers with an ongoing transaction; there are none here.)
  /// Returns how many were forgotten.
  size_t expire(int64_t now_ms, int64_t expiration_ms);

  size_t producer_count() const { return producers_.size(); }
  const producer_entry* find(int64_t producer_id) const;
  bool operator==(const producer_state_table& other) const;

  /// Binary snapshot: "ALPS" u32 version, i64 covers_offset, u32 count, then
  /// per producer: i64 id, i16 epoch, u8 n, n × (i32, i32, i64, i64, i64), and a CRC32C.
  bytes snapshot(int64_t covers_offset) const;
  /// Restores a snapshot; returns the offset it covers (scan the log from there).
  result<int64_t> restore(byte_view data, const std::string& where);

private:
  std::map<int64_t, producer_entry> producers_;
};

} // namespace al
