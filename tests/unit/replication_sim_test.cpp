// Seeded whole-cluster simulation of partition replication (TigerBeetle
// VOPR style): replica_machine on 3 brokers, the controller's election and
// AlterPartition logic (partition_election_machine over metadata_machine),
// producers, and a network that drops, duplicates, delays (so reorders)
// messages and cuts links. Every knob comes from one seed; time is a virtual
// clock in ms; no CAF, no threads.
//
// Model:
//   - 3 brokers, 1-4 partitions, RF 3, min.insync.replicas 2, unclean
//     leader election off.
//   - Logs are in memory and every append is durable: a crash is a process
//     crash (kill -9; the page cache survives), so a broker restarts with its
//     whole log, a stale HW checkpoint and the epoch cache rebuilt from its
//     batches. Machine crashes that lose unflushed page cache are not
//     modelled: Kafka's acks=all promise does not cover them either
//     (KIP-966) unless flush.messages=1.
//   - At most one broker is down at a time (RF - min.insync.replicas);
//     links between any nodes, the controller's included, can be cut.
//   - The controller is reliable and instantaneous (Raft is simulated
//     separately). It fences a broker whose heartbeats stop for the session
//     timeout and elects new leaders; a restarted broker re-registers with a
//     new incarnation (fenced, then unfenced). Brokers learn metadata from
//     heartbeat answers, so it arrives late, out of order, or not at all.
//   - Producers send idempotent acks=all batches (unique record ids, one
//     batch in flight per partition) and retry until acknowledged; the
//     leader answers a retried batch it already has with its offsets.
// Invariants, checked after every step of every replica:
//   - committed prefix: the records below any leader's HW, ever, form one
//     sequence; every replica's log below its own HW matches it (log
//     matching up to the HW);
//   - an acknowledged batch sits in that sequence at its acknowledged offsets
//     (so no acknowledged record is lost or moved);
//   - a new leader holds the whole committed prefix;
//   - a leader's HW never goes down during its tenure;
//   - at most one broker leads a leader epoch of a partition.
// Then the faults stop (links heal, the down broker restarts, no drops) and
// within bounded time every batch is acknowledged, every ISR is full and
// all replicas hold the same log: each record exactly once, each producer's
// acknowledged records in order.
// A failure prints "seed=N failed, reproduce with --seed N"; --seed N (or
// AL_SEED=N) replays one seed, --seed-count M (AL_SEED_COUNT=M) runs M
// seeds, AL_REPL_TRACE=1 prints every message. Harness (rng, network, seed
// loop, crash/restart): tests/sim/sim_harness.hpp.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <unordered_map>

#include "actors/controller/metadata_machine.hpp"
#include "actors/controller/partition_election_machine.hpp"
#include "actors/partition/replica_machine.hpp"
#include "tests/sim/sim_harness.hpp"

using namespace al;
using sim::rng;

namespace {

constexpr int brokers = 3;
constexpr int controller_node = 0; // brokers are nodes 1..3, producers 10+
constexpr int32_t min_isr = 2;

struct knobs {
  int profile; // 0 calm, 1 network, 2 crashes, 3 isr
  int partitions, producers, max_batch, max_fetch_batches;
  int64_t tick_ms, min_delay_ms, max_delay_ms, controller_delay_ms, lag_ms, fetch_backoff_ms, request_timeout_ms,
    session_ms, heartbeat_ms, produce_timeout_ms, max_down_ms, safety_ms;
  double drop, duplicate, crash, leader_crash, partition, heal, produce, checkpoint;

  static knobs from(rng& r) {
    knobs k;
    // Swarm testing: each seed picks a profile. "calm" has some of every
    // fault; "network" many drops and cut links; "crashes" brokers that die
    // every second or so; "isr" a slow controller link, short lag times and
    // leader crashes, so ISR changes race with elections.
    k.profile = int(r.between(0, 4)) % 4; // calm twice as often
    bool network = k.profile == 1, crashes = k.profile == 2, isr = k.profile == 3;
    k.partitions = int(r.between(1, 4));
    k.producers = int(r.between(1, 2));
    k.max_batch = int(r.between(1, 4));
    k.max_fetch_batches = int(r.between(1, 8));
    k.tick_ms = r.between(5, 10);
    k.min_delay_ms = r.between(1, 5);
    k.max_delay_ms = r.between(k.min_delay_ms, network ? 60 : 25);
    k.controller_delay_ms = isr ? r.between(20, 150) : 0; // extra, to and from the controller
    k.fetch_backoff_ms = r.between(2, 30);
    k.request_timeout_ms = 3 * (k.max_delay_ms + k.controller_delay_ms) + r.between(10, 100);
    k.lag_ms = r.between(4 * (k.max_delay_ms + k.fetch_backoff_ms), isr ? 250 : 500);
    // Heartbeats get through within a session timeout unless links are cut.
    k.heartbeat_ms = r.between(20, 80);
    k.session_ms = 3 * (k.heartbeat_ms + 2 * (k.max_delay_ms + k.controller_delay_ms)) +
                   r.between(0, 600);
    k.produce_timeout_ms = r.between(100, 600);
    k.max_down_ms = r.between(50, crashes ? 1000 : isr ? 400 : 2500);
    k.safety_ms = r.between(3000, 10000);
    k.drop = r.chance(0.2) ? 0 : double(r.between(0, network ? 30 : 10)) / 100;
    k.duplicate = double(r.between(0, isr ? 20 : 8)) / 100;
    k.crash = double(crashes || isr ? r.between(50, 300) : r.between(0, 30)) / 100000; // per ms
    k.leader_crash = isr ? 0.8 : 0.5; // share of crashes aimed at a partition leader
    k.partition = double(network ? r.between(50, 300) : r.between(0, 50)) / 100000;
    k.heal = double(r.between(50, 500)) / 100000; // per ms
    k.produce = double(r.between(5, 60)) / 1000; // per ms, per producer and partition
    k.checkpoint = double(r.between(10, 100)) / 100;
    return k;
  }

