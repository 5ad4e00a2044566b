#pragma once
// What a producer sends and what it learns back (Kafka's ProducerRecord and
// RecordMetadata), plus the delivery callback type.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/status.hpp"

namespace al {

struct producer_record {
  producer_record() = default;
  producer_record(std::string t, int32_t p, std::optional<std::string> k,
                  std::optional<std::string> v,
                  std::vector<std::pair<std::string, std::string>> h = {}, int64_t ts = -1)
    : topic(std::move(t)), partition(p), key(std::move(k)), value(std::move(v)),
      headers(std::move(h)), timestamp(ts) {}

  std::string topic;
  int32_t partition = -1;             // -1: chosen by the partitioner
  std::optional<std::string> key;     // nullopt: null key (sticky partitioning)
  std::optional<std::string> value;   // nullopt: tombstone
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp = -1;             // -1: now
};

struct record_metadata {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;    // -1 with acks=0
  int64_t timestamp = -1;
};

/// Called once per record, on the producer actor's thread: an ok status and
/// the record's metadata, or the error that ended its delivery.
using send_callback = std::function<void(const record_metadata&, const status&)>;

} // namespace al
