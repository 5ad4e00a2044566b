#pragma once
// A bound on the descriptors held open by segment .log files (issue 15,
// item 2). A node with more partitions than its open-file limit allows
// keeps each segment's file by path; the cache closes the descriptors used
// least recently (a CLOCK sweep: every use sets a bit, the sweep clears
// bits and closes the first file whose bit was already clear) and the next
// read or write reopens the file. RLIMIT_NOFILE is per process, so the
// node uses one cache, `open_file_cache::process()`.
//
// Thread safety: each cached file has its own mutex, held for the length
// of one operation (pread, pwrite, fsync, ...), so a descriptor is never
// closed under a thread using it. The cache's mutex is taken only when a
// file is opened, reopened or closed; eviction only try_locks a file's
// mutex, so it never waits on a file in use and cannot deadlock.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace al {

class open_file_cache;

/// One cached file's descriptor. Owned by its `file`; the cache knows it
/// while its descriptor is open.
struct file_slot {
  std::mutex m;
  int fd = -1;                          // guarded by m
  std::atomic<bool> referenced{false};  // used since the sweep last passed
  size_t ring_index = size_t(-1);       // guarded by the cache's mutex
  open_file_cache* cache = nullptr;
};

class open_file_cache {
public:
  /// 0 = no bound (files are still tracked and counted).
  explicit open_file_cache(size_t capacity = 0) : capacity_(capacity) {}
  open_file_cache(const open_file_cache&) = delete;
  open_file_cache& operator=(const open_file_cache&) = delete;

  /// The process's cache, used by every segment (unbounded until a node
  /// sets `max.open.segment.files`).
  static open_file_cache& process();

  /// A lower bound closes descriptors at once (those not in use).
  void set_capacity(size_t capacity);
  size_t capacity() const;
  /// Descriptors open now.
  size_t open_count() const;
  /// Descriptors the cache closed, and reopens of closed ones, since start.
  uint64_t evictions() const { return evictions_.load(std::memory_order_relaxed); }
  uint64_t reopens() const { return reopens_.load(std::memory_order_relaxed); }

  // For `file` (the caller holds slot->m):
  /// `slot` got a descriptor: closes others first while at capacity.
  void opened(file_slot* slot, bool reopen);
  /// `slot` closed its descriptor itself.
  void closed(file_slot* slot);
  /// Closes up to `n` unused descriptors now (after EMFILE); how many.
  size_t shed(size_t n, const file_slot* keep);

private:
  /// Under mu_: evicts one unused descriptor other than `keep`; false when
  /// every open one is in use (the bound is then exceeded for a moment
  /// rather than waiting).
  bool evict_one(const file_slot* keep);
  void unlink(file_slot* slot);

  mutable std::mutex mu_;
  std::vector<file_slot*> ring_;
  size_t hand_ = 0;
  size_t capacity_;
  std::atomic<uint64_t> evictions_{0};
  std::atomic<uint64_t> reopens_{0};
};

} // namespace al
