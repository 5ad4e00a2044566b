#pragma once
// The four consumer groups of the trading pipeline. Each reads the whole
// topic independently, with its own committed offsets:
//
//   risk       spawn_consumer (actor style): exposure per account; commits
//              after every batch (at-least-once)
//   position   position-service, a process of its own: net position per
//              symbol, exactly once (reads orders read_committed, writes
//              `positions` and its offsets in transactions); the first
//              instance is killed with kill -9 while it holds an open
//              transaction, its replacement fences it and goes on
//   audit      al::consumer, commit_sync per poll: counts every order and
//              checks per-symbol order; its first member crashes with
//              records processed but not committed, a second member takes
//              over from the committed offsets
//   reporting  al::consumer: volume per symbol, stops after half of the
//              orders (so it lags), then replays part of a partition from
//              an earlier offset and compares
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor.hpp>

#include "demo_context.hpp"
#include "group_ledger.hpp"

namespace al {
class consumer;
}

namespace trading {

class trading_group {
public:
  trading_group(demo_context& ctx, std::string group, std::string style);
  virtual ~trading_group();
  trading_group(const trading_group&) = delete;
  trading_group& operator=(const trading_group&) = delete;

  /// Joins the group (in the background).
  virtual void start();
  /// Blocks until the group is done (or the demo's deadline passed).
  virtual void finish();

  const std::string& name() const { return ledger_.group(); }
  const std::string& style() const { return style_; }
  const group_ledger& ledger() const { return ledger_; }
  std::vector<check_result> checks() const;

protected:
  /// The body of a group that polls in its own thread.
  virtual void run() {}
  void add_check(std::string name, bool ok, std::string detail);
  void say(const std::string& text) const { ctx_.say(name(), text); }
  /// Everything up to the end offsets has been seen (false until they are known).
  bool read_everything() const;

  demo_context& ctx_;
  group_ledger ledger_;

private:
  std::string style_;
  std::thread thread_;
  mutable std::mutex checks_mtx_;
  std::vector<check_result> checks_;
};

class risk_group : public trading_group {
public:
  explicit risk_group(demo_context& ctx);
  void start() override;
  /// Waits until the group has committed the end offsets, then stops the actor.
  void finish() override;
  /// account -> signed notional in cents (BUY +, SELL -).
  std::map<std::string, int64_t> exposure() const;

private:
  mutable std::mutex mtx_;
  std::map<std::string, int64_t> exposure_;
  caf::actor member_;
};

/// How trading-demo runs the exactly-once position service.
struct position_service_options {
  std::string program;             // the position-service binary
  std::string output_topic;        // "positions"
  int32_t output_partitions = 6;
  offset_map output_start;         // this run's first offsets of the output
  bool kill_mid_transaction = true;
};

/// What the position service's run left in `positions`, read back.
struct position_report {
  int64_t committed_records = 0;   // read_committed, this run
  int64_t uncommitted_records = 0; // read_uncommitted, this run (aborted ones included)
  int64_t held_records = 0;        // written in the transaction open at the kill -9
  int instances = 0;               // processes started
  int killed = 0;                  // killed with kill -9 mid-transaction
  int failed_exits = 0;            // ended by an error of their own (restarted)
  bool state_consistent = true;    // each record's net = the sum of the symbol's orders so far
  std::string state_violation;
};

class position_group : public trading_group {
public:
  position_group(demo_context& ctx, position_service_options opts);
  /// symbol -> net quantity, summed over the committed `positions` records
  std::map<std::string, int64_t> positions() const;
  position_report report() const;
  bool kills_mid_transaction() const { return opts_.kill_mid_transaction; }

private:
  void run() override;
  /// Starts, kills and replaces the service until group `position` has
  /// committed the end offsets; false when it did not get there.
  bool supervise();
  /// Reads this run's `positions` with read_committed (into the ledger and
  /// the net positions) and with read_uncommitted (counted).
  void read_back();

  position_service_options opts_;
  mutable std::mutex mtx_;
  std::map<std::string, int64_t> net_;
  position_report report_;
};

class audit_group : public trading_group {
public:
  explicit audit_group(demo_context& ctx);
  int64_t expected_redeliveries() const { return expected_redeliveries_; }

private:
  void run() override;
  /// Member 1: commits, then stops committing, then dies abruptly.
  offset_map run_first_member(offset_map& processed_end);
  /// Member 2: from the committed offsets to the end.
  void run_second_member(const offset_map& committed);
  std::atomic<int64_t> expected_redeliveries_{0};
};

class reporting_group : public trading_group {
public:
  explicit reporting_group(demo_context& ctx);
  /// symbol -> (quantity, notional cents) over the orders it read.
  std::map<std::string, std::pair<int64_t, int64_t>> volume() const;
  /// Per partition: the offset after the last record it processed.
  offset_map processed_end() const;

private:
  void run() override;
  /// Seeks one partition back and checks the re-read records against the first read.
  void replay(al::consumer& c);
  mutable std::mutex mtx_;
  std::map<std::string, std::pair<int64_t, int64_t>> volume_;
  std::map<std::pair<int32_t, int64_t>, std::string> seen_; // (partition, offset) -> key|value
  offset_map processed_end_;
};

} // namespace trading
