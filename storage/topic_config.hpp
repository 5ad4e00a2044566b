#pragma once
// Topic-level configs (Kafka's names: retention.ms, cleanup.policy, ...):
// which keys exist, what values they take. Used to validate
// `topics create --config k=v` and `topics alter` before a change is
// committed to the metadata log.
#include <map>
#include <string>
#include <vector>

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

} // namespace al
