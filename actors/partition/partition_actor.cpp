#include "actors/partition/partition_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/group/group_placement.hpp"
#include "actors/partition/partition_housekeeping.hpp"
#include "actors/partition/partition_state.hpp"
#include "actors/partition/produce_machine.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/record_batch.hpp"
#include "storage/topic_config.hpp"

namespace al {

namespace {

using self_ptr = partition_ptr;

/// Checks a producer's batch beyond the header, once (the CRC is not computed
/// again by the append), as Kafka's LogValidator does: max.message.bytes
/// before anything is decompressed, every record decodes (decompressed size
/// bounded), a compacted topic gets no null keys, timestamps within
/// message.timestamp.before/after.max.ms. Allocation-free for uncompressed
/// batches (the error prefix is built once per partition); compressed ones
/// reuse one decompression buffer per thread.
result<batch_header> check_produced_batch(const partition_state& st, const bytes& batch) {
  thread_local bytes scratch;
  const auto& log = st.setup.log;
  record_validation opts;
  opts.require_keys = log.policy.compact;
  opts.max_batch_bytes = size_t(std::max(log.max_message_bytes, 0));
  opts.max_decompressed_bytes = produce_max_decompressed_bytes(log.max_message_bytes);
  opts.now_ms = wall_clock_ms();
  opts.timestamp_before_max_ms = log.message_timestamp_before_max_ms;
  opts.timestamp_after_max_ms = log.message_timestamp_after_max_ms;
  auto h = validate_records(batch, opts, scratch, st.produce_where);
  if (scratch.capacity() > (size_t(4) << 20))
    bytes{}.swap(scratch); // do not keep a huge buffer after a rare big batch
  if (!h)
    return h.error();
  if (h->is_control())
    return status{errc::invalid_request, where(st) + ": clients cannot write control batches"};
  if (h->is_transactional() &&
      (!h->has_producer_id() || (h->base_sequence < 0 && st.setup.tp.topic != offsets_topic_name)))
    return status{errc::invalid_request,
                  where(st) + ": a transactional batch needs a producer id and sequence"};
  return h;
}

/// Runs produce_machine's decisions (produce_machine.hpp): this shell only
/// writes the batch and parks the acks=all answers.
caf::result<produce_response> on_produce(self_ptr self, produce_request& req) {
  auto& st = self->state;
  if (auto refused = check_writable(st))
    return refused;
  produce_params params;
  params.acks = req.acks;
  params.min_insync_replicas = min_insync_replicas(st);
  params.ack_id = st.next_ack_id;
  params.now_ms = wall_clock_ms();
  produce_machine machine{*st.replica, st.producers, st.produce_where};
  batch_header header;
  auto d = machine.admit(params, header, [&] { return check_produced_batch(st, req.batch); });
  produce_response resp;
  int64_t durable_upto = 0; // flush.messages: the answer waits for the fsync
  resp.record_count = header.records_count;
  if (d.what == produce_decision::action::append)
    if (auto err = append_admitted(self, machine, params, req.batch, header, d, resp,
                                   durable_upto))
      return err;
  return finish_produce(self, d, resp, req.timeout_ms, durable_upto);
}

caf::result<list_offsets_response> on_list_offsets(self_ptr self,
                                                   const list_offsets_request& req) {
  auto& st = self->state;
  if (!st.open_error.is_ok())
    return to_caf_error(st.open_error);
  if (!st.is_leader())
    return not_leader(st);
  // Kafka's other special timestamps; below -5 is a plain (empty) lookup.
  constexpr int64_t max_timestamp = -3;           // KIP-734
  constexpr int64_t earliest_local_timestamp = -4; // KIP-405: all is local here
  constexpr int64_t latest_tiered_timestamp = -5;  // KIP-1005: nothing is tiered
  list_offsets_response resp;
  if (req.timestamp == earliest_timestamp || req.timestamp == earliest_local_timestamp) {
    resp.offset = st.log->log_start_offset();
  } else if (req.timestamp == latest_timestamp) {
    resp.offset = req.isolation == fetch_isolation::read_committed
                    ? last_stable_offset(st)
                    : st.high_watermark;
  } else if (req.timestamp == latest_tiered_timestamp) {
    resp.offset = -1;
  } else {
    int64_t timestamp = req.timestamp;
    if (timestamp == max_timestamp) { // the first record with the largest timestamp
      for (const auto& seg : st.log->segments())
        timestamp = std::max(timestamp, seg.max_timestamp);
      if (timestamp < 0)
        return resp; // no record has a timestamp
    }
    auto found = st.log->lookup_by_timestamp(timestamp);
    if (!found)
      return to_caf_error(found.error());
    if (*found && found->value().offset < st.high_watermark) {
      resp.offset = found->value().offset;
      resp.timestamp = found->value().timestamp;
    }
  }
  return resp;
}

partition_description describe(const partition_state& st) {
  auto d = st.setup.state;
  if (st.replica && st.replica->role() == replica_role::leader)
    d.isr = st.replica->isr();
  if (st.log) {
    d.log_start_offset = st.log->log_start_offset();
    d.log_end_offset = st.log->log_end_offset();
    d.high_watermark = st.high_watermark;
  }
  return d;
}

/// Takes what open_partition_files found (here or on the I/O worker).
void adopt_opened(self_ptr self, opened_partition&& o) {
  auto& st = self->state;
  if (!o.log) {
    st.open_error = status{errc::kafka_storage_error,
                           where(st) + ": cannot open log: " + o.error.to_string()};
    spdlog::error("{}", st.open_error.message());
    return;
  }
  st.log = std::move(o.log);
  if (!o.report.events.empty())
    spdlog::warn("{}: recovered log: {}", where(st), o.report.to_string());
  if (o.producers) {
    st.producers = std::move(*o.producers);
    spdlog::debug("{}: producer state: {} producer(s), {}", where(st),
                  st.producers.producer_count(), o.producers_note);
  } else {
    spdlog::error("{}: producer state not rebuilt: {}", where(st),
                  o.producers.error().to_string());
  }
  if (st.setup.recovery_table) {
    st.log->defer_roll_syncs(bool(st.setup.io));
    st.log->defer_deletes(bool(st.setup.io));
    st.recovery_cell = st.setup.recovery_table->attach(st.setup.tp, st.log->flushed_offset());
    after_log_change(self); // segments scanned past the recovery point get synced
  }
  spdlog::debug("{}: opened, log [{}, {})", where(st), st.log->log_start_offset(),
                st.log->log_end_offset());
}

void start(self_ptr self) {
  auto& st = self->state;
  try {
    start_replica(self);
  } catch (...) {
    auto err = on_exception(st, "opening the log", std::current_exception());
    st.open_error = status{errc::kafka_storage_error, describe_error(err)};
    st.replica.reset(); // refuses every request with open_error
  }
}

} // namespace

caf::error check_writable(const partition_state& st) {
  if (!st.open_error.is_ok())
    return to_caf_error(st.open_error);
  if (!st.write_error.is_ok())
    return to_caf_error(st.write_error);
  if (!st.replica)
    return not_leader(st);
  return {};
}

int32_t min_insync_replicas(const partition_state& st) {
  return int32_t(topic_config_int(st.setup.topic_configs, "min.insync.replicas",
                                  st.setup.default_min_insync_replicas));
}

caf::error append_admitted(partition_ptr self, produce_machine& machine,
                           const produce_params& params, bytes& batch, const batch_header& header,
                           produce_decision& d, produce_response& resp, int64_t& durable_upto,
                           const txn_marker* marker) {
  auto& st = self->state;
  stamp_partition_leader_epoch(batch.data(), d.leader_epoch);
  const auto end_before = st.log->log_end_offset();
  checkpoint_epochs(self, end_before + 1); // this epoch is handed on with its first record
  auto info = st.log->append_validated(batch, header, params.now_ms);
  if (!info && st.log->log_end_offset() == end_before) { // nothing written
    if (info.error().code() == errc::kafka_storage_error) // disk full, no descriptors, ...
      spdlog::error("{}: append failed: {}", where(st), info.error().to_string());
    return to_caf_error(info.error());
  }
  if (!info) // in the log, not durable as the flush policy promised
    mark_write_failed(st, info.error());
  int64_t base = info ? info->base_offset : end_before;
  int64_t last = info ? info->last_offset : st.log->log_end_offset() - 1;
  d = machine.appended(params, read_batch_header(batch.data()), base, last,
                       st.log->log_end_offset(), info ? status::ok() : st.write_error, marker);
  if (d.aborted) // an ABORT marker: its segment's .txnindex names the transaction
    if (auto added = st.log->add_aborted(*d.aborted); !added)
      mark_write_failed(st, added);
  if (header.has_producer_id())
    note_producer_batch(self, batch.size());
  resp.record_count = int32_t(last - base + 1);
  durable_upto = info ? info->durable_upto : 0;
  after_log_change(self); // a roll's fsyncs go to the I/O worker
  wake_parked(self); // followers long-poll for the log end, not the HW: fetch it now
  return {};
}

caf::result<produce_response> finish_produce(partition_ptr self, const produce_decision& d,
                                             produce_response resp, int32_t timeout_ms,
                                             int64_t durable_upto) {
  auto& st = self->state;
  resp.base_offset = d.base_offset;
  resp.log_start_offset = st.log->log_start_offset(); // check_writable: the log is open
  switch (d.what) {
    case produce_decision::action::refuse:
      run_ready(self);
      return to_caf_error(d.error);
    case produce_decision::action::wait:
      return wait_for_isr(self, resp, timeout_ms, durable_upto);
    default:
      run_ready(self);
      return answer_when_durable(self, resp, durable_upto);
  }
}

void mark_write_failed(partition_state& st, const status& why) {
  if (!st.write_error.is_ok())
    return;
  st.write_error = status{errc::kafka_storage_error,
                          where(st) + ": writing the log failed (" + why.to_string() +
                            "); no more writes are accepted here until the node restarts"};
  spdlog::error("{}", st.write_error.message());
  // The fsync these wait for failed, or will never be trusted.
  for (auto& [upto, w] : st.durable_waits)
    w.promise.deliver(to_caf_error(st.write_error));
  st.durable_waits.clear();
}

caf::error not_leader(const partition_state& st) {
  auto leader = st.replica ? st.replica->leader_id() : st.setup.state.leader;
  return to_caf_error(not_leader_status(where(st), st.setup.node_id, leader));
}

caf::error on_exception(const partition_state& st, const char* what,
                        std::exception_ptr ex) noexcept {
  std::string why = "unknown exception";
  try {
    std::rethrow_exception(ex);
  } catch (const std::exception& e) {
    why = e.what();
  } catch (...) {
  }
  try {
    spdlog::error("{}: {} failed: {} (out of memory, file descriptors or threads?)", where(st),
                  what, why);
    return make_error(errc::kafka_storage_error, where(st) + ": " + what + " failed: " + why);
  } catch (...) {
    return make_error(errc::kafka_storage_error);
  }
}

partition_api::behavior_type partition_actor(self_ptr self, partition_setup setup) {
  // CAF 0.17 ends an actor whose handler throws (and with it the broker it
  // is linked to): every handler below runs guarded, this only logs what
  // slips through anyway.
  self->set_exception_handler([self](caf::scheduled_actor*, std::exception_ptr& ex) {
    return on_exception(self->state, "a handler", ex);
  });
  self->set_error_handler([self](caf::error& err) {
    spdlog::warn("{}: unexpected error message ignored: {}", where(self->state),
                 describe_error(err));
  });
  self->state.setup = std::move(setup);
  self->state.produce_where = "produce to " + where(self->state);
  auto& st = self->state;
  if (!st.setup.hw_table) { // no broker: a table of its own, in its folder
    st.setup.hw_table = std::make_shared<hw_checkpoint_table>(st.setup.dir);
    if (auto loaded = st.setup.hw_table->load(); !loaded)
      spdlog::warn("{}: {}", where(st), loaded.to_string());
  }
  open_partition_job job{st.setup.dir, st.setup.log};
  if (st.setup.recovery_table) // no entry (a new partition, an older node): scan it all
    job.recovery_point = st.setup.recovery_table->get(st.setup.tp).value_or(0);
  if (st.setup.io) {
    // Opening creates or recovers files (an fsync after a torn tail, file
    // creation that can take milliseconds on a busy file system): it runs
    // on the I/O worker. `await` keeps every other message in the mailbox
    // until the log is here, so nothing sees the partition half-open.
    self->request(st.setup.io, caf::infinite, open_log_atom::value, std::move(job))
      .await(
        [=](std::shared_ptr<opened_partition>& o) {
          adopt_opened(self, std::move(*o));
          start(self);
        },
        [=](caf::error& err) {
          auto& s = self->state;
          s.open_error = status{errc::kafka_storage_error,
                                where(s) + ": cannot open log: " + describe_error(err)};
          spdlog::error("{}", s.open_error.message());
        });
  } else {
    adopt_opened(self, open_partition_files(job));
    start(self);
  }
  arm_housekeeping(self, wall_clock_ms() + self->state.setup.housekeeping_interval_ms);
  return {
    [=](produce_atom, produce_request& req) {
      return guarded<produce_response>(self, "produce", [&] { return on_produce(self, req); });
    },
    [=](txn_marker_atom, const txn_marker_request& req) {
      return guarded<produce_response>(self, "transaction marker",
                                       [&] { return on_txn_marker(self, req); });
    },
    [=](fetch_atom, fetch_request& req) {
      return guarded<fetch_response>(self, "fetch", [&] { return on_fetch(self, req); });
    },
    [=](list_offsets_atom, const list_offsets_request& req) {
      return guarded<list_offsets_response>(self, "list offsets",
                                            [&] { return on_list_offsets(self, req); });
    },
    [=](stats_atom) {
      return guarded<partition_description>(
        self, "stats", [&]() -> caf::result<partition_description> {
          return describe(self->state);
        });
    },
    [=](config_atom, const config_map& configs) {
      guarded_void(self, "config change", [&] { on_config(self, configs); });
    },
    [=](metadata_update_atom, const partition_description& d) {
      guarded_void(self, "metadata update", [&] { on_replica_metadata(self, d); });
    },
    [=](epoch_query_atom, const offsets_for_epoch_request& req) {
      return guarded<offsets_for_epoch_response>(
        self, "OffsetsForLeaderEpoch",
        [&]() -> caf::result<offsets_for_epoch_response> { return on_epoch_query(self, req); });
    },
    [=](replica_tick_atom) { guarded_void(self, "replica tick", [&] { replica_tick(self); }); },
    [=](tick_atom) {
      auto& s = self->state;
      // The timers due by now have fired (a tick sent by hand fires none).
      s.housekeeping_timers.erase(s.housekeeping_timers.begin(),
                                  s.housekeeping_timers.upper_bound(wall_clock_ms() + 5));
      guarded_void(self, "housekeeping", [&] { housekeeping(self); });
      arm_housekeeping(self, housekeeping_due_ms(s, wall_clock_ms()));
    },
    [=](expire_atom, uint64_t timer) {
      guarded_void(self, "fetch expiry", [&] { expire_parked(self, timer); });
    },
    [=](flush_atom) {
      return guarded<bool>(self, "flush", [&] { return on_flush(self); });
    },
    [=](delete_atom) {
      return guarded<bool>(self, "delete", [&] { return on_delete(self); });
    },
  };
}

} // namespace al