  std::string describe() const {
    static const char* profiles[] = {"calm", "network", "crashes", "isr"};
    std::ostringstream os;
    os << profiles[profile] << ": " << partitions << " partitions, " << producers
       << " producers, batches <= " << max_batch << ", fetch <= " << max_fetch_batches
       << " batches, tick " << tick_ms << " ms, delay " << min_delay_ms << "-" << max_delay_ms
       << " ms (+" << controller_delay_ms << " to the controller), drop " << drop << ", dup " << duplicate << ", lag " << lag_ms
       << " ms, fetch backoff " << fetch_backoff_ms << " ms, request timeout "
       << request_timeout_ms << " ms, session " << session_ms << " ms, heartbeat "
       << heartbeat_ms << " ms, crash " << crash << "/ms (down <= " << max_down_ms
       << " ms), partition " << partition << "/ms, heal " << heal << "/ms, produce " << produce
       << "/ms, faults for " << safety_ms << " ms";
    return os.str();
  }
};

struct sim_stats {
  int64_t acked = 0, crashes = 0, partitions = 0, dropped = 0, leader_changes = 0,
          truncations = 0, isr_changes = 0, worst_liveness_ms = 0;
};

/// One offset of a log; a batch is a run of entries sharing batch_base.
struct log_entry {
  int32_t epoch;
  uint64_t record; // producer << 32 | sequence
  int64_t batch_base;
  int32_t batch_len;
  friend bool operator==(const log_entry& a, const log_entry& b) {
    return a.epoch == b.epoch && a.record == b.record && a.batch_base == b.batch_base;
  }
};

enum class kind : uint8_t {
  fetch, fetch_resp, epoch_req, epoch_resp, alter, alter_resp, heartbeat, heartbeat_resp,
  produce, produce_resp
};

struct message {
  kind k;
  int from, to;
  int64_t to_incarnation = 0; // 0: any; else only that process gets it
  int32_t partition = 0;
  replica_fetch_request fetch;
  replica_fetch_response fetch_resp;
  std::vector<log_entry> entries;
  offsets_for_epoch_request epoch_req;
  offsets_for_epoch_response epoch_resp;
  alter_isr_request alter;
  alter_isr_response alter_resp;
  int64_t incarnation = 0;                 // heartbeat
  int64_t image_offset = -1;               // heartbeat answer
  std::vector<partition_leadership> image; // heartbeat answer, by partition
  std::vector<uint64_t> records;           // produce
  errc error = errc::none;                 // produce answer
  int64_t base_offset = -1;                // produce answer
};

message msg(kind k, int from, int to, int64_t to_incarnation = 0, int32_t partition = 0) {
  message m;
  m.k = k, m.from = from, m.to = to, m.to_incarnation = to_incarnation, m.partition = partition;
  return m;
}

struct waiting_produce {
  int producer;
  uint64_t first_record;
  int64_t base_offset;
};

struct sim_replica {
  std::vector<log_entry> log; // durable
  std::unordered_map<uint64_t, int64_t> index; // record -> offset, for duplicate batches
  int64_t checkpoint_hw = 0;                    // durable, may lag
  std::unique_ptr<replica_machine> m;           // null while the broker is down
  std::map<uint64_t, waiting_produce> waits;    // ack id -> produce
  int64_t verified = 0;      // log[0, verified) matches the committed prefix
  int32_t tenure_epoch = -1; // leader epoch of the current leadership, -1: none
  int64_t tenure_hw = 0;
};

struct sim_broker {
  sim::process_life life;
  int64_t next_heartbeat = 0;
  int64_t image_offset = -1; // newest metadata applied
  std::vector<sim_replica> parts;
};

struct produce_batch {
  std::vector<uint64_t> records;
  int64_t sent_at = 0, retry_at = 0;
  bool waiting = false; // a request is out
};

struct producer_partition {
  uint32_t next_seq = 0;
  std::optional<produce_batch> batch;
  std::vector<std::pair<uint64_t, int64_t>> acked; // record -> offset, in ack order
};

struct partition_facts {
  std::vector<log_entry> committed;    // offsets below some leader's HW
  std::map<int32_t, int> leaders;      // leader epoch -> broker
};

class simulation {
public:
  explicit simulation(uint64_t seed) : r_{seed}, k_(knobs::from(r_)), net_(r_, brokers + 1) {
    brokers_.resize(brokers + 1);
    net_.faults = {k_.drop, k_.duplicate, k_.min_delay_ms, k_.max_delay_ms};
    net_.extra_delay = [this](int from, int to) { // the slow controller link
      return from == controller_node || to == controller_node ? r_.between(0, k_.controller_delay_ms)
                                                              : 0;
    };
    facts_.resize(size_t(k_.partitions));
    producers_.assign(size_t(k_.producers), std::vector<producer_partition>(size_t(k_.partitions)));
    setup_controller();
    for (int b = 1; b <= brokers; ++b) {
      brokers_[b].parts.resize(size_t(k_.partitions));
      start_machines(b);
      brokers_[b].next_heartbeat = r_.between(0, k_.heartbeat_ms);
    }
  }

