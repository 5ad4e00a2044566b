#pragma once
// Whole-cluster simulation: the brokers. Each node hosts a replica_machine
// per partition over an in-memory log, executes ready() in the documented
// order, serves follower fetches and OffsetsForLeaderEpoch, and takes
// idempotent acks=all produce requests (producer_state_table dedup on the
// leader; followers record fetched batches in it too, as Kafka does).
// AlterPartition goes to the Raft leader the node's own voter knows.
#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline batch_header header_of(const log_entry& e) {
  batch_header h;
  h.base_offset = e.batch_base;
  h.last_offset_delta = e.batch_len - 1;
  h.producer_id = e.producer;
  h.producer_epoch = 0;
  h.base_sequence = e.seq;
  return h;
}

inline void simulation::rebuild_producers(replica& r) {
  r.producers = producer_state_table{};
  for (auto& e : r.log)
    if (e.batch_base == int64_t(&e - r.log.data()))
      r.producers.on_append(header_of(e));
}

inline void simulation::start_replicas(int n) {
  auto& nd = nodes_[size_t(n)];
  for (int32_t p = 0; p < k_.partitions; ++p) {
    auto& r = rep(n, p);
    replica_config c;
    c.tp = {"t", p};
    c.broker_id = n;
    c.broker_epoch = nd.life.incarnation;
    c.replica_lag_time_max_ms = k_.lag_ms;
    c.fetch_backoff_ms = k_.fetch_backoff_ms;
    c.request_timeout_ms = k_.request_timeout_ms;
    replica_log_state s; // from disk: the log, a stale HW, epochs from the batches
    s.log_end_offset = int64_t(r.log.size());
    s.high_watermark = r.checkpoint_hw;
    for (auto& e : r.log)
      s.epochs.assign(e.epoch, e.batch_base);
    r.m = std::make_unique<replica_machine>(c, std::move(s));
    r.tenure_epoch = -1;
    r.waits.clear();
    rebuild_producers(r);
    nd.pushed[size_t(p)] = {-1, -1};
  }
}

/// Executes a replica's ready() in the documented order, checking as it goes.
inline void simulation::drain(int n, int32_t p) {
  auto& r = rep(n, p);
  auto& m = *r.m;
  auto rd = m.ready();
  if (rd.truncate_to) {
    auto to = *rd.truncate_to;
    if (trace_)
      std::cerr << now_ << " " << where(n, p) << " truncates " << r.log.size() << " to " << to
                << "\n";
    r.log.resize(size_t(std::min<int64_t>(to, int64_t(r.log.size()))));
    r.producers.truncate_from(to);
    r.verified = std::min(r.verified, to);
    r.checkpoint_hw = std::min(r.checkpoint_hw, to);
    ++stats_.truncations;
  }
  check_tenure(n, p);
  if (rd.high_watermark && trace_)
    std::cerr << now_ << " " << where(n, p) << " " << to_string(m.role()) << " epoch "
              << m.leader_epoch() << " hw " << *rd.high_watermark << "\n";
  if (rd.high_watermark)
    on_hw(n, p, *rd.high_watermark);
  for (auto& a : rd.acks)
    on_ack(n, p, a);
  int64_t inc = nodes_[size_t(n)].life.incarnation;
  for (auto& req : rd.alter_isr) {
    int leader = nodes_[size_t(n)].ctl.raft->leader();
    if (leader < 1)
      continue; // no active controller known: the machine retries
    message out = msg(kind::alter, n, leader, p);
    out.alter = req;
    out.incarnation = inc;
    send(out);
  }
  if (rd.offsets_for_epoch) {
    message out = msg(kind::epoch_req, n, rd.offsets_for_epoch->leader_id, p);
    out.epoch_req = *rd.offsets_for_epoch;
    out.incarnation = inc;
    send(out);
  }
  if (rd.fetch) {
    message out = msg(kind::fetch, n, rd.fetch->leader_id, p);
    out.fetch = *rd.fetch;
    out.incarnation = inc;
    send(out);
  }
  if (int64_t(r.log.size()) != m.log_end_offset())
    fail(where(n, p) + " machine counts log end " + std::to_string(m.log_end_offset()) +
         ", the log has " + std::to_string(r.log.size()));
}

