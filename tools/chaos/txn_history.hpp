#pragma once
// The transactional workload's history, pure (no CAF): what each
// transaction sent and how its end was answered. As in Jepsen, an end whose
// answer never came (a timeout, a fenced or coordinator error during
// commit_transaction) is `unknown`: the transaction may or may not have
// committed, and the checks accept either, but not half of it.
//
//   input record   "t<writer>:<txn>:<index>"        (writers, topic chaos)
//   output record  "<input record>@c<n>"            (the copier's transaction c<n>)
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/chaos/read_record.hpp"

namespace chaos {

enum class txn_outcome {
  committed, // commit_transaction succeeded
  aborted,   // never asked to commit (deliberate abort, a failed send), or abort_transaction succeeded
  unknown,   // commit_transaction failed or timed out: either outcome is possible
};

const char* to_string(txn_outcome o);

struct txn_entry {
  std::string id;                  // "t<writer>:<txn>" or "c<n>"
  std::vector<std::string> values; // every record value it sent
  txn_outcome outcome = txn_outcome::unknown;
};

/// "N (c committed, a aborted, u unknown)" of a history, or of counts by outcome.
std::string outcome_summary(const int64_t (&by_outcome)[3]);
std::string outcome_summary(const std::vector<txn_entry>& history);

std::string txn_value(int32_t writer, int64_t txn, int32_t index);
/// "<source>@<copier txn id>", and back (false: no '@').
std::string copy_value(const std::string& source, const std::string& copier_txn);
bool parse_copy_value(const std::string& value, std::string& source, std::string& copier_txn);

/// A consumer group's committed offsets of the input topic: partition -> next offset.
using group_offsets_sample = std::map<int32_t, int64_t>;

/// Everything the checks look at, gathered after the run.
struct txn_observation {
  std::vector<txn_entry> writers;                 // transactions into the input topic
  std::vector<txn_entry> copier;                  // the copier's transactions into the output topic
  std::vector<read_record> input_committed;       // the input topic read with read_committed
  std::vector<read_record> input_uncommitted;     // ... with read_uncommitted
  std::vector<read_record> output_committed;      // the output topic read with read_committed
  std::vector<std::string> copier_polled;         // what the copier's read_committed polls returned
  std::vector<group_offsets_sample> offset_samples; // the copier group's offsets, sampled during the run
  group_offsets_sample final_offsets;             // ... after the copier stopped (empty: not known)
  int64_t zombies = 0;                            // copier instances replaced mid-transaction
  int64_t zombie_commits = 0;                     // ... whose commit was accepted after that
};

} // namespace chaos
