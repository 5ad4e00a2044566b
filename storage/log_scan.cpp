#include "storage/log_scan.hpp"

#include <algorithm>

namespace al {

status for_each_batch_header(const partition_log& log, int64_t from,
                             const std::function<void(const batch_header&)>& fn) {
  int64_t offset = std::max(from, log.log_start_offset());
  while (offset < log.log_end_offset()) {
    auto chunk = log.read(offset, 1 << 20);
    if (!chunk)
      return chunk.error();
    byte_view rest{*chunk};
    int64_t before = offset;
    while (rest.size >= batch_layout::header_size) {
      auto h = parse_batch_header(rest, log.dir());
      if (!h)
        return h.error();
      if (h->last_offset() >= offset)
        fn(*h);
      offset = h->next_offset();
      rest = rest.sub(h->size_in_bytes(), rest.size - h->size_in_bytes());
    }
    if (offset == before)
      return status{errc::corrupt_message, log.dir() + ": log scan made no progress at offset " +
                                             std::to_string(offset)};
  }
  return status::ok();
}

} // namespace al
