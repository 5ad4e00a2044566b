#pragma once
// Topic-level configs (Kafka's names: retention.ms, cleanup.policy, ...):
// which keys exist, what values they take. Used to validate
// `topics create --config k=v` and `topics alter` before a change is
// committed to the metadata log.
#include <map>
#include <string>
#include <vector>

#include "storage/log_config.hpp"
#include "storage/status.hpp"

namespace al {

struct topic_config_key {
  const char* name;
  const char* type;    // "long", "int", "bool", "enum"
  const char* allowed; // enum: values separated by '|'; numbers: "min" as text
  long long min_value;
  const char* help;
};

/// Every topic-level key actorlog understands.
const std::vector<topic_config_key>& topic_config_keys();

/// INVALID_CONFIG naming the first bad key and why ("retention.ms: \"abc\" is
/// not an integer"), or ok.
status validate_topic_configs(const std::map<std::string, std::string>& configs);

/// The log settings of a topic: `defaults` (the broker's) with the topic's
/// overrides applied. Keys that are not log settings (min.insync.replicas,
/// compression.type, unclean.leader.election.enable) are left to the caller.
result<log_config> apply_topic_configs(log_config defaults,
                                       const std::map<std::string, std::string>& overrides);

/// An integer topic config with a fallback ("min.insync.replicas").
int64_t topic_config_int(const std::map<std::string, std::string>& configs,
                         const std::string& key, int64_t fallback);

} // namespace al
