#pragma once
// Looking up one partition in a metadata image: the topic by name, then the
// partition by index, with the bounds checked (brokers, the controller's
// machines and its metadata deltas all do this).
#include <cstdint>
#include <string>

#include "actors/controller/metadata_machine.hpp"

namespace al {

/// Partition `partition` of `topic`, or null when the image has no such
/// topic or index.
inline const partition_description* find_partition(const metadata_image& image,
                                                   const std::string& topic, int32_t partition) {
  auto t = image.topics.find(topic);
  if (t == image.topics.end() || partition < 0 ||
      partition >= int32_t(t->second.partitions.size()))
    return nullptr;
  return &t->second.partitions[size_t(partition)];
}

inline partition_description* find_partition(metadata_image& image, const std::string& topic,
                                             int32_t partition) {
  return const_cast<partition_description*>(
    find_partition(static_cast<const metadata_image&>(image), topic, partition));
}

} // namespace al
