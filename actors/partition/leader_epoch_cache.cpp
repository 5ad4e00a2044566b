#include "actors/partition/leader_epoch_cache.hpp"

#include <algorithm>
#include <sstream>

#include "storage/assert.hpp"

namespace al {

leader_epoch_cache::leader_epoch_cache(std::vector<epoch_entry> entries)
  : entries_(std::move(entries)) {
  check();
}

bool leader_epoch_cache::assign(int32_t epoch, int64_t start_offset) {
  AL_ASSERT(epoch >= 0 && start_offset >= 0, "epoch", epoch, "start", start_offset);
  if (epoch <= latest_epoch())
    return false;
  AL_ASSERT(entries_.empty() || start_offset >= entries_.back().start_offset,
            "epoch", epoch, "starts at", start_offset, "before the latest entry", describe());
  entries_.push_back({epoch, start_offset});
  return true;
}

epoch_end_offset leader_epoch_cache::end_offset_for(int32_t requested_epoch,
                                                    int64_t log_end_offset) const {
  AL_ASSERT(entries_.empty() || log_end_offset >= entries_.back().start_offset,
            "log end", log_end_offset, "below the latest epoch start", describe());
  if (requested_epoch == undefined_epoch || entries_.empty())
    return {};
  if (requested_epoch == latest_epoch())
    return {requested_epoch, log_end_offset};
  auto higher = std::upper_bound(entries_.begin(), entries_.end(), requested_epoch,
                                 [](int32_t e, const epoch_entry& x) { return e < x.epoch; });
  if (higher == entries_.end())
    return {}; // newer than anything we know
  if (higher == entries_.begin())
    return {requested_epoch, higher->start_offset}; // older than anything we know
  auto floor = std::prev(higher);
  AL_ASSERT(floor->epoch <= requested_epoch && higher->start_offset >= floor->start_offset);
  return {floor->epoch, higher->start_offset};
}

void leader_epoch_cache::truncate_from_end(int64_t end_offset) {
  AL_ASSERT(end_offset >= 0, end_offset);
  while (!entries_.empty() && entries_.back().start_offset >= end_offset)
    entries_.pop_back();
  check();
}

void leader_epoch_cache::truncate_from_start(int64_t start_offset) {
  AL_ASSERT(start_offset >= 0, start_offset);
  // Keep the last entry starting at or before start_offset: it covers it.
  size_t keep_from = 0;
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].start_offset <= start_offset)
      keep_from = i;
  if (entries_.empty() || entries_.front().start_offset >= start_offset)
    return;
  entries_.erase(entries_.begin(), entries_.begin() + ptrdiff_t(keep_from));
  entries_.front().start_offset = start_offset;
  check();
}

int64_t leader_epoch_cache::start_offset_of(int32_t epoch) const {
  for (auto& e : entries_)
    if (e.epoch == epoch)
      return e.start_offset;
  return undefined_epoch_offset;
}

std::string leader_epoch_cache::describe() const {
  std::ostringstream os;
  for (size_t i = 0; i < entries_.size(); ++i)
    os << (i ? " " : "") << entries_[i].epoch << '@' << entries_[i].start_offset;
  return os.str();
}

void leader_epoch_cache::check() const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    AL_ASSERT(entries_[i].epoch >= 0 && entries_[i].start_offset >= 0, describe());
    if (i > 0)
      AL_ASSERT(entries_[i].epoch > entries_[i - 1].epoch &&
                  entries_[i].start_offset >= entries_[i - 1].start_offset,
                "epochs must increase, starts must not decrease:", describe());
  }
}

} // namespace al
