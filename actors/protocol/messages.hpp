#pragma once
// Messages that cross nodes: produce, fetch, list offsets. Plain structs (no
// CAF include, so pure state machines use them too); each has an
// `inspect` overload and is registered once in actor_config.cpp.
// Record data always travels as one Kafka RecordBatch v2 (or several,
// concatenated) in `al::bytes`, never one message per record.
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <vector>


#include "actors/protocol/checked_bytes.hpp"
#include "storage/bytes.hpp"
#include "storage/errc.hpp"

namespace al {

/// Kafka's acks: 0 = no reply wait, 1 = leader wrote it, -1 = all in-sync replicas have it.
enum class acks_mode : int8_t { none = 0, leader = 1, all = -1 };
inline std::string to_string(acks_mode x) {
  switch (x) {
    case acks_mode::none: return "0";
    case acks_mode::leader: return "1";
    case acks_mode::all: return "all";
  }
  return "?";
}

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  friend bool operator<(const topic_partition& a, const topic_partition& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  }
  friend bool operator==(const topic_partition& a, const topic_partition& b) {
    return a.partition == b.partition && a.topic == b.topic;
  }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, topic_partition& x) {
  return f(x.topic, x.partition);
}
/// For unordered containers keyed by partition.
struct topic_partition_hash {
  size_t operator()(const topic_partition& tp) const noexcept {
    return std::hash<std::string>{}(tp.topic) * 31 + size_t(uint32_t(tp.partition));
  }
};
/// "orders-3"
inline std::string to_string(const topic_partition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition);
}

struct produce_request {
  std::string topic;
  int32_t partition = 0;
  acks_mode acks = acks_mode::all;
  int32_t timeout_ms = 30000;
  bytes batch; // one RecordBatch v2; the partition stamps offsets in place
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, produce_request& x) {
  return f(x.topic, x.partition, x.acks,
           x.timeout_ms, checked(x.batch));
}

struct produce_response {
  int64_t base_offset = -1;
  int64_t log_append_time = -1;
  int64_t log_start_offset = 0;
  int32_t record_count = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, produce_response& x) {
  return f(x.base_offset, x.log_append_time,
           x.log_start_offset, x.record_count);
}

/// Kafka's ProduceRequest: the batches of several partitions in one
/// request. A client sends one per leader broker (at most one batch per
/// partition, as Kafka's sender drains), so 10 000 partitions cost a few
/// messages per round instead of one each. Each partition is answered on
/// its own, in the request's order.
struct produce_part {
  std::string topic;
  int32_t partition = 0;
  bytes batch; // one RecordBatch v2
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, produce_part& x) {
  return f(x.topic, x.partition, checked(x.batch));
}

struct produce_set_request {
  acks_mode acks = acks_mode::all;
  int32_t timeout_ms = 30000;
  std::vector<produce_part> parts;
  /// The producer's transactional.id (Kafka's Produce v3+), empty for
  /// others. A transactional batch that opens a transaction is checked
  /// with that id's coordinator first (KIP-890 part 1); one in a request
  /// without an id is refused.
  std::string transactional_id;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, produce_set_request& x) {
  return f(x.acks, x.timeout_ms, x.parts, x.transactional_id);
}

/// One partition's answer: `error` none and `response`, or the error and
/// its message (what a caf::error of the single-partition request carries).
struct produce_part_result {
  errc error = errc::none;
  std::string message;
  produce_response response;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, produce_part_result& x) {
  return f(x.error, x.message, x.response);
}

struct produce_set_response {
  std::vector<produce_part_result> results; // parts[i] -> results[i]
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, produce_set_response& x) {
  return f(x.results);
}

constexpr int32_t consumer_replica_id = -1;

/// How far a fetch may read (Kafka's FetchIsolation). Followers always read
/// to the log end. `log_end` is for readers inside the node (the group
/// coordinator loading __consumer_offsets as the partition's new leader,
/// as Kafka's loader reads the local log); the client gateway refuses it.
/// `high_watermark` is Kafka's read_uncommitted; `read_committed` reads up
/// to the last stable offset (LSO) and gets the aborted transactions of
/// the range with the records (issue 16, docs/transactions.md).
enum class fetch_isolation : int8_t { high_watermark = 0, log_end = 1, read_committed = 2 };

