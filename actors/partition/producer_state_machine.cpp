#include "actors/partition/producer_state_machine.hpp"

#include <algorithm>
#include <cstring>

#include "storage/crc32c.hpp"

namespace al {

namespace {

/// The sequence after `seq` (Kafka wraps at INT32_MAX to 0).
int32_t next_seq(int32_t seq) { return seq == INT32_MAX ? 0 : seq + 1; }

} // namespace

producer_state_table::decision producer_state_table::check(const batch_header& h) const {
  AL_ASSERT(h.producer_id >= 0, h.producer_id);
  decision d;
  auto tp = "producer " + std::to_string(h.producer_id);
  auto it = producers_.find(h.producer_id);
  if (h.base_sequence < 0) {
    if (h.is_transactional()) {
      // A coordinator's write in the producer's transaction (TxnOffsetCommit
      // to __consumer_offsets, which alone takes it): no sequence, the
      // epoch still fences.
      if (it != producers_.end() && h.producer_epoch < it->second.epoch) {
        d.kind = verdict::reject;
        d.error = {errc::invalid_producer_epoch,
                   tp + ": epoch " + std::to_string(h.producer_epoch) + " is older than " +
                     std::to_string(it->second.epoch)};
      }
      return d;
    }
    d.kind = verdict::reject;
    d.error = {errc::invalid_request, tp + ": idempotent batch without a base sequence"};
    return d;
  }
  if (it == producers_.end())
    return d; // unknown (or expired) producer: accept, as Kafka does for a fresh id
  auto& e = it->second;
  if (h.producer_epoch < e.epoch) {
    d.kind = verdict::reject;
    d.error = {errc::invalid_producer_epoch, tp + ": epoch " + std::to_string(h.producer_epoch) +
                                               " is older than " + std::to_string(e.epoch)};
    return d;
  }
  if (h.producer_epoch > e.epoch) {
    if (h.base_sequence != 0) {
      d.kind = verdict::reject;
      d.error = {errc::out_of_order_sequence_number,
                 tp + ": a new epoch must start at sequence 0, got " +
                   std::to_string(h.base_sequence)};
    }
    return d;
  }
  if (e.batches.empty()) { // a marker bumped the epoch: the next batch starts the sequence
    if (h.base_sequence != 0) {
      d.kind = verdict::reject;
      d.error = {errc::out_of_order_sequence_number,
                 tp + ": epoch " + std::to_string(e.epoch) +
                   " starts at sequence 0 after the transaction marker, got " +
                   std::to_string(h.base_sequence)};
    }
    return d;
  }
  for (auto& b : e.batches) {
    if (b.first_seq == h.base_sequence && b.last_seq == h.last_sequence()) {
      d.kind = verdict::duplicate;
      d.duplicate_base_offset = b.first_offset;
      return d;
    }
  }
  auto expected = next_seq(e.batches.back().last_seq);
  if (h.base_sequence != expected) {
    d.kind = verdict::reject;
    d.error = {errc::out_of_order_sequence_number,
               tp + ": expected sequence " + std::to_string(expected) + ", got " +
                 std::to_string(h.base_sequence)};
  }
  return d;
}

std::optional<aborted_txn> producer_state_table::on_append(const batch_header& h, int64_t now_ms,
                                                           const txn_marker* marker,
                                                           int64_t high_watermark) {
  if (h.producer_id < 0)
    return std::nullopt;
  std::optional<aborted_txn> aborted;
  if (h.is_transactional()) {
    std::optional<txn_marker> m;
    if (marker)
      m = *marker;
    aborted = txns_.on_batch(h, m, high_watermark);
  }
  if (h.is_control()) {
    // The marker ends the producer's transaction under its (bumped) epoch:
    // older epochs are fenced, and the next batch starts at sequence 0.
    auto& e = producers_[h.producer_id];
    if (h.producer_epoch > e.epoch || e.batches.empty())
      e.batches.clear();
    e.epoch = std::max(e.epoch, h.producer_epoch);
    int64_t written = h.max_timestamp;
    if (now_ms != no_clock && (written < 0 || written > now_ms))
      written = now_ms;
    e.marker_ms = std::max(e.marker_ms, written);
    return aborted;
  }
  if (h.base_sequence < 0)
    return aborted;
  auto& e = producers_[h.producer_id];
  if (h.producer_epoch > e.epoch || e.batches.empty()) {
    if (h.producer_epoch != e.epoch)
      e.batches.clear();
    e.epoch = h.producer_epoch;
  }
  int64_t written = h.max_timestamp;
  if (now_ms != no_clock && (written < 0 || written > now_ms))
    written = now_ms;
  e.batches.push_back(producer_batch_meta{h.base_sequence, h.last_sequence(), h.base_offset,
                                          h.last_offset(), written});
  while (e.batches.size() > max_batches)
    e.batches.pop_front();
  return aborted;
}

void producer_state_table::truncate_from(int64_t offset) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    auto& b = it->second.batches;
    while (!b.empty() && b.back().last_offset >= offset)
      b.pop_back();
    it = b.empty() ? producers_.erase(it) : std::next(it);
  }
}

