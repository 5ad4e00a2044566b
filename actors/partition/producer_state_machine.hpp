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
#include <optional>
#include <string>

#include "actors/partition/partition_txn_machine.hpp"
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
  /// When the last transaction marker for this producer was written (-1:
  /// none). A marker bumps the epoch and clears the batches (the next
  /// transaction starts at sequence 0); the entry then lives on from this
  /// time, so the epoch keeps fencing a zombie until it expires.
  int64_t marker_ms = -1;
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
  /// Transactional batches also go to txns() (issue 16): `marker` is what a
  /// control batch says (decode_txn_marker; none counts as COMMIT) and
  /// `high_watermark` the HW then; an ABORT marker's aborted transaction is
  /// returned, for the segment's .txnindex.
  std::optional<aborted_txn> on_append(const batch_header& h, int64_t now_ms = no_clock,
                                       const txn_marker* marker = nullptr,
                                       int64_t high_watermark = 0);
  /// Forgets batches at or after `offset` (log truncation).
  void truncate_from(int64_t offset);
  /// Kafka's removeExpiredProducers (producer.id.expiration.ms): forgets every
  /// producer whose last write is expiration_ms or more before now_ms.
  /// Producers with a transaction open here are kept, as in Kafka.
  /// Returns how many were forgotten.
  size_t expire(int64_t now_ms, int64_t expiration_ms);

  size_t producer_count() const { return producers_.size(); }
  const producer_entry* find(int64_t producer_id) const;
  bool operator==(const producer_state_table& other) const;

  /// The partition's transactions (open ones, LSO), fed by on_append.
  const partition_txn_machine& txns() const { return txns_; }

  /// Binary snapshot: "ALPS" u32 version (2), i64 covers_offset, u32 count,
  /// then per producer: i64 id, i16 epoch, i64 marker_ms, u8 n, n × (i32,
  /// i32, i64, i64, i64); then u32 open transactions, each i64 producer id
  /// and i64 first offset; and a CRC32C. Version 1 (no marker_ms, no open
  /// transactions) is still read.
  bytes snapshot(int64_t covers_offset) const;
  /// Restores a snapshot; returns the offset it covers (scan the log from there).
  result<int64_t> restore(byte_view data, const std::string& where);

private:
  std::map<int64_t, producer_entry> producers_;
  partition_txn_machine txns_;
};

} // namespace al
