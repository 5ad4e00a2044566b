// txn_machine's outcomes (appends, markers, producer ids), time, loading
// and queries; the requests are in txn_machine.cpp.
#include <algorithm>

#include "actors/txn/txn_detail.hpp"
#include "actors/txn/txn_machine.hpp"

namespace al {

using namespace txn_detail;

// ---- outcomes -------------------------------------------------------------------

void txn_machine::on_persisted(uint64_t persist_id, errc error, int64_t now_ms) {
  auto p = persists_.find(persist_id);
  if (p == persists_.end())
    return;
  auto id = p->second;
  persists_.erase(p);
  auto* t = find(id);
  if (!t || t->pending_persist != persist_id || !t->pending)
    return;
  auto written = std::move(*t->pending);
  t->pending.reset();
  t->pending_persist = 0;
  auto waiting = std::move(t->waiting);
  t->waiting.clear();
  if (error != errc::none) {
    auto code = persist_error_for(error);
    t->write_retry_at = now_ms + config_.marker_retry_backoff_ms;
    for (auto& w : waiting)
      answer(error_response(w.request, code,
                            id + ": writing the transaction state failed: " +
                              std::string(to_string(error))));
    if (t->current.producer_id < 0)
      txns_.erase(id); // a new id whose first write failed
    else if (preparing(t->current.state) && t->markers_left.empty())
      t->marker_retry_at = now_ms + config_.marker_retry_backoff_ms; // Complete* again then
    return;
  }
  if (written.tombstone) {
    auto adds = std::move(t->waiting_adds); // none expected: they wait only while completing
    txns_.erase(id);
    event(id + ": expired (transactional.id.expiration.ms)");
    for (auto& [req, until] : adds)
      on_add_partitions(req, now_ms); // an unknown id now: answered so
    return;
  }
  t->current = std::move(written);
  for (auto& w : waiting)
    answer(w);
  if (preparing(t->current.state)) {
    begin_markers(*t, now_ms);
  } else if (t->current.state == txn_state::complete_commit ||
             t->current.state == txn_state::complete_abort) {
    event(id + ": " + std::string(to_string(t->current.state)));
    release_adds(*t, now_ms, false);
  }
}

void txn_machine::release_adds(txn& t, int64_t now_ms, bool timed_out_only) {
  std::vector<txn_add_partitions_request> go;
  auto& adds = t.waiting_adds;
  for (auto i = adds.begin(); i != adds.end();) {
    if (timed_out_only && i->second > now_ms) {
      ++i;
      continue;
    }
    go.push_back(std::move(i->first));
    i = adds.erase(i);
  }
  for (auto& req : go) {
    if (timed_out_only) // still completing: the client retries after its backoff
      answer(error_response(req.request, errc::concurrent_transactions,
                            req.transactional_id + " is still completing a transaction (" +
                              std::string(to_string(t.current.state)) + "): retry"));
    else
      on_add_partitions(req, now_ms); // may find `t` busy again: answered as usual then
  }
}

void txn_machine::on_marker_written(const std::string& transactional_id, int64_t producer_id,
                                    int16_t producer_epoch, const topic_partition& tp,
                                    errc error, int64_t now_ms) {
  auto* t = find(transactional_id);
  if (!t || !preparing(t->current.state) || t->pending ||
      t->current.producer_id != producer_id || t->current.producer_epoch != producer_epoch)
    return; // an answer for a transaction settled since
  if (error != errc::none && error != errc::unknown_topic_or_partition) {
    if (t->marker_retry_at < 0)
      t->marker_retry_at = now_ms + config_.marker_retry_backoff_ms;
    return;
  }
  t->markers_left.erase(tp);
  if (t->markers_left.empty())
    complete(*t, now_ms);
}

std::optional<int64_t> txn_machine::due_ms(const txn& t) const {
  if (t.pending || t.producer_id_ask != 0)
    return std::nullopt; // an answer comes first
  const auto& c = t.current;
  if (c.state == txn_state::ongoing && c.start_ms >= 0) // transaction.timeout.ms
    return std::max(c.start_ms + c.timeout_ms, t.write_retry_at);
  if (preparing(c.state) && t.marker_retry_at >= 0)
    return t.marker_retry_at; // markers (or the Complete write) again
  if (completed(c.state) && c.producer_id >= 0)
    return c.update_ms + config_.id_expiration_ms; // transactional.id.expiration.ms
  return std::nullopt;
}

void txn_machine::tick(int64_t now_ms) {
  for (auto& [id, t] : txns_)
    release_adds(t, now_ms, true);
  for (auto& [id, t] : txns_) {
    auto due = due_ms(t);
    if (!due || now_ms < *due)
      continue;
    auto& c = t.current;
    if (c.state == txn_state::ongoing) {
      prepare_end(t, false, std::nullopt, now_ms, "transaction.timeout.ms");
    } else if (preparing(c.state)) {
      t.marker_retry_at = -1;
      if (t.markers_left.empty())
        complete(t, now_ms); // its write failed before
      else
        send_markers(t);
    } else {
      auto gone = c;
      gone.tombstone = true;
      persist(t, std::move(gone), now_ms);
    }
  }
}

std::optional<int64_t> txn_machine::next_deadline_ms() const {
  std::optional<int64_t> next;
  for (const auto& [id, t] : txns_) {
    if (auto due = due_ms(t))
      next = next ? std::min(*next, *due) : *due;
    for (auto& [req, until] : t.waiting_adds)
      next = next ? std::min(*next, until) : until;
  }
  return next;
}

// ---- load and queries --------------------------------------------------------------

void txn_machine::load(const std::vector<txn_log_entry>& log, int64_t now_ms) {
  txns_.clear();
  persists_.clear();
  pid_asks_.clear();
  for (const auto& e : log) {
    if (e.tombstone) {
      txns_.erase(e.transactional_id);
      continue;
    }
    auto& t = txns_[e.transactional_id];
    t.current = e;
  }
  for (auto& [id, t] : txns_) {
    if (!preparing(t.current.state))
      continue;
    // The decision is in the log: finish it (markers again; partitions
    // that have it already ignore a duplicate).
    event(id + ": recovered in " + std::string(to_string(t.current.state)) +
          ", writing its markers again");
    begin_markers(t, now_ms);
  }
}

txn_response txn_machine::verify(const txn_add_partitions_request& req) const {
  auto i = txns_.find(req.transactional_id);
  if (i == txns_.end())
    return error_response(req.request, errc::invalid_producer_id_mapping,
                          "unknown transactional id " + req.transactional_id);
  const auto& t = i->second;
  const auto& c = t.current;
  // The producer's checks without check_producer's one on the pending
  // write: an add of another partition being written does not stop writes
  // to the ones added.
  if (auto r = check_producer_identity(c, req.request, req.producer_id, req.producer_epoch);
      r.error != errc::none)
    return r;
  bool ending = t.pending && t.pending->state != txn_state::ongoing;
  for (const auto& tp : req.partitions) {
    bool added = c.state == txn_state::ongoing &&
                 std::binary_search(c.partitions.begin(), c.partitions.end(), tp);
    bool adding = t.pending && t.pending->state == txn_state::ongoing &&
                  std::binary_search(t.pending->partitions.begin(), t.pending->partitions.end(), tp);
    if ((added && ending) || (!added && adding))
      return error_response(req.request, errc::concurrent_transactions,
                            c.transactional_id + ": a state change for " + to_string(tp) +
                              " is being written");
    if (!added)
      return error_response(req.request, errc::invalid_txn_state,
                            to_string(tp) + " is not in an ongoing transaction of " +
                              c.transactional_id + " (state " + std::string(to_string(c.state)) +
                              ")");
  }
  return error_response(req.request, errc::none, "");
}

std::optional<txn_description> txn_machine::describe(const std::string& transactional_id) const {
  auto i = txns_.find(transactional_id);
  if (i == txns_.end() || i->second.current.producer_id < 0)
    return std::nullopt;
  const auto& c = i->second.current;
  txn_description d;
  d.transactional_id = c.transactional_id;
  d.state = c.state;
  d.producer_id = c.producer_id;
  d.producer_epoch = c.producer_epoch;
  d.timeout_ms = c.timeout_ms;
  d.start_ms = c.start_ms;
  d.partitions = c.partitions;
  return d;
}

std::vector<txn_description> txn_machine::list(const std::set<txn_state>& states) const {
  std::vector<txn_description> out;
  for (const auto& [id, t] : txns_)
    if (auto d = describe(id); d && (states.empty() || states.count(d->state)))
      out.push_back(std::move(*d));
  return out;
}

txn_ready txn_machine::take_ready() {
  txn_ready out;
  std::swap(out, ready_);
  return out;
}

} // namespace al
