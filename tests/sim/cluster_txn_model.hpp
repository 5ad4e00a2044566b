#pragma once
// Transactions in the whole-cluster simulation (cluster_txn.hpp): the
// state of the coordinators, of the transactional producers and of what
// the checks remember. Data only; the steps are in cluster_txn.hpp
// (coordinators), cluster_txn_clients.hpp (producers) and
// cluster_txn_checks.hpp (invariants).
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/broker/txn_verify_machine.hpp"
#include "actors/txn/txn_machine.hpp"
#include "storage/bytes.hpp"
#include "tests/sim/cluster_model.hpp"

namespace al::cluster_sim {

/// The partition of "t" whose log the coordinators write: the simulated
/// __transaction_state (one partition); transactions write to the others.
constexpr int32_t txn_state_partition = 0;

/// A rule broken on purpose, to show the checks catch it (tests only).
enum class txn_mutation : uint8_t {
  none,
  marker_any_epoch,   // a partition appends a marker whatever its producer epoch
  data_any_epoch,     // a partition appends a transactional batch of a fenced epoch
  answer_before_write, // EndTxn(commit) answered before PrepareCommit is written
  no_markers_on_load, // a coordinator that loads does not finish what it finds preparing
  no_verification,    // brokers let transactional batches through unverified (before KIP-890 part 1)
};

struct txn_options {
  bool on = false;
  txn_mutation mutation = txn_mutation::none;
};

/// The coordinator hosted by a node while its replica of the state
/// partition leads (one per leadership: reloaded when the epoch changes).
struct txn_coordinator {
  std::unique_ptr<txn_machine> m;
  int32_t epoch = -1; // the state partition's leader epoch: the coordinator epoch
  int64_t load = 0;   // names this coordinator in the answers it waits for
  struct route {
    int client = 0;   // instance endpoint
    uint64_t seq = 0; // the instance's request
    bool init = false;
  };
  std::map<uint64_t, route> requests; // machine request id -> who asked
  std::map<uint64_t, int64_t> persists; // persist id -> sent at
  struct marker {
    std::string id;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t partition;
    int64_t sent_at;
  };
  std::map<uint64_t, marker> markers; // tag -> the marker asked for
  uint64_t next_request = 1, next_tag = 1;
};

enum class txn_phase : uint8_t { init, idle, add, send, end, dead };

struct txn_batch {
  int32_t partition = 0, seq = 0, count = 0, attempt = 0;
  int node = 0;            // in flight to this node ...
  int64_t incarnation = 0; // ... process; 0: not in flight
  int64_t sent_at = 0, retry_at = 0, offset = -1;
  bool acked = false, failed = false;
  /// Written to a partition not in the transaction (a client's bug or a
  /// hostile one): the broker's verification must refuse it.
  bool stray = false;
};

/// One process of a transactional producer (a transactional.id's
/// client). A zombie is an older process that still runs after a newer one
/// started for the same id.
struct txn_instance {
  int client = 0;
  bool zombie = false;
  txn_phase phase = txn_phase::init;
  int64_t producer_id = -1;
  int16_t epoch = -1;
  bool commit = true;
  std::vector<int32_t> partitions; // of the current transaction
  std::vector<txn_batch> batches;  // of the current transaction, in sequence order per partition
  uint64_t seq = 0;      // the request to the coordinator in flight (0: none)
  int64_t sent_at = 0, retry_at = 0;
};

struct txn_stats {
  int64_t committed = 0, aborted = 0, zombies = 0, zombie_refused = 0, fenced = 0, loads = 0,
          recovered = 0, markers = 0, marker_retries = 0, timeouts = 0, records_checked = 0, late_markers = 0,
          markers_refused = 0, verified = 0, stray = 0, stray_refused = 0;
  void add(const txn_stats& s) {
    committed += s.committed, aborted += s.aborted, zombies += s.zombies;
    zombie_refused += s.zombie_refused, fenced += s.fenced, loads += s.loads;
    recovered += s.recovered, markers += s.markers, marker_retries += s.marker_retries;
    timeouts += s.timeouts, records_checked += s.records_checked;
    late_markers += s.late_markers, markers_refused += s.markers_refused;
    verified += s.verified, stray += s.stray, stray_refused += s.stray_refused;
  }
};

struct transactions {
  txn_options opt;
  int clients = 0;
  int32_t timeout_ms = 0; // transaction.timeout.ms
  // As the actors wait: longer than the acks=all append they wait on (a
  // coordinator for its marker; a producer for its request, which waits on
  // the coordinator's append).
  int64_t marker_timeout_ms = 0, request_timeout_ms = 0;
  double begin = 0, zombie = 0; // per ms
  double late_marker = 0;       // per marker request
  std::vector<txn_instance> instances; // endpoint first_txn_client + index
  std::vector<int> current;            // per client: its newest instance
  std::vector<bytes> payloads;         // the coordinators' records (log_entry::payload)
  int64_t next_producer_id = 1000;     // the controller's producer id blocks
  uint64_t next_request = 0;
  // What the checks remember. Keys: (producer id, epoch).
  std::map<std::pair<int64_t, int16_t>, bool> decided;  // markers sent: commit?
  std::map<std::pair<int64_t, int16_t>, bool> answered; // EndTxn answered: commit? (data epoch)
  std::map<std::pair<int64_t, int16_t>, bool> visible;  // read_committed sees the records?
  std::map<std::pair<int64_t, int16_t>, std::vector<std::pair<int32_t, int64_t>>> acked;
  std::map<int64_t, int16_t> fence; // producer id -> epoch an InitProducerId answered
  std::vector<int64_t> stable;      // per partition: records checked below this offset
  txn_stats stats;
};

} // namespace al::cluster_sim