  std::string run() {
    while (now_ < k_.safety_ms && failure_.empty())
      step();
    start_liveness();
    while (failure_.empty() && !converged()) {
      step();
      if (now_ > deadline_)
        fail("liveness: not converged " + std::to_string(now_ - heal_at_) +
             " ms after the faults stopped");
    }
    stats_.worst_liveness_ms = now_ - heal_at_;
    if (failure_.empty())
      final_checks();
    return failure_;
  }
  const sim_stats& stats() const { return stats_; }

private:
  void step() {
    ++now_;
    if (!liveness_)
      inject_faults();
    deliver_due();
    for (int b = 1; b <= brokers && failure_.empty(); ++b) {
      auto& br = brokers_[b];
      if (br.life.restart_due(now_))
        restart(b);
      if (!br.life.up)
        continue;
      if (now_ >= br.next_heartbeat) {
        message hb = msg(kind::heartbeat, b, controller_node);
        hb.incarnation = br.life.incarnation;
        send(hb);
        br.next_heartbeat = now_ + k_.heartbeat_ms;
      }
      if ((now_ + b) % k_.tick_ms == 0)
        for (int32_t p = 0; p < k_.partitions; ++p) {
          br.parts[size_t(p)].m->tick(now_);
          drain(b, p);
        }
    }
    controller_tick();
    producers_tick();
  }

  // --- controller -----------------------------------------------------------

  const metadata_image& image() const { return meta_.image(); }
  const partition_description& described(int32_t p) const {
    return image().topics.at("t").partitions[size_t(p)];
  }

  void setup_controller() {
    for (int b = 1; b <= brokers; ++b)
      apply(register_broker_cmd{b, "sim", uint16_t(9000 + b), 1});
    create_topic_cmd t;
    t.name = "t";
    t.topic_id = "sim";
    t.configs["min.insync.replicas"] = std::to_string(min_isr);
    for (int32_t p = 0; p < k_.partitions; ++p)
      t.assignment.push_back({p % brokers + 1, (p + 1) % brokers + 1, (p + 2) % brokers + 1});
    apply(t);
  }

  void apply(const metadata_command& cmd) {
    auto st = meta_.apply(cmd, ++meta_offset_);
    if (!st)
      return fail("controller rejected " + describe(cmd) + ": " + st.to_string());
    if (auto c = std::get_if<change_partition_cmd>(&cmd)) {
      epochs_.bump(c->topic, c->partition);
      ++stats_.isr_changes;
    }
  }

  bool fenced(int b) const { return image().brokers.at(b).fenced; }

  void fence(int b) {
    apply(fence_broker_cmd{b, true});
    for (auto& c : plan_broker_fenced(image(), b, {}))
      apply(c);
  }

  void unfenced(int b) {
    for (auto& c : plan_broker_unfenced(image(), b, {}))
      apply(c);
  }

  void controller_tick() {
    for (int b = 1; b <= brokers; ++b)
      if (!fenced(b) && now_ - last_heartbeat_[b] > k_.session_ms)
        fence(b);
  }

