#pragma once
// Whole-cluster simulation: the brokers. Each node hosts a replica_machine
// per partition over a replica_disk (cluster_disk.hpp), executes ready() in
// the documented order, takes idempotent acks=all produce requests through
// the shipped produce_machine (producer_state_table dedup on the leader;
// followers record fetched batches in it too, as Kafka does) and does the partition actor's
// housekeeping: flushes, producer-state snapshots, retention bounded by the
// HW. Fetches are in cluster_fetch.hpp. AlterPartition goes to the Raft
// leader the node's own voter knows.
#include "tests/sim/cluster_sim.hpp"

namespace al::cluster_sim {

inline void simulation::start_replicas(int n) {
  auto& nd = nodes_[size_t(n)];
  for (int32_t p = 0; p < k_.partitions; ++p) {
    auto& r = rep(n, p);
    auto& d = r.disk;
    replica_config c;
    c.tp = {"t", p};
    c.broker_id = n;
    c.broker_epoch = nd.life.incarnation;
    c.replica_lag_time_max_ms = k_.lag_ms;
    c.fetch_backoff_ms = k_.fetch_backoff_ms;
    c.request_timeout_ms = k_.request_timeout_ms + k_.fetch_wait_ms;
    replica_log_state s; // from disk: the log, a stale HW (clamped to it), epochs from the batches
    s.log_start_offset = d.log_start;
    s.log_end_offset = d.end();
    s.high_watermark = std::clamp(d.checkpoint_hw, d.log_start, d.end());
    for (int64_t o = d.log_start; o < d.end(); o += d.log[size_t(o)].batch_len)
      s.epochs.assign(d.log[size_t(o)].epoch, o);
    r.m = std::make_unique<replica_machine>(c, std::move(s));
    r.tenure_epoch = -1;
    r.waits.clear();
    r.parked.clear();
    load_producers(n, p);
    nd.pushed[size_t(p)] = {-1, -1};
  }
}

inline void simulation::load_producers(int n, int32_t p) {
  auto& r = rep(n, p);
  replica_disk::load_note note;
  r.producers = r.disk.load_producers(note);
  stats_.snapshots_dropped += note.above_end;
  stats_.snapshots_below_start += note.below_start;
  stats_.snapshots_loaded += note.restored;
  if (note.inside_batch >= 0)
    return fail(where(n, p) + " restored a producer snapshot at " +
                std::to_string(note.inside_batch) + ", inside a batch of its log");
  check_producers(n, p);
}

/// Executes a replica's ready() in the documented order, checking as it goes.
inline void simulation::drain(int n, int32_t p) {
  auto& r = rep(n, p);
  auto& m = *r.m;
  auto rd = m.ready();
  if (rd.restart_at) { // behind the leader's log start: start over there, empty
    if (trace_)
      std::cerr << now_ << " " << where(n, p) << " restarts its log at " << *rd.restart_at << "\n";
    r.disk.restart_at(*rd.restart_at);
    r.verified = *rd.restart_at;
    load_producers(n, p);
    ++stats_.restarts_at;
  }
  if (rd.truncate_to) {
    int64_t to = std::min(*rd.truncate_to, r.disk.end());
    // KIP-101 cuts where the leader's epochs change, a batch boundary of the
    // leader's log but not always of ours (its epoch cache starts at its log
    // start, which can fall inside one of our diverged batches: seeds 439,
    // 9734 of the isr case). partition_log cuts a batch holding `to` whole,
    // and the machine is told where the log really ends.
    int64_t cut = to;
    if (to < r.disk.end() && to >= r.disk.log_start && !r.disk.batch_start(to))
      cut = r.disk.log[size_t(to)].batch_base;
    if (trace_)
      std::cerr << now_ << " " << where(n, p) << " truncates " << r.disk.end() << " to " << to
                << (cut < to ? " (inside a batch: cut at " + std::to_string(cut) + ")" : "")
                << "\n";
    r.disk.truncate_to(cut);
    r.verified = std::min(r.verified, cut);
    r.disk.checkpoint_hw = std::min(r.disk.checkpoint_hw, cut);
    m.on_truncated(cut, now_);
    load_producers(n, p); // rebuilt from the remaining log, never trimmed (issue 12, item 4)
    ++stats_.truncations;
    stats_.cut_inside_batch += cut < to;
  }
  if (rd.log_start_offset) { // the leader's log start: what we kept below it is never read
    // The leader's log start is a batch boundary there, and our log matches
    // the leader's from it on (we fetch at or above it), so it is one here.
    if (*rd.log_start_offset > r.disk.end() ||
        (*rd.log_start_offset > r.disk.log_start && !r.disk.batch_start(*rd.log_start_offset)))
      return fail(where(n, p) + " is told to start its log at " +
                  std::to_string(*rd.log_start_offset) + ", not a batch boundary of [" +
                  std::to_string(r.disk.log_start) + ", " + std::to_string(r.disk.end()) + ")");
    stats_.log_start_raised += *rd.log_start_offset > r.disk.log_start;
    r.disk.advance_log_start(*rd.log_start_offset);
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
  if (rd.role_changed) // fetches parked under an older epoch or role must not be answered
    fail_parked(n, p, m.role() == replica_role::leader ? m.leader_epoch() : INT32_MAX);
  if (r.disk.end() != m.log_end_offset())
    return fail(where(n, p) + " machine counts log end " + std::to_string(m.log_end_offset()) +
                ", the log has " + std::to_string(r.disk.end()));
  if (m.has_ready()) // on_truncated asks the leader, from where the log really ends
    drain(n, p);
}

/// Mutations (tests only): a refusal for an old producer epoch ignored.
inline bool simulation::mutated(const message& m, const produce_decision& d) const {
  if (d.what != produce_decision::action::refuse || d.error.code() != errc::invalid_producer_epoch)
    return false;
  auto mut = txn_.opt.mutation;
  return (mut == txn_mutation::marker_any_epoch && m.type != entry_type::txn_data) ||
         (mut == txn_mutation::data_any_epoch && m.type == entry_type::txn_data);
}

/// A produce reaches the node's broker: a transactional data batch waits
/// for its coordinator's confirmation first (KIP-890 part 1, verify_produce
/// in cluster_txn.hpp, as broker_produce.cpp); a marker ends its producer's
/// confirmation on that partition (as broker_txn.cpp's on_write_marker).
inline void simulation::on_produce(int n, const message& m) {
  auto mut = txn_.opt.mutation;
  if (m.type == entry_type::txn_data && mut != txn_mutation::no_verification &&
      mut != txn_mutation::data_any_epoch) // that mutation tests the partition's own check
    return verify_produce(n, m);
  if (m.type == entry_type::commit_marker || m.type == entry_type::abort_marker)
    nodes_[size_t(n)].verify.on_marker({"t", m.partition}, m.producer);
  leader_produce(n, m);
}

/// The leader's produce runs the shipped produce_machine (as the partition
/// actor does); the simulation only writes the batch to its disk model.
inline void simulation::leader_produce(int n, const message& m) {
  int32_t p = m.partition;
  auto& r = rep(n, p);
  auto& mm = *r.m;
  message out = msg(kind::produce_resp, n, m.from, p, m.incarnation);
  out.producer = m.producer, out.base_seq = m.base_seq, out.count = m.count;
  out.attempt = m.attempt;
  out.type = m.type, out.producer_epoch = m.producer_epoch, out.tag = m.tag;
  produce_params params;
  params.acks = acks_mode::all;
  params.min_insync_replicas = min_isr;
  params.ack_id = next_ack_;
  params.now_ms = now_;
  std::string at = where(n, p);
  produce_machine machine{mm, r.producers, at};
  log_entry first{mm.leader_epoch(), m.producer,      m.base_seq, r.disk.end(),
                  m.count,           m.type,          m.producer_epoch, m.payload};
  batch_header header = header_of(first);
  auto d = first.marker()
             ? machine.admit_marker(params, header, m.epoch_bumped)
             : machine.admit(params, header, [&] { return al::result<batch_header>{header}; });
  if (mutated(m, d)) { // tests only: the epoch check skipped
    d.what = produce_decision::action::append;
    d.leader_epoch = mm.leader_epoch();
  }
  if (d.what == produce_decision::action::refuse) {
    out.error = d.error.code();
    stats_.refused_two_down += out.error == errc::not_enough_replicas && nodes_down() >= 2;
    return send(out);
  }
  if (d.what == produce_decision::action::append) {
    if (d.leader_epoch != mm.leader_epoch())
      return fail(where(n, p) + " stamps epoch " + std::to_string(d.leader_epoch) +
                  " as leader of epoch " + std::to_string(mm.leader_epoch()));
    if (m.type == entry_type::txn_data)
      check_fence(n, m);
    int64_t base = r.disk.end();
    std::vector<log_entry> batch;
    for (int32_t i = 0; i < m.count; ++i) {
      batch.push_back(first);
      batch.back().epoch = d.leader_epoch;
      batch.back().seq = m.base_seq + i;
    }
    r.disk.append_batch(batch);
    if (r_.chance(k_.flush))
      r.disk.flush();
    auto marker = marker_of(first);
    d = machine.appended(params, header_of(batch.front()), base, base + m.count - 1,
                         r.disk.end(), status::ok(), marker ? &*marker : nullptr);
    wake_parked(n, p);
  } else {
    // A retry: answer with the original offsets (retention may have deleted
    // the batch since: a request of an earlier attempt was answered first).
    int64_t base = d.base_offset;
    ++stats_.duplicates;
    auto& log = r.disk.log;
    if (base + m.count > r.disk.end() ||
        (base >= r.disk.log_start && (log[size_t(base)].record() != first.record() ||
                                      log[size_t(base)].batch_len != m.count)))
      return fail(where(n, p) + " took a new batch for a duplicate of the one at " +
                  std::to_string(base));
  }
  out.base_offset = d.base_offset;
  if (d.what == produce_decision::action::answer)
    return send(out);
  if (d.what != produce_decision::action::wait)
    return fail(where(n, p) + " neither answered nor waited for an acks=all produce");
  r.waits[next_ack_++] = out;
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

/// The partition actor's housekeeping, on each replica tick.
inline void simulation::housekeeping(int n, int32_t p) {
  auto& r = rep(n, p);
  if (r_.chance(k_.flush))
    r.disk.flush();
  if (r_.chance(k_.snapshot))
    r.disk.take_snapshot(r.producers);
  if (r_.chance(k_.retention))
    apply_retention(n, p);
}

/// Deletes a prefix of whole batches below the replica's own HW (issue 12,
/// item 6) that their producers are done with: each batch precedes every
/// batch its producer still retries (retention.ms far above the producers'
/// delivery timeout). A replica that restarted at the leader's log start,
/// or loaded no snapshot covering the deleted batches, forgets their
/// producers, as Kafka's does; it would take a retry of a deleted batch as
/// new, and a retry of an earlier one after it.
inline void simulation::apply_retention(int n, int32_t p) {
  auto& r = rep(n, p);
  auto& d = r.disk;
  auto done_below = [&](int64_t producer) { // the lowest sequence not yet acked or failed
    auto& pp = producers_[size_t(producer - first_producer)][size_t(p)];
    for (auto& b : pp.batches)
      if (!b.acked)
        return b.base_seq;
    return pp.next_seq;
  };
  int64_t bound = r.m->high_watermark();
  std::vector<int64_t> cuts;
  for (int64_t o = d.log_start; o < bound;) {
    auto& e = d.log[size_t(o)];
    if (o + e.batch_len > bound || e.type != entry_type::data ||
        e.seq + e.batch_len > done_below(e.producer))
      break;
    cuts.push_back(o += e.batch_len);
  }
  if (cuts.empty())
    return;
  int64_t to = cuts[size_t(r_.between(0, int64_t(cuts.size()) - 1))];
  verify(n, p, to, false, "retention"); // only committed records go
  d.delete_prefix(to);
  r.verified = std::max(r.verified, to);
  ++stats_.retention_deletions;
}

} // namespace al::cluster_sim
