#include "storage/log_compaction.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>

#include "storage/batch_scanner.hpp"
#include "storage/compaction_txns.hpp"
#include "storage/file.hpp"
#include "storage/log_filename.hpp"
#include "storage/record_batch.hpp"

namespace al {
namespace {

using key_map = std::unordered_map<std::string, int64_t>;

std::string key_of(const record_view& r) { return std::string(r.key->as_string()); }

/// Calls on_batch(scanner) for every batch of the source, CRC-checked.
template <class F>
status for_each_batch(const compaction_source& src, F on_batch) {
  auto f = file::open(src.log_path, open_mode::read_only);
  if (!f)
    return f.error();
  if (f->size() < src.size_bytes) // truncated since the plan: its commit would be void
    return status{errc::kafka_storage_error, "compaction: " + src.log_path + " shrank to " +
                                               std::to_string(f->size()) + " bytes"};
  batch_scanner s(*f, 0, src.size_bytes, src.base_offset, src.base_offset, scan_mode::full);
  scan_result r;
  while ((r = s.next()) == scan_result::batch)
    if (auto st = on_batch(s); !st)
      return st;
  if (r != scan_result::end)
    return status{r == scan_result::io_error ? errc::kafka_storage_error : errc::corrupt_message,
                  "compaction: " + s.problem()};
  return status::ok();
}

result<decoded_batch> decode_scanned(const compaction_source& src, const batch_scanner& s) {
  decode_options opts;
  opts.verify_crc = false; // the scanner checked it
  return decode_batch(s.batch(), opts, src.log_path + " position " + std::to_string(s.position()));
}

status build_key_map(const compaction_plan& plan, key_map& latest, compaction_txns& txns) {
  for (const auto& src : plan.segments) {
    auto st = for_each_batch(src, [&](const batch_scanner& s) {
      txns.observe(s.header());
      if (s.header().is_control() || txns.aborted(s.header()))
        return status::ok();
      auto decoded = decode_scanned(src, s);
      if (!decoded)
        return decoded.error();
      for (const auto& r : decoded->records)
        if (r.key && r.offset < plan.first_uncleanable)
          latest[key_of(r)] = r.offset;
      return status::ok();
    });
    if (!st)
      return st;
  }
  return status::ok();
}

/// The batch with only the records `keep` says yes to, same offsets and
/// producer metadata; empty when none is kept.
bytes rebuild_batch(const decoded_batch& d, const std::vector<bool>& keep) {
  const auto& h = d.header;
  batch_options opts;
  opts.codec = h.codec();
  opts.producer_id = h.producer_id;
  opts.producer_epoch = h.producer_epoch;
  opts.base_sequence = h.base_sequence;
  opts.partition_leader_epoch = h.partition_leader_epoch;
  opts.base_offset = h.base_offset;
  opts.transactional = h.is_transactional();
  opts.log_append_time = (h.attributes & batch_attr::log_append_time) != 0;
  batch_builder builder(opts);
  for (size_t i = 0; i < d.records.size(); ++i) {
    const auto& r = d.records[i];
    if (keep[i])
      builder.append_with_offset_delta(int32_t(r.offset - h.base_offset), r.timestamp, r.key,
                                       r.value, r.headers);
  }
  if (builder.empty())
    return {};
  bytes out = builder.build();
  // Keep lastOffsetDelta so the batch still spans its original offsets
  // (Kafka does the same); it sits inside the CRC, so redo the CRC.
  store_be<int32_t>(out.data() + batch_layout::last_offset_delta, h.last_offset_delta);
  write_batch_crc(out.data(), out.size());
  return out;
}

struct segment_cleaner {
  const compaction_source& src;
  const key_map& latest;
  const compaction_txns& txns;
  bool horizon_passed; // delete.retention.ms: tombstones and markers may go
  compaction_stats& stats;
  bytes out;
  bool dropped = false;
  bool changed_underneath = false;
  std::vector<int64_t> removed_markers{};