  void on_heartbeat(const message& m) {
    int b = m.from;
    int64_t known = image().broker_incarnations.at(b);
    if (m.incarnation < known)
      return; // from a process that has died since
    if (m.incarnation > known) { // restarted: fence the old process, register the new
      if (!fenced(b))
        fence(b);
      apply(register_broker_cmd{b, "sim", uint16_t(9000 + b), m.incarnation});
      unfenced(b);
    } else if (fenced(b)) {
      apply(fence_broker_cmd{b, false});
      unfenced(b);
    }
    last_heartbeat_[b] = now_;
    message out = msg(kind::heartbeat_resp, controller_node, b, m.incarnation);
    out.image_offset = meta_offset_;
    for (int32_t p = 0; p < k_.partitions; ++p)
      out.image.push_back(leadership_of(described(p), epochs_.get("t", p)));
    send(out);
  }

  void on_alter(const message& m) {
    auto& req = m.alter;
    auto d = plan_alter_isr(image(), epochs_.get(req.tp.topic, req.tp.partition), req);
    if (d.error == alter_isr_error::none)
      apply(d.cmd);
    auto& p = described(req.tp.partition);
    message out = msg(kind::alter_resp, controller_node, m.from, m.incarnation, req.tp.partition);
    out.alter_resp = {req.tp, req.proposal_id, d.error, p.leader_epoch,
                      epochs_.get(req.tp.topic, req.tp.partition), p.isr};
    send(out);
  }

  // --- brokers --------------------------------------------------------------

  sim_replica& rep(int b, int32_t p) { return brokers_[b].parts[size_t(p)]; }

  void start_machines(int b) {
    auto& br = brokers_[b];
    for (int32_t p = 0; p < k_.partitions; ++p) {
      auto& r = rep(b, p);
      replica_config c;
      c.tp = {"t", p};
      c.broker_id = b;
      c.broker_epoch = br.life.incarnation;
      c.replica_lag_time_max_ms = k_.lag_ms;
      c.fetch_backoff_ms = k_.fetch_backoff_ms;
      c.request_timeout_ms = k_.request_timeout_ms;
      replica_log_state s; // what survives on disk; the epoch cache from the batches
      s.log_end_offset = int64_t(r.log.size());
      s.high_watermark = r.checkpoint_hw;
      for (auto& e : r.log)
        s.epochs.assign(e.epoch, e.batch_base);
      r.m = std::make_unique<replica_machine>(c, std::move(s));
      r.tenure_epoch = -1;
    }
  }

  void crash(int b) {
    auto& br = brokers_[b];
    for (auto& r : br.parts) {
      r.m.reset();
      r.waits.clear();
      r.tenure_epoch = -1;
    }
    br.life.crash(now_, r_, k_.max_down_ms);
    ++stats_.crashes;
  }

  void restart(int b) {
    auto& br = brokers_[b];
    br.life.restart();
    br.image_offset = -1;
    br.next_heartbeat = now_; // registers at once
    start_machines(b);
  }

  /// Executes a replica's ready() in the documented order, checking as it goes.
  void drain(int b, int32_t p) {
    auto& r = rep(b, p);
    auto& m = *r.m;
    auto rd = m.ready();
    if (rd.truncate_to) {
      auto to = *rd.truncate_to;
      for (auto o = size_t(to); o < r.log.size(); ++o)
        r.index.erase(r.log[o].record);
      r.log.resize(size_t(to));
      r.verified = std::min(r.verified, to);
      r.checkpoint_hw = std::min(r.checkpoint_hw, to);
      ++stats_.truncations;
    }
    check_tenure(b, p);
    if (rd.high_watermark)
      on_hw(b, p, *rd.high_watermark);
    for (auto& a : rd.acks)
      on_ack(b, p, a);
    for (auto& req : rd.alter_isr) {
      message out = msg(kind::alter, b, controller_node, 0, p);
      out.alter = req;
      out.incarnation = brokers_[b].life.incarnation;
      send(out);
    }
    if (rd.offsets_for_epoch) {
      message out = msg(kind::epoch_req, b, rd.offsets_for_epoch->leader_id, 0, p);
      out.epoch_req = *rd.offsets_for_epoch;
      out.incarnation = brokers_[b].life.incarnation;
      send(out);
    }
    if (rd.fetch) {
      message out = msg(kind::fetch, b, rd.fetch->leader_id, 0, p);
      out.fetch = *rd.fetch;
      out.incarnation = brokers_[b].life.incarnation;
      send(out);
    }
    if (int64_t(r.log.size()) != m.log_end_offset())
      fail(where(b, p) + " machine counts log end " + std::to_string(m.log_end_offset()) +
           ", the log has " + std::to_string(r.log.size()));
  }

