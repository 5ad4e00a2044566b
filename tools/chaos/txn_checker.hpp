#pragma once
// The transactional run's verdict, pure (no CAF, no I/O), in the style of
// Jepsen's Kafka checks: the histories of the writers and of the copier
// against what read_committed (and read_uncommitted) readers find.
//
//   (a) lost           a record of a transaction whose commit was
//                      acknowledged is not read back (input or output)
//   (b) duplicated     a record read twice, or an input record copied twice
//   (c) aborted_read   a record of an aborted transaction is visible (G1a)
//   (d) partial        a transaction neither wholly visible nor wholly absent
//       dirty_read     the copier's read_committed polls returned, or it
//                      copied, an input record that never committed
//   (e) offsets_ahead  the copier group committed an input offset past a
//                      record whose copy is not in the output
//       output_ahead   a copy in the output of a record at or past the
//                      group's final committed offset (it would be copied again)
//   unexpected         a value no transaction of the history sent
//   (f) zombie_commits a copier instance replaced mid-transaction (a new
//                      one with its transactional.id started) still
//                      committed that transaction (--zombie-every)
#include <cstdint>
#include <string>
#include <vector>

#include "tools/chaos/txn_history.hpp"

namespace chaos {

struct txn_check_result {
  // What happened (information).
  int64_t writer_txns[3] = {0, 0, 0}; // by txn_outcome: committed, aborted, unknown
  int64_t copier_txns[3] = {0, 0, 0};
  int64_t input_read_committed = 0;
  int64_t input_read_uncommitted = 0;
  int64_t output_read_committed = 0;
  int64_t aborted_in_log = 0;      // aborted records found with read_uncommitted
  int64_t unknown_visible = 0;     // unknown-outcome transactions found committed
  int64_t unknown_invisible = 0;   // ... found absent
  int64_t copier_polled = 0;
  int64_t offset_samples = 0;
  int64_t zombies = 0;             // copier instances replaced mid-transaction
  // The checks: each must be 0.
  int64_t lost = 0;
  int64_t duplicated = 0;
  int64_t aborted_read = 0;
  int64_t partial = 0;
  int64_t dirty_read = 0;
  int64_t offsets_ahead = 0;
  int64_t output_ahead = 0;
  int64_t unexpected = 0;
  int64_t zombie_commits = 0;
  std::vector<std::string> samples; // the first few violations, one line each

  bool passed() const {
    return lost == 0 && duplicated == 0 && aborted_read == 0 && partial == 0 &&
           dirty_read == 0 && offsets_ahead == 0 && output_ahead == 0 && unexpected == 0 &&
           zombie_commits == 0;
  }
};

txn_check_result check_transactions(const txn_observation& obs);

} // namespace chaos
