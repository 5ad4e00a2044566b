#pragma once
// Transactions in the whole-cluster simulation (issue 16): transaction
// coordinators, as txn_coordinator_actor.cpp shells the shipped txn_machine.
// Partition t-0 stands for __transaction_state: its records are the
// coordinators' (txn_entry_batch), replicated, truncated, torn and elected
// like any other. Every node whose t-0 replica leads hosts a coordinator for
// that leadership (a deposed leader that does not know it yet keeps one,
// whose appends fail); on a new leadership it loads as
// txn_coordinator_load.cpp does: once the replica's HW covers its log end,
// the log from its start to its end through the shipped txn_log_reader,
// then txn_machine::load. Effects
// in the actor's order:
//   persists   appended to t-0 through the shipped produce_machine, acks=all,
//              on the coordinator's own node (no network); on_persisted with
//              the append's outcome, or request_timed_out after a while (the
//              append may still land: the machine must cope)
//   markers    WriteTxnMarkers: one produce of a control batch per partition,
//              to the leader the node's metadata names, over the network
//              (dropped, duplicated, delayed; cut links; now and then a
//              copy arrives up to 1.5 s late, as a request that waited in a
//              queue or on an old connection); admitted by
//              produce_machine::admit_marker; on_marker_written per answer,
//              request_timed_out if none comes
//   producer id asks: a fresh id at once (the controller's blocks)
//   responses  to the producer instance that asked (a connection: ordered)
// A transactional batch reaching a leader's node waits in that node's
// shipped txn_verify_machine until the coordinator its metadata names
// confirms the partition is in the producer's ongoing transaction
// (txn_machine::verify over the network; KIP-890 part 1); a marker ends a
// producer's confirmation on its partition.
// Producers: cluster_txn_clients.hpp; invariants: cluster_txn_checks.hpp.
#include "actors/txn/txn_record.hpp"
#include "tests/sim/cluster_sim.hpp"
#include "tests/sim/cluster_txn_checks.hpp"
#include "tests/sim/cluster_txn_clients.hpp"

