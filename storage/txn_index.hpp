#pragma once
// A segment's aborted-transaction index (Kafka's .txnindex, issue 16): one
// entry per transaction aborted with its marker in that segment, appended
// in marker order, so that a read_committed fetch can name the aborted
// transactions overlapping the records it returns. Kafka's layout, 34 bytes
// per entry, big-endian:
//   version int16 (0), producer_id int64, first_offset int64,
//   last_offset int64 (the marker's offset), last_stable_offset int64
// The file is written through the page cache and fsynced with its segment;
// it can be rebuilt from the segment's control batches, so a torn last
// entry (a crash mid-append) is cut on open and reported.
#include <cstdint>
#include <string>
#include <vector>

#include "storage/file.hpp"
#include "storage/status.hpp"

namespace al {

/// A transaction aborted on this partition: read_committed consumers skip
/// the producer's batches in [first_offset, last_offset] (the marker is at
/// last_offset). Kafka's AbortedTxn.
struct aborted_txn {
  int64_t producer_id = -1;
  int64_t first_offset = 0;
  int64_t last_offset = 0;
  int64_t last_stable_offset = 0; // the LSO once this one completed
  friend bool operator==(const aborted_txn& a, const aborted_txn& b) {
    return a.producer_id == b.producer_id && a.first_offset == b.first_offset &&
           a.last_offset == b.last_offset && a.last_stable_offset == b.last_stable_offset;
  }
};

/// Whether `a` overlaps the offsets [from, upto): its records, or its marker.
inline bool overlaps(const aborted_txn& a, int64_t from, int64_t upto) {
  return a.last_offset >= from && a.first_offset < upto;
}
/// The entries of `all` that overlap [from, upto), in their order.
std::vector<aborted_txn> overlapping(const std::vector<aborted_txn>& all, int64_t from,
                                     int64_t upto);

class txn_index {
public:
  static constexpr size_t entry_size = 34;

  txn_index();
  ~txn_index();
  txn_index(txn_index&&) noexcept;
  txn_index& operator=(txn_index&&) noexcept;

  /// Opens (creating when missing) and reads every entry. A size that is
  /// not a multiple of entry_size has its torn tail cut (`*cut_bytes` says
  /// how much); an entry of an unknown version, or last offsets that go
  /// down, is CORRUPT_MESSAGE naming the entry (rebuild from the segment).
  /// With `cache`, the descriptor is one the cache may close while unused
  /// (nothing may then rename or remove the file while this is open).
  static result<txn_index> open(const std::string& path, size_t* cut_bytes = nullptr,
                                open_file_cache* cache = nullptr);

  /// Appends an entry; its last offset must not be below the last one's.
  status append(const aborted_txn& a);
  /// The file's bytes for these entries.
  static bytes encode_entries(const std::vector<aborted_txn>& entries);
  /// Entries that overlap [from, upto).
  std::vector<aborted_txn> overlapping(int64_t from, int64_t upto) const;
  /// Drops entries whose marker is at or past `offset` (log truncation).
  status truncate_to(int64_t offset);
  status fsync() { return file_.fsync(); }
  const std::vector<aborted_txn>& entries() const { return entries_; }
  const std::string& path() const { return file_.path(); }

private:
  file file_;
  std::vector<aborted_txn> entries_;
};

} // namespace al
