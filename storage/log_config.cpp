#include "storage/log_config.hpp"

namespace al {

bool parse_cleanup_policy(std::string_view text, cleanup_policy& out) {
  cleanup_policy p{false, false};
  while (!text.empty()) {
    auto comma = text.find(',');
    auto word = text.substr(0, comma);
    while (!word.empty() && word.front() == ' ')
      word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ')
      word.remove_suffix(1);
    if (word == "delete")
      p.delete_segments = true;
    else if (word == "compact")
      p.compact = true;
    else
      return false;
    if (comma == std::string_view::npos)
      break;
    text.remove_prefix(comma + 1);
  }
  if (!p.delete_segments && !p.compact)
    return false;
  out = p;
  return true;
}

std::string to_string(cleanup_policy p) {
  if (p.compact && p.delete_segments)
    return "compact,delete";
  return p.compact ? "compact" : "delete";
}

status log_config::validate() const {
  auto bad = [](const char* key, int64_t value, const char* why) {
    return status{errc::invalid_config,
                  std::string(key) + ": " + std::to_string(value) + " " + why};
  };
  // Positions in the offset index are uint32 and Kafka caps segment.bytes
  // at INT32_MAX.
  if (segment_bytes < 14 || segment_bytes > std::numeric_limits<int32_t>::max())
    return bad("segment.bytes", segment_bytes, "is not in [14, 2147483647]");
  if (segment_ms < 1)
    return bad("segment.ms", segment_ms, "must be >= 1");
  if (index_interval_bytes < 0)
    return bad("index.interval.bytes", index_interval_bytes, "must be >= 0");
  if (max_message_bytes < 0)
    return bad("max.message.bytes", max_message_bytes, "must be >= 0");
  if (retention_ms < -1)
    return bad("retention.ms", retention_ms, "must be >= -1");
  if (retention_bytes < -1)
    return bad("retention.bytes", retention_bytes, "must be >= -1");
  if (!policy.delete_segments && !policy.compact)
    return status{errc::invalid_config, "cleanup.policy: empty"};
  if (delete_retention_ms < 0)
    return bad("delete.retention.ms", delete_retention_ms, "must be >= 0");
  if (min_compaction_lag_ms < 0)
    return bad("min.compaction.lag.ms", min_compaction_lag_ms, "must be >= 0");
  if (flush_messages < 1)
    return bad("flush.messages", flush_messages, "must be >= 1");
  if (flush_ms < 0)
    return bad("flush.ms", flush_ms, "must be >= 0");
  if (message_timestamp_before_max_ms < 0)
    return bad("message.timestamp.before.max.ms", message_timestamp_before_max_ms,
               "must be >= 0");
  if (message_timestamp_after_max_ms < 0)
    return bad("message.timestamp.after.max.ms", message_timestamp_after_max_ms, "must be >= 0");
  return status::ok();
}

} // namespace al
