// The transaction coordinator actor (txn_coordinator_actor.hpp): requests
// into the txn_machine, its effects out to the partition, the brokers and
// the waiting clients.
#include "actors/txn/txn_coordinator_actor.hpp"

#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/errors.hpp"
#include "actors/txn/txn_record.hpp"
#include "storage/clock.hpp"

namespace al {

namespace {

using self_ptr = txn_coordinator_ptr;
using std::chrono::milliseconds;

std::string where(self_ptr self) {
  return std::string(txn_state_topic_name) + "-" + std::to_string(self->state.setup.partition);
}

milliseconds request_timeout(self_ptr self) {
  // The partition answers an acks=all append by its own timeout: wait a
  // little longer, so its answer (not ours) says what happened.
  return milliseconds(self->state.setup.request_timeout_ms + 1000);
}

/// Appends the entry (acks=all); the machine learns the outcome.
void persist(self_ptr self, const txn_persist& p) {
  auto& st = self->state;
  produce_request req;
  req.topic = txn_state_topic_name;
  req.partition = st.setup.partition;
  req.acks = acks_mode::all;
  req.timeout_ms = int32_t(st.setup.request_timeout_ms);
  req.batch = txn_entry_batch(p.entry, wall_clock_ms());
  auto id = p.persist_id;
  auto outcome = [self, id](errc code) {
    if (!self->state.machine)
      return;
    self->state.machine->on_persisted(id, code, txn_now_ms(self));
    process_txn(self);
  };
  self->request(st.setup.log, request_timeout(self), produce_atom::value, std::move(req))
    .then([outcome](const produce_response&) { outcome(errc::none); },
          [self, outcome](caf::error& err) {
            spdlog::warn("transaction coordinator {}: writing the transaction state failed: {}",
                         where(self), describe_error(err));
            outcome(error_code_of(err));
          });
}

/// WriteTxnMarkers: one request per partition, through the broker.
void write_markers(self_ptr self, const txn_write_markers& m) {
  auto& st = self->state;
  for (const auto& tp : m.partitions) {
    txn_marker_request req;
    req.topic = tp.topic;
    req.partition = tp.partition;
    req.producer_id = m.producer_id;
    req.producer_epoch = m.producer_epoch;
    req.commit = m.commit;
    req.coordinator_epoch = st.setup.coordinator_epoch;
    req.epoch_bumped = m.epoch_bumped;
    req.timeout_ms = int32_t(st.setup.request_timeout_ms);
    auto outcome = [self, m, tp](errc code) {
      if (!self->state.machine)
        return;
      self->state.machine->on_marker_written(m.transactional_id, m.producer_id, m.producer_epoch,
                                             tp, code, txn_now_ms(self));
      process_txn(self);
    };
    self->request(st.setup.broker, request_timeout(self), txn_marker_atom::value, req)
      .then([outcome](const produce_response&) { outcome(errc::none); },
            [self, tp, outcome](caf::error& err) {
              spdlog::debug("transaction coordinator {}: marker to {} failed: {}", where(self),
                            to_string(tp), describe_error(err));
              outcome(error_code_of(err));
            });
  }
}

/// A new producer id from the controller (through the broker).
void ask_producer_id(self_ptr self, uint64_t ask_id) {
  auto outcome = [self, ask_id](int64_t pid, errc code) {
    if (!self->state.machine)
      return;
    self->state.machine->on_producer_id(ask_id, pid, code, txn_now_ms(self));
    process_txn(self);
  };
  self->request(self->state.setup.broker, request_timeout(self), init_pid_atom::value)
    .then([outcome](const producer_id_response& r) { outcome(r.producer_id, errc::none); },
          [outcome](caf::error& err) { outcome(-1, error_code_of(err)); });
}

void arm_timer(self_ptr self) {
  auto& st = self->state;
  auto due = st.machine ? st.machine->next_deadline_ms() : std::nullopt;
  if (!due || (st.timer_at && *st.timer_at <= *due))
    return;
  st.timer_at = *due;
  auto delay = std::max<int64_t>(*due - txn_now_ms(self), 0);
  self->delayed_send(self, milliseconds(delay), txn_tick_atom::value);
}

txn_response refused(errc code, std::string message) {
  txn_response r;
  r.error = code;
  r.message = std::move(message);
  return r;
}

/// Feeds a request to the machine; its answer comes from process_txn.
template <class Request, class Feed>
caf::result<txn_response> handle(self_ptr self, Request& req, Feed feed) {
  auto& st = self->state;
  if (!st.loaded)
    return refused(errc::coordinator_load_in_progress,
                   "the transaction coordinator of " + where(self) + " is loading");
  req.request = st.next_request++;
  auto rp = self->make_response_promise<txn_response>();
  st.waiting.emplace(req.request, rp);
  feed(*st.machine, req, txn_now_ms(self));
  process_txn(self);
  return rp;
}

caf::error not_loaded(self_ptr self) {
  return make_error(errc::coordinator_load_in_progress,
                    "the transaction coordinator of " + where(self) + " is loading");
}

void unload(self_ptr self) {
  auto& st = self->state;
  for (auto& [id, rp] : st.waiting)
    rp.deliver(refused(errc::not_coordinator,
                       "the transaction coordinator of " + where(self) + " moved"));
  st.waiting.clear();
  spdlog::info("transaction coordinator {}: unloaded {} transactional id(s)", where(self),
               st.machine ? st.machine->size() : 0);
  st.machine.reset();
  self->quit();
}

void set_lifecycle_handlers(self_ptr self) {
  self->set_default_handler(caf::drop);
  self->set_error_handler([self](caf::scheduled_actor*, caf::error& err) {
    spdlog::warn("transaction coordinator {}: ignored an error message: {}", where(self),
                 describe_error(err));
  });
  self->set_exit_handler([self](caf::scheduled_actor*, caf::exit_msg& em) {
    spdlog::warn("transaction coordinator {}: ignored an exit message ({})", where(self),
                 describe_error(em.reason));
  });
  self->set_down_handler([self](caf::scheduled_actor*, caf::down_msg& dm) {
    if (dm.source == self->state.setup.owner)
      unload(self);
  });
  self->set_exception_handler([self](caf::scheduled_actor*, std::exception_ptr& ep) -> caf::error {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    // State may be half-updated: quit; the broker starts a new coordinator,
    // which loads everything from the partition again.
    spdlog::error("transaction coordinator {}: {}; restarting", where(self), what);
    return make_error(errc::unknown_server_error, what);
  });
}

} // namespace

int64_t txn_now_ms(txn_coordinator_ptr self) {
  auto& st = self->state;
  auto since = std::chrono::duration_cast<milliseconds>(self->clock().now() - st.clock_base);
  return st.wall_base_ms + since.count();
}

void process_txn(txn_coordinator_ptr self) {
  auto& st = self->state;
  if (!st.machine)
    return;
  auto ready = st.machine->take_ready();
  for (auto& p : ready.persists)
    persist(self, p);
  for (auto& m : ready.markers)
    write_markers(self, m);
  for (auto& a : ready.producer_id_asks)
    ask_producer_id(self, a.ask_id);
  for (auto& r : ready.responses) {
    auto i = st.waiting.find(r.request);
    if (i == st.waiting.end())
      continue;
    i->second.deliver(std::move(r));
    st.waiting.erase(i);
  }
  for (auto& e : ready.events)
    spdlog::info("transaction coordinator {}: {}", where(self), e);
  arm_timer(self);
}

txn_coordinator_api::behavior_type txn_coordinator_actor(txn_coordinator_ptr self,
                                                         txn_coordinator_setup setup) {
  auto& st = self->state;
  st.setup = std::move(setup);
  st.clock_base = self->clock().now();
  st.wall_base_ms = wall_clock_ms();
  set_lifecycle_handlers(self);
  if (st.setup.owner)
    self->monitor(caf::actor_cast<caf::actor>(st.setup.owner));
  load_txn_partition(self);
  return {
    [=](init_pid_atom, txn_init_request& req) {
      return handle(self, req, [](txn_machine& m, const txn_init_request& r, int64_t now) {
        m.on_init(r, now);
      });
    },
    [=](txn_add_atom, txn_add_partitions_request& req) {
      return handle(self, req,
                    [](txn_machine& m, const txn_add_partitions_request& r, int64_t now) {
                      m.on_add_partitions(r, now);
                    });
    },
    [=](txn_end_atom, txn_end_request& req) {
      return handle(self, req, [](txn_machine& m, const txn_end_request& r, int64_t now) {
        m.on_end(r, now);
      });
    },
    [=](txn_verify_atom, const txn_add_partitions_request& req) -> txn_response {
      if (!self->state.loaded)
        return refused(errc::coordinator_load_in_progress,
                       "the transaction coordinator of " + where(self) + " is loading");
      return self->state.machine->verify(req);
    },
    [=](txn_describe_atom,
        const std::vector<std::string>& ids) -> caf::result<std::vector<txn_description>> {
      if (!self->state.loaded)
        return not_loaded(self);
      std::vector<txn_description> out;
      for (auto& id : ids)
        if (auto d = self->state.machine->describe(id))
          out.push_back(std::move(*d));
      return out;
    },
    [=](txn_list_atom) -> caf::result<std::vector<txn_description>> {
      if (!self->state.loaded)
        return not_loaded(self);
      return self->state.machine->list();
    },
    [=](txn_tick_atom) {
      auto& s = self->state;
      if (!s.loaded) {
        load_txn_partition(self); // a load retry
        return;
      }
      auto now = txn_now_ms(self);
      if (s.timer_at && *s.timer_at <= now)
        s.timer_at.reset();
      s.machine->tick(now);
      process_txn(self);
    },
    [=](unload_atom) { unload(self); },
  };
}

} // namespace al
