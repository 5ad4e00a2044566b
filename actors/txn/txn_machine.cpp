#include "actors/txn/txn_machine.hpp"

#include <algorithm>
#include <tuple>

#include "actors/txn/txn_detail.hpp"

namespace al {

using namespace txn_detail;

std::string_view to_string(txn_state s) {
  switch (s) {
    case txn_state::empty: return "Empty";
    case txn_state::ongoing: return "Ongoing";
    case txn_state::prepare_commit: return "PrepareCommit";
    case txn_state::prepare_abort: return "PrepareAbort";
    case txn_state::complete_commit: return "CompleteCommit";
    case txn_state::complete_abort: return "CompleteAbort";
    case txn_state::dead: return "Dead";
  }
  return "?";
}

bool operator==(const txn_log_entry& a, const txn_log_entry& b) {
  auto tie = [](const txn_log_entry& e) {
    return std::tie(e.transactional_id, e.producer_id, e.producer_epoch, e.previous_producer_id,
                    e.previous_producer_epoch, e.next_producer_id, e.timeout_ms, e.state,
                    e.partitions, e.start_ms, e.update_ms, e.tombstone);
  };
  return tie(a) == tie(b);
}

void move_producer(txn_log_entry& e, int64_t producer_id, int16_t producer_epoch) {
  e.previous_producer_id = e.producer_id;
  e.previous_producer_epoch = e.producer_epoch;
  e.producer_id = producer_id;
  e.producer_epoch = producer_epoch;
}

void hand_on_producer(const txn_log_entry& e, txn_response& r) {
  r.producer_id = e.next_producer_id >= 0 ? e.next_producer_id : e.producer_id;
  r.producer_epoch = e.next_producer_id >= 0 ? int16_t(0) : e.producer_epoch;
}

txn_machine::txn_machine(txn_config config) : config_(config) {}

txn_machine::txn* txn_machine::find(const std::string& id) {
  auto i = txns_.find(id);
  return i == txns_.end() ? nullptr : &i->second;
}

txn_response txn_machine::check_producer(const txn& t, uint64_t request, int64_t producer_id,
                                         int16_t producer_epoch) const {
  const auto& c = t.current;
  if (auto r = check_producer_identity(c, request, producer_id, producer_epoch);
      r.error != errc::none)
    return r;
  if (t.pending || t.producer_id_ask != 0)
    return error_response(request, errc::concurrent_transactions,
                          c.transactional_id + ": a state change is being written");
  return error_response(request, errc::none, "");
}

void txn_machine::persist(txn& t, txn_log_entry next, int64_t now_ms) {
  next.update_ms = now_ms;
  auto id = next_persist_++;
  t.pending = next;
  t.pending_persist = id;
  persists_.emplace(id, next.transactional_id);
  ready_.persists.push_back(txn_persist{id, std::move(next)});
}

void txn_machine::ask_producer_id(txn& t) {
  t.producer_id_ask = next_ask_++;
  pid_asks_.emplace(t.producer_id_ask, t.current.transactional_id);
  ready_.producer_id_asks.push_back(txn_allocate_producer_id{t.producer_id_ask});
}

// ---- InitProducerId ---------------------------------------------------------

void txn_machine::on_init(const txn_init_request& req, int64_t now_ms) {
  if (req.transactional_id.empty())
    return answer(error_response(req.request, errc::invalid_request,
                                 "InitProducerId for transactions needs a transactional id"));
  if (req.timeout_ms <= 0 || req.timeout_ms > config_.max_timeout_ms)
    return answer(error_response(
      req.request, errc::invalid_transaction_timeout,
      "transaction timeout " + std::to_string(req.timeout_ms) + " ms is outside (0, " +
        std::to_string(config_.max_timeout_ms) + "] (transaction.max.timeout.ms)"));
  auto* t = find(req.transactional_id);
  if (!t) { // new id: a producer id first
    auto& fresh = txns_[req.transactional_id];
    fresh.current.transactional_id = req.transactional_id;
    fresh.current.update_ms = now_ms;
    fresh.init_after = req;
    ask_producer_id(fresh);
    return;
  }
  auto& c = t->current;
  if (t->pending || t->producer_id_ask != 0 || preparing(c.state))
    return answer(error_response(req.request, errc::concurrent_transactions,
                                 req.transactional_id + " is completing a transaction (" +
                                   std::string(to_string(c.state)) + "): retry"));
  if (req.producer_id >= 0) { // KIP-360: the producer says who it was
    bool current = req.producer_id == c.producer_id && req.producer_epoch == c.producer_epoch;
    bool previous = req.producer_id == c.previous_producer_id &&
                    req.producer_epoch == c.previous_producer_epoch;
    if (!current && !previous)
      return answer(error_response(req.request, errc::producer_fenced,
                                   req.transactional_id + ": producer id " +
                                     std::to_string(req.producer_id) + " epoch " +
                                     std::to_string(req.producer_epoch) + " is not current"));
  }
  if (c.state == txn_state::ongoing) {
    // The new producer fences the old one: its transaction is aborted
    // (with a bumped epoch) and the caller retries until that is done.
    prepare_end(*t, false, std::nullopt, now_ms, "InitProducerId fences the ongoing transaction");
    return answer(error_response(req.request, errc::concurrent_transactions,
                                 req.transactional_id +
                                   ": aborting the ongoing transaction of the fenced producer"));
  }
  finish_init(*t, req, now_ms);
}

void txn_machine::finish_init(txn& t, const txn_init_request& req, int64_t now_ms) {
  const auto& c = t.current;
  if (c.producer_id < 0 || c.producer_epoch + 1 >= max_producer_epoch) {
    t.init_after = req; // a (new) producer id first
    ask_producer_id(t);
    return;
  }
  start_producer(t, req, c.producer_id, int16_t(c.producer_epoch + 1), now_ms);
}

void txn_machine::start_producer(txn& t, const txn_init_request& req, int64_t producer_id,
                                 int16_t producer_epoch, int64_t now_ms) {
  auto next = t.current;
  move_producer(next, producer_id, producer_epoch);
  next.timeout_ms = req.timeout_ms;
  next.state = txn_state::empty;
  next.partitions.clear();
  next.start_ms = -1;
  txn_response r;
  r.request = req.request;
  r.producer_id = producer_id;
  r.producer_epoch = producer_epoch;
  t.waiting.push_back(r);
  persist(t, std::move(next), now_ms);
}

void txn_machine::on_producer_id(uint64_t ask_id, int64_t producer_id, errc error,
                                 int64_t now_ms) {
  auto a = pid_asks_.find(ask_id);
  if (a == pid_asks_.end())
    return;
  auto id = a->second;
  pid_asks_.erase(a);
  auto* t = find(id);
  if (!t || t->producer_id_ask != ask_id)
    return;
  t->producer_id_ask = 0;
  auto init = std::move(t->init_after);
  auto end = std::move(t->end_after);
  t->init_after.reset();
  t->end_after.reset();
  if (error != errc::none || producer_id < 0) {
    auto code = error != errc::none ? error : errc::unknown_server_error;
    if (init)
      answer(error_response(init->request, code, id + ": no producer id: " +
                                                   std::string(to_string(code))));
    if (end && end->answer)
      answer(error_response(end->answer->request, code,
                            id + ": no producer id: " + std::string(to_string(code))));
    if (t->current.producer_id < 0 && !t->pending)
      txns_.erase(id); // never written: forget the placeholder
    return;
  }
  if (init) {
    start_producer(*t, *init, producer_id, 0, now_ms);
  } else if (end) {
    t->current.next_producer_id = producer_id; // carried by the Prepare entry
    prepare_end(*t, end->commit, end->answer, now_ms, end->why);
  }
}

// ---- AddPartitionsToTxn -------------------------------------------------------

void txn_machine::on_add_partitions(const txn_add_partitions_request& req, int64_t now_ms) {
  auto* t = find(req.transactional_id);
  if (!t || t->current.producer_id < 0)
    return answer(error_response(req.request, errc::invalid_producer_id_mapping,
                                 "unknown transactional id " + req.transactional_id +
                                   " (InitProducerId first)"));
  auto r = check_producer(*t, req.request, req.producer_id, req.producer_epoch);
  auto& c = t->current;
  // The previous transaction is completing (its markers, then its Complete
  // entry): this add waits for that rather than being refused at once.
  bool completing = preparing(c.state) ||
                    (t->pending && !t->pending->tombstone && completed(t->pending->state));
  if (completing && (r.error == errc::none || r.error == errc::concurrent_transactions)) {
    t->waiting_adds.emplace_back(req, now_ms + config_.add_wait_ms);
    return;
  }
  if (r.error != errc::none)
    return answer(r);
  if (preparing(c.state))
    return answer(error_response(req.request, errc::concurrent_transactions,
                                 req.transactional_id + " is completing a transaction (" +
                                   std::string(to_string(c.state)) + "): retry"));
  if (c.producer_epoch >= max_producer_epoch)
    return answer(error_response(req.request, errc::producer_fenced,
                                 req.transactional_id +
                                   ": the producer epoch is exhausted; InitProducerId again"));
  std::set<topic_partition> all(req.partitions.begin(), req.partitions.end());
  if (c.state == txn_state::ongoing)
    all.insert(c.partitions.begin(), c.partitions.end());
  if (c.state == txn_state::ongoing && all.size() == c.partitions.size())
    return answer(r); // nothing new: no write
  auto next = c;
  if (c.state != txn_state::ongoing)
    next.start_ms = now_ms;
  next.state = txn_state::ongoing;
  next.partitions.assign(all.begin(), all.end());
  next.next_producer_id = -1;
  t->waiting.push_back(r);
  persist(*t, std::move(next), now_ms);
}

// ---- EndTxn -------------------------------------------------------------------

void txn_machine::on_end(const txn_end_request& req, int64_t now_ms) {
  auto* t = find(req.transactional_id);
  if (!t || t->current.producer_id < 0)
    return answer(error_response(req.request, errc::invalid_producer_id_mapping,
                                 "unknown transactional id " + req.transactional_id));
  auto& c = t->current;
  // A retry of an end that went through (its answer was lost): same
  // producer, the epoch from before the end's bump.
  bool retry = req.producer_epoch == c.previous_producer_epoch &&
               req.producer_id == c.previous_producer_id && !t->pending;
  if (retry && (preparing(c.state) || c.state == txn_state::complete_commit ||
                c.state == txn_state::complete_abort)) {
    bool committed = c.state == txn_state::prepare_commit || c.state == txn_state::complete_commit;
    if (committed != req.commit)
      return answer(error_response(
        req.request, req.commit ? errc::producer_fenced : errc::invalid_txn_state,
        req.transactional_id + ": the transaction was " + (committed ? "committed" : "aborted") +
          (req.commit ? " (by the coordinator: transaction.timeout.ms or a newer producer)"
                      : "")));
    txn_response ok;
    ok.request = req.request;
    hand_on_producer(c, ok);
    return answer(ok);
  }
  auto r = check_producer(*t, req.request, req.producer_id, req.producer_epoch);
  if (r.error != errc::none)
    return answer(r);
  if (preparing(c.state))
    return answer(error_response(req.request, errc::concurrent_transactions,
                                 req.transactional_id + " is completing a transaction: retry"));
  if (c.state != txn_state::ongoing)
    return answer(error_response(req.request, errc::invalid_txn_state,
                                 req.transactional_id + ": no transaction to " +
                                   (req.commit ? "commit" : "abort") + " (state " +
                                   std::string(to_string(c.state)) + ")"));
  prepare_end(*t, req.commit, r, now_ms, req.commit ? "EndTxn commit" : "EndTxn abort",
              req.bump_epoch);
}

void txn_machine::prepare_end(txn& t, bool commit, std::optional<txn_response> ans,
                              int64_t now_ms, const std::string& why, bool bump) {
  auto next = t.current;
  if (bump && next.producer_epoch + 1 >= max_producer_epoch && next.next_producer_id < 0) {
    t.end_after = txn::end_after_t{commit, ans, why}; // a new producer id first
    ask_producer_id(t);
    return;
  }
  // KIP-890: every end bumps the epoch; the markers carry the new one. A
  // client that keeps its epoch (Kafka's EndTxn v0-4) gets markers at its
  // epoch, and previous == current recognises its retry of this end.
  move_producer(next, next.producer_id, int16_t(next.producer_epoch + (bump ? 1 : 0)));
  next.state = commit ? txn_state::prepare_commit : txn_state::prepare_abort;
  t.current.next_producer_id = -1; // only the written entry carries it
  if (ans) {
    hand_on_producer(next, *ans);
    t.waiting.push_back(*ans);
  }
  event(t.current.transactional_id + ": " + std::string(to_string(next.state)) + " (" + why +
        "), producer " + std::to_string(next.producer_id) + " epoch " +
        std::to_string(next.producer_epoch) + ", " + std::to_string(next.partitions.size()) +
        " partition(s)");
  persist(t, std::move(next), now_ms);
}

void txn_machine::begin_markers(txn& t, int64_t now_ms) {
  t.markers_left = {t.current.partitions.begin(), t.current.partitions.end()};
  if (t.markers_left.empty())
    complete(t, now_ms);
  else
    send_markers(t);
}

void txn_machine::send_markers(txn& t) {
  const auto& c = t.current;
  txn_write_markers m;
  m.transactional_id = c.transactional_id;
  m.producer_id = c.producer_id;
  m.producer_epoch = c.producer_epoch;
  m.commit = c.state == txn_state::prepare_commit;
  m.epoch_bumped =
    c.producer_id != c.previous_producer_id || c.producer_epoch != c.previous_producer_epoch;
  m.partitions.assign(t.markers_left.begin(), t.markers_left.end());
  t.marker_retry_at = -1;
  ready_.markers.push_back(std::move(m));
}

void txn_machine::complete(txn& t, int64_t now_ms) {
  auto next = t.current;
  next.state = next.state == txn_state::prepare_commit ? txn_state::complete_commit
                                                       : txn_state::complete_abort;
  next.partitions.clear();
  next.start_ms = -1;
  if (next.next_producer_id >= 0) { // the epoch was exhausted: continue on the new id
    move_producer(next, next.next_producer_id, 0);
    next.next_producer_id = -1;
  }
  persist(t, std::move(next), now_ms);
}

} // namespace al