struct fetch_request {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t max_bytes = 1048576;   // per partition (Kafka max.partition.fetch.bytes)
  int32_t min_bytes = 1;         // fetch.min.bytes
  int32_t max_wait_ms = 500;     // fetch.max.wait.ms
  int32_t replica_id = consumer_replica_id; // >= 0: a follower fetching
  int32_t current_leader_epoch = -1;
  int64_t replica_epoch = -1;    // a follower's incarnation (KIP-903 broker epoch)
  fetch_isolation isolation = fetch_isolation::high_watermark;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_request& x) {
  return f(x.topic, x.partition, x.offset, x.max_bytes,
           x.min_bytes, x.max_wait_ms, x.replica_id, x.current_leader_epoch, x.replica_epoch,
           x.isolation);
}

/// A transaction aborted in a read_committed fetch's range (Kafka's
/// FetchResponse AbortedTransaction): the consumer skips the producer's
/// transactional batches from first_offset up to its ABORT marker.
struct aborted_range {
  int64_t producer_id = -1;
  int64_t first_offset = 0;
  friend bool operator==(const aborted_range& a, const aborted_range& b) {
    return a.producer_id == b.producer_id && a.first_offset == b.first_offset;
  }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, aborted_range& x) {
  return f(x.producer_id, x.first_offset);
}

struct fetch_response {
  int64_t high_watermark = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  bytes records; // whole batches, concatenated; may start before the requested offset
  /// The last stable offset (Kafka's): the HW, or the first offset of the
  /// oldest open transaction when lower. -1 when not known (a follower's fetch).
  int64_t last_stable_offset = -1;
  /// read_committed only: the aborted transactions overlapping the records.
  std::vector<aborted_range> aborted;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_response& x) {
  return f(x.high_watermark, x.log_start_offset,
           x.log_end_offset, checked(x.records), x.last_stable_offset, x.aborted);
}

/// Node-to-node fetch sessions (issue 15; Kafka's fetch per broker pair,
/// KIP-227): the broker of a follower node sends the fetches of its local
/// followers for one leader node together, and that node's broker answers
/// them together as they complete. One message per direction carries many
/// partitions instead of one each (actors/broker/broker_fetch_sessions.cpp).
struct fetch_set_request {
  int32_t replica_id = -1; // the follower node
  std::vector<fetch_request> fetches;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_set_request& x) {
  return f(x.replica_id, x.fetches);
}

/// One fetch's answer in a set: the fetch it answers (partition, offset and
/// leader epoch echoed), and `error` none and `response`, or the error and
/// its message.
struct fetch_set_answer {
  std::string topic;
  int32_t partition = 0;
  int64_t fetch_offset = 0;
  int32_t current_leader_epoch = -1;
  errc error = errc::none;
  std::string message;
  fetch_response response;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_set_answer& x) {
  return f(x.topic, x.partition, x.fetch_offset, x.current_leader_epoch, x.error, x.message,
           x.response);
}

struct fetch_set_response {
  int32_t leader_id = -1; // the node answering
  std::vector<fetch_set_answer> answers;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fetch_set_response& x) {
  return f(x.leader_id, x.answers);
}

/// WriteTxnMarkers for one partition (issue 16): the transaction
/// coordinator asks the partition's leader to append a COMMIT or ABORT
/// control batch for the producer, and is answered once it is replicated
/// as acks=all would be (the marker's offset in base_offset).
struct txn_marker_request {
  std::string topic;
  int32_t partition = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  bool commit = false;
  int32_t coordinator_epoch = 0;
  int32_t timeout_ms = 30000;
  /// The end bumped the producer's epoch (KIP-890; false for a producer that
  /// keeps its epoch, Kafka's EndTxn v0-4): the marker's epoch is above its
  /// records', so it must not close a transaction of its own epoch.
  bool epoch_bumped = true;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, txn_marker_request& x) {
  return f(x.topic, x.partition, x.producer_id, x.producer_epoch, x.commit, x.coordinator_epoch,
           x.timeout_ms, x.epoch_bumped);
}

/// ListOffsets special timestamps (Kafka's values).
constexpr int64_t latest_timestamp = -1;
constexpr int64_t earliest_timestamp = -2;

struct list_offsets_request {
  std::string topic;
  int32_t partition = 0;
  int64_t timestamp = latest_timestamp;
  /// read_committed: `latest` is the last stable offset, not the HW (Kafka's
  /// ListOffsets isolation level).
  fetch_isolation isolation = fetch_isolation::high_watermark;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_offsets_request& x) {
  return f(x.topic, x.partition, x.timestamp, x.isolation);
}

struct list_offsets_response {
  int64_t offset = -1;    // -1: no record at or after the timestamp
  int64_t timestamp = -1;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_offsets_response& x) {
  return f(x.offset, x.timestamp);
}

/// InitProducerId: a fresh producer id (epoch 0) for an idempotent producer.
struct producer_id_response {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, producer_id_response& x) {
  return f(x.producer_id, x.producer_epoch);
}

} // namespace al
