// Housekeeping and lifecycle of a partition actor (see
// partition_housekeeping.hpp).
#include "actors/partition/partition_housekeeping.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string_view>

#include <spdlog/spdlog.h>

#include "actors/partition/partition_actor.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/topic_config.hpp"

namespace al {
namespace {

using self_ptr = partition_ptr;

void log_compaction(const partition_state& st, const result<compaction_stats>& stats) {
  if (!stats)
    spdlog::error("{}: compaction failed: {}", where(st), stats.error().to_string());
  else if (stats->segments_cleaned > 0 || stats->segments_skipped > 0)
    spdlog::debug("{}: compacted {} segment(s) ({} skipped), {} -> {} bytes, {} aborted "
                  "record(s) and {} marker(s) removed",
                  where(st), stats->segments_cleaned, stats->segments_skipped,
                  stats->bytes_before, stats->bytes_after, stats->aborted_removed,
                  stats->markers_removed);
}

/// Compaction (records below the last stable offset only: committed, and
/// no open transaction's): planned here, run by the I/O worker (it reads
/// and rewrites whole segments), committed here. One at a time; without a
/// worker (tests) all three steps run in line. Markers past the newest
/// producer snapshot stay: a restart from it must find them.
void start_compaction(self_ptr self, int64_t now) {
  auto& st = self->state;
  if (st.compaction_running)
    return;
  auto snapshots = producer_snapshot_offsets(st.log->dir());
  int64_t marker_limit = snapshots.empty() ? partition_log::no_limit : snapshots.back();
  auto plan = st.log->plan_compaction(now, last_stable_offset(st), marker_limit);
  if (std::none_of(plan.segments.begin(), plan.segments.end(),
                   [](const compaction_source& s) { return s.clean; }))
    return; // nothing cleanable: do not read the log for nothing
  if (!st.setup.io) {
    log_compaction(st, st.log->compact(now, last_stable_offset(st), marker_limit));
    return;
  }
  st.compaction_running = true;
  compaction_job job{std::move(plan), st.fence, st.fence->generation};
  auto plan_copy = job.plan;
  self->request(st.setup.io, caf::infinite, compaction_atom::value, std::move(job))
    .then(
      [=](std::shared_ptr<compaction_done>& done) {
        auto& s = self->state;
        s.compaction_running = false;
        if (!s.log)
          return; // deleted meanwhile: the worker wrote nothing (fence)
        if (!done->output) {
          log_compaction(s, done->output.error());
          return;
        }
        guarded_void(self, "compaction commit", [&] {
          log_compaction(s, s.log->commit_compaction(plan_copy, *done->output));
        });
      },
      [=](caf::error& err) {
        self->state.compaction_running = false;
        spdlog::error("{}: compaction failed: {}", where(self->state), describe_error(err));
      });
}

} // namespace

/// When housekeeping has something to do next, from what is pending: a
/// moved HW (checkpoint), the flush policy, a producer snapshot, producer
/// expiry, retention or compaction. An idle partition wakes every 30 s at
/// most; `housekeeping_interval_ms` is the shortest wait.
int64_t housekeeping_due_ms(const partition_state& st, int64_t now) {
  constexpr int64_t idle_ms = 30000;
  int64_t due = now + idle_ms;
  if (!st.log)
    return due;
  const auto& log = st.setup.log;
  if (log.flush_ms != log_config::never)
    due = std::min(due, now + st.setup.housekeeping_interval_ms);
  if (periodic_snapshot_wanted(st))
    due = std::min(due, st.last_snapshot_ms + producer_snapshot_interval_ms);
  if (st.producers.producer_count() > 0)
    due = std::min(due, st.last_producer_expiry_ms +
                          std::min(st.setup.producer_id_expiration_check_ms,
                                   st.setup.producer_id_expiration_ms));
  if (log.policy.delete_segments || log.policy.compact)
    due = std::min(due, st.last_retention_check_ms + st.setup.retention_check_interval_ms);
  return std::max(due, now + st.setup.housekeeping_interval_ms);
}

void housekeeping(self_ptr self) {
  auto& st = self->state;
  if (!st.log)
    return;
  auto now = wall_clock_ms();
  if (auto flushed = st.log->maybe_flush(now); !flushed)
    mark_write_failed(st, flushed.error());
  after_log_change(self);
  if (now - st.last_producer_expiry_ms >=
      std::min(st.setup.producer_id_expiration_check_ms, st.setup.producer_id_expiration_ms)) {
    st.last_producer_expiry_ms = now;
    if (auto n = st.producers.expire(now, st.setup.producer_id_expiration_ms); n > 0) {
      st.producers_dirty = true;
      spdlog::debug("{}: {} idle producer id(s) expired (producer.id.expiration.ms {}), {} left",
                    where(st), n, st.setup.producer_id_expiration_ms,
                    st.producers.producer_count());
    }
  }
  if (periodic_snapshot_wanted(st) && now - st.last_snapshot_ms >= producer_snapshot_interval_ms) {
    // Taken here, written (fsync) by the I/O worker unless a truncation
    // voids it first (the fence).
    auto job = prepare_producer_snapshot(st.producers, *st.log, st.fence);
    if (st.setup.io) {
      caf::anon_send(st.setup.io, producer_snapshot_atom::value, std::move(job));
    } else if (auto saved = write_snapshot_job(job); !saved) {
      spdlog::error("{}: {}", where(st), saved.error().to_string());
    }
    producer_snapshot_taken(st);
    st.last_snapshot_ms = now;
  }
  if (now - st.last_retention_check_ms < st.setup.retention_check_interval_ms)
    return;
  st.last_retention_check_ms = now;
  if (st.setup.log.policy.delete_segments) {
    auto deleted = st.log->apply_retention(now, st.high_watermark); // never past the HW
    if (!deleted) {
      spdlog::error("{}: retention failed: {}", where(st), deleted.error().to_string());
    } else {
      for (auto& d : *deleted)
        spdlog::info("{}: deleted segment {} ({} bytes) by {}", where(st), d.base_offset,
                     d.size_bytes, d.reason);
      keep_open_transactions(st, deleted->size());
    }
    after_log_change(self); // the files go on the I/O worker
  }
  if (st.setup.log.policy.compact)
    start_compaction(self, now);
}

void on_config(self_ptr self, const config_map& configs) {
  auto& st = self->state;
  st.setup.topic_configs = configs;
  if (!st.log)
    return;
  // Recompute from the broker defaults the log was created with.
  auto cfg = apply_topic_configs(st.setup.log, configs);
  if (!cfg) {
    spdlog::error("{}: config rejected: {}", where(st), cfg.error().to_string());
    return;
  }
  st.setup.log = *cfg;
  st.log->set_config(*cfg);
  st.last_retention_check_ms = 0; // apply new retention at the next tick
}

caf::result<bool> on_flush(self_ptr self) {
  auto& st = self->state;
  if (!st.log)
    return true;
  if (!st.write_error.is_ok())
    return to_caf_error(st.write_error);
  if (auto s = st.log->flush(); !s) {
    mark_write_failed(st, s);
    return to_caf_error(st.write_error);
  }
  checkpoint_hw(self, true);
  if (st.producers_dirty) {
    if (auto saved = save_producer_state(st.producers, *st.log); !saved)
      return to_caf_error(saved);
    producer_snapshot_taken(st);
  }
  return true;
}

caf::result<bool> on_delete(self_ptr self) {
  auto& st = self->state;
  fail_parked(self, make_error(errc::unknown_topic_or_partition, where(st) + " deleted"));
  for (auto& [id, w] : st.waiting)
    w.promise.deliver(make_error(errc::unknown_topic_or_partition, where(st) + " deleted"));
  st.waiting.clear();
  for (auto& [upto, w] : st.durable_waits)
    w.promise.deliver(make_error(errc::unknown_topic_or_partition, where(st) + " deleted"));
  st.durable_waits.clear();
  st.replica.reset();
  st.producers_dirty = false;
  st.fence->advance(); // queued writes must not recreate files in the folder
  st.setup.hw_table->erase(st.setup.tp); // a re-created topic starts afresh
  st.hw_cell.reset();
  if (st.setup.recovery_table)
    st.setup.recovery_table->erase(st.setup.tp);
  st.recovery_cell.reset();
  if (st.log) {
    st.log->discard(); // no flush: the files go next
    st.log.reset();
  }
  // Renamed here (one metadata write), removed by the I/O worker after
  // any job of this partition still queued there (it may unlink many large
  // files). Inline without a worker, or when the rename fails.
  std::error_code ec;
  auto doomed = deleted_dir_name(st.setup.dir);
  std::filesystem::rename(st.setup.dir, doomed, ec);
  if (ec && std::filesystem::exists(st.setup.dir)) {
    spdlog::warn("{}: cannot rename {} for deletion: {}", where(st), st.setup.dir, ec.message());
    doomed = st.setup.dir;
  }
  if (st.setup.io) {
    caf::anon_send(st.setup.io, remove_dir_atom::value, doomed);
  } else {
    std::filesystem::remove_all(doomed, ec);
    if (ec)
      spdlog::error("{}: cannot remove {}: {}", where(st), doomed, ec.message());
  }
  self->quit();
  return true;
}

void arm_housekeeping(self_ptr self, int64_t due_ms) {
  auto& st = self->state;
  if (!st.housekeeping_timers.empty() && *st.housekeeping_timers.begin() <= due_ms)
    return; // an earlier one will reschedule
  st.housekeeping_timers.insert(due_ms);
  auto delay = std::chrono::milliseconds(std::max<int64_t>(due_ms - wall_clock_ms(), 1));
  if (!arm_on_wheel(self, self->clock().now() + delay, wheel_timer::housekeeping))
    self->delayed_send(self, delay, tick_atom::value);
}

void note_producer_batch(self_ptr self, size_t batch_bytes) {
  auto& st = self->state;
  bool wanted_before = periodic_snapshot_wanted(st);
  st.producers_dirty = true;
  st.unsnapshotted_bytes += int64_t(batch_bytes);
  if (!wanted_before && periodic_snapshot_wanted(st))
    arm_housekeeping(self, housekeeping_due_ms(st, wall_clock_ms()));
}

bool arm_on_wheel(self_ptr self, caf::actor_clock::time_point at, wheel_timer kind, uint64_t key) {
  auto& setup = self->state.setup;
  if (!setup.timer_wheel || !setup.timer_sweeper)
    return false;
  if (setup.timer_wheel->add(wheel_time(at), caf::actor_cast<caf::actor>(self), key,
                             uint8_t(kind)))
    caf::anon_send(setup.timer_sweeper, tick_atom::value); // earlier than it is armed for
  return true;
}

std::string deleted_dir_name(const std::string& dir) {
  static std::atomic<uint64_t> counter{0};
  auto stamp = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  return dir + "." + std::to_string(stamp) + "-" + std::to_string(counter++) + "-delete";
}

bool is_deleted_dir_name(const std::string& name) {
  constexpr std::string_view tail = "-delete";
  return name.size() > tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
}

} // namespace al
