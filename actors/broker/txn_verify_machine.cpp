#include "actors/broker/txn_verify_machine.hpp"

#include <utility>

namespace al {

void txn_verify_machine::admit(const txn_write& w, int64_t now_ms) {
  key k{w.tp.topic, w.tp.partition, w.producer_id};
  auto [it, fresh] = entries_.try_emplace(k);
  auto& e = it->second;
  e.used_ms = now_ms;
  if (!fresh && !e.confirmed) { // a question is in flight: behind it
    e.waiting.push_back(w);
    return;
  }
  if (!fresh && e.epoch == w.producer_epoch && e.leader_epoch == w.leader_epoch)
    return pass(w);
  // The first batch of a transaction here, or another epoch or leadership.
  e.confirmed = false;
  e.waiting.push_back(w);
  e.call = next_call_++;
  e.epoch = w.producer_epoch;
  e.leader_epoch = w.leader_epoch;
  e.stale = false;
  calls_.emplace(e.call, k);
  out_calls_.push_back(
    txn_verify_call{e.call, w.transactional_id, w.tp, w.producer_id, w.producer_epoch});
}

void txn_verify_machine::on_answer(uint64_t call, errc error, const std::string& message,
                                   int64_t now_ms) {
  auto c = calls_.find(call);
  if (c == calls_.end())
    return;
  auto k = c->second;
  calls_.erase(c);
  auto it = entries_.find(k);
  if (it == entries_.end() || it->second.call != call)
    return;
  auto& e = it->second;
  e.call = 0;
  auto waiting = std::move(e.waiting);
  e.waiting.clear();
  auto asked_epoch = e.epoch;
  auto asked_leader_epoch = e.leader_epoch;
  bool stale = e.stale;
  // A confirmation that crossed a marker may describe the transaction the
  // marker ended: it confirms nothing, and the batches ask again.
  if (error == errc::none && !stale)
    e.confirmed = true;
  else
    entries_.erase(it);
  for (auto& w : waiting) {
    if (error != errc::none && w.producer_epoch == asked_epoch &&
        w.leader_epoch == asked_leader_epoch) {
      outcomes_.push_back(txn_write_outcome{
        w.token, produce_error_of(error),
        "transactional write to " + to_string(w.tp) + " by producer " +
          std::to_string(w.producer_id) + " epoch " + std::to_string(w.producer_epoch) +
          " not verified by the coordinator of " + w.transactional_id + ": " + message});
      continue;
    }
    admit(w, now_ms); // confirmed: it passes; another epoch asks
  }
}

void txn_verify_machine::on_marker(const topic_partition& tp, int64_t producer_id) {
  auto it = entries_.find(key{tp.topic, tp.partition, producer_id});
  if (it == entries_.end())
    return;
  if (it->second.confirmed)
    entries_.erase(it);
  else
    it->second.stale = true;
}

void txn_verify_machine::expire(int64_t idle_before_ms) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.confirmed && it->second.used_ms < idle_before_ms)
      it = entries_.erase(it);
    else
      ++it;
  }
}

std::vector<txn_verify_call> txn_verify_machine::take_calls() {
  return std::exchange(out_calls_, {});
}

std::vector<txn_write_outcome> txn_verify_machine::take_outcomes() {
  return std::exchange(outcomes_, {});
}

size_t txn_verify_machine::waiting() const {
  size_t n = 0;
  for (auto& [k, e] : entries_)
    n += e.waiting.size();
  return n;
}

errc txn_verify_machine::produce_error_of(errc coordinator_error) {
  switch (coordinator_error) {
    case errc::not_coordinator:
    case errc::coordinator_not_available:
    case errc::coordinator_load_in_progress:
    case errc::concurrent_transactions:
    case errc::network_exception:
    case errc::request_timed_out:
      return errc::not_enough_replicas;
    case errc::producer_fenced:
      return errc::invalid_producer_epoch;
    default:
      return coordinator_error;
  }
}

} // namespace al