  void on_message(const message& m) {
    if (trace_)
      std::cerr << now_ << " " << describe_message(m) << "\n";
    if (m.to == controller_node) {
      if (m.k == kind::heartbeat)
        on_heartbeat(m);
      else
        on_alter(m);
      return;
    }
    if (m.to >= 10)
      return on_produce_resp(m);
    auto& br = brokers_[m.to];
    if (!br.life.up || (m.to_incarnation && m.to_incarnation != br.life.incarnation))
      return; // lost with the process it was for
    int b = m.to;
    int32_t p = m.partition;
    auto& mm = *rep(b, p).m;
    switch (m.k) {
      case kind::fetch: return on_fetch(b, m);
      case kind::fetch_resp: return on_fetch_resp(b, m);
      case kind::epoch_req: {
        message out = msg(kind::epoch_resp, b, m.from, m.incarnation, p);
        out.epoch_resp = mm.on_offsets_for_epoch(m.epoch_req);
        drain(b, p);
        return send(out);
      }
      case kind::epoch_resp: mm.on_offsets_for_epoch_response(m.epoch_resp, now_); break;
      case kind::alter_resp: mm.on_alter_isr_response(m.alter_resp, now_); break;
      case kind::heartbeat_resp: return on_metadata(b, m);
      case kind::produce: return on_produce(b, m);
      default: return fail("unexpected message at broker " + std::to_string(b));
    }
    drain(b, p);
  }

  void on_metadata(int b, const message& m) {
    auto& br = brokers_[b];
    if (m.image_offset <= br.image_offset)
      return; // older than what we applied
    br.image_offset = m.image_offset;
    for (int32_t p = 0; p < k_.partitions && failure_.empty(); ++p) {
      rep(b, p).m->on_metadata(m.image[size_t(p)], now_);
      drain(b, p);
    }
  }

  void on_fetch(int b, const message& m) {
    int32_t p = m.partition;
    auto& r = rep(b, p);
    auto res = r.m->on_fetch(m.fetch, now_);
    drain(b, p);
    message out = msg(kind::fetch_resp, b, m.from, m.fetch.broker_epoch, p);
    out.fetch_resp = {m.fetch.current_leader_epoch, m.fetch.fetch_offset, res.error,
                      res.high_watermark, res.log_end_offset};
    if (res.error == errc::none) { // whole batches from the fetch offset
      auto o = size_t(m.fetch.fetch_offset);
      if (o < r.log.size() && r.log[o].batch_base != int64_t(o))
        return fail(where(b, p) + " fetched at " + std::to_string(o) + ", inside a batch");
      for (int n = 0; n < k_.max_fetch_batches && o < r.log.size(); ++n)
        for (int32_t i = r.log[o].batch_len; i > 0; --i)
          out.entries.push_back(r.log[o++]);
    }
    send(out);
  }

  void on_fetch_resp(int b, const message& m) {
    int32_t p = m.partition;
    auto& r = rep(b, p);
    std::vector<fetched_batch> batches;
    for (auto& e : m.entries)
      if (batches.empty() || batches.back().base_offset != e.batch_base)
        batches.push_back({e.epoch, e.batch_base, e.batch_base + e.batch_len - 1});
    if (r.m->on_fetch_response(m.fetch_resp, batches, now_))
      for (auto& e : m.entries) {
        r.index[e.record] = int64_t(r.log.size());
        r.log.push_back(e);
      }
    drain(b, p);
  }

  void on_produce(int b, const message& m) {
    int32_t p = m.partition;
    auto& r = rep(b, p);
    auto& mm = *r.m;
    message out = msg(kind::produce_resp, b, m.from, 0, p);
    out.records = {m.records.front()};
    if (mm.role() != replica_role::leader)
      out.error = errc::not_leader_or_follower;
    else if (!mm.can_accept_acks_all(min_isr))
      out.error = errc::not_enough_replicas;
    if (out.error != errc::none)
      return send(out);
    auto n = int32_t(m.records.size());
    int64_t base = int64_t(r.log.size());
    if (auto dup = r.index.find(m.records.front()); dup != r.index.end()) {
      base = dup->second; // a retry of a batch we have: answer with its offsets
      for (int32_t i = 0; i < n; ++i)
        if (r.log[size_t(base + i)].record != m.records[size_t(i)] ||
            r.log[size_t(base)].batch_len != n)
          return fail(where(b, p) + " holds a different batch at " + std::to_string(base));
    } else {
      for (auto rec : m.records) {
        r.index[rec] = int64_t(r.log.size());
        r.log.push_back({mm.leader_epoch(), rec, base, n});
      }
      mm.on_append(int64_t(r.log.size()));
    }
    auto id = next_ack_++;
    r.waits[id] = {m.from, m.records.front(), base};
    mm.wait_for(id, base + n - 1, min_isr);
    drain(b, p);
  }

  void on_ack(int b, int32_t p, const completed_ack& a) {
    auto& r = rep(b, p);
    auto w = r.waits.find(a.id);
    if (w == r.waits.end())
      return fail(where(b, p) + " completed an unknown ack " + std::to_string(a.id));
    message out = msg(kind::produce_resp, b, w->second.producer, 0, p);
    out.records = {w->second.first_record};
    out.error = a.error;
    out.base_offset = w->second.base_offset;
    r.waits.erase(w);
    send(out);
  }

