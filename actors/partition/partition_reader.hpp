#pragma once
// Reading a whole partition from inside the node, as a coordinator does
// when it takes over (__consumer_offsets, __transaction_state): from the
// log start to the log end, with fetches that do not wait and read past
// the high watermark (fetch_isolation::log_end: every acknowledged write
// is in the leader's log, possibly above its HW right after an election).
#include <chrono>
#include <functional>
#include <memory>

#include <caf/all.hpp>

#include "actors/partition/partition_api.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

/// What read_partition_to_end does with the bytes and how it ends.
struct partition_read {
  /// Takes a fetched chunk (whole batches, the last one possibly cut off)
  /// read at `from`; returns the offset after the last whole batch used.
  std::function<result<int64_t>(byte_view, int64_t from)> apply;
  std::function<void()> done;
  std::function<void(const caf::error&)> failed;
  /// Done only once the HW covers the log end read (else `failed` with
  /// COORDINATOR_LOAD_IN_PROGRESS, to retry): what was read above the HW
  /// can still be lost with this leader, so nothing may be decided from it
  /// (the transaction coordinator sends markers for what it loads).
  bool committed = false;
};

/// Reads `tp` through `log` from its log start to its log end, `chunk_bytes`
/// per fetch (more when one batch does not fit). `Self` is the reading actor.
template <class Self>
void read_partition_to_end(Self* self, partition_api log, topic_partition tp,
                           std::chrono::milliseconds timeout, int32_t chunk_bytes,
                           std::shared_ptr<partition_read> how) {
  auto read_from = std::make_shared<std::function<void(int64_t, int32_t)>>();
  *read_from = [self, log, tp, timeout, chunk_bytes, how, read_from](int64_t offset,
                                                                     int32_t max_bytes) {
    fetch_request req;
    req.topic = tp.topic;
    req.partition = tp.partition;
    req.offset = offset;
    req.max_bytes = max_bytes;
    req.max_wait_ms = 0;
    req.isolation = fetch_isolation::log_end;
    self->request(log, timeout, fetch_atom::value, req)
      .then(
        [how, read_from, offset, max_bytes, chunk_bytes](const fetch_response& resp) {
          auto next = how->apply(byte_view{resp.records}, offset);
          if (!next) {
            how->failed(to_caf_error(next.error()));
          } else if (*next >= resp.log_end_offset && how->committed &&
                     resp.high_watermark < resp.log_end_offset) {
            how->failed(make_error(errc::coordinator_load_in_progress,
                                   "read to the log end " + std::to_string(resp.log_end_offset) +
                                     ", committed only below " +
                                     std::to_string(resp.high_watermark)));
          } else if (*next >= resp.log_end_offset) {
            how->done();
          } else if (*next == offset && max_bytes > (1 << 29)) {
            how->failed(make_error(errc::corrupt_message,
                                   "no batch readable at offset " + std::to_string(offset)));
          } else { // no whole batch fitted: read more at once
            (*read_from)(*next, *next == offset ? max_bytes * 2 : chunk_bytes);
          }
        },
        [how](caf::error& err) { how->failed(err); });
  };
  list_offsets_request req{tp.topic, tp.partition, earliest_timestamp};
  self->request(log, timeout, list_offsets_atom::value, req)
    .then([read_from, chunk_bytes](
            const list_offsets_response& r) { (*read_from)(std::max<int64_t>(r.offset, 0), chunk_bytes); },
          [how](caf::error& err) { how->failed(err); });
}

} // namespace al
