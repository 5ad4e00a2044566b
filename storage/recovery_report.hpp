#pragma once
// What partition_log::open found and repaired. A torn tail is the normal
// trace of a crash during a write; corruption means bytes changed after
// they were written (or a bug) and deserves an operator's attention.
#include <cstdint>
#include <string>
#include <vector>

namespace al {

enum class recovery_action : uint8_t {
  truncated_torn_tail,      // a batch cut off by the end of the last segment
  truncated_corruption,     // a corrupt batch: the segment is cut there
  deleted_after_corruption, // a whole segment after a corrupt one, removed
  rebuilt_indexes,          // index files missing or broken: rebuilt from the .log
  removed_leftover,         // unfinished compaction output or orphan index file
  completed_swap,           // committed compaction output renamed over its .log
  restarted_at_log_start,   // the log ended below its checkpointed log start: emptied there
  cut_txn_index_tail,       // a torn last entry cut from a .txnindex
  emptied_txn_index,        // a damaged .txnindex emptied: the owner re-adds from the log
};

const char* to_string(recovery_action a);

struct recovery_event {
  recovery_action action = recovery_action::truncated_torn_tail;
  std::string file;           // path of the file concerned
  uint64_t position = 0;      // where the bad bytes start (truncations)
  uint64_t bytes_dropped = 0; // bytes removed from `file`
  std::string reason;
};

struct recovery_report {
  std::vector<recovery_event> events;

  size_t count(recovery_action a) const;
  uint64_t bytes_dropped() const;
  bool corruption_found() const;
  /// One line per event: "corruption: 000.log position 4096, 812 bytes dropped: CRC ...".
  std::string to_string() const;
};

} // namespace al
