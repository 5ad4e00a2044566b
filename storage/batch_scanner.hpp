#pragma once
// Walks the record batches of a segment file from a byte position, through
// a read buffer (one pread per 64 KiB, not per batch). Used by recovery
// (full mode: every batch parsed and its CRC checked), by offset and
// timestamp lookups (header mode: only the 61-byte headers are read) and by
// compaction.
//
// It tells a torn tail from corruption the way LevelDB's log reader does: a
// batch that is cut off by the end of the file (fewer bytes left than a
// header, or a batchLength that runs past the end) is a torn tail, the
// normal result of a crash during a write; anything else that fails (magic,
// CRC, lengths, offsets going backwards) is corruption.
#include <cstdint>
#include <string>

#include "storage/batch_header.hpp"
#include "storage/bytes.hpp"
#include "storage/file.hpp"
#include "storage/status.hpp"

namespace al {

enum class scan_result : uint8_t { batch, end, torn_tail, corrupt, io_error };

enum class scan_mode : uint8_t {
  headers, // header fields only; bodies are skipped, batch() is empty
  full,    // whole batches, parsed and CRC-checked; batch() holds the bytes
};

const char* to_string(scan_result r);

class batch_scanner {
public:
  /// Scans `f` over [start, end). Batches must have base offsets >=
  /// first_offset, increasing, and within a segment based at
  /// segment_base (relative offsets fit an int32).
  batch_scanner(const file& f, uint64_t start, uint64_t end, int64_t segment_base,
                int64_t first_offset, scan_mode mode);

  scan_result next();

  /// Position of the current batch, or of the problem after a failure.
  uint64_t position() const { return position_; }
  /// Position just past the last good batch.
  uint64_t next_position() const { return next_position_; }
  const batch_header& header() const { return header_; }
  /// The current batch's bytes in full mode; valid until the next call.
  byte_view batch() const { return batch_; }
  /// What went wrong after torn_tail, corrupt or io_error.
  const std::string& problem() const { return problem_; }

private:
  scan_result fail(scan_result r, std::string why);
  /// Makes [pos, pos + n) available in buf_; false on a read error.
  bool load(uint64_t pos, size_t n);
  const uint8_t* at(uint64_t pos) const { return buf_.data() + (pos - buf_start_); }
  scan_result check_offsets();

  const file& file_;
  uint64_t end_;
  int64_t segment_base_;
  int64_t expected_offset_;
  scan_mode mode_;
  uint64_t position_;
  uint64_t next_position_;
  batch_header header_;
  byte_view batch_;
  std::string problem_;
  bytes buf_;
  uint64_t buf_start_ = 0;
  size_t buf_len_ = 0;
};

} // namespace al
