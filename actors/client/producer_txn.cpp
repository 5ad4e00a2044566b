// A transactional producer (issue 16; Kafka's TransactionManager, the
// client half of KIP-98 with KIP-890's epoch bump per transaction):
// InitProducerId with the transactional.id, AddPartitionsToTxn before the
// first batch of each partition in a transaction (the sender holds those
// batches until then), and EndTxn once every batch is acknowledged. Every
// coordinator request is retried on Kafka's retriable errors until
// max.block.ms, finding the coordinator again when it moved.
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/client/producer_actor.hpp"
#include "storage/clock.hpp"

namespace al {

namespace {

using self_ptr = producer_actor_ptr;
using std::chrono::milliseconds;

bool retriable(errc c) {
  switch (c) {
    case errc::coordinator_load_in_progress:
    case errc::coordinator_not_available:
    case errc::not_coordinator:
    case errc::concurrent_transactions:
    case errc::network_exception:
    case errc::request_timed_out:
    case errc::broker_not_available:
      return true;
    default:
      return false;
  }
}

bool fencing(errc c) {
  return c == errc::producer_fenced || c == errc::invalid_producer_epoch ||
         c == errc::invalid_producer_id_mapping;
}

txn_response failure(errc code, std::string message) {
  txn_response r;
  r.error = code;
  r.message = std::move(message);
  return r;
}

/// CONCURRENT_TRANSACTIONS mostly means the previous transaction's
/// markers are still being written (EndTxn answers at PrepareCommit): a
/// short back-off, as Kafka's producer uses for AddPartitionsToTxn.
constexpr int64_t concurrent_txn_backoff_ms = 20;

void retry_after(self_ptr self, std::function<void()> f, errc why = errc::none) {
  auto& t = self->state.txn;
  auto id = t.next_retry++;
  t.retries.emplace(id, std::move(f));
  auto backoff = self->state.cfg.retry_backoff_ms;
  if (why == errc::concurrent_transactions)
    backoff = std::min(backoff, concurrent_txn_backoff_ms);
  self->delayed_send(self, milliseconds(std::max<int64_t>(backoff, 1)), retry_atom::value, id);
}

/// Sends `req` to `to` and hands the answer (or the error) to `on_answer`
/// once: when the connection to `to` drops first, `on_answer` gets
/// NETWORK_EXCEPTION at once and the late answer, if any, is dropped.
template <class Response, class... Ts>
void watched_request(self_ptr self, const client_api& to,
                     std::function<void(result<Response>)> on_answer, Ts&&... req) {
  auto& st = self->state;
  auto id = st.txn.next_watch++;
  st.txn.watched.emplace(id, producer_txn_state::watched_request{to.address(), [on_answer] {
                           on_answer(status{errc::network_exception, "connection lost"});
                         }});
  if (st.monitored.insert(to.address()).second)
    self->monitor(to);
  auto settle = [self, id] { return self->state.txn.watched.erase(id) > 0; };
  self->request(to, milliseconds(st.cfg.request_timeout_ms), std::forward<Ts>(req)...)
    .then(
      [settle, on_answer](Response& r) {
        if (settle())
          on_answer(std::move(r));
      },
      [settle, on_answer](caf::error& err) {
        if (settle())
          on_answer(status{error_code_of(err), describe_error(err)});
      });
}

/// The coordinator of the transactional id (FindCoordinator, then the
/// connection to that broker from the metadata).
void with_coordinator(self_ptr self, int64_t deadline,
                      std::function<void(result<client_api>)> then) {
  auto& st = self->state;
  if (st.txn.coordinator) {
    then(*st.txn.coordinator);
    return;
  }
  auto again = [self, deadline, then](const status& why) {
    if (wall_clock_ms() >= deadline) {
      then(status{why.code(), "cannot find the transaction coordinator: " + why.message()});
      return;
    }
    retry_after(self, [self, deadline, then] { with_coordinator(self, deadline, then); });
  };
  refresh_metadata(self, st.view, [self, again, then](const status& s) {
    auto& ps = self->state;
    auto b = ps.view.any_broker();
    if (!s || !b) {
      again(s ? status{errc::network_exception, "no broker"} : s);
      return;
    }
    watched_request<coordinator_info>(
      self, *b,
      [self, again, then](result<coordinator_info> info) {
        auto& s2 = self->state;
        if (!info) {
          if (retriable(info.error().code()))
            again(info.error());
          else
            then(info.error());
          return;
        }
        auto c = s2.view.brokers.find(info->node_id);
        if (c == s2.view.brokers.end()) { // not connected yet: the next refresh connects
          again(status{errc::coordinator_not_available,
                       "node " + std::to_string(info->node_id) + " not connected"});
          return;
        }
        s2.txn.coordinator = c->second;
        then(c->second);
      },
      find_coordinator_atom::value, txn_coordinator_atom::value, ps.txn.id);
  });
}

/// A request to the coordinator, retried until `deadline` on retriable errors.
template <class Atom, class Request>
void txn_call(self_ptr self, Atom atm, Request req, int64_t deadline,
              std::function<void(txn_response)> done) {
  auto again = [self, atm, req, deadline, done](errc code, const std::string& why) {
    auto& st = self->state;
    spdlog::debug("producer {}: transaction coordinator request failed: {} {}", st.txn.id,
                  to_string(code), why);
    // A coordinator that does not answer in time is looked up again, and
    // its connection dropped (as Kafka's client disconnects after a request
    // timeout): the handle may be the actor of a node process that was
    // killed and restarted, which never answers, and nothing else drops it
    // when no produce request went there (actorlog-chaos --workload
    // transactional: a producer whose coordinator's node was killed failed
    // every later transaction with REQUEST_TIMED_OUT).
    if (st.txn.coordinator && (code == errc::request_timed_out || code == errc::network_exception))
      st.view.forget(*st.txn.coordinator);
    if (code == errc::not_coordinator || code == errc::coordinator_not_available ||
        code == errc::network_exception || code == errc::request_timed_out)
      st.txn.coordinator.reset();
    if (!retriable(code) || wall_clock_ms() >= deadline) {
      done(failure(code, why));
      return;
    }
    retry_after(
      self, [self, atm, req, deadline, done] { txn_call(self, atm, req, deadline, done); },
      code);
  };
  with_coordinator(self, deadline, [self, atm, req, done, again](result<client_api> c) {
    if (!c) {
      done(failure(c.error().code(), c.error().message()));
      return;
    }
    watched_request<txn_response>(
      self, *c,
      [done, again](result<txn_response> r) {
        if (!r)
          again(r.error().code(), r.error().message());
        else if (r->error == errc::none)
          done(std::move(*r));
        else
          again(r->error, r->message);
      },
      atm, req);
  });
}

int64_t block_deadline(self_ptr self) {
  return wall_clock_ms() + self->state.cfg.max_block_ms;
}

/// Fails every batch not sent yet (those of `only` when given), draining
/// the accumulator first.
void fail_unsent(self_ptr self, const status& why, const std::set<topic_partition>* only) {
  auto& st = self->state;
  producer_drain(self, true);
  for (auto& [tp, q] : st.queues) {
    if (only && !only->count(tp))
      continue;
    while (!q.pending.empty()) {
      auto b = std::move(q.pending.front());
      q.pending.pop_front();
      producer_fail_batch(self, b, why);
    }
    q.retrying = false;
  }
}

/// Every batch completed and no AddPartitionsToTxn on its way: what the
/// coordinator has in the transaction is what this producer knows of.
bool settled(const producer_state& st) {
  return st.outstanding == 0 && st.acc->pending_records() == 0 && !st.txn.adding;
}

void after_flush(self_ptr self, std::function<void()> f) {
  auto& st = self->state;
  producer_drain(self, true);
  producer_send_ready(self);
  if (settled(st))
    f();
  else
    st.txn.on_flushed.push_back(std::move(f));
}

} // namespace

bool producer_txn_holds(producer_state& st, const topic_partition& tp) {
  if (st.txn.id.empty() || st.txn.added.count(tp))
    return false;
  st.txn.wanted.insert(tp);
  return true;
}

void producer_txn_add(producer_actor_ptr self) {
  auto& t = self->state.txn;
  if (t.adding || t.wanted.empty() || !t.in_transaction || t.fenced)
    return;
  txn_add_partitions_request req;
  req.transactional_id = t.id;
  req.producer_id = self->state.producer_id;
  req.producer_epoch = self->state.producer_epoch;
  req.partitions.assign(t.wanted.begin(), t.wanted.end());
  t.adding = true;
  auto asked = std::make_shared<std::set<topic_partition>>(t.wanted);
  txn_call(self, txn_add_atom::value, req, block_deadline(self),
           [self, asked](txn_response r) {
             auto& tx = self->state.txn;
             tx.adding = false;
             if (r.error == errc::none) {
               for (auto& tp : *asked) {
                 tx.added.insert(tp);
                 tx.wanted.erase(tp);
               }
               producer_send_ready(self);
               producer_txn_flushed(self); // an end may wait for this answer
               return;
             }
             status why{r.error, "AddPartitionsToTxn failed: " + r.message};
             spdlog::warn("producer {}: {}", tx.id, why.to_string());
             producer_txn_failed(self, why);
             for (auto& tp : *asked)
               tx.wanted.erase(tp);
             fail_unsent(self, why, asked.get()); // they can never be sent in this transaction
             producer_txn_flushed(self);
           });
}

void producer_txn_failed(producer_actor_ptr self, const status& why) {
  auto& t = self->state.txn;
  if (t.id.empty())
    return;
  if (fencing(why.code()))
    t.fenced = true;
  if (t.error.is_ok())
    t.error = why;
}

void producer_txn_flushed(producer_actor_ptr self) {
  if (!settled(self->state))
    return;
  auto waiting = std::move(self->state.txn.on_flushed);
  self->state.txn.on_flushed.clear();
  for (auto& f : waiting)
    f();
}

void producer_txn_broker_down(producer_actor_ptr self, const caf::actor_addr& broker) {
  auto& t = self->state.txn;
  if (t.coordinator && t.coordinator->address() == broker)
    t.coordinator.reset();
  std::vector<std::function<void()>> dropped;
  for (auto i = t.watched.begin(); i != t.watched.end();) {
    if (i->second.broker == broker) {
      dropped.push_back(std::move(i->second.on_drop));
      i = t.watched.erase(i);
    } else {
      ++i;
    }
  }
  for (auto& f : dropped)
    f();
}

void producer_txn_retry(producer_actor_ptr self, uint64_t id) {
  auto& retries = self->state.txn.retries;
  auto i = retries.find(id);
  if (i == retries.end())
    return;
  auto f = std::move(i->second);
  retries.erase(i);
  f();
}

namespace {

/// TxnOffsetCommit at the group's coordinator (FindCoordinator first),
/// retried on the coordinator errors until `deadline`.
void commit_txn_offsets(self_ptr self, const std::string& group_id,
                        const txn_offset_commit_request& req, int64_t deadline,
                        std::function<void(txn_response)> done) {
  auto& st = self->state;
  auto again = [self, group_id, req, deadline, done](errc code, const std::string& why) {
    spdlog::debug("producer {}: TxnOffsetCommit failed: {} {}", self->state.txn.id,
                  to_string(code), why);
    if (!(retriable(code) || code == errc::coordinator_load_in_progress) ||
        wall_clock_ms() >= deadline) {
      done(failure(code, "TxnOffsetCommit for group " + group_id + ": " + why));
      return;
    }
    retry_after(self, [self, group_id, req, deadline, done] {
      commit_txn_offsets(self, group_id, req, deadline, done);
    });
  };
  auto b = st.view.any_broker();
  if (!b) {
    refresh_metadata(self, st.view, [again](const status& s) {
      again(s ? errc::network_exception : s.code(), "no broker");
    });
    return;
  }
  watched_request<coordinator_info>(
    self, *b,
    [self, group_id, req, again, done](result<coordinator_info> info) {
      auto& s = self->state;
      if (!info) {
        again(info.error().code(), info.error().message());
        return;
      }
      auto c = s.view.brokers.find(info->node_id);
      if (c == s.view.brokers.end()) {
        refresh_metadata(self, s.view, [again](const status&) {
          again(errc::coordinator_not_available, "the coordinator is not connected yet");
        });
        return;
      }
      auto coordinator = c->second;
      watched_request<offset_commit_response>(
        self, coordinator,
        [self, again, done, coordinator](result<offset_commit_response> r) {
          if (!r && r.error().code() == errc::request_timed_out)
            self->state.view.forget(coordinator); // reconnect, as txn_call does
          if (!r)
            again(r.error().code(), r.error().message());
          else if (r->error == errc::none)
            done(txn_response{});
          else
            again(r->error, std::string(to_string(r->error)));
        },
        offset_commit_atom::value, group_id, req);
    },
    find_coordinator_atom::value, group_id);
}

} // namespace

caf::result<txn_response> producer_send_offsets(producer_actor_ptr self, std::string group_id,
                                                offset_commit_map offsets) {
  auto& st = self->state;
  if (!st.txn.in_transaction)
    return failure(errc::invalid_txn_state, "producer: no transaction is open");
  if (st.txn.fenced)
    return failure(errc::producer_fenced, "producer " + st.txn.id + " is fenced");
  txn_add_offsets_request add{st.txn.id, st.producer_id, st.producer_epoch, group_id};
  auto rp = self->make_response_promise<txn_response>();
  auto deadline = block_deadline(self);
  txn_call(self, txn_add_atom::value, add, deadline,
           [self, rp, group_id, offsets, deadline](txn_response r) mutable {
             auto& s2 = self->state;
             if (r.error != errc::none) {
               producer_txn_failed(self, status{r.error, r.message});
               rp.deliver(std::move(r));
               return;
             }
             s2.txn.offsets_added = true;
             txn_offset_commit_request req;
             req.transactional_id = s2.txn.id;
             req.producer_id = s2.producer_id;
             req.producer_epoch = s2.producer_epoch;
             req.offsets = offsets;
             commit_txn_offsets(self, group_id, req, deadline, [self, rp](txn_response c) mutable {
               if (c.error != errc::none)
                 producer_txn_failed(self, status{c.error, c.message});
               rp.deliver(std::move(c));
             });
           });
  return rp;
}

caf::result<txn_response> producer_init_transactions(producer_actor_ptr self) {
  auto& st = self->state;
  if (st.txn.id.empty())
    return failure(errc::invalid_request, "producer: init_transactions needs transactional.id");
  if (st.txn.in_transaction)
    return failure(errc::invalid_txn_state, "producer: a transaction is open");
  txn_init_request req;
  req.transactional_id = st.txn.id;
  req.timeout_ms = int32_t(st.cfg.transaction_timeout_ms);
  auto rp = self->make_response_promise<txn_response>();
  txn_call(self, init_pid_atom::value, req, block_deadline(self), [self, rp](txn_response r) mutable {
    auto& s = self->state;
    if (r.error == errc::none) {
      s.producer_id = r.producer_id;
      s.producer_epoch = r.producer_epoch;
      s.next_sequence.clear();
      s.txn.error = status::ok();
      s.txn.fenced = false;
      spdlog::info("producer {}: producer id {} epoch {}", s.txn.id, r.producer_id,
                   r.producer_epoch);
    } else if (fencing(r.error)) {
      s.txn.fenced = true;
    }
    rp.deliver(std::move(r));
  });
  return rp;
}

void producer_begin_transaction(producer_actor_ptr self) {
  auto& t = self->state.txn;
  t.in_transaction = true;
  t.offsets_added = false;
  t.added.clear();
  t.wanted.clear();
  t.error = status::ok();
}

caf::result<txn_response> producer_end_transaction(producer_actor_ptr self, bool commit) {
  auto& st = self->state;
  if (!st.txn.in_transaction)
    return failure(errc::invalid_txn_state, "producer: no transaction is open");
  if (st.txn.fenced)
    return failure(errc::producer_fenced,
                   "producer " + st.txn.id + " is fenced by a newer instance: close it");
  if (commit && !st.txn.error.is_ok())
    return failure(st.txn.error.code(), "the transaction cannot commit (" +
                                          st.txn.error.message() + "): abort it");
  if (!commit) // Kafka aborts what was not sent yet
    fail_unsent(self, status{errc::invalid_txn_state, "the transaction was aborted"}, nullptr);
  auto rp = self->make_response_promise<txn_response>();
  after_flush(self, [self, rp, commit]() mutable {
    auto& s = self->state;
    if (commit && !s.txn.error.is_ok()) { // a batch failed while flushing
      rp.deliver(failure(s.txn.error.code(), "the transaction cannot commit (" +
                                                s.txn.error.message() + "): abort it"));
      return;
    }
    auto finished = [self](const txn_response& r) {
      auto& s2 = self->state;
      s2.txn.in_transaction = false;
      s2.txn.offsets_added = false;
      s2.txn.added.clear();
      s2.txn.wanted.clear();
      s2.txn.error = status::ok();
      if (r.producer_id >= 0) { // KIP-890: the next transaction runs under the bumped epoch
        s2.producer_id = r.producer_id;
        s2.producer_epoch = r.producer_epoch;
        s2.next_sequence.clear();
      }
    };
    if (s.txn.added.empty() && !s.txn.offsets_added) { // nothing written: nothing to end
      txn_response r;
      finished(r);
      // No batch of this epoch reached a partition: the sequences the
      // dropped batches took are not owed to anyone.
      s.next_sequence.clear();
      rp.deliver(r);
      return;
    }
    txn_end_request req;
    req.transactional_id = s.txn.id;
    req.producer_id = s.producer_id;
    req.producer_epoch = s.producer_epoch;
    req.commit = commit;
    txn_call(self, txn_end_atom::value, req, block_deadline(self),
             [self, rp, finished](txn_response r) mutable {
               if (r.error == errc::none)
                 finished(r);
               else if (fencing(r.error))
                 self->state.txn.fenced = true;
               rp.deliver(std::move(r));
             });
  });
  return rp;
}

} // namespace al
