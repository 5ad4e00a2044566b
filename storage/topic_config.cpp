#include "storage/topic_config.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>

namespace al {

const std::vector<topic_config_key>& topic_config_keys() {
  static const std::vector<topic_config_key> keys = {
    {"cleanup.policy", "enum", "delete|compact|compact,delete|delete,compact", 0,
     "delete old segments, keep the latest value per key, or both"},
    {"compression.type", "enum", "producer|none|gzip|snappy|lz4|zstd", 0,
     "codec batches are stored with; producer keeps the client's"},
    {"delete.retention.ms", "long", nullptr, 0, "how long tombstones survive compaction"},
    {"flush.messages", "long", nullptr, 1, "fsync after this many messages"},
    {"flush.ms", "long", nullptr, -1, "fsync when the oldest unflushed message is this old"},
    {"index.interval.bytes", "int", nullptr, 0, "bytes between offset index entries"},
    {"max.message.bytes", "int", nullptr, 0, "largest record batch accepted"},
    {"message.timestamp.after.max.ms", "long", nullptr, 0,
     "how far a record's CreateTime may be ahead of the broker's clock"},
    {"message.timestamp.before.max.ms", "long", nullptr, 0,
     "how far a record's CreateTime may be behind the broker's clock"},
    {"min.compaction.lag.ms", "long", nullptr, 0, "records younger than this are not compacted"},
    {"min.insync.replicas", "int", nullptr, 1, "replicas that must have a write for acks=all"},
    {"retention.bytes", "long", nullptr, -1, "size above which old segments are deleted"},
    {"retention.ms", "long", nullptr, -1, "age above which old segments are deleted"},
    {"segment.bytes", "int", nullptr, 1024, "size at which a segment is rolled"},
    {"segment.ms", "long", nullptr, 1, "age at which a segment is rolled"},
    {"unclean.leader.election.enable", "bool", nullptr, 0,
     "allow an out-of-sync replica to become leader (may lose data)"},
  };
  return keys;
}

namespace {

status check_value(const topic_config_key& key, const std::string& value) {
  auto bad = [&](const std::string& why) {
    auto shown = value.size() <= 64 ? value : value.substr(0, 64) + "...";
    return status{errc::invalid_config, std::string{key.name} + ": \"" + shown + "\" " + why};
  };
  std::string type = key.type;
  if (type == "enum") {
    std::string allowed = key.allowed;
    size_t start = 0;
    while (start <= allowed.size()) {
      auto end = allowed.find('|', start);
      if (end == std::string::npos)
        end = allowed.size();
      if (allowed.compare(start, end - start, value) == 0)
        return status::ok();
      start = end + 1;
    }
    return bad("is not one of " + allowed);
  }
  if (type == "bool") {
    if (value == "true" || value == "false")
      return status::ok();
    return bad("is not true or false");
  }
  // Digits with an optional '-': strtoll alone would also take leading
  // blanks, '+' and any number of leading zeros.
  bool digits = !value.empty() && value.size() <= 20 &&
                (std::isdigit(static_cast<unsigned char>(value[0])) ||
                 (value[0] == '-' && value.size() > 1));
  for (size_t i = 1; digits && i < value.size(); ++i)
    digits = std::isdigit(static_cast<unsigned char>(value[i])) != 0;
  if (!digits)
    return bad("is not an integer");
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(value.c_str(), &end, 10);
  if (*end != '\0')
    return bad("is not an integer");
  if (errno == ERANGE || (type == "int" && (v > 2147483647LL || v < -2147483648LL)))
    return bad("is out of range");
  if (v < key.min_value)
    return bad("is below the minimum " + std::to_string(key.min_value));
  return status::ok();
}

} // namespace

status validate_topic_configs(const std::map<std::string, std::string>& configs) {
  for (auto& [name, value] : configs) {
    const topic_config_key* found = nullptr;
    for (auto& key : topic_config_keys())
      if (name == key.name)
        found = &key;
    if (!found)
      return status{errc::invalid_config, "unknown topic config \"" + name + "\""};
    if (auto st = check_value(*found, value); !st)
      return st;
  }
  return status::ok();
}

result<log_config> apply_topic_configs(log_config cfg,
                                       const std::map<std::string, std::string>& overrides) {
  if (auto st = validate_topic_configs(overrides); !st)
    return st;
  for (auto& [key, value] : overrides) {
    if (key == "cleanup.policy") {
      parse_cleanup_policy(value, cfg.policy); // validated above
      continue;
    }
    struct field {
      const char* name;
      int64_t* wide;
      int32_t* narrow;
    };
    const field fields[] = {
      {"segment.bytes", &cfg.segment_bytes, nullptr},
      {"segment.ms", &cfg.segment_ms, nullptr},
      {"index.interval.bytes", nullptr, &cfg.index_interval_bytes},
      {"max.message.bytes", nullptr, &cfg.max_message_bytes},
      {"retention.ms", &cfg.retention_ms, nullptr},
      {"retention.bytes", &cfg.retention_bytes, nullptr},
      {"delete.retention.ms", &cfg.delete_retention_ms, nullptr},
      {"min.compaction.lag.ms", &cfg.min_compaction_lag_ms, nullptr},
      {"flush.messages", &cfg.flush_messages, nullptr},
      {"flush.ms", &cfg.flush_ms, nullptr},
      {"message.timestamp.before.max.ms", &cfg.message_timestamp_before_max_ms, nullptr},
      {"message.timestamp.after.max.ms", &cfg.message_timestamp_after_max_ms, nullptr},
    };
    for (auto& f : fields) {
      if (key != f.name)
        continue;
      auto v = std::strtoll(value.c_str(), nullptr, 10);
      if (f.wide)
        *f.wide = v;
      else
        *f.narrow = static_cast<int32_t>(v);
    }
  }
  if (cfg.flush_ms == -1)
    cfg.flush_ms = log_config::never;
  if (auto st = cfg.validate(); !st)
    return st;
  return cfg;
}

int64_t topic_config_int(const std::map<std::string, std::string>& configs,
                         const std::string& key, int64_t fallback) {
  auto i = configs.find(key);
  if (i == configs.end())
    return fallback;
  char* end = nullptr;
  auto v = std::strtoll(i->second.c_str(), &end, 10);
  return (i->second.empty() || *end != '\0') ? fallback : v;
}

} // namespace al
