// The partition actor's replication half: it drives the pure
// replica_machine (replica_machine.hpp) and executes what ready() asks, in
// the machine's order: cut the log, expose the HW, answer acks=all waits,
// send AlterPartition to the controller, send OffsetsForLeaderEpoch or the
// next fetch to the leader (the follower's side of those, and what it does
// with the answers, is partition_follower.cpp). Follower requests go
// through the node's broker, which holds the connections to the other
// brokers (peer_atom).
#include <algorithm>
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_api.hpp"
#include "actors/controller/partition_election_machine.hpp"
#include "actors/partition/partition_state.hpp"
#include "actors/partition/producer_state_store.hpp"
#include "actors/partition/replica_checkpoint_files.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/record_batch.hpp"

namespace al {

using self_ptr = partition_ptr;

errc replica_request_error(const caf::error& err) {
  auto code = error_code_of(err);
  return code == errc::none ? errc::network_exception : code;
}

void reset_machine(self_ptr self) {
  auto& st = self->state;
  std::string note;
  auto epochs = load_epoch_cache(*st.log, &note);
  if (!epochs) {
    spdlog::error("{}: leader epochs not rebuilt ({}); starting without", where(st),
                  epochs.error().to_string());
    epochs = leader_epoch_cache{};
  }
  replica_config cfg;
  cfg.tp = st.setup.tp;
  cfg.broker_id = st.setup.node_id;
  cfg.broker_epoch = st.setup.incarnation;
  cfg.replica_lag_time_max_ms = std::max<int64_t>(1, st.setup.replica_lag_time_max_ms);
  cfg.fetch_backoff_ms = 0; // the leader long-polls empty fetches; errors wait for a tick
  cfg.request_timeout_ms = follower_max_wait_ms + replica_request_timeout_ms;
  replica_log_state ls;
  ls.log_start_offset = st.log->log_start_offset();
  ls.log_end_offset = st.log->log_end_offset();
  ls.high_watermark = load_hw_checkpoint(*st.log, st.setup.hw_table->get(st.setup.tp));
  ls.epochs = std::move(*epochs);
  st.saved_epochs = ls.epochs.entries();
  st.replica = std::make_unique<replica_machine>(cfg, std::move(ls));
  st.high_watermark = st.replica->high_watermark();
  st.hw_cell = st.setup.hw_table->attach(st.setup.tp, st.high_watermark);
  spdlog::debug("{}: replica state: log [{}, {}), hw {}, {}", where(st),
                st.log->log_start_offset(), st.log->log_end_offset(), st.high_watermark, note);
  auto& d = st.setup.state;
  if (d.leader_epoch >= 0)
    st.replica->on_metadata(leadership_of(d, d.partition_epoch), wall_clock_ms());
}

namespace {

constexpr int64_t replica_tick_interval_ms = 200; // the finest a replica tick gets

broker_api broker_of(const partition_state& st) {
  return caf::actor_cast<broker_api>(st.setup.broker);
}

void send_alter_isr(self_ptr self, const alter_isr_request& req) {
  auto& st = self->state;
  if (!st.setup.broker)
    return;
  spdlog::info("{}: proposing ISR {} (leader epoch {}, partition epoch {})", where(st),
               describe_ids(req.new_isr), req.leader_epoch, req.partition_epoch);
  self->request(broker_of(st), std::chrono::milliseconds(replica_request_timeout_ms),
                alter_isr_atom::value, req)
    .then(
      [self](const alter_isr_response& resp) {
        guarded_void(self, "AlterPartition answer", [&] {
          if (!self->state.replica)
            return;
          if (resp.error != alter_isr_error::none)
            spdlog::info("{}: ISR change refused: {}", where(self->state), to_string(resp.error));
          self->state.replica->on_alter_isr_response(resp, wall_clock_ms());
          run_ready(self);
        });
      },
      [self](caf::error& err) {
        // No answer: the machine proposes again after its request timeout.
        spdlog::warn("{}: AlterPartition failed: {}", where(self->state), describe_error(err));
      });
}

void deliver_acks(self_ptr self, const std::vector<completed_ack>& acks) {
  auto& st = self->state;
  for (auto& a : acks) {
    auto i = st.waiting.find(a.id);
    if (i == st.waiting.end())
      continue;
    if (a.error == errc::none)
      deliver_when_durable(self, i->second.response, i->second.durable_upto,
                           std::move(i->second.promise));
    else
      i->second.promise.deliver(make_error(
        a.error, where(st) + ": " +
                   (a.error == errc::not_enough_replicas_after_append
                      ? "written, but the ISR shrank below min.insync.replicas"
                      : "leadership moved before the write was replicated")));
    st.waiting.erase(i);
  }
}

} // namespace

void start_replica(self_ptr self) {
  auto& st = self->state;
  if (!st.log)
    return;
  reset_machine(self);
  run_ready(self);
}

void arm_replica_tick(self_ptr self) {
  auto& st = self->state;
  if (!st.setup.broker)
    return;
  // acks=all answers time out (every 200 ms while some wait); the machine
  // says when it has work of its own. A single replica's leader, or a
  // leader whose followers are all caught up, needs no timer at all.
  auto now = wall_clock_ms();
  std::optional<int64_t> due;
  if (!st.waiting.empty())
    due = now + replica_tick_interval_ms;
  if (st.replica)
    if (auto t = st.replica->next_tick_ms())
      due = due ? std::min(*due, *t) : *t;
  if (!due)
    return;
  auto at = std::max(*due, now + replica_tick_interval_ms);
  if (!st.replica_tick_timers.empty() && *st.replica_tick_timers.begin() <= at)
    return; // one fires first, and arms again
  st.replica_tick_timers.insert(at);
  auto delay = std::chrono::milliseconds(at - now);
  if (!arm_on_wheel(self, self->clock().now() + delay, wheel_timer::replica_tick))
    self->delayed_send(self, delay, replica_tick_atom::value);
}

void on_replica_metadata(self_ptr self, const partition_description& d) {
  auto& st = self->state;
  st.setup.state = d;
  if (!st.replica || d.leader_epoch < 0)
    return;
  st.replica->on_metadata(leadership_of(d, d.partition_epoch), wall_clock_ms());
  run_ready(self);
}

void run_ready(self_ptr self) {
  auto& st = self->state;
  if (!st.replica)
    return;
  while (st.replica->has_ready()) {
    auto r = st.replica->ready();
    if (r.restart_at)
      restart_log(self, *r.restart_at);
    if (r.truncate_to)
      truncate_log(self, *r.truncate_to);
    if (r.log_start_offset)
      advance_log_start(self, *r.log_start_offset);
    if (r.high_watermark) {
      st.high_watermark = *r.high_watermark;
      checkpoint_hw(self, false);
      wake_parked(self);
    }
    deliver_acks(self, r.acks);
    for (auto& a : r.alter_isr)
      send_alter_isr(self, a);
    if (r.offsets_for_epoch)
      send_epoch_query(self, *r.offsets_for_epoch);
    if (r.fetch)
      send_fetch(self, *r.fetch);
    if (r.role_changed) {
      auto role = st.replica->role();
      spdlog::info("{}: now {} (leader {}, leader epoch {}, log end {}, hw {})", where(st),
                   to_string(role), st.replica->leader_id(), st.replica->leader_epoch(),
                   st.log->log_end_offset(), st.high_watermark);
      if (role != replica_role::leader)
        fail_parked(self, make_error(errc::not_leader_or_follower,
                                     where(st) + ": no longer the leader"));
      else // a new epoch: what waited under an older one would read its records
        fail_parked_before_epoch(self, st.replica->leader_epoch());
      checkpoint_epochs(self);
    }
  }
  arm_replica_tick(self); // a new role may need it
}

caf::error check_follower_fetch(self_ptr self, const fetch_request& req) {
  auto& st = self->state;
  replica_fetch_request rf;
  rf.leader_id = st.setup.node_id;
  rf.replica_id = req.replica_id;
  rf.broker_epoch = req.replica_epoch;
  rf.current_leader_epoch = req.current_leader_epoch;
  rf.fetch_offset = req.offset;
  auto r = st.replica->on_fetch(rf, wall_clock_ms());
  run_ready(self); // the HW may have moved: acks, consumers
  if (r.error != errc::none)
    return make_error(r.error, where(st) + ": follower fetch from node " +
                                 std::to_string(req.replica_id) + " at offset " +
                                 std::to_string(req.offset) + " (its leader epoch " +
                                 std::to_string(req.current_leader_epoch) + ", ours " +
                                 std::to_string(st.replica->leader_epoch()) + ")");
  return caf::error{}; // the caller reads or parks
}

offsets_for_epoch_response on_epoch_query(self_ptr self, const offsets_for_epoch_request& req) {
  auto& st = self->state;
  if (!st.replica) {
    offsets_for_epoch_response resp;
    resp.current_leader_epoch = req.current_leader_epoch;
    resp.requested_epoch = req.requested_epoch;
    resp.error = errc::kafka_storage_error;
    return resp;
  }
  return st.replica->on_offsets_for_epoch(req); // changes nothing in the machine
}

caf::result<produce_response> wait_for_isr(self_ptr self, produce_response resp,
                                           int32_t timeout_ms, int64_t durable_upto) {
  auto& st = self->state;
  auto id = st.next_ack_id++; // produce_machine already handed it to the replica machine
  auto promise = self->make_response_promise<produce_response>();
  auto deadline = wall_clock_ms() + std::max(timeout_ms, 1);
  st.waiting.emplace(id, waiting_produce{promise, resp, deadline, durable_upto});
  arm_replica_tick(self); // its deadline
  run_ready(self);
  return promise;
}

namespace {

/// Answers every acks=all produce whose deadline has passed with
/// REQUEST_TIMED_OUT (at most one replica tick late).
void expire_acks(self_ptr self, int64_t now_ms) {
  auto& st = self->state;
  for (auto i = st.waiting.begin(); i != st.waiting.end();) {
    if (i->second.deadline_ms > now_ms) {
      ++i;
      continue;
    }
    if (st.replica)
      st.replica->cancel_wait(i->first);
    i->second.promise.deliver(make_error(
      errc::request_timed_out,
      where(st) + ": the in-sync replicas did not confirm the write in time (hw " +
        std::to_string(st.high_watermark) + ", ISR " +
        describe_ids(st.replica ? st.replica->maximal_isr() : std::vector<int32_t>{}) + ")"));
    i = st.waiting.erase(i);
  }
}

} // namespace

void replica_tick(self_ptr self) {
  auto& st = self->state;
  auto now = wall_clock_ms();
  if (st.replica) {
    st.replica->tick(now);
    run_ready(self);
  }
  expire_acks(self, now);
  st.replica_tick_timers.erase(st.replica_tick_timers.begin(),
                               st.replica_tick_timers.upper_bound(now + 5));
  arm_replica_tick(self);
}

} // namespace al
