#pragma once
// Walks the record batches of a fetched byte range (what a coordinator's
// loader reads from its partition): each whole batch decoded, in order,
// with its raw bytes; a batch cut off at the end of the range ends the
// walk (the next read starts there). Returns the offset after the last
// batch walked (at least `from`), or CORRUPT_MESSAGE naming `what` and the
// offset: a negative length, a batch that does not decode, or offsets that
// overflow. The transaction and the group coordinators' loaders both read
// this way (txn_log_reader, offsets_loader).
#include <algorithm>
#include <cstdint>
#include <string>

#include "storage/batch_header.hpp"
#include "storage/bytes.hpp"
#include "storage/record_batch.hpp"

namespace al {

/// `on_batch(byte_view raw, const decoded_batch& batch)` for each batch.
template <class OnBatch>
result<int64_t> walk_batches(byte_view data, int64_t from, const std::string& what,
                             OnBatch&& on_batch) {
  int64_t next = from;
  size_t pos = 0;
  while (data.size - pos >= batch_layout::log_overhead) {
    auto length = load_be<int32_t>(data.data + pos + batch_layout::batch_length);
    if (length < 0)
      return status{errc::corrupt_message, what + ": negative batch length"};
    auto size = batch_layout::log_overhead + size_t(length);
    if (data.size - pos < size)
      break; // cut off at the end of the read
    auto raw = data.sub(pos, size);
    auto batch = decode_batch(raw, what + " at " + std::to_string(next));
    if (!batch)
      return batch.error();
    // A damaged baseOffset near INT64_MAX: next_offset() would overflow.
    const auto& h = batch->header;
    if (h.base_offset > INT64_MAX - 1 - h.last_offset_delta)
      return status{errc::corrupt_message,
                    what + " at " + std::to_string(next) + ": baseOffset " +
                      std::to_string(h.base_offset) + " + lastOffsetDelta " +
                      std::to_string(h.last_offset_delta) + " overflows"};
    pos += size;
    on_batch(raw, *batch);
    next = std::max(next, h.next_offset());
  }
  return next;
}

} // namespace al
