#include "tools/chaos/txn_copier.hpp"

#include <random>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/client/consumer_client.hpp"
#include "actors/client/producer_client.hpp"
#include "tools/chaos/txn_workload.hpp"

namespace chaos {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

bool parse_copier_mutation(const std::string& text, copier_mutation& out) {
  if (text == "none")
    out = copier_mutation::none;
  else if (text == "offsets-outside-txn")
    out = copier_mutation::offsets_outside_txn;
  else if (text == "read-uncommitted")
    out = copier_mutation::read_uncommitted;
  else
    return false;
  return true;
}

txn_copier::txn_copier(caf::actor_system& sys, copier_options opts)
  : sys_(sys), opts_(std::move(opts)) {}

txn_copier::~txn_copier() {
  running_ = false;
  if (thread_.joinable())
    thread_.join();
}

void txn_copier::start() {
  running_ = true;
  thread_ = std::thread{[this] { loop(); }};
}

bool txn_copier::drain(std::chrono::seconds bound) {
  draining_ = true;
  auto deadline = clock_type::now() + bound;
  while (!drained_ && running_ && clock_type::now() < deadline)
    std::this_thread::sleep_for(100ms);
  running_ = false;
  if (thread_.joinable())
    thread_.join();
  return drained_;
}

void txn_copier::loop() {
  txn_producer_slot slot{sys_, opts_.bootstrap, "chaos-copier"};
  std::unique_ptr<al::consumer> consumer;
  auto recover = [&] {
    ++recoveries_;
    if (consumer)
      consumer->close();
    consumer.reset();
    slot.reset();
  };
  for (int64_t n = 0; running_ && !drained_;) {
    // The producer first: its init_transactions returns once the previous
    // transaction is complete, so the consumer then reads settled offsets.
    if (!slot.get(running_))
      break;
    if (!consumer) {
      auto isolation = opts_.mutation == copier_mutation::read_uncommitted ? "read_uncommitted"
                                                                            : "read_committed";
      auto c = al::consumer::create(sys_, {{"bootstrap.servers", opts_.bootstrap},
                                           {"client.id", "chaos-copier"},
                                           {"group.id", opts_.group},
                                           {"isolation.level", isolation},
                                           {"enable.auto.commit", "false"},
                                           {"auto.offset.reset", "earliest"},
                                           {"max.poll.records", "100"}});
      if (!c || !(*c)->subscribe({opts_.input})) {
        spdlog::warn("copier: no consumer ({}); trying again",
                     c ? "subscribe failed" : c.error().to_string());
        std::this_thread::sleep_for(300ms);
        continue;
      }
      consumer = std::move(*c);
      log_resume(*consumer);
    }
    bool ok = copy_once(*consumer, slot, n);
    if (!ok)
      recover();
    n = int64_t(history().size());
    if (int(sentinel_committed_.size()) == opts_.partitions && draining_)
      drained_ = true;
  }
  if (consumer)
    consumer->close();
}

bool txn_copier::copy_once(al::consumer& c, txn_producer_slot& slot, int64_t n) {
  auto recs = c.poll(200ms);
  if (recs.empty())
    return true;
  std::mt19937_64 rng{opts_.seed * 7919 + uint64_t(n)};
  bool abort_on_purpose = std::uniform_int_distribution<int>(1, opts_.abort_every)(rng) == 1;
  txn_entry e{"c" + std::to_string(n), {}, txn_outcome::aborted};
  std::map<al::topic_partition, int64_t> offsets;
  std::set<int32_t> sentinels;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& r : recs)
      if (r.value.value_or("") != opts_.sentinel)
        polled_.push_back(r.value.value_or(""));
  }
  auto* p = slot.get(running_);
  if (!p)
    return false;
  if (auto st = p->begin_transaction(); !st) {
    spdlog::warn("copier {}: begin: {}", e.id, st.to_string());
    return false;
  }
  bool failed = false;
  for (auto& r : recs) {
    auto& next = offsets[{r.topic, r.partition}];
    next = std::max(next, r.offset + 1);
    auto v = r.value.value_or("");
    if (v == opts_.sentinel) {
      sentinels.insert(r.partition);
      continue;
    }
    auto copy = copy_value(v, e.id);
    if (auto st = p->send({opts_.output, r.partition, r.key, copy}); st)
      e.values.push_back(copy);
    else
      failed = true;
  }
  al::status off;
  if (opts_.mutation == copier_mutation::offsets_outside_txn) {
    al::offset_commit_map plain;
    for (auto& [tp, o] : offsets)
      plain[tp] = al::offset_and_metadata{o, "", -1};
    off = c.commit_sync(plain);
  } else {
    off = p->send_offsets_to_transaction(offsets, opts_.group);
  }
  if (!off)
    spdlog::warn("copier {}: offsets: {}", e.id, off.to_string());
  failed = failed || !off;
  bool zombie_now = opts_.zombie_every > 0 && !failed && !abort_on_purpose &&
                    std::uniform_int_distribution<int>(1, opts_.zombie_every)(rng) == 1;
  if (zombie_now)
    return replace_mid_transaction(slot, e);
  if (failed || abort_on_purpose) {
    auto st = p->abort_transaction(); // never asked to commit: aborted whatever the answer
    record(e);
    if (!st) {
      spdlog::warn("copier {}: abort: {}; recovering", e.id, st.to_string());
      return false;
    }
    if (!rewind(c)) {
      spdlog::warn("copier {}: the group's committed offsets are unavailable; recovering", e.id);
      return false;
    }
    return true;
  }
  auto st = p->commit_transaction();
  if (st) {
    e.outcome = txn_outcome::committed;
    record(e);
    sentinel_committed_.insert(sentinels.begin(), sentinels.end());
    for (auto& [tp, o] : offsets)
      committed_[tp.partition] = o;
    bool sample_now = false;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      last_committed_ = committed_;
      sample_now = history_.size() % 10 == 0;
    }
    if (sample_now)
      sample_offsets(c);
    return true;
  }
  spdlog::warn("copier {}: commit: {}", e.id, st.to_string());
  e.outcome = p->abort_transaction() ? txn_outcome::aborted : txn_outcome::unknown;
  record(e);
  return false;
}