inline void simulation::on_fetch(int n, const message& m) {
  int32_t p = m.partition;
  auto& r = rep(n, p);
  auto res = r.m->on_fetch(m.fetch, now_);
  drain(n, p);
  message out = msg(kind::fetch_resp, n, m.from, p, m.fetch.broker_epoch);
  out.fetch_resp = {m.fetch.current_leader_epoch, m.fetch.fetch_offset, res.error,
                    res.high_watermark, res.log_end_offset};
  if (res.error == errc::none) { // whole batches from the fetch offset
    auto o = size_t(m.fetch.fetch_offset);
    if (o < r.log.size() && r.log[o].batch_base != int64_t(o))
      return fail(where(n, p) + " fetched at " + std::to_string(o) + ", inside a batch");
    for (int b = 0; b < k_.max_fetch_batches && o < r.log.size(); ++b)
      for (int32_t i = r.log[o].batch_len; i > 0; --i)
        out.entries.push_back(r.log[o++]);
  }
  send(out);
}

inline void simulation::on_fetch_resp(int n, const message& m) {
  int32_t p = m.partition;
  auto& r = rep(n, p);
  std::vector<fetched_batch> batches;
  for (auto& e : m.entries)
    if (batches.empty() || batches.back().base_offset != e.batch_base)
      batches.push_back({e.epoch, e.batch_base, e.batch_base + e.batch_len - 1});
  if (r.m->on_fetch_response(m.fetch_resp, batches, now_))
    for (auto& e : m.entries) {
      if (e.batch_base == int64_t(r.log.size()))
        r.producers.on_append(header_of(e));
      r.log.push_back(e);
    }
  drain(n, p);
}

inline void simulation::on_produce(int n, const message& m) {
  int32_t p = m.partition;
  auto& r = rep(n, p);
  auto& mm = *r.m;
  message out = msg(kind::produce_resp, n, m.from, p);
  out.producer = m.producer, out.base_seq = m.base_seq, out.count = m.count;
  if (mm.role() != replica_role::leader)
    out.error = errc::not_leader_or_follower;
  else if (!mm.can_accept_acks_all(min_isr))
    out.error = errc::not_enough_replicas;
  if (out.error != errc::none)
    return send(out);
  log_entry first{mm.leader_epoch(), m.producer, m.base_seq, int64_t(r.log.size()), m.count};
  auto decision = r.producers.check(header_of(first));
  int64_t base = first.batch_base;
  if (decision.kind == producer_state_table::verdict::reject) {
    out.error = decision.error.code();
    return send(out);
  }
  if (decision.kind == producer_state_table::verdict::duplicate) {
    base = decision.duplicate_base_offset; // a retry: answer with the original offsets
    ++stats_.duplicates;
    if (base + m.count > int64_t(r.log.size()) || r.log[size_t(base)].record() != first.record() ||
        r.log[size_t(base)].batch_len != m.count)
      return fail(where(n, p) + " took a new batch for a duplicate of the one at " +
                  std::to_string(base));
  } else {
    for (int32_t i = 0; i < m.count; ++i)
      r.log.push_back({first.epoch, m.producer, m.base_seq + i, base, m.count});
    r.producers.on_append(header_of(first));
    mm.on_append(int64_t(r.log.size()));
  }
  auto id = next_ack_++;
  out.base_offset = base;
  r.waits[id] = out;
  mm.wait_for(id, base + m.count - 1, min_isr);
  drain(n, p);
}

inline void simulation::on_ack(int n, int32_t p, const completed_ack& a) {
  auto& r = rep(n, p);
  auto w = r.waits.find(a.id);
  if (w == r.waits.end())
    return fail(where(n, p) + " completed an unknown ack " + std::to_string(a.id));
  message out = w->second;
  out.error = a.error;
  r.waits.erase(w);
  send(out);
}

} // namespace al::cluster_sim
