// The consumer's conversations with its group coordinator: finding it
// (FindCoordinator, then the broker with that node id; the member machine
// hears the outcome of every search), the member machine's requests
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit; answers and
// failures go back to it), committed offsets, and the starting positions
// of newly assigned partitions (OffsetFetch).
#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/client/consumer_actor.hpp"

namespace al {

namespace {

using self_ptr = consumer_actor_ptr;
using std::chrono::milliseconds;

void finish_finding(self_ptr self, const status& s) {
  auto& g = self->state.group;
  g.finding = false;
  g.finding_from = caf::actor_addr{};
  if (s)
    g.machine->coordinator_found(consumer_now_ms());
  else
    g.machine->coordinator_not_found(s, consumer_now_ms());
  auto waiting = std::move(g.awaiting_coordinator);
  g.awaiting_coordinator.clear();
  for (auto& w : waiting)
    w(s);
  run_member_ready(self);
}

void use_coordinator(self_ptr self, const coordinator_info& info, bool refreshed) {
  auto& st = self->state;
  auto known = st.view.brokers.find(info.node_id);
  if (known != st.view.brokers.end()) {
    st.group.coordinator = known->second;
    st.group.coordinator_id = info.node_id;
    if (st.monitored.insert(known->second.address()).second)
      self->monitor(known->second);
    finish_finding(self, status::ok());
    return;
  }
  if (!refreshed) { // maybe a broker we reach already, under its metadata id
    refresh_metadata(self, st.view,
                     [self, info](const status&) { use_coordinator(self, info, true); });
    return;
  }
  connect_broker(self, info.host, info.port, [self, info](result<client_api> h) {
    if (!h) {
      finish_finding(self, h.error());
      return;
    }
    self->state.view.brokers[info.node_id] = *h;
    self->state.group.coordinator = *h;
    self->state.group.coordinator_id = info.node_id;
    if (self->state.monitored.insert(h->address()).second)
      self->monitor(*h);
    finish_finding(self, status::ok());
  });
}

void find_coordinator(self_ptr self, bool refreshed) {
  auto& st = self->state;
  auto b = st.view.any_broker();
  if (!b) {
    if (refreshed) {
      finish_finding(self, status{errc::network_exception, "no broker reachable"});
      return;
    }
    refresh_metadata(self, st.view, [self](const status& s) {
      if (!s)
        finish_finding(self, s);
      else
        find_coordinator(self, true);
    });
    return;
  }
  auto broker = *b;
  // Monitored, so a handle of a node process that died unseen reports at
  // once (a dead proxy's monitor fires immediately) instead of after
  // request.timeout.ms; see the down handler (consumer_actor.cpp).
  st.group.finding_from = broker.address();
  if (st.monitored.insert(broker.address()).second)
    self->monitor(broker);
  self->request(broker, request_timeout(self), find_coordinator_atom::value, st.cfg.group_id)
    .then([self](const coordinator_info& info) {
            if (self->state.group.finding)
              use_coordinator(self, info, false);
          },
          [self, broker](caf::error& err) {
            if (!self->state.group.finding)
              return; // failed already: the connection dropped
            auto code = error_code_of(err);
            // No answer in time: the handle may belong to a node process
            // that died unseen (nothing monitored it) and was restarted;
            // asking it again never answers. Forget it: the next lookup
            // reconnects (actorlog-chaos --workload transactional, seed 1:
            // the copier asked a dead handle every 30 s for the rest of the
            // run). The producer does the same (producer_txn.cpp).
            if (code == errc::request_timed_out)
              self->state.view.forget(broker);
            finish_finding(self, status{code, describe_error(err)});
          });
}

/// Sends `req` to the coordinator; its answer (or failure) goes to the machine.
template <class Response, class Atom, class Request>
void ask_coordinator(self_ptr self, uint64_t seq, int64_t timeout_ms, Atom atom,
                     const Request& req) {
  auto& st = self->state;
  self->request(*st.group.coordinator, milliseconds(timeout_ms), atom, st.cfg.group_id, req)
    .then(
      [self, seq](Response& r) {
        self->state.group.machine->on_response(seq, group_response{std::move(r)},
                                               consumer_now_ms());
        run_member_ready(self);
      },
      [self, seq, to = *st.group.coordinator](caf::error& err) {
        if (error_code_of(err) == errc::request_timed_out) // see find_coordinator
          self->state.view.forget(to);
        self->state.group.machine->on_request_failed(seq, error_code_of(err),
                                                     describe_error(err), consumer_now_ms());
        run_member_ready(self);
      });
}

} // namespace

void defer(self_ptr self, int64_t ms, std::function<void()> fn) {
  auto id = ++self->state.group.next_deferred;
  self->state.group.deferred.emplace(id, std::move(fn));
  self->delayed_send(self, milliseconds(ms), retry_atom::value, id);
}

void coordinator_lookup_failed(self_ptr self, const status& why) {
  finish_finding(self, why);
}

void coordinator_lost(self_ptr self, const std::string& why, bool tell_machine) {
  auto& g = self->state.group;
  g.coordinator.reset();
  g.coordinator_id = -1;
  if (tell_machine) // else the machine decided it (and logged why)
    g.machine->coordinator_lost(why, consumer_now_ms());
}

void on_request_failure(self_ptr self, const caf::error& err) {
  if (!is_coordinator_error(error_code_of(err)))
    return;
  coordinator_lost(self, describe_error(err), true);
  run_member_ready(self);
}

void with_coordinator(self_ptr self, std::function<void(const status&)> then) {
  auto& g = self->state.group;
  if (g.coordinator) {
    then(status::ok());
    return;
  }
  g.awaiting_coordinator.push_back(std::move(then));
  if (g.finding)
    return;
  g.finding = true;
  find_coordinator(self, false);
}

void find_coordinator_for_machine(self_ptr self) {
  auto& g = self->state.group;
  if (g.coordinator) // known here already: the machine only forgot it
    g.machine->coordinator_found(consumer_now_ms());
  else
    with_coordinator(self, [](const status&) {});
}

void send_member_request(self_ptr self, member_request req) {
  auto& g = self->state.group;
  auto seq = req.seq;
  if (!g.coordinator) { // cannot happen while the machine and this agree; fail it cleanly
    g.machine->on_request_failed(seq, errc::coordinator_not_available, "no coordinator",
                                 consumer_now_ms());
    return;
  }
  auto timeout = req.timeout_ms;
  std::visit(
    [self, seq, timeout](auto& body) {
      using T = std::decay_t<decltype(body)>;
      if constexpr (std::is_same_v<T, join_group_request>)
        ask_coordinator<join_group_response>(self, seq, timeout, join_group_atom::value, body);
      else if constexpr (std::is_same_v<T, sync_group_request>)
        ask_coordinator<sync_group_response>(self, seq, timeout, sync_group_atom::value, body);
      else if constexpr (std::is_same_v<T, heartbeat_request>)
        ask_coordinator<heartbeat_response>(self, seq, timeout, group_heartbeat_atom::value,
                                            body);
      else if constexpr (std::is_same_v<T, leave_group_request>)
        ask_coordinator<leave_group_response>(self, seq, timeout, leave_group_atom::value, body);
      else
        ask_coordinator<offset_commit_response>(self, seq, timeout, offset_commit_atom::value,
                                                body);
    },
    req.body);
}

namespace {

/// OffsetFetch at the group's coordinator. A read_committed consumer asks
/// for stable offsets (KIP-447, as Kafka's do): while a transaction that
/// commits offsets for these partitions is open, the coordinator answers
/// UNSTABLE_OFFSET_COMMIT (retriable) rather than offsets its marker may
/// be about to replace.
auto fetch_offsets(self_ptr self, std::vector<topic_partition> tps) {
  auto& st = self->state;
  if (st.cfg.isolation_level == "read_committed")
    return self->request(*st.group.coordinator, request_timeout(self), offset_fetch_atom::value,
                         st.cfg.group_id, std::move(tps), require_stable_atom::value);
  return self->request(*st.group.coordinator, request_timeout(self), offset_fetch_atom::value,
                       st.cfg.group_id, std::move(tps));
}

} // namespace

namespace {

/// committed(): the OffsetFetch, asked again while the offsets are unstable
/// (a transaction's marker on its way) until `deadline`, as Kafka's
/// committed() waits.
void fetch_committed(self_ptr self, std::vector<topic_partition> tps, int64_t deadline,
                     caf::response_promise rp) {
  with_coordinator(self, [self, rp, tps, deadline](const status& found) mutable {
    if (!found) {
      rp.deliver(to_caf_error(found));
      return;
    }
    fetch_offsets(self, tps)
      .then([rp](group_offsets& offsets) mutable { rp.deliver(std::move(offsets)); },
            [self, rp, tps, deadline](caf::error& err) mutable {
              if (error_code_of(err) == errc::unstable_offset_commit &&
                  consumer_now_ms() < deadline) {
                defer(self, self->state.cfg.retry_backoff_ms, [self, tps, deadline, rp] {
                  fetch_committed(self, tps, deadline, rp);
                });
                return;
              }
              on_request_failure(self, err);
              rp.deliver(std::move(err));
            });
  });
}

} // namespace

caf::result<group_offsets> committed(self_ptr self, std::vector<topic_partition> tps) {
  if (self->state.cfg.group_id.empty())
    return make_error(errc::invalid_group_id, "committed() needs group.id");
  auto rp = self->make_response_promise<group_offsets>();
  fetch_committed(self, std::move(tps), consumer_now_ms() + self->state.cfg.request_timeout_ms,
                  rp);
  return rp;
}

void fetch_committed_positions(self_ptr self, const std::vector<topic_partition>& tps) {
  for (auto& tp : tps)
    if (auto i = self->state.parts.find(tp); i != self->state.parts.end())
      i->second.awaiting_committed = true;
  auto retry = [self, tps]() {
    std::vector<topic_partition> still;
    for (auto& tp : tps)
      if (auto i = self->state.parts.find(tp);
          i != self->state.parts.end() && i->second.awaiting_committed)
        still.push_back(tp);
    if (!still.empty())
      defer(self, self->state.cfg.retry_backoff_ms,
            [self, still]() { fetch_committed_positions(self, still); });
  };
  with_coordinator(self, [self, tps, retry](const status& found) {
    if (!found) {
      retry();
      return;
    }
    fetch_offsets(self, tps)
      .then(
        [self, tps](group_offsets& offsets) {
          for (auto& tp : tps) {
            auto i = self->state.parts.find(tp);
            if (i == self->state.parts.end() || !i->second.awaiting_committed)
              continue; // unassigned, or the user sought meanwhile
            auto& pf = i->second;
            pf.awaiting_committed = false;
            auto c = offsets.find(tp);
            pf.position = c != offsets.end() && c->second.offset >= 0 ? c->second.offset : -1;
            pf.consumed = pf.position; // -1: auto.offset.reset decides
            fetch_partition(self, tp);
          }
        },
        [self, retry](caf::error& err) {
          on_request_failure(self, err);
          retry();
        });
  });
}

} // namespace al
