#pragma once
// A node's wheel of deadlines (issue 15, item 3). Partitions register their
// timers here (a parked long poll's expiry, housekeeping, replica ticks)
// instead of arming a CAF timer each: 10 000 partitions long-polled by one
// consumer put 20 000 timers a second into CAF's clock (a mutex, a tree
// insert and a clock-thread wake-up each). Deadlines fall into buckets of `granularity`; one sweeper takes a
// bucket when it is due, never before any deadline in it, at most one
// granularity after. Thread-safe (partitions on every scheduler thread add,
// the sweeper takes). CAF-free: Handle is whatever the sweeper notifies.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace al {

template <class Handle>
class deadline_wheel {
public:
  struct entry {
    Handle who;
    uint64_t key;     // handed back with the notice (the partition's timer key)
    uint8_t kind = 0; // which notice (the owner's enum)
  };

  /// `granularity` and every deadline in the same unit (nanoseconds of the
  /// owner's steady clock on a node); > 0.
  explicit deadline_wheel(int64_t granularity) : granularity_(granularity > 0 ? granularity : 1) {}

  /// Registers `who` for `due`. True when this is now the earliest bucket
  /// pending: the sweeper may be armed for later and must hear of it.
  bool add(int64_t due, Handle who, uint64_t key, uint8_t kind = 0) {
    auto bucket = bucket_of(due);
    std::lock_guard<std::mutex> guard{mtx_};
    bool earliest = buckets_.empty() || bucket < buckets_.begin()->first;
    buckets_[bucket].push_back(entry{std::move(who), key, kind});
    ++size_;
    return earliest;
  }

  /// Removes and returns every entry of the buckets due at `now`.
  std::vector<entry> take_due(int64_t now) {
    std::vector<entry> out;
    std::lock_guard<std::mutex> guard{mtx_};
    while (!buckets_.empty() && buckets_.begin()->first <= now) {
      auto& v = buckets_.begin()->second;
      for (auto& e : v)
        out.push_back(std::move(e));
      size_ -= v.size();
      buckets_.erase(buckets_.begin());
    }
    return out;
  }

  /// When the earliest pending bucket is due (none: nothing pending).
  std::optional<int64_t> next_due() const {
    std::lock_guard<std::mutex> guard{mtx_};
    if (buckets_.empty())
      return std::nullopt;
    return buckets_.begin()->first;
  }

  size_t size() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return size_;
  }

  /// The end of `due`'s bucket: the moment the sweeper takes it.
  int64_t bucket_of(int64_t due) const {
    auto q = due / granularity_;
    if (q * granularity_ < due)
      ++q;
    return q * granularity_;
  }

private:
  int64_t granularity_;
  mutable std::mutex mtx_;
  std::map<int64_t, std::vector<entry>> buckets_;
  size_t size_ = 0;
};

} // namespace al
