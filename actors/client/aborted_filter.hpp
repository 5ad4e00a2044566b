#pragma once
// What a read_committed consumer skips (issue 16; Kafka's consumer does
// the same in its fetcher): control batches always, and the transactional
// batches of a producer whose transaction the partition aborted. The
// fetch answer names the aborted transactions overlapping its records
// (producer id and first offset); walking the batches in order, a producer
// becomes "aborted" once a batch reaches its transaction's first offset,
// and stops being so at its ABORT marker. Pure: no CAF, no I/O.
#include <cstdint>
#include <set>
#include <vector>

#include "actors/protocol/messages.hpp"
#include "storage/batch_header.hpp"
#include "storage/bytes.hpp"

namespace al {

class aborted_filter {
public:
  explicit aborted_filter(std::vector<aborted_range> aborted);

  /// Whether the records of this batch (`batch`: all of its bytes) are
  /// skipped. Call once per batch, in log order.
  bool skip(const batch_header& h, byte_view batch);

private:
  std::vector<aborted_range> pending_; // by first offset, descending (pop from the back)
  std::set<int64_t> aborted_producers_;
};

} // namespace al
