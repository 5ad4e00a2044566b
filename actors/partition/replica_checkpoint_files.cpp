#include "actors/partition/replica_checkpoint_files.hpp"

#include <algorithm>
#include <optional>
#include <sstream>

#include "storage/batch_header.hpp"
#include "storage/file.hpp"
#include "storage/log_scan.hpp"

namespace al {

namespace {

bytes as_bytes(const std::string& s) { return bytes(s.begin(), s.end()); }

result<std::string> read_text(const std::string& path) {
  auto data = read_whole_file(path);
  if (!data)
    return data.error();
  return std::string(data->begin(), data->end());
}

status corrupt(const std::string& path, const std::string& why) {
  return {errc::corrupt_message, path + ": " + why};
}

result<leader_epoch_cache> scan_epochs(const partition_log& log) {
  leader_epoch_cache cache;
  auto st = for_each_batch_header(log, log.log_start_offset(), [&](const batch_header& h) {
    if (h.partition_leader_epoch >= 0)
      cache.assign(h.partition_leader_epoch, h.base_offset);
  });
  if (!st)
    return st;
  return cache;
}

/// The header of the batch holding `offset` (a log offset in range).
result<batch_header> header_at(const partition_log& log, int64_t offset) {
  auto data = log.read(offset, 1);
  if (!data)
    return data.error();
  if (data->size() < batch_layout::header_size)
    return status{errc::corrupt_message, log.dir() + ": no batch holds offset " +
                                           std::to_string(offset)};
  return read_batch_header(data->data());
}

/// Whether `cache` (cut to the log's range) describes the log: each
/// entry's first batch starts there with its epoch, the batch before it
/// has the previous entry's epoch (none before the first entry), and the
/// last batch has the last entry's epoch. Epochs never go down along a
/// log, so agreeing at every boundary is agreeing everywhere. The file is
/// written without fsync, so after an OS crash it may be an older version
/// (an epoch missing, or one the log was since truncated below).
result<bool> epochs_match_log(const leader_epoch_cache& cache, const partition_log& log) {
  auto start = log.log_start_offset();
  auto end = log.log_end_offset();
  if (start >= end)
    return true;
  auto& es = cache.entries();
  auto epoch_at = [&](int64_t offset) -> result<int32_t> {
    auto h = header_at(log, offset);
    if (!h)
      return h.error();
    return h->partition_leader_epoch;
  };
  for (size_t i = 0; i < es.size(); ++i) {
    auto h = header_at(log, es[i].start_offset);
    if (!h)
      return h.error();
    if (h->partition_leader_epoch != es[i].epoch ||
        (h->base_offset != es[i].start_offset && es[i].start_offset != start))
      return false;
    if (es[i].start_offset > start) {
      auto before = epoch_at(es[i].start_offset - 1);
      if (!before)
        return before.error();
      if (i == 0 ? *before >= 0 : *before != es[i - 1].epoch)
        return false;
    }
  }
  auto last = epoch_at(end - 1);
  if (!last)
    return last.error();
  return es.empty() ? *last < 0 : *last == es.back().epoch;
}

} // namespace

std::string format_epoch_checkpoint(const leader_epoch_cache& cache) {
  std::ostringstream out;
  out << "0\n" << cache.entries().size() << "\n";
  for (auto& e : cache.entries())
    out << e.epoch << ' ' << e.start_offset << "\n";
  return out.str();
}

result<leader_epoch_cache> parse_epoch_checkpoint(std::string_view text, const std::string& where) {
  std::istringstream in{std::string(text)};
  int version = -1;
  size_t n = 0;
  if (!(in >> version >> n) || version != 0)
    return corrupt(where, "bad header (want version 0 and an entry count)");
  std::vector<epoch_entry> entries;
  for (size_t i = 0; i < n; ++i) {
    epoch_entry e;
    if (!(in >> e.epoch >> e.start_offset))
      return corrupt(where, "entry " + std::to_string(i) + " of " + std::to_string(n) + " missing");
    // leader_epoch_cache asserts these: a damaged file must not reach it.
    if (e.epoch < 0 || e.start_offset < 0)
      return corrupt(where, "entry " + std::to_string(i) + ": negative epoch " +
                              std::to_string(e.epoch) + " or start offset " +
                              std::to_string(e.start_offset));
    if (!entries.empty() && (e.epoch <= entries.back().epoch ||
                             e.start_offset < entries.back().start_offset))
      return corrupt(where, "entries out of order at " + std::to_string(i));
    entries.push_back(e);
  }
  return leader_epoch_cache(std::move(entries));
}

std::string format_hw_checkpoint(int64_t high_watermark) {
  return "0\n" + std::to_string(high_watermark) + "\n";
}

result<int64_t> parse_hw_checkpoint(std::string_view text, const std::string& where) {
  std::istringstream in{std::string(text)};
  int version = -1;
  int64_t hw = -1;
  if (!(in >> version >> hw) || version != 0)
    return corrupt(where, "bad contents (want version 0 and a high watermark)");
  if (hw < 0)
    return corrupt(where, "negative high watermark " + std::to_string(hw));
  return hw;
}

status save_epoch_checkpoint(const std::string& dir, const leader_epoch_cache& cache) {
  return overwrite_file(join_path(dir, epoch_checkpoint_name),
                        as_bytes(format_epoch_checkpoint(cache)));
}

result<leader_epoch_cache> load_epoch_cache(const partition_log& log, std::string* note) {
  auto path = join_path(log.dir(), epoch_checkpoint_name);
  std::optional<leader_epoch_cache> cache;
  std::string how = "no leader epoch checkpoint, rebuilt from the log";
  if (path_exists(path)) {
    auto text = read_text(path);
    auto parsed =
      text ? parse_epoch_checkpoint(*text, path) : result<leader_epoch_cache>(text.error());
    if (parsed) {
      parsed->truncate_from_end(log.log_end_offset());
      if (!parsed->empty())
        parsed->truncate_from_start(log.log_start_offset());
      auto match = epochs_match_log(*parsed, log);
      if (!match)
        return match.error();
      if (*match) {
        cache = std::move(*parsed);
        how = "leader epochs from " + path;
      } else {
        how = path + " disagrees with the log (written before a crash?); leader epochs "
                     "rebuilt from the log";
      }
    } else {
      how = parsed.error().to_string() + "; leader epochs rebuilt from the log";
    }
  }
  if (!cache) {
    auto scanned = scan_epochs(log);
    if (!scanned)
      return scanned.error();
    cache = std::move(*scanned);
  }
  if (note)
    *note = how;
  cache->truncate_from_end(log.log_end_offset());
  if (!cache->empty())
    cache->truncate_from_start(log.log_start_offset());
  return std::move(*cache);
}

int64_t load_hw_checkpoint(const partition_log& log, std::optional<int64_t> from_table) {
  auto hw = from_table;
  if (!hw) {
    auto path = join_path(log.dir(), hw_checkpoint_name);
    auto text = read_text(path);
    auto legacy = text ? parse_hw_checkpoint(*text, path) : result<int64_t>(text.error());
    if (legacy)
      hw = *legacy;
  }
  if (!hw)
    return log.log_start_offset();
  return std::clamp(*hw, log.log_start_offset(), log.log_end_offset());
}

} // namespace al