  // --- invariants -----------------------------------------------------------

  std::string where(int b, int32_t p) const {
    return "broker " + std::to_string(b) + " t-" + std::to_string(p);
  }

  /// A replica that just became leader: one leader per epoch, and it holds
  /// the committed prefix.
  void check_tenure(int b, int32_t p) {
    auto& r = rep(b, p);
    auto& m = *r.m;
    if (m.role() != replica_role::leader) {
      r.tenure_epoch = -1;
      return;
    }
    if (r.tenure_epoch == m.leader_epoch())
      return;
    r.tenure_epoch = m.leader_epoch();
    r.tenure_hw = m.high_watermark();
    auto [it, fresh] = facts_[size_t(p)].leaders.emplace(m.leader_epoch(), b);
    if (it->second != b)
      return fail("two leaders in epoch " + std::to_string(m.leader_epoch()) + " of t-" +
                  std::to_string(p) + ": brokers " + std::to_string(it->second) + " and " +
                  std::to_string(b));
    stats_.leader_changes += fresh;
    auto committed = int64_t(facts_[size_t(p)].committed.size());
    if (int64_t(r.log.size()) < committed)
      return fail("leader completeness: " + where(b, p) + " leads epoch " +
                  std::to_string(m.leader_epoch()) + " with " + std::to_string(r.log.size()) +
                  " records, " + std::to_string(committed) + " are committed");
    verify(b, p, committed, false, "new leader");
  }

  void on_hw(int b, int32_t p, int64_t hw) {
    auto& r = rep(b, p);
    if (r.m->role() == replica_role::leader) {
      if (hw < r.tenure_hw)
        return fail("HW of leader " + where(b, p) + " went down from " +
                    std::to_string(r.tenure_hw) + " to " + std::to_string(hw));
      r.tenure_hw = hw;
      verify(b, p, hw, true, "leader HW");
    } else {
      verify(b, p, hw, false, "follower HW");
    }
    if (r_.chance(k_.checkpoint))
      r.checkpoint_hw = hw;
  }

  /// log[0, upto) of a replica against the committed prefix; a leader's HW
  /// extends that prefix.
  void verify(int b, int32_t p, int64_t upto, bool extend, const char* why) {
    auto& r = rep(b, p);
    auto& c = facts_[size_t(p)].committed;
    if (upto > int64_t(r.log.size()))
      return fail(where(b, p) + " " + why + " " + std::to_string(upto) + " beyond its log");
    for (auto o = r.verified; o < upto; ++o) {
      auto& e = r.log[size_t(o)];
      if (o < int64_t(c.size())) {
        if (!(c[size_t(o)] == e))
          return fail("log matching below the HW: " + where(b, p) + " (" + why + ") has record " +
                      std::to_string(e.record) + " of epoch " + std::to_string(e.epoch) +
                      " at " + std::to_string(o) + ", committed is record " +
                      std::to_string(c[size_t(o)].record) + " of epoch " +
                      std::to_string(c[size_t(o)].epoch));
      } else if (extend) {
        c.push_back(e);
      } else {
        return fail(where(b, p) + " " + why + " " + std::to_string(upto) +
                    " is beyond every leader's HW (" + std::to_string(c.size()) + ")");
      }
    }
    r.verified = std::max(r.verified, upto);
  }

  void fail(const std::string& what) {
    if (!failure_.empty())
      return;
    std::ostringstream os;
    os << "t=" << now_ << " ms: " << what << "\n  knobs: " << k_.describe();
    for (int32_t p = 0; p < k_.partitions; ++p) {
      auto& d = described(p);
      os << "\n  t-" << p << ": controller says leader " << d.leader << " epoch "
         << d.leader_epoch << " ISR " << describe_ids(d.isr) << "; committed "
         << facts_[size_t(p)].committed.size();
      for (int b = 1; b <= brokers; ++b) {
        auto& r = rep(b, p);
        os << "\n    broker " << b << ": ";
        if (!r.m) {
          os << "down, log " << r.log.size();
          continue;
        }
        os << to_string(r.m->role()) << " epoch " << r.m->leader_epoch() << " leo "
           << r.m->log_end_offset() << " hw " << r.m->high_watermark() << " epochs "
           << r.m->epochs().describe();
        if (r.m->role() == replica_role::leader)
          os << " isr " << describe_ids(r.m->isr()) << " maximal "
             << describe_ids(r.m->maximal_isr());
      }
    }
    failure_ = os.str();
  }

  // --- producers ------------------------------------------------------------

