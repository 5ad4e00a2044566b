#pragma once
// A record as a consumer sees it (Kafka's ConsumerRecord).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace al {

struct consumer_record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;
  std::optional<std::string> key;
  std::optional<std::string> value; // nullopt: tombstone
  std::vector<std::pair<std::string, std::string>> headers;
};

} // namespace al
