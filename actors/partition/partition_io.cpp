// A partition's blocking file work off the scheduler: opening (recovering)
// its log, and the node's I/O workers (io_worker_actor, num.io.threads),
// which open logs, write producer-state snapshots (each partition always
// on the same worker) and the node's HW table (issue 15).
#include <filesystem>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition/partition_state.hpp"
#include "actors/partition/replica_checkpoint_files.hpp"
#include "actors/protocol/atoms.hpp"

namespace al {

opened_partition open_partition_files(const open_partition_job& job) {
  opened_partition out;
  try {
    auto opened = partition_log::open(job.dir, job.log, wall_clock_ms(), &out.report,
                                      job.recovery_point);
    if (!opened) {
      out.error = opened.error();
      return out;
    }
    out.log = std::move(*opened);
    // A new partition gets its (empty) leader-epoch-checkpoint now, with
    // its other files, as Kafka's does: its first record then rewrites it
    // in place instead of creating a file (10 000 partitions producing for
    // the first time spent their first seconds in ext4's inode allocator).
    if (out.log->log_start_offset() == out.log->log_end_offset() &&
        !path_exists(join_path(job.dir, epoch_checkpoint_name)))
      if (auto st = save_epoch_checkpoint(job.dir, leader_epoch_cache{}); !st)
        spdlog::warn("leader-epoch-checkpoint in {} not created: {}", job.dir, st.to_string());
    out.producers = load_producer_state(*out.log, &out.producers_note, wall_clock_ms());
  } catch (const std::exception& e) {
    out.log.reset();
    out.error = status{errc::kafka_storage_error, std::string{"opening the log failed: "} + e.what()};
  } catch (...) {
    out.log.reset();
    out.error = status{errc::kafka_storage_error, "opening the log failed"};
  }
  return out;
}

caf::behavior io_worker_actor(caf::event_based_actor* self) {
  self->set_error_handler([](caf::error&) {}); // nothing it sends expects an answer
  return {
    [](hw_checkpoint_atom, const hw_table_job& job) {
      if (auto st = job.table->write(false); !st)
        spdlog::warn("{} not written: {}", job.table->path(), st.to_string());
    },
    [](epoch_checkpoint_atom, const epoch_checkpoint_job& job) {
      job.fence->if_current(job.generation, [&] {
        if (auto st = save_epoch_checkpoint(job.dir, job.cache); !st)
          spdlog::warn("leader-epoch-checkpoint in {} not written: {}", job.dir, st.to_string());
      });
    },
    [](compaction_atom, const compaction_job& job) {
      // Checked before and after, not held while it runs (a truncation or
      // deletion of the partition would wait on it). Output made while the
      // partition was deleted is removed; one made across a truncation is
      // discarded by commit_compaction.
      auto done = std::make_shared<compaction_done>();
      if (!job.fence->is_current(job.generation)) {
        done->output = status{errc::unknown_topic_or_partition, job.plan.dir + ": changed"};
        return done;
      }
      done->output = run_compaction(job.plan);
      if (done->output && !job.fence->is_current(job.generation)) {
        for (const auto& c : done->output->segments)
          (void)remove_file(c.cleaned_path);
        done->output = status{errc::unknown_topic_or_partition, job.plan.dir + ": changed"};
      }
      return done;
    },
    [](segment_sync_atom, const segment_sync_job& job) {
      auto done = run_segment_sync(job);
      if (!done)
        spdlog::error("segment {} in {} not synced: {}", job.base_offset, job.dir, done.to_string());
      return done ? std::string{} : done.to_string();
    },
    [](segment_sync_atom, const spare_files_job& job) { // the next roll's files
      auto made = run_spare_files(job);
      if (!made)
        spdlog::warn("spare segment files in {} not created: {}", job.dir, made.to_string());
      return bool(made);
    },
    [](delete_files_atom, const file_delete_job& job) {
      if (auto st = run_file_delete(job); !st)
        spdlog::error("deleting {} file(s) in {}: {}", job.paths.size(), job.dir, st.to_string());
    },
    [](remove_dir_atom, const std::string& dir) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      if (ec)
        spdlog::error("cannot remove {}: {}", dir, ec.message());
    },
    [](open_log_atom, const open_partition_job& job) {
      return std::make_shared<opened_partition>(open_partition_files(job));
    },
    [](producer_snapshot_atom, const producer_snapshot_job& job) {
      auto written = write_snapshot_job(job);
      if (!written)
        spdlog::error("producer state snapshot in {} at {} not written: {}", job.dir, job.covers,
                      written.error().to_string());
      else if (!*written)
        spdlog::debug("producer state snapshot in {} at {} voided by a truncation", job.dir,
                      job.covers);
    },
  };
}

} // namespace al