  void producers_tick() {
    for (int i = 0; i < k_.producers; ++i)
      for (int32_t p = 0; p < k_.partitions; ++p) {
        auto& pp = producers_[size_t(i)][size_t(p)];
        if (!pp.batch) {
          if (liveness_ || !r_.chance(k_.produce))
            continue;
          produce_batch bt;
          for (auto n = r_.between(1, k_.max_batch); n > 0; --n)
            bt.records.push_back(uint64_t(i + 1) << 32 | pp.next_seq++);
          pp.batch = bt;
        }
        auto& bt = *pp.batch;
        if (bt.waiting ? now_ - bt.sent_at < k_.produce_timeout_ms : now_ < bt.retry_at)
          continue;
        int leader = described(p).leader; // a metadata refresh
        bt.waiting = leader >= 0;
        bt.sent_at = now_;
        bt.retry_at = now_ + 20;
        if (leader < 0)
          continue;
        message out = msg(kind::produce, 10 + i, leader, 0, p);
        out.records = bt.records;
        send(out);
      }
  }

  void on_produce_resp(const message& m) {
    auto& pp = producers_[size_t(m.to - 10)][size_t(m.partition)];
    if (!pp.batch || pp.batch->records.front() != m.records.front())
      return; // an answer to a batch that is done
    auto& bt = *pp.batch;
    if (m.error != errc::none) {
      bt.waiting = false;
      bt.retry_at = now_ + r_.between(1, 50);
      return;
    }
    auto& c = facts_[size_t(m.partition)].committed;
    for (size_t i = 0; i < bt.records.size(); ++i) {
      auto o = size_t(m.base_offset) + i;
      if (o >= c.size() || c[o].record != bt.records[i])
        return fail("acknowledged record " + std::to_string(bt.records[i]) + " of t-" +
                    std::to_string(m.partition) + " at offset " + std::to_string(o) +
                    " is not committed there");
      pp.acked.push_back({bt.records[i], int64_t(o)});
    }
    stats_.acked += int64_t(bt.records.size());
    pp.batch.reset();
  }

  // --- network and faults ---------------------------------------------------

  void send(const message& m) {
    if (!net_.send(now_, m.from, m.to, m))
      ++stats_.dropped;
  }

  void deliver_due() {
    while (net_.has_due(now_) && failure_.empty())
      on_message(net_.pop().m);
  }

  void inject_faults() {
    bool all_up = true;
    for (int b = 1; b <= brokers; ++b)
      all_up &= brokers_[b].life.up;
    if (all_up && r_.chance(k_.crash)) { // at most RF - min.insync.replicas down
      int leader = described(int32_t(r_.between(0, k_.partitions - 1))).leader;
      crash(leader > 0 && r_.chance(k_.leader_crash) ? leader : int(r_.between(1, brokers)));
    }
    if (r_.chance(k_.heal))
      net_.links.heal();
    if (!r_.chance(k_.partition))
      return;
    ++stats_.partitions;
    auto a = int(r_.between(1, brokers)), b = int(r_.between(0, brokers));
    switch (r_.between(0, 3)) {
      case 0: net_.links.isolate(a, 0, brokers); break;        // from everyone
      case 1: net_.links.cut_both(a, controller_node); break;  // from the controller only
      case 2: net_.links.cut(a, b); break;                     // one way
      default: net_.links.split(r_, 0, brokers);               // two random sides
    }
  }

  // --- liveness -------------------------------------------------------------

  void start_liveness() {
    liveness_ = true;
    net_.faults_on = false;
    heal_at_ = now_;
    net_.links.heal();
    int64_t backlog = 0;
    for (int b = 1; b <= brokers; ++b) {
      if (!brokers_[b].life.up)
        brokers_[b].life.restart_at = now_;
      for (auto& r : brokers_[b].parts)
        backlog = std::max(backlog, int64_t(r.log.size()));
    }
    // Re-register and unfence, elect, truncate, catch up (a fetch round
    // trip moves max_fetch_batches), rejoin the ISR, answer the producers.
    int64_t round_trip = 2 * k_.max_delay_ms + k_.fetch_backoff_ms + k_.tick_ms;
    deadline_ = now_ + 4 * k_.session_ms + 4 * k_.lag_ms + 10 * k_.produce_timeout_ms +
                20 * (k_.request_timeout_ms + k_.controller_delay_ms) +
                (backlog / k_.max_fetch_batches + 20) * round_trip;
  }

  bool converged() {
    for (auto& per_producer : producers_)
      for (auto& pp : per_producer)
        if (pp.batch)
          return false;
    for (int32_t p = 0; p < k_.partitions; ++p) {
      auto& d = described(p);
      if (d.leader < 0 || d.isr.size() != brokers || !brokers_[d.leader].life.up)
        return false;
      auto& l = *rep(d.leader, p).m;
      if (l.role() != replica_role::leader || l.leader_epoch() != d.leader_epoch)
        return false;
      for (int b = 1; b <= brokers; ++b) {
        auto& m = rep(b, p).m;
        if (!m || m->log_end_offset() != l.log_end_offset() ||
            m->high_watermark() != l.log_end_offset())
          return false;
      }
    }
    return true;
  }

