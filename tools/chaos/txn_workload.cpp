#include "tools/chaos/txn_workload.hpp"

#include <random>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/client/producer_client.hpp"

namespace chaos {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

al::properties txn_producer_props(const std::string& bootstrap, const std::string& txn_id) {
  // Short bounds: a call that cannot finish during a fault gives up within
  // seconds (its outcome is then unknown) instead of stalling the run, and
  // a transaction a replaced producer left open is aborted after 10 s.
  return {{"bootstrap.servers", bootstrap},
          {"client.id", txn_id},
          {"transactional.id", txn_id},
          {"acks", "all"},
          {"linger.ms", "2"},
          {"request.timeout.ms", "3000"},
          {"delivery.timeout.ms", "15000"},
          {"max.block.ms", "8000"},
          {"transaction.timeout.ms", "10000"},
          {"metadata.max.age.ms", "5000"}};
}

txn_producer_slot::txn_producer_slot(caf::actor_system& sys, std::string bootstrap,
                                     std::string txn_id)
  : sys_(sys), bootstrap_(std::move(bootstrap)), txn_id_(std::move(txn_id)) {}

txn_producer_slot::~txn_producer_slot() { reset(); }

al::producer* txn_producer_slot::get(const std::atomic<bool>& running) {
  while (!producer_ && running) {
    auto p = al::producer::create(sys_, txn_producer_props(bootstrap_, txn_id_));
    if (p) {
      auto st = (*p)->init_transactions();
      if (st) {
        producer_ = std::move(*p);
        ++generation_;
        break;
      }
      last_error_ = "init_transactions: " + st.to_string();
      (*p)->close();
    } else {
      last_error_ = "create: " + p.error().to_string();
    }
    spdlog::debug("{}: {}; trying again", txn_id_, last_error_);
    std::this_thread::sleep_for(300ms);
  }
  return producer_.get();
}

void txn_producer_slot::reset() {
  if (producer_)
    producer_->close();
  producer_.reset();
}

txn_workload::txn_workload(caf::actor_system& sys, txn_workload_options opts)
  : sys_(sys), opts_(std::move(opts)) {}

txn_workload::~txn_workload() { stop(); }

void txn_workload::start() {
  running_ = true;
  for (int32_t w = 0; w < opts_.writers; ++w)
    threads_.emplace_back([this, w] { writer_loop(w); });
}

void txn_workload::stop() {
  running_ = false;
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

void txn_workload::note_error(const std::string& what) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (errors_.size() < 10)
    errors_.push_back(what);
}

void txn_workload::writer_loop(int32_t writer) {
  std::mt19937_64 rng{opts_.seed * 1000003 + uint64_t(writer)};
  auto draw = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  txn_producer_slot slot{sys_, opts_.bootstrap, "chaos-txn-" + std::to_string(writer)};
  const auto interval = std::chrono::duration<double>(
    double(opts_.writers) / double(std::max(1, opts_.txns_per_s)));
  auto next = clock_type::now();
  for (int64_t txn = 0; running_; ++txn) {
    // Drawn first, whatever happens: the seed fixes sizes and aborts.
    int n = draw(2, 4);
    bool abort_on_purpose = draw(1, opts_.abort_every) == 1;
    auto* p = slot.get(running_);
    if (!p)
      break;
    txn_entry e{"t" + std::to_string(writer) + ":" + std::to_string(txn), {}, txn_outcome::aborted};
    auto fail = [&](const char* what, const al::status& st) {
      note_error(e.id + " " + what + ": " + st.to_string());
    };
    auto replace = [&] { // a new producer with the same transactional.id next time
      ++recreated_;
      slot.reset();
    };
    if (auto st = p->begin_transaction(); !st) {
      fail("begin", st);
      replace();
      continue;
    }
    bool sent_all = true;
    for (int i = 0; i < n && sent_all; ++i) {
      auto v = txn_value(writer, txn, i);
      int32_t part = int32_t((txn + i) % opts_.partitions);
      auto st = p->send({opts_.topic, part, "t" + std::to_string(writer), v},
                        [this](const al::record_metadata& md, const al::status& s) {
                          if (s)
                            acks_.record(md.partition);
                        });
      if (st) {
        e.values.push_back(v);
      } else {
        fail("send", st);
        sent_all = false;
      }
    }
    bool commit = sent_all && !abort_on_purpose;
    if (!commit) {
      (void)p->flush(5s); // so that the aborted records are in the log
      if (auto st = p->abort_transaction(); !st) {
        fail("abort", st); // never asked to commit: aborted whatever the answer
        replace();
      }
    } else if (auto st = p->commit_transaction(); st) {
      e.outcome = txn_outcome::committed;
    } else {
      fail("commit", st);
      // Committed or not: unless an abort is now acknowledged for it.
      e.outcome = p->abort_transaction() ? txn_outcome::aborted : txn_outcome::unknown;
      if (e.outcome == txn_outcome::unknown)
        replace();
    }
    {
      std::lock_guard<std::mutex> guard{mtx_};
      history_.push_back(std::move(e));
    }
    next += std::chrono::duration_cast<clock_type::duration>(interval);
    auto now = clock_type::now();
    if (next > now)
      std::this_thread::sleep_until(next);
    else if (now - next > 1s)
      next = now; // fell behind (a fault): do not burst to catch up
  }
}

std::vector<txn_entry> txn_workload::history() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return history_;
}

std::string txn_workload::progress() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return "writers: transactions " + outcome_summary(history_) + ", " +
         std::to_string(recreated_.load()) + " producers replaced";
}

std::vector<std::string> txn_workload::sample_errors() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return errors_;
}

} // namespace chaos