size_t producer_state_table::expire(int64_t now_ms, int64_t expiration_ms) {
  // now - expiration, not now - last: a last write time is a client's
  // timestamp (any int64) and must not overflow the comparison.
  const int64_t horizon = std::max<int64_t>(now_ms, 0) - std::max<int64_t>(expiration_ms, 0);
  size_t removed = 0;
  for (auto it = producers_.begin(); it != producers_.end();) {
    int64_t last = it->second.batches.empty() ? -1 : it->second.batches.back().max_timestamp;
    if (it->second.marker_ms >= 0) // a marker is the producer's last write
      last = std::max(last, it->second.marker_ms);
    if (last <= horizon && !txns_.open_since(it->first)) {
      it = producers_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

const producer_entry* producer_state_table::find(int64_t producer_id) const {
  auto it = producers_.find(producer_id);
  return it == producers_.end() ? nullptr : &it->second;
}

bool producer_state_table::operator==(const producer_state_table& other) const {
  if (producers_.size() != other.producers_.size())
    return false;
  for (auto& [id, e] : producers_) {
    auto o = other.find(id);
    if (!o || o->epoch != e.epoch || o->batches.size() != e.batches.size())
      return false;
    for (size_t i = 0; i < e.batches.size(); ++i) {
      auto& a = e.batches[i];
      auto& b = o->batches[i];
      if (a.first_seq != b.first_seq || a.last_seq != b.last_seq ||
          a.first_offset != b.first_offset || a.last_offset != b.last_offset)
        return false;
    }
  }
  return txns_.open_transactions() == other.txns_.open_transactions();
}

namespace {
template <class T>
void put(bytes& out, T v) {
  auto at = out.size();
  out.resize(at + sizeof(T));
  store_be<T>(out.data() + at, v);
}
} // namespace

bytes producer_state_table::snapshot(int64_t covers_offset) const {
  bytes out{'A', 'L', 'P', 'S'};
  put<uint32_t>(out, 2);
  put<int64_t>(out, covers_offset);
  put<uint32_t>(out, uint32_t(producers_.size()));
  for (auto& [id, e] : producers_) {
    put<int64_t>(out, id);
    put<int16_t>(out, e.epoch);
    put<int64_t>(out, e.marker_ms);
    put<uint8_t>(out, uint8_t(e.batches.size()));
    for (auto& b : e.batches) {
      put<int32_t>(out, b.first_seq);
      put<int32_t>(out, b.last_seq);
      put<int64_t>(out, b.first_offset);
      put<int64_t>(out, b.last_offset);
      put<int64_t>(out, b.max_timestamp);
    }
  }
  auto& open = txns_.open_transactions();
  put<uint32_t>(out, uint32_t(open.size()));
  for (auto& [id, first] : open) {
    put<int64_t>(out, id);
    put<int64_t>(out, first);
  }
  put<uint32_t>(out, crc32c(out.data(), out.size()));
  return out;
}

result<int64_t> producer_state_table::restore(byte_view data, const std::string& where) {
  auto corrupt = [&](const std::string& why) {
    return status{errc::corrupt_message, where + ": " + why};
  };
  if (data.size < 24 || std::memcmp(data.data, "ALPS", 4) != 0)
    return corrupt("not a producer state snapshot");
  if (load_be<uint32_t>(data.data + data.size - 4) != crc32c(data.data, data.size - 4))
    return corrupt("checksum mismatch");
  const auto version = load_be<uint32_t>(data.data + 4);
  if (version != 1 && version != 2)
    return corrupt("unknown snapshot version " + std::to_string(version));
  const size_t entry_head = version == 1 ? 11 : 19; // id, epoch[, marker_ms], n
  size_t pos = 8;
  auto covers = load_be<int64_t>(data.data + pos);
  pos += 8;
  auto count = load_be<uint32_t>(data.data + pos);
  pos += 4;
  const size_t end = data.size - 4;
  std::map<int64_t, producer_entry> restored;
  for (uint32_t i = 0; i < count; ++i) {
    if (end - pos < entry_head)
      return corrupt("truncated producer entry");
    auto id = load_be<int64_t>(data.data + pos);
    producer_entry e;
    e.epoch = load_be<int16_t>(data.data + pos + 8);
    if (version >= 2)
      e.marker_ms = load_be<int64_t>(data.data + pos + 10);
    size_t n = data.data[pos + entry_head - 1];
    pos += entry_head;
    if (n > max_batches) // on_append keeps no more: not a snapshot we wrote
      return corrupt("producer " + std::to_string(id) + " has " + std::to_string(n) +
                     " batches, at most " + std::to_string(max_batches) + " are kept");
    if (end - pos < n * 32)
      return corrupt("truncated batch list");
    for (size_t k = 0; k < n; ++k, pos += 32)
      e.batches.push_back({load_be<int32_t>(data.data + pos), load_be<int32_t>(data.data + pos + 4),
                           load_be<int64_t>(data.data + pos + 8),
                           load_be<int64_t>(data.data + pos + 16),
                           load_be<int64_t>(data.data + pos + 24)});
    if (!restored.emplace(id, std::move(e)).second)
      return corrupt("producer " + std::to_string(id) + " appears twice");
  }
  partition_txn_machine txns;
  if (version >= 2) {
    if (end - pos < 4)
      return corrupt("truncated open transaction list");
    auto open = load_be<uint32_t>(data.data + pos);
    pos += 4;
    if ((end - pos) / 16 < open)
      return corrupt("truncated open transaction list");
    for (uint32_t i = 0; i < open; ++i, pos += 16) {
      auto id = load_be<int64_t>(data.data + pos);
      auto first = load_be<int64_t>(data.data + pos + 8);
      if (first < 0 || first >= covers)
        return corrupt("producer " + std::to_string(id) + "'s transaction opens at " +
                       std::to_string(first) + ", outside [0, " + std::to_string(covers) + ")");
      if (!txns.restore_open(id, first))
        return corrupt("producer " + std::to_string(id) + " has two open transactions");
    }
  }
  if (pos != end)
    return corrupt("trailing bytes");
  for (auto& [id, e] : restored) // epochs seen, for the marker check
    txns.restore_epoch(id, e.epoch);
  txns.forget_closed_below(covers);
  producers_ = std::move(restored);
  txns_ = std::move(txns);
  return covers;
}

} // namespace al
