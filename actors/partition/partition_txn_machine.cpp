#include "actors/partition/partition_txn_machine.hpp"

#include <algorithm>

#include "storage/record_batch.hpp"

namespace al {

namespace {

constexpr int16_t marker_abort = 0;
constexpr int16_t marker_commit = 1;

status bad_marker(const std::string& why) {
  return {errc::corrupt_message, "transaction marker: " + why};
}

} // namespace

result<txn_marker> decode_txn_marker(byte_view batch) {
  auto d = decode_batch(batch, "transaction marker");
  if (!d)
    return d.error();
  if (!d->header.is_control())
    return bad_marker("not a control batch");
  if (d->records.size() != 1)
    return bad_marker(std::to_string(d->records.size()) + " records, not 1");
  const auto& r = d->records[0];
  if (!r.key || r.key->size < 4)
    return bad_marker("control record key shorter than 4 bytes");
  auto key_version = load_be<int16_t>(r.key->data);
  auto type = load_be<int16_t>(r.key->data + 2);
  if (key_version != 0)
    return bad_marker("control record key version " + std::to_string(key_version));
  if (type != marker_abort && type != marker_commit)
    return bad_marker("control record type " + std::to_string(type) +
                      " (0 ABORT and 1 COMMIT are known)");
  txn_marker m;
  m.commit = type == marker_commit;
  if (r.value && r.value->size >= 6)
    m.coordinator_epoch = load_be<int32_t>(r.value->data + 2);
  return m;
}

bytes build_txn_marker_batch(int64_t producer_id, int16_t producer_epoch, const txn_marker& m,
                             int64_t timestamp_ms) {
  batch_options opts;
  opts.producer_id = producer_id;
  opts.producer_epoch = producer_epoch;
  opts.transactional = true;
  batch_builder b(opts);
  uint8_t key[4];
  store_be<int16_t>(key, 0);
  store_be<int16_t>(key + 2, m.commit ? marker_commit : marker_abort);
  uint8_t value[6];
  store_be<int16_t>(value, 0);
  store_be<int32_t>(value + 2, m.coordinator_epoch);
  b.append(timestamp_ms, byte_view{key, sizeof key}, byte_view{value, sizeof value});
  auto out = b.build();
  // The builder knows no control bit: set it, then the CRC again.
  auto attrs = load_be<int16_t>(out.data() + batch_layout::attributes);
  store_be<int16_t>(out.data() + batch_layout::attributes, int16_t(attrs | batch_attr::control));
  write_batch_crc(out.data(), out.size());
  return out;
}

status partition_txn_machine::check_marker(const batch_header& h, bool epoch_bumped) const {
  auto e = epochs_.find(h.producer_id);
  if (e != epochs_.end() && h.producer_epoch < e->second)
    return status{errc::invalid_producer_epoch,
                  "transaction marker for producer " + std::to_string(h.producer_id) +
                    " with epoch " + std::to_string(h.producer_epoch) + ", older than " +
                    std::to_string(e->second)};
  if (epoch_bumped && e != epochs_.end() && h.producer_epoch == e->second &&
      open_.count(h.producer_id))
    return status{errc::invalid_producer_epoch,
                  "transaction marker for producer " + std::to_string(h.producer_id) +
                    " with epoch " + std::to_string(h.producer_epoch) +
                    " (an end that bumped the epoch) would close the transaction open here "
                    "under that epoch: a late copy of the previous transaction's marker"};
  return status::ok();
}

std::optional<aborted_txn> partition_txn_machine::on_batch(const batch_header& h,
                                                           const std::optional<txn_marker>& m,
                                                           int64_t high_watermark) {
  if (!h.is_transactional() || !h.has_producer_id())
    return std::nullopt;
  auto& epoch = epochs_[h.producer_id];
  epoch = std::max(epoch, h.producer_epoch);
  auto open = open_.find(h.producer_id);
  if (!h.is_control()) {
    if (open == open_.end())
      open_at(h.producer_id, h.base_offset);
    return std::nullopt;
  }
  if (open == open_.end())
    return std::nullopt; // a marker with nothing open here (a retry, or no data came)
  auto first = open->second;
  open_.erase(open);
  for (auto i = by_first_.lower_bound(first); i != by_first_.end() && i->first == first; ++i)
    if (i->second == h.producer_id) {
      by_first_.erase(i);
      break;
    }
  closed_.push_back(closed_txn{h.producer_id, first, h.last_offset()});
  if (!m || m->commit)
    return std::nullopt;
  aborted_txn a;
  a.producer_id = h.producer_id;
  a.first_offset = first;
  a.last_offset = h.last_offset();
  a.last_stable_offset = last_stable_offset(high_watermark);
  aborted_.push_back(a);
  return a;
}

void partition_txn_machine::open_at(int64_t producer_id, int64_t first_offset) {
  open_.emplace(producer_id, first_offset);
  by_first_.emplace(first_offset, producer_id);
}

bool partition_txn_machine::restore_open(int64_t producer_id, int64_t first_offset) {
  if (open_.count(producer_id))
    return false;
  open_at(producer_id, first_offset);
  return true;
}

void partition_txn_machine::restore_epoch(int64_t producer_id, int16_t epoch) {
  auto& e = epochs_[producer_id];
  e = std::max(e, epoch);
}

std::optional<int64_t> partition_txn_machine::first_unstable_offset() const {
  if (by_first_.empty())
    return std::nullopt;
  return by_first_.begin()->first;
}

int64_t partition_txn_machine::last_stable_offset(int64_t high_watermark,
                                                  int64_t log_start_offset) const {
  auto first = first_unstable_offset();
  return first ? std::min(std::max(*first, log_start_offset), high_watermark) : high_watermark;
}

std::vector<aborted_txn> partition_txn_machine::aborted_between(int64_t from,
                                                                int64_t upto) const {
  return overlapping(aborted_, from, upto);
}

void partition_txn_machine::truncate_from(int64_t offset) {
  if (offset < closed_from_)
    rebuild_needed_ = true; // markers below what closed_ remembers may be cut
  for (auto i = open_.begin(); i != open_.end();) {
    if (i->second >= offset)
      i = open_.erase(i);
    else
      ++i;
  }
  by_first_.erase(by_first_.lower_bound(offset), by_first_.end());
  // A transaction whose marker was cut but whose data was not is open again.
  while (!closed_.empty() && closed_.back().marker_offset >= offset) {
    auto c = closed_.back();
    closed_.pop_back();
    if (c.first_offset < offset && !open_.count(c.producer_id))
      open_at(c.producer_id, c.first_offset);
  }
  aborted_.erase(std::remove_if(aborted_.begin(), aborted_.end(),
                                [&](const aborted_txn& a) { return a.last_offset >= offset; }),
                 aborted_.end());
}

void partition_txn_machine::forget_closed_below(int64_t offset) {
  if (offset <= closed_from_)
    return;
  closed_from_ = offset;
  closed_.erase(closed_.begin(),
                std::find_if(closed_.begin(), closed_.end(),
                             [&](const closed_txn& c) { return c.marker_offset >= offset; }));
}

void partition_txn_machine::advance_log_start(int64_t offset) {
  aborted_.erase(std::remove_if(aborted_.begin(), aborted_.end(),
                                [&](const aborted_txn& a) { return a.last_offset < offset; }),
                 aborted_.end());
}

std::optional<int64_t> partition_txn_machine::open_since(int64_t producer_id) const {
  auto i = open_.find(producer_id);
  if (i == open_.end())
    return std::nullopt;
  return i->second;
}

} // namespace al