  void final_checks() {
    for (int32_t p = 0; p < k_.partitions && failure_.empty(); ++p) {
      auto& leader_log = rep(described(p).leader, p).log;
      for (int b = 1; b <= brokers; ++b)
        if (!(rep(b, p).log == leader_log))
          return fail("after the faults: broker " + std::to_string(b) + " t-" +
                      std::to_string(p) + " log differs from the leader's");
      if (!(facts_[size_t(p)].committed == leader_log))
        return fail("after the faults: t-" + std::to_string(p) +
                    " log is not the committed sequence");
      std::set<uint64_t> seen;
      for (auto& e : leader_log)
        if (!seen.insert(e.record).second)
          return fail("record " + std::to_string(e.record) + " twice in t-" + std::to_string(p));
      for (auto& per_producer : producers_) {
        int64_t last = -1;
        for (auto& [record, offset] : per_producer[size_t(p)].acked) {
          if (offset <= last || leader_log[size_t(offset)].record != record)
            return fail("acknowledged record " + std::to_string(record) + " of t-" +
                        std::to_string(p) + " lost or out of order");
          last = offset;
        }
      }
    }
  }

  static std::string describe_message(const message& m) {
    static const char* names[] = {"fetch", "fetch_resp", "epoch_req", "epoch_resp", "alter",
                                  "alter_resp", "heartbeat", "heartbeat_resp", "produce",
                                  "produce_resp"};
    std::ostringstream os;
    os << m.from << "->" << m.to << " " << names[int(m.k)] << " t-" << m.partition;
    switch (m.k) {
      case kind::fetch:
        os << " offset " << m.fetch.fetch_offset << " epoch " << m.fetch.current_leader_epoch;
        break;
      case kind::fetch_resp:
        os << " offset " << m.fetch_resp.fetch_offset << " " << to_string(m.fetch_resp.error)
           << " hw " << m.fetch_resp.high_watermark << " records " << m.entries.size();
        break;
      case kind::epoch_req: os << " epoch " << m.epoch_req.requested_epoch; break;
      case kind::epoch_resp:
        os << " " << to_string(m.epoch_resp.error) << " epoch " << m.epoch_resp.epoch
           << " ends " << m.epoch_resp.end_offset;
        break;
      case kind::alter: os << " isr " << describe_ids(m.alter.new_isr); break;
      case kind::alter_resp: os << " " << to_string(m.alter_resp.error); break;
      case kind::produce_resp: os << " " << to_string(m.error) << " at " << m.base_offset; break;
      default: break;
    }
    return os.str();
  }

  rng r_;
  knobs k_;
  std::vector<sim_broker> brokers_;
  std::vector<std::vector<producer_partition>> producers_;
  std::vector<partition_facts> facts_;
  metadata_machine meta_;
  partition_epoch_table epochs_;
  int64_t meta_offset_ = -1;
  std::map<int, int64_t> last_heartbeat_;
  sim::network<message> net_; // nodes 0..3; producers (10+) are always reachable
  sim_stats stats_;
  std::string failure_;
  int64_t now_ = 0, heal_at_ = 0, deadline_ = 0;
  uint64_t next_ack_ = 1;
  bool liveness_ = false;
  bool trace_ = std::getenv("AL_REPL_TRACE") != nullptr;
};

} // namespace

TEST_CASE("replication simulation: seeded faults, safety invariants, liveness",
          "[replication][sim]") {
  auto started = std::chrono::steady_clock::now();
  sim_stats total;
  uint64_t count = sim::for_each_seed(600, [&](uint64_t seed) {
    simulation sim(seed);
    std::string failure = sim.run();
    auto& s = sim.stats();
    total.acked += s.acked, total.crashes += s.crashes, total.partitions += s.partitions;
    total.dropped += s.dropped, total.leader_changes += s.leader_changes;
    total.truncations += s.truncations, total.isr_changes += s.isr_changes;
    total.worst_liveness_ms = std::max(total.worst_liveness_ms, s.worst_liveness_ms);
    return failure;
  });
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::steady_clock::now() - started).count();
  std::cout << "replication sim: " << count << " seeds in " << ms << " ms: " << total.acked
            << " records acknowledged, " << total.leader_changes << " leader epochs, "
            << total.isr_changes << " leader/ISR changes, " << total.truncations
            << " truncations, " << total.crashes << " crashes, " << total.partitions
            << " partitions, " << total.dropped << " messages dropped; worst time to converge "
            << "after the faults stopped: " << total.worst_liveness_ms << " ms\n";
  if (count > 1) { // the faults must actually exercise the machines
    CHECK(total.crashes > 0);
    CHECK(total.truncations > 0);
    CHECK(total.leader_changes > int64_t(count));
  }
}
