#include "actors/partition/partition_actor.hpp"

#include <chrono>
#include <filesystem>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition/partition_state.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/record_batch.hpp"
#include "storage/topic_config.hpp"

namespace al {

namespace {

using self_ptr = partition_ptr;

/// Checks a producer's batch beyond the header, once (the CRC is not computed
/// again by the append): every record decodes, and a compacted topic gets no
/// null keys (Kafka rejects those too). Allocation-free for uncompressed
/// batches (the error prefix is built once per partition); compressed ones
/// reuse one decompression buffer per thread.
result<batch_header> check_produced_batch(const partition_state& st, const bytes& batch) {
  thread_local bytes scratch;
  record_validation opts;
  opts.require_keys = st.setup.log.policy.compact;
  auto h = validate_records(batch, opts, scratch, st.produce_where);
  if (scratch.capacity() > (size_t(4) << 20))
    bytes{}.swap(scratch); // do not keep a huge buffer after a rare big batch
  if (!h)
    return h.error();
  if (h->is_control())
    return status{errc::invalid_request, where(st) + ": clients cannot write control batches"};
  return h;
}

/// The upper bound a fetcher may read to: consumers stop at the high
/// watermark, followers read everything the leader has.
int64_t fetch_limit(const partition_state& st, const fetch_request& req) {
  return req.replica_id >= 0 ? st.log->log_end_offset() : st.high_watermark;
}

result<fetch_response> read_now(const partition_state& st, const fetch_request& req) {
  fetch_response resp;
  resp.high_watermark = st.high_watermark;
  resp.log_start_offset = st.log->log_start_offset();
  resp.log_end_offset = st.log->log_end_offset();
  auto limit = fetch_limit(st, req);
  if (req.offset >= limit)
    return resp; // nothing visible yet
  auto data = st.log->read(req.offset, size_t(std::max<int32_t>(req.max_bytes, 1)), limit);
  if (!data)
    return data.error();
  resp.records = std::move(*data);
  return resp;
}

caf::error not_leader(const partition_state& st) {
  auto leader = st.replica ? st.replica->leader_id() : st.setup.state.leader;
  return make_error(errc::not_leader_or_follower,
                    where(st) + ": not the leader here (node " + std::to_string(st.setup.node_id) +
                      "); leader is " +
                      (leader < 0 ? std::string{"unknown"} : "node " + std::to_string(leader)));
}

caf::result<produce_response> on_produce(self_ptr self, produce_request& req) {
  auto& st = self->state;
  if (!st.open_error.is_ok())
    return to_caf_error(st.open_error);
  if (!st.is_leader())
    return not_leader(st);
  auto min_isr = int32_t(topic_config_int(st.setup.topic_configs, "min.insync.replicas",
                                          st.setup.default_min_insync_replicas));
  if (req.acks == acks_mode::all && !st.replica->can_accept_acks_all(min_isr))
    return make_error(errc::not_enough_replicas,
                      where(st) + ": " + std::to_string(st.replica->isr().size()) +
                        " in-sync replica(s) " + describe_ids(st.replica->isr()) +
                        ", min.insync.replicas=" + std::to_string(min_isr));
  auto header = check_produced_batch(st, req.batch);
  if (!header)
    return to_caf_error(header.error());
  produce_response resp;
  resp.log_start_offset = st.log->log_start_offset();
  resp.record_count = header->records_count;
  if (header->has_producer_id()) {
    auto d = st.producers.check(*header);
    if (d.kind == producer_state_table::verdict::duplicate) {
      resp.base_offset = d.duplicate_base_offset; // a retry: answer as the first time
      auto last = d.duplicate_base_offset + header->last_offset_delta;
      if (req.acks == acks_mode::all && last >= st.high_watermark)
        return wait_for_isr(self, resp, last, min_isr, req.timeout_ms);
      return resp;
    }
    if (d.kind == producer_state_table::verdict::reject)
      return make_error(d.error.code(), where(st) + ": " + d.error.message());
  }
  stamp_partition_leader_epoch(req.batch.data(), st.replica->leader_epoch());
  auto info = st.log->append_validated(req.batch, *header, wall_clock_ms());
  if (!info)
    return to_caf_error(info.error());
  if (header->has_producer_id()) {
    st.producers.on_append(read_batch_header(req.batch.data())); // stamped: real offsets
    st.producers_dirty = true;
  }
  resp.base_offset = info->base_offset;
  resp.record_count = int32_t(info->last_offset - info->base_offset + 1);
  st.replica->on_append(st.log->log_end_offset());
  wake_parked(self); // followers long-poll for the log end, not the HW: fetch it now
  if (req.acks == acks_mode::all)
    return wait_for_isr(self, resp, info->last_offset, min_isr, req.timeout_ms);
  run_ready(self);
  return resp;
}

caf::result<fetch_response> on_fetch(self_ptr self, fetch_request& req) {
  auto& st = self->state;
  if (!st.open_error.is_ok())
    return to_caf_error(st.open_error);
  if (req.replica_id >= 0) {
    if (auto err = check_follower_fetch(self, req))
      return err;
  } else if (!st.is_leader()) {
    return not_leader(st);
  }
  if (req.offset < st.log->log_start_offset() || req.offset > st.log->log_end_offset())
    return make_error(errc::offset_out_of_range,
                      where(st) + ": offset " + std::to_string(req.offset) + " is outside [" +
                        std::to_string(st.log->log_start_offset()) + ", " +
                        std::to_string(st.log->log_end_offset()) + "]");
  auto resp = read_now(st, req);
  if (!resp)
    return to_caf_error(resp.error());
  if (int64_t(resp->records.size()) >= std::max<int32_t>(req.min_bytes, 1) ||
      req.max_wait_ms <= 0)
    return std::move(*resp);
  // Long poll: park until enough data arrives or fetch.max.wait.ms passes.
  auto id = st.next_fetch_id++;
  auto promise = self->make_response_promise<fetch_response>();
  st.parked.emplace(id, parked_fetch{req, promise});
  self->delayed_send(self, std::chrono::milliseconds(req.max_wait_ms), expire_atom::value, id);
  return promise;
}

caf::result<list_offsets_response> on_list_offsets(self_ptr self,
                                                   const list_offsets_request& req) {
  auto& st = self->state;
  if (!st.open_error.is_ok())
    return to_caf_error(st.open_error);
  if (!st.is_leader())
    return not_leader(st);
  list_offsets_response resp;
  if (req.timestamp == earliest_timestamp) {
    resp.offset = st.log->log_start_offset();
  } else if (req.timestamp == latest_timestamp) {
    resp.offset = st.high_watermark;
  } else {
    auto found = st.log->lookup_by_timestamp(req.timestamp);
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

void housekeeping(self_ptr self) {
  auto& st = self->state;
  if (!st.log)
    return;
  auto now = wall_clock_ms();
  checkpoint_hw(self, now, false);
  if (auto flushed = st.log->maybe_flush(now); !flushed)
    spdlog::error("{}: flush failed: {}", where(st), flushed.error().to_string());
  if (st.producers_dirty && now - st.last_snapshot_ms >= 30000) {
    if (auto saved = save_producer_state(st.producers, *st.log); !saved)
      spdlog::error("{}: {}", where(st), saved.to_string());
    st.producers_dirty = false;
    st.last_snapshot_ms = now;
  }
  if (now - st.last_retention_check_ms < st.setup.retention_check_interval_ms)
    return;
  st.last_retention_check_ms = now;
  if (st.setup.log.policy.delete_segments) {
    auto deleted = st.log->apply_retention(now);
    if (!deleted)
      spdlog::error("{}: retention failed: {}", where(st), deleted.error().to_string());
    else
      for (auto& d : *deleted)
        spdlog::info("{}: deleted segment {} ({} bytes) by {}", where(st), d.base_offset,
                     d.size_bytes, d.reason);
  }
  if (st.setup.log.policy.compact) {
    auto stats = st.log->compact(now);
    if (!stats)
      spdlog::error("{}: compaction failed: {}", where(st), stats.error().to_string());
  }
}

void open_log(self_ptr self) {
  auto& st = self->state;
  recovery_report report;
  auto opened = partition_log::open(st.setup.dir, st.setup.log, wall_clock_ms(), &report);
  if (!opened) {
    st.open_error = status{errc::kafka_storage_error,
                           where(st) + ": cannot open log: " + opened.error().to_string()};
    spdlog::error("{}", st.open_error.message());
    return;
  }
  st.log = std::move(*opened);
  if (!report.events.empty())
    spdlog::warn("{}: recovered log: {}", where(st), report.to_string());
  std::string note;
  auto producers = load_producer_state(*st.log, &note);
  if (producers) {
    st.producers = std::move(*producers);
    spdlog::debug("{}: producer state: {} producer(s), {}", where(st),
                  st.producers.producer_count(), note);
  } else {
    spdlog::error("{}: producer state not rebuilt: {}", where(st), producers.error().to_string());
  }
  spdlog::debug("{}: opened, log [{}, {})", where(st), st.log->log_start_offset(),
                st.log->log_end_offset());
}

} // namespace

/// Answers parked fetches that now have enough data.
void wake_parked(partition_ptr self) {
  auto& st = self->state;
  for (auto i = st.parked.begin(); i != st.parked.end();) {
    auto& pf = i->second;
    if (pf.req.offset >= fetch_limit(st, pf.req)) {
      ++i;
      continue;
    }
    auto resp = read_now(st, pf.req);
    if (!resp) {
      pf.promise.deliver(to_caf_error(resp.error()));
    } else if (int64_t(resp->records.size()) >= pf.req.min_bytes) {
      pf.promise.deliver(std::move(*resp));
    } else {
      ++i;
      continue;
    }
    i = st.parked.erase(i);
  }
}

void fail_parked(partition_ptr self, const caf::error& why) {
  auto parked = std::move(self->state.parked);
  self->state.parked.clear();
  for (auto& [id, pf] : parked)
    pf.promise.deliver(why);
}

partition_api::behavior_type partition_actor(self_ptr self, partition_setup setup) {
  self->state.setup = std::move(setup);
  self->state.produce_where = "produce to " + where(self->state);
  open_log(self);
  start_replica(self);
  self->set_error_handler([self](caf::error& err) {
    spdlog::warn("{}: unexpected error message ignored: {}", where(self->state),
                 describe_error(err));
  });
  self->delayed_send(self, std::chrono::milliseconds(self->state.setup.housekeeping_interval_ms),
                     tick_atom::value);
  return {
    [=](produce_atom, produce_request& req) { return on_produce(self, req); },
    [=](fetch_atom, fetch_request& req) { return on_fetch(self, req); },
    [=](list_offsets_atom, const list_offsets_request& req) { return on_list_offsets(self, req); },
    [=](stats_atom) { return describe(self->state); },
    [=](config_atom, const config_map& configs) {
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
    },
    [=](metadata_update_atom, const partition_description& d) {
      on_replica_metadata(self, d);
    },
    [=](epoch_query_atom, const offsets_for_epoch_request& req) {
      return on_epoch_query(self, req);
    },
    [=](replica_tick_atom) { replica_tick(self); },
    [=](tick_atom) {
      housekeeping(self);
      self->delayed_send(self,
                         std::chrono::milliseconds(self->state.setup.housekeeping_interval_ms),
                         tick_atom::value);
    },
    [=](expire_atom, uint64_t id) {
      auto& st = self->state;
      auto i = st.parked.find(id);
      if (i == st.parked.end())
        return;
      auto resp = st.log ? read_now(st, i->second.req) : result<fetch_response>(st.open_error);
      if (resp)
        i->second.promise.deliver(std::move(*resp));
      else
        i->second.promise.deliver(to_caf_error(resp.error()));
      st.parked.erase(i);
    },
    [=](flush_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.log)
        return true;
      if (auto s = st.log->flush(); !s)
        return to_caf_error(s);
      checkpoint_hw(self, wall_clock_ms(), true);
      if (st.producers_dirty) {
        if (auto saved = save_producer_state(st.producers, *st.log); !saved)
          return to_caf_error(saved);
        st.producers_dirty = false;
      }
      return true;
    },
    [=](delete_atom) -> caf::result<bool> {
      auto& st = self->state;
      fail_parked(self, make_error(errc::unknown_topic_or_partition, where(st) + " deleted"));
      for (auto& [id, w] : st.waiting)
        w.promise.deliver(make_error(errc::unknown_topic_or_partition, where(st) + " deleted"));
      st.waiting.clear();
      st.replica.reset();
      st.producers_dirty = false;
      if (st.log) {
        (void)st.log->close();
        st.log.reset();
      }
      std::error_code ec;
      std::filesystem::remove_all(st.setup.dir, ec);
      if (ec)
        spdlog::error("{}: cannot remove {}: {}", where(st), st.setup.dir, ec.message());
      self->quit();
      return true;
    },
  };
}

} // namespace al
