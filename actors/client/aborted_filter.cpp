#include "actors/client/aborted_filter.hpp"

#include <algorithm>

#include "actors/partition/partition_txn_machine.hpp"

namespace al {

aborted_filter::aborted_filter(std::vector<aborted_range> aborted) : pending_(std::move(aborted)) {
  std::sort(pending_.begin(), pending_.end(), [](const aborted_range& a, const aborted_range& b) {
    return a.first_offset > b.first_offset;
  });
}

bool aborted_filter::skip(const batch_header& h, byte_view batch) {
  if (!h.has_producer_id())
    return h.is_control();
  // Transactions that began at or before this batch's end are now in force.
  while (!pending_.empty() && pending_.back().first_offset <= h.last_offset()) {
    aborted_producers_.insert(pending_.back().producer_id);
    pending_.pop_back();
  }
  if (h.is_control()) {
    // The producer's transaction ends here: its later batches are another one.
    auto m = decode_txn_marker(batch);
    if (!m || !m->commit)
      aborted_producers_.erase(h.producer_id);
    return true;
  }
  return h.is_transactional() && aborted_producers_.count(h.producer_id) > 0;
}

} // namespace al
