// The follower's side of replication (the replica_machine asks for it,
// partition_replica.cpp executes): OffsetsForLeaderEpoch and fetches to the
// leader, appending what a fetch brings, and the log changes the leader's
// answers call for (a cut, a restart at the leader's log start, a raised
// log start), each followed by the producer state the remaining log holds.
// A cut not yet on disk holds the next request (partition_log's
// truncation_unsynced).
#include <algorithm>
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_api.hpp"
#include "actors/partition/partition_state.hpp"
#include "actors/partition/producer_state_store.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/record_batch.hpp"

namespace al {

using self_ptr = partition_ptr;

namespace {

broker_api broker_of(const partition_state& st) {
  return caf::actor_cast<broker_api>(st.setup.broker);
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
        note_producer_batch(self, batch.size);
      }
      rest = rest.sub(h.size_in_bytes(), rest.size - h.size_in_bytes());
    }
    after_log_change(self);
  }
  run_ready(self);
}

} // namespace

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

} // namespace al
