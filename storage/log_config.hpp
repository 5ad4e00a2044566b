#pragma once
// Per-partition log settings, with Kafka's topic config names and defaults.
// Times are milliseconds; -1 means "no limit" where Kafka allows it.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "storage/status.hpp"

namespace al {

/// cleanup.policy: "delete", "compact" or both ("compact,delete").
struct cleanup_policy {
  bool delete_segments = true;
  bool compact = false;
};

/// Parses Kafka's cleanup.policy list; false if a word is unknown.
bool parse_cleanup_policy(std::string_view text, cleanup_policy& out);
std::string to_string(cleanup_policy p);

struct log_config {
  static constexpr int64_t never = std::numeric_limits<int64_t>::max();
  static constexpr int64_t day_ms = 24 * 3600 * 1000LL;

  int64_t segment_bytes = 1LL << 30;    // segment.bytes: roll when the next batch would pass it
  int64_t segment_ms = 7 * day_ms;      // segment.ms: roll a segment this old
  int32_t index_interval_bytes = 4096;  // index.interval.bytes
  int32_t max_message_bytes = 1048588;  // max.message.bytes: largest batch accepted
  int64_t retention_ms = 7 * day_ms;    // retention.ms, -1 = forever
  int64_t retention_bytes = -1;         // retention.bytes, -1 = no size limit
  cleanup_policy policy;                // cleanup.policy
  int64_t delete_retention_ms = day_ms; // delete.retention.ms: tombstone lifetime
  int64_t min_compaction_lag_ms = 0;    // min.compaction.lag.ms
  int64_t flush_messages = never;       // flush.messages: fsync after this many offsets
  int64_t flush_ms = never;             // flush.ms: fsync when the last one is this old
  /// message.timestamp.before.max.ms / after.max.ms: how far a producer's
  /// CreateTime may lie behind / ahead of the broker's clock (Kafka 4.x
  /// defaults: unlimited behind, one hour ahead). A timestamp far ahead would
  /// hold off retention.ms for its segment and every later one.
  int64_t message_timestamp_before_max_ms = never;
  int64_t message_timestamp_after_max_ms = 3600 * 1000LL;

  /// INVALID_CONFIG naming the first bad field, or ok.
  status validate() const;
};

} // namespace al
