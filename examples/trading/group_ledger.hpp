#pragma once
// What one consumer group has been handed, checked as it arrives:
//   - redeliveries: a (partition, offset) seen before (at-least-once after
//     a crash). The group applies each offset once (idempotent processing),
//     so its business results stay exact; the redeliveries are counted.
//   - per-symbol ordering: within one consumer instance, each symbol's seq
//     must strictly increase, and a symbol must always come from the same
//     partition (key -> partition).
//   - coverage: per partition, the first offset not yet seen, so the group
//     knows when it has read everything up to the end offsets.
// Thread-safe: spawn_consumer's handler runs on its own thread.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <actorlog/client.hpp>

#include "cluster_admin.hpp"
#include "orders.hpp"

namespace trading {

struct ledger_totals {
  int64_t delivered = 0;   // records handed to the group, redeliveries included
  int64_t unique = 0;      // distinct offsets
  int64_t redelivered = 0; // offsets handed over again
  int64_t malformed = 0;   // not an order
  int64_t before_run = 0;  // older records (an earlier run), skipped
  bool ordering_ok = true;
  std::string ordering_violation; // the first one, for the summary
};

class group_ledger {
public:
  group_ledger(std::string group, offset_map start);

  /// Records a delivery by consumer instance `member` (a new instance after
  /// a crash gets a new number). Returns the order when this offset is new
  /// to the group and should be applied; nullopt for a redelivery.
  std::optional<order> on_record(const al::consumer_record& r, int member);

  /// Whether every offset in [start, end) of every partition has been seen.
  bool covers(const offset_map& end) const;
  /// Per partition: the first offset not seen yet.
  offset_map next_unseen() const;
  ledger_totals totals() const;
  /// The distinct orders seen (by order id).
  std::set<int64_t> order_ids() const;
  const std::string& group() const { return group_; }

private:
  void check_order(const order& o, int32_t partition, int member);

  mutable std::mutex mtx_;
  std::string group_;
  offset_map start_;                              // first offset of this run
  offset_map next_;                               // contiguous coverage per partition
  std::map<int32_t, std::set<int64_t>> above_;    // seen offsets >= next_ (gaps pending)
  std::map<std::pair<int, std::string>, int64_t> last_seq_; // (member, symbol) -> seq
  std::map<std::string, int32_t> partition_of_;   // symbol -> partition
  std::set<int64_t> ids_;
  ledger_totals totals_;
};

} // namespace trading
