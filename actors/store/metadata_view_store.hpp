#pragma once
// Materialises the controller's metadata image into the node's SQLite store
// (meta.db): topics, configs and partitions made to match the image, and the
// applied metadata log position, all in one transaction. SQLite is a view;
// the metadata log stays the source of truth.
#include <cstdint>

#include "actors/controller/metadata_machine.hpp"
#include "storage/meta_store.hpp"

namespace al {

/// Writes `image` as of metadata log `offset`; a no-op when the store has
/// already applied that offset.
status materialize(meta_store& store, const metadata_image& image, int64_t offset,
                   int64_t now_ms);

/// Parses a topic id written by the controller (32 hex digits) into bytes;
/// an unparsable id gives zeros.
topic_uuid parse_topic_id(const std::string& hex);

} // namespace al
