#pragma once
// Records of __transaction_state (issue 16): one per transition of a
// transactional.id, the latest per key wins (the topic is compacted), a
// null value (tombstone) forgets the id. Kafka's classic encoding
// (offsets_wire.hpp):
//   key   = version int16 (0), transactional_id string     (TransactionLogKey v0)
//   value = version int16, producer_id int64, producer_epoch int16,
//           transaction_timeout_ms int32, transaction_status int8,
//           partitions array of {topic string, partition_ids array of int32},
//           last_update_ms int64, start_ms int64           (TransactionLogValue v0)
//   version 100 (actorlog's) appends previous_producer_id int64,
//           previous_producer_epoch int16, next_producer_id int64 (what
//           KIP-890's epoch bump per transaction needs; Kafka keeps them in
//           tagged fields of its flexible v1). Version 0 records decode with
//           those three at -1.
// The status values are Kafka's (txn_state: Empty 0 ... Dead 6).
#include <optional>
#include <string>
#include <vector>

#include "actors/txn/txn_machine.hpp"
#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

inline constexpr int16_t txn_key_version = 0;
inline constexpr int16_t txn_value_version = 100;

bytes encode_txn_key(const std::string& transactional_id);
/// The value of `entry`; nullopt for a tombstone.
std::optional<bytes> encode_txn_value(const txn_log_entry& entry);
/// A record back into an entry; a null value is a tombstone.
result<txn_log_entry> decode_txn_record(byte_view key, std::optional<byte_view> value);

/// The batch the coordinator appends for one transition: one record,
/// key and value as above (a tombstone's value is null).
bytes txn_entry_batch(const txn_log_entry& entry, int64_t timestamp_ms);

/// Reading a __transaction_state partition back (a coordinator's load):
/// the entries of the whole batches in `data` at or after `from`, in log
/// order. Records no coordinator writes are skipped and counted, never
/// stopping the load; a batch that does not decode is an error.
struct txn_log_reader {
  std::vector<txn_log_entry> entries;
  int64_t skipped = 0;
  std::string first_skipped;
  /// The offset after the last whole batch read (`from` if none was).
  result<int64_t> apply(byte_view data, int64_t from);
};

} // namespace al