void txn_copier::record(const txn_entry& e) {
  std::lock_guard<std::mutex> guard{mtx_};
  history_.push_back(e);
}

bool txn_copier::replace_mid_transaction(txn_producer_slot& slot, txn_entry& e) {
  // The instance stalls with its transaction open (records and offsets
  // sent); a new instance starts with its transactional.id, which fences
  // it and aborts what it left open. Then the old one wakes and commits.
  auto zombie = slot.release();
  ++zombies_;
  if (!slot.get(running_)) { // stopping
    e.outcome = zombie->abort_transaction() ? txn_outcome::aborted : txn_outcome::unknown;
  } else if (auto st = zombie->commit_transaction(); st) {
    e.outcome = txn_outcome::committed;
    ++zombie_commits_;
    spdlog::error("copier {}: a zombie's commit was accepted after its successor started", e.id);
  } else {
    e.outcome = txn_outcome::aborted; // its successor's InitProducerId aborted it
    spdlog::info("copier {}: the zombie is fenced: {}", e.id, st.to_string());
  }
  zombie->close();
  record(e);
  return false; // recover: a new consumer goes on from the group's committed offsets
}

namespace {

std::string offsets_text(const group_offsets_sample& s) {
  std::string out;
  for (auto& [p, o] : s)
    out += (out.empty() ? "p" : " p") + std::to_string(p) + "@" + std::to_string(o);
  return out.empty() ? "none" : out;
}

} // namespace

void txn_copier::log_resume(al::consumer& c) {
  std::vector<al::topic_partition> tps;
  for (int32_t p = 0; p < opts_.partitions; ++p)
    tps.push_back({opts_.input, p});
  auto got = c.committed(tps);
  group_offsets_sample s;
  if (got)
    for (auto& [tp, o] : *got)
      s[tp.partition] = o.offset;
  spdlog::info("copier: a new consumer; the group's committed offsets {}, the copier's last "
               "commit {}", got ? offsets_text(s) : "unavailable", offsets_text(committed_));
  if (got)
    warn_if_behind(s, "a new consumer");
}

void txn_copier::warn_if_behind(const group_offsets_sample& group, const char* when) const {
  for (auto& [p, o] : committed_) {
    auto g = group.find(p);
    if (g != group.end() && g->second >= o)
      continue;
    spdlog::warn("copier ({}): the group's committed offsets {} are behind the copier's last "
                 "acknowledged commit {}: what lies between will be copied again",
                 when, offsets_text(group), offsets_text(committed_));
    return;
  }
}

bool txn_copier::rewind(al::consumer& c) {
  auto tps = c.assignment();
  auto got = c.committed(tps);
  if (!got)
    return false;
  group_offsets_sample s;
  for (auto& [tp, o] : *got)
    s[tp.partition] = o.offset;
  warn_if_behind(s, "rewind after an abort");
  for (auto& tp : tps) {
    auto i = got->find(tp);
    if (i != got->end())
      c.seek(tp, i->second.offset);
    else
      c.seek_to_beginning({tp});
  }
  return true;
}

void txn_copier::sample_offsets(al::consumer& c) {
  std::vector<al::topic_partition> tps;
  for (int32_t p = 0; p < opts_.partitions; ++p)
    tps.push_back({opts_.input, p});
  auto got = c.committed(tps);
  if (!got)
    return;
  group_offsets_sample s;
  for (auto& [tp, o] : *got)
    s[tp.partition] = o.offset;
  std::lock_guard<std::mutex> guard{mtx_};
  samples_.push_back(std::move(s));
}

group_offsets_sample txn_copier::final_offsets(std::chrono::seconds bound) {
  group_offsets_sample out;
  auto c = al::consumer::create(sys_, {{"bootstrap.servers", opts_.bootstrap},
                                       {"client.id", "chaos-checker"},
                                       {"group.id", opts_.group},
                                       {"enable.auto.commit", "false"}});
  if (!c)
    return out;
  std::vector<al::topic_partition> tps;
  for (int32_t p = 0; p < opts_.partitions; ++p)
    tps.push_back({opts_.input, p});
  auto expected = [&] {
    std::lock_guard<std::mutex> guard{mtx_};
    return last_committed_;
  }();
  auto deadline = clock_type::now() + bound;
  do {
    auto got = (*c)->committed(tps);
    if (got) {
      out.clear();
      for (auto& [tp, o] : *got)
        out[tp.partition] = o.offset;
      if (out == expected)
        break;
    }
    std::this_thread::sleep_for(100ms);
  } while (clock_type::now() < deadline);
  (*c)->close();
  return out;
}

std::vector<txn_entry> txn_copier::history() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return history_;
}

std::vector<std::string> txn_copier::polled() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return polled_;
}

std::vector<group_offsets_sample> txn_copier::offset_samples() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return samples_;
}

std::string txn_copier::progress() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return "copier: transactions " + outcome_summary(history_) + ", " +
         std::to_string(polled_.size()) + " records polled, " +
         std::to_string(recoveries_.load()) + " recoveries";
}

} // namespace chaos
