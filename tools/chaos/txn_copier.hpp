#pragma once
// The transactional workload's consume-transform-produce stage: one copier
// in consumer group `group` (subscribe, read_committed) reads the input
// topic and writes each record to the same partition of the output topic
// as "<record>@c<n>", inside transaction c<n>, with the consumed offsets
// sent to the transaction (send_offsets_to_transaction). About one
// transaction in `abort_every` is aborted on purpose; after an abort it
// re-reads from the group's committed offsets. On any other failure it
// recovers as a Kafka app does: closes consumer and producer, starts a new
// producer with the same transactional.id (init_transactions waits until
// the previous transaction is complete and fences the old producer), then
// a new consumer, which resumes at the committed offsets.
//
// It runs until told to drain, then until it has committed past the
// sentinel record (written to every input partition after the writers
// stopped) on every partition.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <caf/fwd.hpp>

#include "tools/chaos/txn_history.hpp"

namespace al {
class consumer;
}

namespace chaos {

class txn_producer_slot;

/// Test-only ways to break the copier, to show the checks catch them
/// (docs/chaos.md, "Mutations").
enum class copier_mutation {
  none,
  offsets_outside_txn, // commit_sync of the offsets before the transaction ends, not in it
  read_uncommitted,    // the copier reads with isolation.level read_uncommitted
};

/// "none", "offsets-outside-txn", "read-uncommitted"; false if unknown.
bool parse_copier_mutation(const std::string& text, copier_mutation& out);

struct copier_options {
  std::string bootstrap;
  std::string input;
  std::string output;
  std::string group = "chaos-copier";
  std::string sentinel;
  int32_t partitions = 3;
  uint64_t seed = 1;
  int abort_every = 7;
  /// About one copier transaction in this many (0: none), the instance is
  /// replaced mid-transaction: a new one starts with its transactional.id
  /// (fencing it), then the old one tries to commit, which must fail.
  int zombie_every = 0;
  copier_mutation mutation = copier_mutation::none;
};

class txn_copier {
public:
  txn_copier(caf::actor_system& sys, copier_options opts);
  ~txn_copier();

  void start();
  /// Waits until the copier has committed past the sentinel on every
  /// partition (true), or `bound` passed (false); the copier stops either way.
  bool drain(std::chrono::seconds bound);

  std::vector<txn_entry> history() const;
  std::vector<std::string> polled() const;
  std::vector<group_offsets_sample> offset_samples() const;
  /// The group's committed offsets once they match what the copier
  /// committed last (the offsets take effect at the marker, after
  /// commit_transaction returns), or what there is after `bound`.
  group_offsets_sample final_offsets(std::chrono::seconds bound);
  std::string progress() const;
  /// Instances replaced mid-transaction, and how many of them still committed.
  int64_t zombies() const { return zombies_; }
  int64_t zombie_commits() const { return zombie_commits_; }

private:
  void loop();
  /// One poll and its transaction; false when the copier must recover.
  bool copy_once(al::consumer& c, txn_producer_slot& slot, int64_t n);
  /// --zombie-every: a new instance fences this one mid-transaction; this
  /// one's commit must fail. Records `e`; false (recover).
  bool replace_mid_transaction(txn_producer_slot& slot, txn_entry& e);
  /// Adds a finished transaction to the history.
  void record(const txn_entry& e);
  /// Seeks every assigned partition to the group's committed offset.
  bool rewind(al::consumer& c);
  void sample_offsets(al::consumer& c);
  /// Logs where a new consumer resumes against the copier's last commit.
  void log_resume(al::consumer& c);
  /// Warns when the group's committed offsets are behind the copier's last
  /// acknowledged commit (the next reads would copy records again).
  void warn_if_behind(const group_offsets_sample& group, const char* when) const;

  caf::actor_system& sys_;
  copier_options opts_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> draining_{false};
  std::atomic<bool> drained_{false};
  std::atomic<int64_t> recoveries_{0};
  std::atomic<int64_t> zombies_{0};
  std::atomic<int64_t> zombie_commits_{0};
  std::set<int32_t> sentinel_committed_; // the copier thread only
  group_offsets_sample committed_;       // merged offsets of committed transactions (copier thread)
  mutable std::mutex mtx_;
  std::vector<txn_entry> history_;
  std::vector<std::string> polled_;
  std::vector<group_offsets_sample> samples_;
  group_offsets_sample last_committed_; // committed_, for final_offsets()
};

} // namespace chaos