namespace al::cluster_sim {

/// Knobs of this run's transactions, drawn after the cluster's.
inline void simulation::txn_setup() {
  txn_.clients = int(r_.between(1, 2));
  txn_.timeout_ms = int32_t(r_.between(200, 2000));
  txn_.begin = double(r_.between(5, 50)) / 1000;
  txn_.zombie = double(r_.between(0, 40)) / 100000;
  txn_.late_marker = r_.chance(0.5) ? 0 : double(r_.between(1, 10)) / 100;
  txn_.marker_timeout_ms = k_.produce_timeout_ms + k_.request_timeout_ms;
  txn_.request_timeout_ms = 2 * k_.produce_timeout_ms + k_.request_timeout_ms;
  txn_.stable.assign(size_t(k_.partitions), 0);
  txn_.current.resize(size_t(txn_.clients));
  for (int c = 0; c < txn_.clients; ++c)
    start_txn_instance(c);
}

inline void simulation::txn_step() {
  for (int n = 1; n <= nodes && failure_.empty(); ++n)
    if (nodes_[size_t(n)].life.up) {
      host_txn(n);
      expire_verify(n);
    }
  txn_clients_tick();
}

/// Starts, ends and drives the coordinator of node n.
inline void simulation::host_txn(int n) {
  auto& c = nodes_[size_t(n)].txn;
  auto& r = rep(n, txn_state_partition);
  bool leads = r.m && r.m->role() == replica_role::leader;
  if (c.m && (!leads || r.m->leader_epoch() != c.epoch))
    unload_txn(n);
  if (leads && !c.m && r.m->high_watermark() >= r.disk.end())
    load_txn(n); // once the HW covers the log it reads (else the actor retries)
  if (!c.m || !failure_.empty())
    return;
  std::vector<uint64_t> late;
  for (auto& [id, at] : c.persists)
    if (now_ - at >= 2 * k_.produce_timeout_ms)
      late.push_back(id);
  for (auto id : late) {
    c.persists.erase(id);
    ++txn_.stats.timeouts;
    c.m->on_persisted(id, errc::request_timed_out, now_);
  }
  for (auto it = c.markers.begin(); it != c.markers.end();) {
    if (now_ - it->second.sent_at < txn_.marker_timeout_ms) {
      ++it;
      continue;
    }
    auto mk = it->second;
    it = c.markers.erase(it);
    ++txn_.stats.marker_retries;
    c.m->on_marker_written(mk.id, mk.producer_id, mk.producer_epoch, {"t", mk.partition},
                           errc::request_timed_out, now_);
  }
  if (auto due = c.m->next_deadline_ms(); due && *due <= now_)
    c.m->tick(now_);
  pump_txn(n);
}

inline void simulation::load_txn(int n) {
  auto& c = nodes_[size_t(n)].txn;
  auto& r = rep(n, txn_state_partition);
  auto& d = r.disk;
  txn_log_reader reader;
  for (int64_t o = d.log_start; o < d.end(); o += d.log[size_t(o)].batch_len) {
    auto& e = d.log[size_t(o)];
    if (e.type != entry_type::txn_state)
      continue;
    bytes batch = txn_.payloads[size_t(e.payload)];
    store_be<int64_t>(batch.data() + batch_layout::base_offset, o); // the log stamps it
    if (auto read = reader.apply(byte_view{batch}, o); !read)
      return fail(where(n, txn_state_partition) + ": the coordinator cannot load offset " +
                  std::to_string(o) + ": " + read.error().to_string());
  }
  if (reader.skipped > 0)
    return fail(where(n, txn_state_partition) + ": the coordinator skipped " +
                std::to_string(reader.skipped) + " record(s): " + reader.first_skipped);
  txn_config cfg;
  cfg.marker_retry_backoff_ms = r_.between(10, 100);
  c.m = std::make_unique<txn_machine>(cfg);
  c.m->load(reader.entries, now_);
  c.epoch = r.m->leader_epoch();
  c.load = ++txn_.stats.loads;
  for (auto& t : c.m->list({txn_state::prepare_commit, txn_state::prepare_abort}))
    txn_.stats.recovered += !t.partitions.empty();
  if (trace_)
    std::cerr << now_ << " node " << n << " loads the coordinator (epoch " << c.epoch << ", "
              << reader.entries.size() << " records, " << c.m->size() << " ids)\n";
  if (txn_.opt.mutation == txn_mutation::no_markers_on_load)
    c.m->take_ready(); // mutation: what it found preparing stays so
  pump_txn(n);
}

/// Leadership lost (or a new epoch): the waiting requests get
/// NOT_COORDINATOR, as the actor's unload answers them.
inline void simulation::unload_txn(int n) {
  auto& c = nodes_[size_t(n)].txn;
  for (auto& [id, route] : c.requests) {
    txn_response resp;
    resp.error = errc::not_coordinator;
    answer_txn(n, route, resp);
  }
  c = txn_coordinator{};
}

inline void simulation::answer_txn(int n, const txn_coordinator::route& to,
                                   const txn_response& resp) {
  message out = msg(kind::txn_resp, n, to.client);
  out.tag = to.seq;
  out.txn = resp;
  net_.send(now_, n, to.client, out, true); // lost: the client's request times out
}

/// Executes the machine's effects, in the actor's order.
inline void simulation::pump_txn(int n) {
  auto& c = nodes_[size_t(n)].txn;
  for (int guard = 0; guard < 20 && c.m && failure_.empty(); ++guard) {
    auto rd = c.m->take_ready();
    if (rd.empty())
      break;
    for (auto& p : rd.persists)
      txn_append(n, p);
    for (auto& w : rd.markers)
      txn_markers(n, w);
    for (auto& a : rd.producer_id_asks)
      c.m->on_producer_id(a.ask_id, txn_.next_producer_id++, errc::none, now_);
    for (auto& resp : rd.responses) {
      auto it = c.requests.find(resp.request);
      if (it == c.requests.end())
        continue; // answered already (a mutation)
      if (it->second.init && resp.error == errc::none) { // the fencing epoch is durable
        auto& f = txn_.fence[resp.producer_id];
        f = std::max(f, resp.producer_epoch);
      }
      answer_txn(n, it->second, resp);
      c.requests.erase(it);
    }
    if (trace_)
      for (auto& e : rd.events)
        std::cerr << now_ << " node " << n << " coordinator: " << e << "\n";
  }
}

/// A persist: the entry appended to t-0 by this node's replica, acks=all.
inline void simulation::txn_append(int n, const txn_persist& p) {
  auto& c = nodes_[size_t(n)].txn;
  txn_.payloads.push_back(txn_entry_batch(p.entry, now_));
  message m = msg(kind::produce, n, n, txn_state_partition);
  m.type = entry_type::txn_state;
  m.payload = int32_t(txn_.payloads.size() - 1);
  m.producer = -1, m.count = 1;
  m.tag = p.persist_id;
  m.attempt = int32_t(c.load);
  m.incarnation = nodes_[size_t(n)].life.incarnation;
  c.persists[p.persist_id] = now_;
  on_produce(n, m);
}

/// WriteTxnMarkers: one request per partition, to its leader.
inline void simulation::txn_markers(int n, const txn_write_markers& w) {
  auto& c = nodes_[size_t(n)].txn;
  note_decision(w);
  for (auto& tp : w.partitions) {
    auto tag = c.next_tag++;
    c.markers[tag] = {w.transactional_id, w.producer_id, w.producer_epoch, tp.partition, now_};
    ++txn_.stats.markers;
    auto* d = described(n, tp.partition);
    int leader = d ? d->leader : -1;
    message m = msg(kind::produce, n, leader, tp.partition);
    m.type = w.commit ? entry_type::commit_marker : entry_type::abort_marker;
    m.producer = w.producer_id, m.producer_epoch = w.producer_epoch, m.count = 1;
    m.epoch_bumped = w.epoch_bumped;
    m.base_seq = no_sequence;
    m.tag = tag;
    m.attempt = int32_t(c.load);
    m.incarnation = nodes_[size_t(n)].life.incarnation;
    if (leader <= 0)
      continue; // no leader known: it times out and goes again
    send(m);
    if (!liveness_ && r_.chance(txn_.late_marker)) { // a copy that waited in some queue
      net_.push(now_ + r_.between(k_.max_delay_ms, 1500), m);
      ++txn_.stats.late_markers;
    }
  }
}

/// An answer to an append of this node's coordinator or to its marker.
inline void simulation::on_txn_written(int n, const message& m) {
  auto& c = nodes_[size_t(n)].txn;
  txn_.stats.markers_refused +=
    m.type != entry_type::txn_state && m.error == errc::invalid_producer_epoch;
  if (!c.m || m.attempt != int32_t(c.load))
    return; // for a coordinator gone since
  if (m.type == entry_type::txn_state) {
    if (!c.persists.erase(m.tag))
      return; // timed out already
    c.m->on_persisted(m.tag, m.error, now_);
  } else {
    auto it = c.markers.find(m.tag);
    if (it == c.markers.end())
      return; // a duplicate's answer, or timed out already
    auto mk = it->second;
    c.markers.erase(it);
    c.m->on_marker_written(mk.id, mk.producer_id, mk.producer_epoch, {"t", mk.partition},
                           m.error, now_);
  }
  pump_txn(n);
}

/// InitProducerId, AddPartitionsToTxn or EndTxn from a producer instance.
inline void simulation::on_txn_request(int n, const message& m) {
  auto& c = nodes_[size_t(n)].txn;
  if (!c.m) {
    txn_response resp;
    resp.error = errc::not_coordinator;
    return answer_txn(n, {m.from, m.tag, false}, resp);
  }
  auto id = c.next_request++;
  c.requests[id] = {m.from, m.tag, m.init.has_value()};
  if (m.init) {
    auto q = *m.init;
    q.request = id;
    c.m->on_init(q, now_);
  } else if (m.add) {
    auto q = *m.add;
    q.request = id;
    c.m->on_add_partitions(q, now_);
  } else if (m.end) {
    auto q = *m.end;
    q.request = id;
    c.m->on_end(q, now_);
    if (txn_.opt.mutation == txn_mutation::answer_before_write && q.commit) {
      txn_response early; // mutation: "committed" before PrepareCommit is written
      early.producer_id = q.producer_id;
      early.producer_epoch = int16_t(q.producer_epoch + 1);
      answer_txn(n, c.requests[id], early);
      c.requests.erase(id);
    }
  }
  pump_txn(n);
}

// ---- KIP-890 part 1: the broker's verification of transactional writes ------

/// A transactional batch reaches the leader's node: it waits in the shipped
/// txn_verify_machine, under its producer's transactional.id (what the
/// produce request names), as broker_produce.cpp holds it.
inline void simulation::verify_produce(int n, const message& m) {
  auto& nd = nodes_[size_t(n)];
  txn_write w;
  w.token = nd.next_verify_token++;
  w.transactional_id =
    "x" + std::to_string(txn_.instances[size_t(m.from - first_txn_client)].client);
  w.tp = {"t", m.partition};
  w.producer_id = m.producer;
  w.producer_epoch = m.producer_epoch;
  auto& r = rep(n, m.partition);
  w.leader_epoch = r.m ? r.m->leader_epoch() : -1;
  nd.verify_parked.emplace(w.token, m);
  nd.verify.admit(w, now_);
  pump_verify(n);
}

/// The machine's outcomes (a batch on to the partition, or answered with
/// its error) and questions (to the coordinator the node's metadata names;
/// none named: COORDINATOR_NOT_AVAILABLE at once).
inline void simulation::pump_verify(int n) {
  auto& nd = nodes_[size_t(n)];
  for (auto& o : nd.verify.take_outcomes()) {
    auto it = nd.verify_parked.find(o.token);
    if (it == nd.verify_parked.end())
      continue;
    message m = it->second;
    nd.verify_parked.erase(it);
    if (o.error == errc::none) {
      ++txn_.stats.verified;
      leader_produce(n, m);
      continue;
    }
    message out = msg(kind::produce_resp, n, m.from, m.partition, m.incarnation);
    out.producer = m.producer, out.base_seq = m.base_seq, out.count = m.count;
    out.attempt = m.attempt, out.type = m.type, out.producer_epoch = m.producer_epoch;
    out.error = o.error;
    send(out);
  }
  for (auto& c : nd.verify.take_calls()) {
    auto* d = described(n, txn_state_partition);
    int to = d ? d->leader : 0;
    if (to <= 0) {
      nd.verify.on_answer(c.call, errc::coordinator_not_available, "no coordinator", now_);
      pump_verify(n);
      continue;
    }
    nd.verify_calls[c.call] = now_;
    message q = msg(kind::verify_req, n, to, c.tp.partition, nodes_[size_t(to)].life.incarnation);
    q.incarnation = nd.life.incarnation;
    q.tag = c.call;
    q.add = txn_add_partitions_request{0, c.transactional_id, c.producer_id, c.producer_epoch,
                                       {c.tp}};
    send(q);
  }
}

/// The coordinator's side: the shipped txn_machine::verify, as
/// txn_coordinator_actor.cpp answers it.
inline void simulation::on_verify_req(int n, const message& m) {
  auto& c = nodes_[size_t(n)].txn;
  message out = msg(kind::verify_resp, n, m.from, m.partition, m.incarnation);
  out.tag = m.tag;
  if (!c.m || !m.add)
    out.txn.error = errc::not_coordinator;
  else
    out.txn = c.m->verify(*m.add);
  send(out);
}

inline void simulation::on_verify_resp(int n, const message& m) {
  auto& nd = nodes_[size_t(n)];
  if (!nd.verify_calls.erase(m.tag))
    return; // timed out already, or a duplicate
  nd.verify.on_answer(m.tag, m.txn.error, m.txn.message, now_);
  pump_verify(n);
}

/// Questions without an answer time out (the broker's verify_timeout).
inline void simulation::expire_verify(int n) {
  auto& nd = nodes_[size_t(n)];
  std::vector<uint64_t> late;
  for (auto& [call, at] : nd.verify_calls)
    if (now_ - at >= k_.request_timeout_ms)
      late.push_back(call);
  for (auto call : late) {
    nd.verify_calls.erase(call);
    nd.verify.on_answer(call, errc::request_timed_out, "no answer", now_);
  }
  if (!late.empty())
    pump_verify(n);
}

} // namespace al::cluster_sim
