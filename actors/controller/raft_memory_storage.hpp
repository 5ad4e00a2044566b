#pragma once
// Stable storage kept in memory that does exactly what ready() asks (etcd-
// raft's MemoryStorage): for scenario tests and the simulator, where a
// "crash" keeps this object and drops the machine. Same contract as
// raft_storage, minus files.
#include <memory>
#include <vector>

#include "actors/controller/raft_machine.hpp"

namespace al {

class raft_memory_storage {
public:
  /// Steps 1-4 of raft_machine.hpp. Asserts that the entries continue the
  /// stored log and that terms never go down.
  void save(const raft_ready& rd);
  /// A snapshot the caller took: drops the entries it covers.
  void save_snapshot(std::shared_ptr<const raft_snapshot> snap);
  /// What a restarted machine loads.
  raft_persisted persisted() const;

  const raft_hard_state& hard_state() const { return hard_state_; }
  const std::shared_ptr<const raft_snapshot>& snapshot() const { return snapshot_; }
  const std::vector<raft_entry>& entries() const { return entries_; }
  int64_t last_index() const;

private:
  raft_hard_state hard_state_;
  std::shared_ptr<const raft_snapshot> snapshot_;
  std::vector<raft_entry> entries_; // snapshot index + 1 .. last, dense
};

} // namespace al
