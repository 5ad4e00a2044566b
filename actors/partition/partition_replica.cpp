// The partition actor's replication half: it drives the pure
// replica_machine (replica_machine.hpp) and executes what ready() asks, in
// the machine's order: cut the log, expose the HW, answer acks=all waits,
// send AlterPartition to the controller, send OffsetsForLeaderEpoch or the
// next fetch to the leader. Follower requests go through the node's broker,
// which holds the connections to the other brokers (peer_atom).
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

namespace {

using self_ptr = partition_ptr;

/// A follower fetch parks at the leader up to this long when it is caught
/// up; the leader answers as soon as a produce lands.
/// How long a follower's fetch waits at the leader when there is nothing
/// new. The leader answers it at once when records arrive or its HW moves
/// (wake_parked), so this only sets the idle cost: every partition
/// replica pays a fetch round trip per wait (Kafka's replica.fetch.wait.max.ms
/// is 500 ms, but per broker pair, not per partition). 500 ms cost three
/// idle nodes with 3000 partitions half of each node's CPU (issue 15).
constexpr int32_t follower_max_wait_ms = 5000;
constexpr int64_t replica_request_timeout_ms = 2000;
constexpr int64_t replica_tick_interval_ms = 200; // the finest a replica tick gets

broker_api broker_of(const partition_state& st) {
  return caf::actor_cast<broker_api>(st.setup.broker);
}

/// The code a failed fetch or OffsetsForLeaderEpoch reports to the machine:
/// never NONE, a failure without a code counts as a lost connection.
errc replica_request_error(const caf::error& err) {
  auto code = error_code_of(err);
  return code == errc::none ? errc::network_exception : code;
}

/// Rebuilds the machine from what is on disk (start, or after a failed
/// follower append left the machine ahead of the log).
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

/// After the log was cut: the producer state is what the remaining log
/// says, rebuilt (never trimmed: a producer whose remembered batches were
/// all cut still has older batches in the log, and their retries must stay
/// duplicates), and no snapshot above the new end survives to be loaded
/// after a restart (issue 12, items 1 and 4). Without it the partition
/// cannot tell retries from new batches: it stops serving until restarted.
void rebuild_producer_state(self_ptr self) {
  auto& st = self->state;
  std::string note;
  // No snapshot queued before this may land after it (it may cover records
  // the truncation took).
  auto rebuilt = st.fence->advance(
    [&] { return load_producer_state(*st.log, &note, wall_clock_ms()); });
  if (!rebuilt) {
    st.open_error = status{errc::kafka_storage_error,
                           where(st) + ": producer state not rebuilt after truncation: " +
                             rebuilt.error().to_string()};
    spdlog::error("{}", st.open_error.message());
    return;
  }
  st.producers = std::move(*rebuilt);
  st.producers_dirty = false; // what the files say, exactly
  spdlog::debug("{}: producer state rebuilt: {} producer(s), {}", where(st),
                st.producers.producer_count(), note);
}

void truncate_log(self_ptr self, int64_t offset) {
  auto& st = self->state;
  spdlog::info("{}: truncating log from {} to {} (leader epoch {})", where(st),
               st.log->log_end_offset(), offset, st.replica->leader_epoch());
  if (auto s = st.log->truncate_to(offset); !s) {
    // The machine fetches nothing until it hears where the log ends.
    st.open_error = status{errc::kafka_storage_error,
                           where(st) + ": truncation to " + std::to_string(offset) +
                             " failed: " + s.to_string()};
    spdlog::error("{}", st.open_error.message());
    return;
  }
  if (st.log->log_end_offset() < offset)
    spdlog::info("{}: offset {} was inside a batch, cut whole: the log ends at {}", where(st),
                 offset, st.log->log_end_offset());
  st.replica->on_truncated(st.log->log_end_offset(), wall_clock_ms());
  rebuild_producer_state(self);
  checkpoint_epochs(self);
  after_log_change(self);
}

/// The leader's log starts past ours: start over, empty, at its log start.
void restart_log(self_ptr self, int64_t offset) {
  auto& st = self->state;
  spdlog::warn("{}: log [{}, {}) is behind the leader's log start {}: restarting it there",
               where(st), st.log->log_start_offset(), st.log->log_end_offset(), offset);
  // Snapshots first: a crash in between leaves the old log and no snapshot
  // (rebuilt by a scan), never a snapshot of the old log on the new one.
  auto s = st.fence->advance([&] {
    auto removed = remove_producer_snapshots(*st.log);
    return removed ? st.log->truncate_fully_and_start_at(offset) : removed;
  });
  if (!s) {
    st.open_error = status{errc::kafka_storage_error,
                           where(st) + ": restart at " + std::to_string(offset) +
                             " failed: " + s.to_string()};
    spdlog::error("{}", st.open_error.message());
    return;
  }
  rebuild_producer_state(self);
  checkpoint_epochs(self);
  after_log_change(self);
}

/// The leader's log start, taken from a fetch answer: what this log kept
/// below it is never read again (Kafka's maybeIncrementLogStartOffset).
void advance_log_start(self_ptr self, int64_t offset) {
  auto& st = self->state;
  auto deleted = st.log->advance_log_start(offset);
  if (!deleted) {
    st.open_error = status{errc::kafka_storage_error,
                           where(st) + ": log start not raised to " + std::to_string(offset) +
                             ": " + deleted.error().to_string()};
    spdlog::error("{}", st.open_error.message());
    return;
  }
  keep_open_transactions(st, deleted->size());
  after_log_change(self);
  spdlog::debug("{}: log start raised to {} with the leader's, {} segment(s) deleted", where(st),
                st.log->log_start_offset(), deleted->size());
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

void send_epoch_query(self_ptr self, const offsets_for_epoch_request& req) {
  auto& st = self->state;
  if (!st.setup.broker)
    return;
  if (st.log && st.log->truncation_unsynced()) { // the cut is not on disk yet
    st.held_requests.push_back([self, req] { send_epoch_query(self, req); });
    return;
  }
  self->request(broker_of(st), std::chrono::milliseconds(replica_request_timeout_ms),
                peer_atom::value, req.leader_id, st.setup.tp, req)
    .then(
      [self](const offsets_for_epoch_response& resp) {
        guarded_void(self, "OffsetsForLeaderEpoch answer", [&] {
          if (!self->state.replica)
            return;
          self->state.replica->on_offsets_for_epoch_response(resp, wall_clock_ms());
          run_ready(self);
        });
      },
      [self, req](caf::error& err) {
        guarded_void(self, "OffsetsForLeaderEpoch failure", [&] {
          if (!self->state.replica)
            return;
          offsets_for_epoch_response resp;
          resp.current_leader_epoch = req.current_leader_epoch;
          resp.requested_epoch = req.requested_epoch;
          resp.error = replica_request_error(err);
          self->state.replica->on_offsets_for_epoch_response(resp, wall_clock_ms());
          run_ready(self);
        });
      });
}

/// The batches of a fetch answer the follower appends: those at or after
/// `from`, whole, each seen by the machine as continuing the log (a gap
/// left by compaction counts as part of the next batch).
result<std::vector<fetched_batch>> split_batches(const bytes& records, int64_t from,
                                                 size_t& skip, size_t& take) {
  std::vector<fetched_batch> out;
  byte_view rest{records};
  size_t pos = 0;
  skip = take = 0;
  int64_t next = from;
  while (rest.size >= batch_layout::header_size) {
    auto h = parse_batch_header(rest, "fetched batch");
    if (!h)
      return h.error();
    if (h->size_in_bytes() > rest.size)
      break; // a partial batch at the end: fetched next time
    if (h->last_offset() < next) {
      pos += h->size_in_bytes();
      skip = pos;
    } else {
      if (h->base_offset < next)
        return status{errc::corrupt_message, "fetched batch " + std::to_string(h->base_offset) +
                                               " starts inside the log end " +
                                               std::to_string(next)};
      out.push_back({std::max(h->partition_leader_epoch, 0), next, h->last_offset()});
      next = h->last_offset() + 1;
      pos += h->size_in_bytes();
      take = pos - skip;
    }
    rest = rest.sub(h->size_in_bytes(), rest.size - h->size_in_bytes());
  }
  return out;
}

void on_fetched(self_ptr self, const fetch_request& req, fetch_response& resp) {
  auto& st = self->state;
  if (!st.replica || !st.log)
    return;
  replica_fetch_response r;
  r.current_leader_epoch = req.current_leader_epoch;
  r.fetch_offset = req.offset;
  r.high_watermark = resp.high_watermark;
  r.log_end_offset = resp.log_end_offset;
  r.log_start_offset = resp.log_start_offset;
  size_t skip = 0, take = 0;
  auto batches = split_batches(resp.records, req.offset, skip, take);
  if (!batches) {
    spdlog::error("{}: bad fetch answer from node {}: {}", where(st),
                  st.replica->leader_id(), batches.error().to_string());
    r.error = errc::corrupt_message;
    st.replica->on_fetch_response(r, {}, wall_clock_ms());
    run_ready(self);
    return;
  }
  if (!st.replica->on_fetch_response(r, *batches, wall_clock_ms())) {
    run_ready(self);
    return;
  }
  if (!batches->empty()) {
    checkpoint_epochs(self, st.replica->log_end_offset()); // a new epoch is handed on with its records
    byte_view data{resp.records.data() + skip, take};
    auto appended = [&]() -> result<append_info> {
      try {
        return st.log->append_as_follower(data, wall_clock_ms());
      } catch (...) { // the machine counted these batches: it must start over too
        auto err = on_exception(st, "follower append", std::current_exception());
        return status{errc::kafka_storage_error, describe_error(err)};
      }
    }();
    if (!appended) {
      // Some batches may be in the log (a failed fsync after the write, a
      // failure on a later batch): machine and producer state start again
      // from what the files hold, so neither counts what is not there nor
      // misses what is.
      spdlog::error("{}: follower append failed, resetting replica state: {}", where(st),
                    appended.error().to_string());
      if (appended.error().code() == errc::kafka_storage_error)
        mark_write_failed(st, appended.error());
      rebuild_producer_state(self);
      reset_machine(self);
      run_ready(self);
      return;
    }
    byte_view rest = data;
    while (rest.size >= batch_layout::header_size) {
      auto h = read_batch_header(rest.data);
      if (h.has_producer_id()) {
        auto batch = rest.sub(0, std::min(h.size_in_bytes(), rest.size));
        on_batch_appended(self, h, batch);
        st.producers_dirty = true;
      }
      rest = rest.sub(h.size_in_bytes(), rest.size - h.size_in_bytes());
    }
    after_log_change(self);
  }
  run_ready(self);
}

void send_fetch(self_ptr self, const replica_fetch_request& rf) {
  auto& st = self->state;
  if (!st.setup.broker)
    return;
  if (st.log && st.log->truncation_unsynced()) { // nothing written past the cut before it is on disk
    st.held_requests.push_back([self, rf] { send_fetch(self, rf); });
    return;
  }
  fetch_request req;
  req.topic = st.setup.tp.topic;
  req.partition = st.setup.tp.partition;
  req.offset = rf.fetch_offset;
  req.max_bytes = std::max<int32_t>(st.setup.replica_fetch_max_bytes, 1);
  req.min_bytes = 1;
  req.max_wait_ms = follower_max_wait_ms;
  req.replica_id = st.setup.node_id;
  req.current_leader_epoch = rf.current_leader_epoch;
  req.replica_epoch = rf.broker_epoch;
  self->request(broker_of(st),
                std::chrono::milliseconds(follower_max_wait_ms + replica_request_timeout_ms),
                peer_atom::value, rf.leader_id, req)
    .then(
      [self, req](fetch_response& resp) {
        guarded_void(self, "replica fetch answer", [&] { on_fetched(self, req, resp); });
      },
      [self, req](caf::error& err) {
        guarded_void(self, "replica fetch failure", [&] {
          auto& state = self->state;
          if (!state.replica)
            return;
          replica_fetch_response r;
          r.current_leader_epoch = req.current_leader_epoch;
          r.fetch_offset = req.offset;
          r.error = replica_request_error(err);
          spdlog::debug("{}: fetch from node {} failed: {}", where(state),
                        state.replica->leader_id(), describe_error(err));
          state.replica->on_fetch_response(r, {}, wall_clock_ms());
          run_ready(self);
        });
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
