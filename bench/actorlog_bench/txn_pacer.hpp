#pragma once
// Transactions in the bench's producers (issue 16): one transaction open
// from the first send, committed every txn_mode::commit_ms or
// commit_records sends (each commit waits for every acknowledgement, then
// EndTxn), and once more at the end. Off: every call does nothing.
#include <chrono>
#include <cstdint>

#include "actors/client/producer_client.hpp"
#include "bench/actorlog_bench/clients.hpp"

namespace al::bench {

class txn_pacer {
public:
  txn_pacer(producer& p, const txn_mode& mode) : p_(p), mode_(mode) {}

  /// init_transactions and the first begin_transaction.
  status start() {
    if (!mode_.on())
      return status::ok();
    if (auto st = p_.init_transactions(); !st)
      return st;
    last_commit_ = bench_clock::now();
    return p_.begin_transaction();
  }
  /// Before each send: commits and begins the next transaction when due.
  status before_send() {
    if (!mode_.on())
      return status::ok();
    bool due = (mode_.commit_records > 0 && since_commit_ >= mode_.commit_records) ||
               (mode_.commit_ms > 0 && (since_commit_ & 127) == 0 &&
                bench_clock::now() - last_commit_ >= std::chrono::milliseconds(mode_.commit_ms));
    ++since_commit_;
    if (!due)
      return status::ok();
    if (auto st = commit(); !st)
      return st;
    since_commit_ = 1;
    return p_.begin_transaction();
  }
  /// The last commit (after the producer's flush).
  status finish() { return mode_.on() ? commit() : status::ok(); }
  uint64_t commits() const { return commits_; }

private:
  status commit() {
    if (auto st = p_.commit_transaction(); !st)
      return st;
    ++commits_;
    last_commit_ = bench_clock::now();
    since_commit_ = 0;
    return status::ok();
  }

  producer& p_;
  txn_mode mode_;
  uint64_t commits_ = 0;
  uint64_t since_commit_ = 0;
  bench_clock::time_point last_commit_ = bench_clock::now();
};

} // namespace al::bench
