#pragma once
// Reading and writing the files behind the sparse indexes. An index lives
// in memory; its file is a copy written on segment roll, flush and close,
// either by appending the entries added since the last write or, after a
// truncation, by rewriting it whole. Both indexes share this.
#include <cstdint>
#include <optional>
#include <string>

#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

/// The file's bytes, or nullopt when it does not exist.
result<std::optional<bytes>> read_index_file(const std::string& path);

/// Writes `data` at `position` and cuts the file there plus data.size,
/// then fsyncs. position 0 with the whole content is a rewrite.
status write_index_file(const std::string& path, byte_view data, uint64_t position);

} // namespace al
