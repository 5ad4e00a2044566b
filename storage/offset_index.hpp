#pragma once
// Sparse offset index of one segment (Kafka's .index): maps a batch's base
// offset to its byte position in the .log, one entry per roughly
// index.interval.bytes of log. File format, 8 bytes per entry, big-endian:
//   relative_offset uint32  (batch base offset - segment base offset)
//   position        uint32  (byte position of the batch in the .log)
// Both columns strictly increase. Format: docs/formats/segment.md.
#include <cstdint>
#include <string>
#include <vector>

#include "storage/index_file.hpp"
#include "storage/status.hpp"

namespace al {

class offset_index {
public:
  static constexpr size_t entry_size = 8;

  struct entry {
    uint32_t relative_offset = 0;
    uint32_t position = 0;
  };

  struct position_hint {
    int64_t offset = 0;    // base offset of the batch at `position`
    uint32_t position = 0; // where to start scanning
  };

  offset_index(std::string path, int64_t base_offset);

  const std::string& path() const { return path_; }
  int64_t base_offset() const { return base_offset_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<entry>& entries() const { return entries_; }

  /// Adds an entry; offset and position must be above the last entry's.
  void append(int64_t offset, uint32_t position);
  /// The entry with the largest offset <= target, or {base offset, 0}.
  position_hint lookup(int64_t target) const;
  /// Drops entries whose offset is >= offset.
  void truncate_to_offset(int64_t offset);
  void clear();

  /// Replaces the entries by the file's; an error says why the file is
  /// missing or broken (size, order, a position at or past log_size).
  status load(uint64_t log_size);
  /// Brings the file up to date with the entries and fsyncs it.
  status flush(bool durable = true);
  status remove_file();

private:
  std::string path_;
  int64_t base_offset_;
  std::vector<entry> entries_;
  index_sync sync_; // which entries the file holds
};

} // namespace al