  status add(const batch_scanner& s) {
    const auto& h = s.header();
    if (h.is_control()) { // a transaction marker: goes whole or stays as it is
      if (horizon_passed && txns.marker_removable(h.base_offset)) {
        ++stats.markers_removed;
        removed_markers.push_back(h.base_offset);
        dropped = true;
      } else {
        out.insert(out.end(), s.batch().begin(), s.batch().end());
      }
      return status::ok();
    }
    if (txns.aborted(h)) {
      stats.aborted_removed += uint64_t(h.records_count);
      dropped = true;
      return status::ok();
    }
    auto decoded = decode_scanned(src, s);
    if (!decoded)
      return decoded.error();
    std::vector<bool> keep(decoded->records.size());
    size_t kept = 0;
    for (size_t i = 0; i < keep.size(); ++i) {
      keep[i] = decide(decoded->records[i]);
      kept += keep[i];
    }
    if (changed_underneath)
      return status{errc::kafka_storage_error,
                    "compaction: " + src.log_path + " changed while being compacted"};
    stats.records_kept += kept;
    dropped |= kept < keep.size();
    if (kept == keep.size())
      out.insert(out.end(), s.batch().begin(), s.batch().end());
    else if (kept > 0) {
      auto rebuilt = rebuild_batch(*decoded, keep);
      out.insert(out.end(), rebuilt.begin(), rebuilt.end());
    }
    return status::ok();
  }

  bool decide(const record_view& r) {
    if (!r.key) {
      ++stats.null_keys_removed;
      return false;
    }
    auto it = latest.find(key_of(r));
    if (it == latest.end() || it->second < r.offset) {
      changed_underneath = true; // the file differs from when the map was built
      return true;
    }
    if (it->second != r.offset) {
      ++stats.records_removed;
      return false;
    }
    if (!r.value && horizon_passed) {
      ++stats.tombstones_removed;
      return false;
    }
    return true;
  }
};

result<std::optional<cleaned_segment>> clean_segment(const compaction_plan& plan,
                                                     const compaction_source& src,
                                                     const key_map& latest,
                                                     const compaction_txns& txns,
                                                     compaction_stats& stats) {
  // Kafka's rule, roughly: a tombstone (or a marker) lives
  // delete.retention.ms past the newest record of the segment holding it.
  // Both terms come from clients (a record timestamp, the topic's config, up
  // to INT64_MAX): saturate instead of overflowing into "expired long ago".
  constexpr int64_t max = std::numeric_limits<int64_t>::max();
  const int64_t lifetime = std::max<int64_t>(plan.delete_retention_ms, 0);
  int64_t horizon = src.max_timestamp > max - lifetime ? max : src.max_timestamp + lifetime;
  bool expired = horizon <= plan.now_ms;
  segment_cleaner cleaner{src, latest, txns, expired, stats, {}};
  if (auto st = for_each_batch(src, [&](const batch_scanner& s) { return cleaner.add(s); }); !st)
    return st;
  if (!cleaner.dropped)
    return std::optional<cleaned_segment>{}; // the segment stays as it is
  auto path = join_path(plan.dir, cleaned_file_name(src.base_offset));
  auto f = file::open(path, open_mode::create_truncate);
  if (!f)
    return f.error();
  if (auto st = f->append(cleaner.out); !st)
    return st;
  if (auto st = f->fsync(); !st)
    return st;
  return std::optional<cleaned_segment>{
    cleaned_segment{src.base_offset, path, src.size_bytes, cleaner.out.size(),
                    std::move(cleaner.removed_markers)}};
}

} // namespace

result<compaction_output> run_compaction(const compaction_plan& plan) {
  compaction_output out;
  bool any = false;
  for (const auto& src : plan.segments)
    any |= src.clean;
  if (!any)
    return out;
  key_map latest;
  compaction_txns txns(plan.aborted, plan.marker_limit);
  if (auto st = build_key_map(plan, latest, txns); !st)
    return st;
  for (const auto& src : plan.segments) {
    if (!src.clean)
      continue;
    auto cleaned = clean_segment(plan, src, latest, txns, out.stats);
    if (!cleaned)
      return cleaned.error();
    if (*cleaned)
      out.segments.push_back(std::move(**cleaned));
  }
  return out;
}

} // namespace al
