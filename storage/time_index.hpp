#pragma once
// Sparse time index of one segment (Kafka's .timeindex). An entry (T, O)
// says: T is the largest batch max timestamp up to and including the batch
// with base offset O, and O is the first batch that reached T, so every
// earlier batch has max timestamp < T. Entries are added next to offset
// index entries and once more when the segment is rolled, only when the
// timestamp grew. File format, 12 bytes per entry, big-endian:
//   timestamp       int64   (strictly increasing)
//   relative_offset uint32  (batch base offset - segment base offset)
// Format: docs/formats/segment.md.
#include <cstdint>
#include <string>
#include <vector>

#include "storage/index_file.hpp"
#include "storage/status.hpp"

namespace al {

class time_index {
public:
  static constexpr size_t entry_size = 12;

  struct entry {
    int64_t timestamp = 0;
    uint32_t relative_offset = 0;
  };

  time_index(std::string path, int64_t base_offset);

  const std::string& path() const { return path_; }
  int64_t base_offset() const { return base_offset_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<entry>& entries() const { return entries_; }
  /// Largest timestamp indexed, or -1 when empty.
  int64_t last_timestamp() const { return entries_.empty() ? -1 : entries_.back().timestamp; }

  /// Adds (timestamp, offset) if timestamp is above the last entry's.
  void maybe_append(int64_t timestamp, int64_t offset);
  /// Base offset of a batch from which a forward scan finds the first batch
  /// with max timestamp >= target: the offset of the entry with the largest
  /// timestamp <= target, or the segment's base offset.
  int64_t lookup(int64_t target) const;
  /// Drops entries whose offset is >= offset.
  void truncate_to_offset(int64_t offset);
  void clear();

  /// Replaces the entries by the file's; an error says why it is missing or
  /// broken (size, order, an offset below the base).
  status load();
  status flush(bool durable = true);
  status remove_file();

private:
  std::string path_;
  int64_t base_offset_;
  std::vector<entry> entries_;
  index_sync sync_; // which entries the file holds
};

} // namespace al
