// txn_machine (issue 16): Kafka's transaction coordinator states, epoch
// fencing (KIP-98 and KIP-890's bump per transaction), timeouts, markers,
// write failures and recovery from the log.
#include <catch2/catch.hpp>

#include <memory>
#include <random>
#include <tuple>

#include "actors/txn/txn_machine.hpp"

using namespace al;

namespace {

const topic_partition orders0{"orders", 0};
const topic_partition positions1{"positions", 1};
const topic_partition offsets7{"__consumer_offsets", 7};

/// Drives a machine: applies writes, hands out producer ids and writes
/// markers as a well-behaved actor would, and keeps what came out.
struct driver {
  txn_machine m;
  int64_t now = 1000;
  int64_t next_pid = 4000;
  uint64_t next_request = 1;
  std::vector<txn_log_entry> log;   // every entry written, in order
  std::vector<txn_write_markers> markers;
  std::vector<txn_response> responses;
  std::vector<txn_persist> held;    // writes not applied yet (hold_writes)
  bool hold_writes = false;
  bool hold_markers = false;

  explicit driver(txn_config c = {}) : m(c) {}

  void settle() {
    for (int round = 0; round < 100; ++round) {
      auto r = m.take_ready();
      if (r.empty())
        return;
      for (auto& a : r.producer_id_asks)
        m.on_producer_id(a.ask_id, next_pid++, errc::none, now);
      for (auto& p : r.persists) {
        if (hold_writes) {
          held.push_back(p);
          continue;
        }
        log.push_back(p.entry);
        m.on_persisted(p.persist_id, errc::none, now);
      }
      for (auto& mk : r.markers) {
        markers.push_back(mk);
        if (!hold_markers)
          for (auto& tp : mk.partitions)
            m.on_marker_written(mk.transactional_id, mk.producer_id, mk.producer_epoch, tp,
                                errc::none, now);
      }
      for (auto& resp : r.responses)
        responses.push_back(resp);
    }
    FAIL("the machine never settles");
  }

  txn_response last() {
    REQUIRE_FALSE(responses.empty());
    return responses.back();
  }

  txn_response init(const std::string& id, int32_t timeout_ms = 10000) {
    txn_init_request r;
    r.request = next_request++;
    r.transactional_id = id;
    r.timeout_ms = timeout_ms;
    m.on_init(r, now);
    settle();
    return answer_to(r.request);
  }
  txn_response add(const std::string& id, int64_t pid, int16_t epoch,
                   std::vector<topic_partition> tps) {
    txn_add_partitions_request r;
    r.request = next_request++;
    r.transactional_id = id;
    r.producer_id = pid;
    r.producer_epoch = epoch;
    r.partitions = std::move(tps);
    m.on_add_partitions(r, now);
    settle();
    return answer_to(r.request);
  }
  txn_response end(const std::string& id, int64_t pid, int16_t epoch, bool commit) {
    txn_end_request r;
    r.request = next_request++;
    r.transactional_id = id;
    r.producer_id = pid;
    r.producer_epoch = epoch;
    r.commit = commit;
    m.on_end(r, now);
    settle();
    return answer_to(r.request);
  }
  /// The answer to `request`; request 0 when none came (yet).
  txn_response answer_to(uint64_t request) {
    for (auto& r : responses)
      if (r.request == request)
        return r;
    return txn_response{};
  }
  txn_state state(const std::string& id) {
    auto d = m.describe(id);
    REQUIRE(d);
    return d->state;
  }
};

} // namespace

TEST_CASE("InitProducerId: a new id gets a producer id at epoch 0, each call after bumps the "
          "epoch and fences the one before",
          "[txn]") {
  driver d;
  auto first = d.init("pos-1");
  REQUIRE(first.error == errc::none);
  CHECK(first.producer_id == 4000);
  CHECK(first.producer_epoch == 0);
  CHECK(d.state("pos-1") == txn_state::empty);
  REQUIRE(d.log.size() == 1); // answered only once written
  CHECK(d.log[0].producer_id == 4000);

  auto second = d.init("pos-1");
  REQUIRE(second.error == errc::none);
  CHECK(second.producer_id == 4000);
  CHECK(second.producer_epoch == 1);
  // The first producer is a zombie now.
  CHECK(d.add("pos-1", 4000, 0, {orders0}).error == errc::producer_fenced);
  CHECK(d.add("pos-1", 4001, 1, {orders0}).error == errc::invalid_producer_id_mapping);
  CHECK(d.add("pos-1", 4000, 1, {orders0}).error == errc::none);

  CHECK(d.init("pos-2", 0).error == errc::invalid_transaction_timeout);
  CHECK(d.init("pos-2", 900001).error == errc::invalid_transaction_timeout);
  CHECK_FALSE(d.m.describe("pos-2"));
}

TEST_CASE("a committed transaction: partitions added, Prepare written before the answer, markers "
          "with the bumped epoch, then CompleteCommit",
          "[txn]") {
  driver d;
  auto p = d.init("pos-1");
  REQUIRE(d.add("pos-1", p.producer_id, 0, {orders0, positions1}).error == errc::none);
  CHECK(d.state("pos-1") == txn_state::ongoing);
  auto writes = d.log.size();
  REQUIRE(d.add("pos-1", p.producer_id, 0, {positions1}).error == errc::none);
  CHECK(d.log.size() == writes); // nothing new: nothing written
  REQUIRE(d.add("pos-1", p.producer_id, 0, {offsets7}).error == errc::none); // AddOffsetsToTxn
  CHECK(d.m.describe("pos-1")->partitions.size() == 3);

  d.hold_markers = true;
  auto ended = d.end("pos-1", p.producer_id, 0, true);
  REQUIRE(ended.error == errc::none);
  CHECK(ended.producer_epoch == 1); // KIP-890: the next transaction's epoch
  CHECK(d.state("pos-1") == txn_state::prepare_commit);
  REQUIRE(d.markers.size() == 1);
  CHECK(d.markers[0].commit);
  CHECK(d.markers[0].producer_epoch == 1);
  CHECK(d.markers[0].epoch_bumped); // the partitions refuse a late copy in the next transaction
  CHECK(d.markers[0].partitions.size() == 3);
  // A new transaction waits until the markers are out: its add is held
  // (add_wait_ms), and answered CONCURRENT_TRANSACTIONS when that runs out.
  auto early = d.add("pos-1", p.producer_id, 1, {orders0});
  CHECK(early.request == 0); // no answer yet
  CHECK(d.m.next_deadline_ms() == d.now + txn_config{}.add_wait_ms);
  d.now += txn_config{}.add_wait_ms;
  d.m.tick(d.now);
  d.settle();
  CHECK(d.last().error == errc::concurrent_transactions);
  CHECK(d.state("pos-1") == txn_state::prepare_commit);
  // A retried EndTxn (old epoch) is answered again.
  auto retried = d.end("pos-1", p.producer_id, 0, true);
  CHECK(retried.error == errc::none);
  CHECK(retried.producer_epoch == 1);
  for (auto& tp : d.markers[0].partitions)
    d.m.on_marker_written("pos-1", p.producer_id, 1, tp, errc::none, d.now);
  d.settle();
  CHECK(d.state("pos-1") == txn_state::complete_commit);
  CHECK(d.m.describe("pos-1")->partitions.empty());
  CHECK(d.log.back().state == txn_state::complete_commit);
  // After completion: a retry still answered, the other outcome refused.
  CHECK(d.end("pos-1", p.producer_id, 0, true).error == errc::none);
  CHECK(d.end("pos-1", p.producer_id, 0, false).error == errc::invalid_txn_state);
  // No transaction to end now.
  CHECK(d.end("pos-1", p.producer_id, 1, true).error == errc::invalid_txn_state);
  // The next transaction runs on epoch 1; 0 is fenced.
  d.hold_markers = false;
  CHECK(d.add("pos-1", p.producer_id, 0, {orders0}).error == errc::producer_fenced);
  CHECK(d.add("pos-1", p.producer_id, 1, {orders0}).error == errc::none);
  CHECK(d.end("pos-1", p.producer_id, 1, false).producer_epoch == 2);
  CHECK(d.state("pos-1") == txn_state::complete_abort);
  CHECK_FALSE(d.markers.back().commit);
}

TEST_CASE("the next transaction's AddPartitionsToTxn waits for the previous one to complete, "
          "then goes on at once",
          "[txn]") {
  driver d;
  auto p = d.init("pos-1");
  REQUIRE(d.add("pos-1", p.producer_id, 0, {orders0}).error == errc::none);
  d.hold_markers = true;
  REQUIRE(d.end("pos-1", p.producer_id, 0, true).error == errc::none);
  REQUIRE(d.state("pos-1") == txn_state::prepare_commit);
  txn_add_partitions_request next;
  next.request = d.next_request++;
  next.transactional_id = "pos-1";
  next.producer_id = p.producer_id;
  next.producer_epoch = 1; // the epoch EndTxn handed on (KIP-890)
  next.partitions = {positions1};
  d.m.on_add_partitions(next, d.now);
  d.settle();
  CHECK(d.answer_to(next.request).request == 0); // waiting, not refused
  // A fenced epoch is refused at once, waiting or not.
  CHECK(d.add("pos-1", p.producer_id, 0, {positions1}).error == errc::producer_fenced);
  d.now += 5;
  for (auto& tp : d.markers.back().partitions)
    d.m.on_marker_written("pos-1", p.producer_id, 1, tp, errc::none, d.now);
  d.settle();
  // CompleteCommit written, then the waiting add: the next transaction is open.
  REQUIRE(d.log.size() >= 2);
  CHECK(d.log[d.log.size() - 2].state == txn_state::complete_commit);
  CHECK(d.log.back().state == txn_state::ongoing);
  CHECK(d.answer_to(next.request).error == errc::none);
  CHECK(d.state("pos-1") == txn_state::ongoing);
  CHECK(d.m.describe("pos-1")->partitions == std::vector<topic_partition>{positions1});
  // Nothing waits any more: no deadline from the add.
  auto due = d.m.next_deadline_ms();
  CHECK((!due || *due > d.now + txn_config{}.add_wait_ms));
}

TEST_CASE("requests for an id whose state change is being written get CONCURRENT_TRANSACTIONS",
          "[txn]") {
  driver d;
  auto p = d.init("pos-1");
  d.hold_writes = true;
  txn_add_partitions_request add;
  add.request = 99;
  add.transactional_id = "pos-1";
  add.producer_id = p.producer_id;
  add.producer_epoch = 0;
  add.partitions = {orders0};
  d.m.on_add_partitions(add, d.now);
  d.settle();
  REQUIRE(d.held.size() == 1);
  CHECK(d.answer_to(99).request == 0); // not answered before the write lands
  CHECK(d.end("pos-1", p.producer_id, 0, true).error == errc::concurrent_transactions);
  CHECK(d.init("pos-1").error == errc::concurrent_transactions);
  d.m.on_persisted(d.held[0].persist_id, errc::none, d.now);
  d.settle();
  CHECK(d.answer_to(99).error == errc::none);
  CHECK(d.state("pos-1") == txn_state::ongoing);
}

TEST_CASE("a write the log refuses changes nothing and tells the caller the coordinator moved",
          "[txn]") {
  driver d;
  auto p = d.init("pos-1");
  REQUIRE(d.add("pos-1", p.producer_id, 0, {orders0}).error == errc::none);
  d.hold_writes = true;
  txn_end_request end;
  end.request = 50;
  end.transactional_id = "pos-1";
  end.producer_id = p.producer_id;
  end.producer_epoch = 0;
  d.m.on_end(end, d.now);
  d.settle();
  REQUIRE(d.held.size() == 1);
  d.m.on_persisted(d.held[0].persist_id, errc::not_leader_or_follower, d.now);
  d.settle();
  CHECK(d.answer_to(50).error == errc::not_coordinator);
  CHECK(d.state("pos-1") == txn_state::ongoing); // as before
  CHECK(d.markers.empty());
  // A new id whose first write fails is not remembered.
  d.held.clear();
  txn_init_request init;
  init.request = 51;
  init.transactional_id = "pos-9";
  d.m.on_init(init, d.now);
  d.settle();
  REQUIRE(d.held.size() == 1);
  d.m.on_persisted(d.held[0].persist_id, errc::request_timed_out, d.now);
  d.settle();
  CHECK(d.answer_to(51).error == errc::coordinator_not_available);
  CHECK_FALSE(d.m.describe("pos-9"));
}

TEST_CASE("transaction.timeout.ms aborts with a bumped epoch: the zombie's commit is fenced",
          "[txn]") {
  driver d;
  auto p = d.init("pos-1", 5000);
  REQUIRE(d.add("pos-1", p.producer_id, 0, {orders0}).error == errc::none);
  auto started = d.now;
  REQUIRE(d.m.next_deadline_ms());
  CHECK(*d.m.next_deadline_ms() == started + 5000);
  d.now = started + 4999;
  d.m.tick(d.now);
  d.settle();
  CHECK(d.state("pos-1") == txn_state::ongoing);
  d.now = started + 5000;
  d.m.tick(d.now);
  d.settle();
  CHECK(d.state("pos-1") == txn_state::complete_abort);
  REQUIRE(d.markers.size() == 1);
  CHECK_FALSE(d.markers[0].commit);
  CHECK(d.markers[0].producer_epoch == 1);
  // The producer that let it time out comes back with epoch 0.
  CHECK(d.end("pos-1", p.producer_id, 0, true).error == errc::producer_fenced);
  CHECK(d.add("pos-1", p.producer_id, 0, {orders0}).error == errc::producer_fenced);
}

// Seen in txn_sim_test (seed 943): a coordinator whose appends failed at
// once wrote its timeout abort again at every tick.
TEST_CASE("a timeout abort whose write fails is tried again after the backoff, not at once",
          "[txn]") {
  txn_config c;
  c.marker_retry_backoff_ms = 100;
  driver d(c);
  auto p = d.init("pos-1", 5000);
  REQUIRE(d.add("pos-1", p.producer_id, 0, {orders0}).error == errc::none);
  d.hold_writes = true;
  d.now += 5000;
  d.m.tick(d.now);
  d.settle();
  REQUIRE(d.held.size() == 1);
  CHECK(d.held[0].entry.state == txn_state::prepare_abort);
  d.m.on_persisted(d.held[0].persist_id, errc::not_enough_replicas, d.now);
  d.settle();
  REQUIRE(d.m.next_deadline_ms());
  CHECK(*d.m.next_deadline_ms() == d.now + 100);
  d.m.tick(d.now + 99);
  d.settle();
  CHECK(d.held.size() == 1); // nothing written again yet
  d.hold_writes = false;
  d.now += 100;
  d.m.tick(d.now);
  d.settle();
  CHECK(d.state("pos-1") == txn_state::complete_abort);
}

TEST_CASE("InitProducerId during a transaction aborts it first, the caller retries",
          "[txn]") {
  driver d;
  auto p = d.init("pos-1");
  REQUIRE(d.add("pos-1", p.producer_id, 0, {orders0, positions1}).error == errc::none);
  d.hold_markers = true;
  CHECK(d.init("pos-1").error == errc::concurrent_transactions);
  CHECK(d.state("pos-1") == txn_state::prepare_abort);
  CHECK(d.init("pos-1").error == errc::concurrent_transactions); // markers still out
  REQUIRE(d.markers.size() == 1);
  CHECK(d.markers[0].producer_epoch == 1);
  for (auto& tp : d.markers[0].partitions)
    d.m.on_marker_written("pos-1", p.producer_id, 1, tp, errc::none, d.now);
  d.settle();
  auto again = d.init("pos-1");
  REQUIRE(again.error == errc::none);
  CHECK(again.producer_epoch == 2);
  CHECK(d.state("pos-1") == txn_state::empty);
}

TEST_CASE("markers that fail are sent again after the backoff, a deleted partition counts as done",
          "[txn]") {
  txn_config c;
  c.marker_retry_backoff_ms = 100;
  driver d{c};
  d.hold_markers = true;
  auto p = d.init("pos-1");
  REQUIRE(d.add("pos-1", p.producer_id, 0, {orders0, positions1}).error == errc::none);
  REQUIRE(d.end("pos-1", p.producer_id, 0, true).error == errc::none);
  REQUIRE(d.markers.size() == 1);
  d.m.on_marker_written("pos-1", p.producer_id, 1, orders0, errc::not_leader_or_follower, d.now);
  d.m.on_marker_written("pos-1", p.producer_id, 1, positions1, errc::unknown_topic_or_partition,
                        d.now);
  d.m.on_marker_written("pos-1", p.producer_id, 0, orders0, errc::none, d.now); // stale epoch
  d.settle();
  CHECK(d.state("pos-1") == txn_state::prepare_commit);
  REQUIRE(d.m.next_deadline_ms());
  CHECK(*d.m.next_deadline_ms() == d.now + 100);
  d.m.tick(d.now + 99);
  d.settle();
  CHECK(d.markers.size() == 1);
  d.now += 100;
  d.m.tick(d.now);
  d.settle();
  REQUIRE(d.markers.size() == 2);
  CHECK(d.markers[1].partitions == std::vector<topic_partition>{orders0}); // only the one left
  d.m.on_marker_written("pos-1", p.producer_id, 1, orders0, errc::none, d.now);
  d.settle();
  CHECK(d.state("pos-1") == txn_state::complete_commit);
}

TEST_CASE("load: the latest entry per id wins, tombstones forget, a Prepare writes its markers "
          "again and completes",
          "[txn]") {
  driver first;
  auto p = first.init("pos-1");
  REQUIRE(first.add("pos-1", p.producer_id, 0, {orders0}).error == errc::none);
  first.hold_markers = true;
  REQUIRE(first.end("pos-1", p.producer_id, 0, true).error == errc::none); // crash before markers
  auto q = first.init("pos-2", 3000);
  REQUIRE(first.add("pos-2", q.producer_id, 0, {positions1}).error == errc::none);
  first.init("pos-3");
  auto gone = first.log.back();
  gone.tombstone = true;
  first.log.push_back(gone); // pos-3 expired

  driver second; // the coordinator's new home
  second.now = first.now + 1000;
  second.m.load(first.log, second.now);
  second.settle();
  REQUIRE(second.markers.size() == 1);
  CHECK(second.markers[0].transactional_id == "pos-1");
  CHECK(second.markers[0].commit);
  CHECK(second.markers[0].producer_epoch == 1);
  CHECK(second.state("pos-1") == txn_state::complete_commit);
  CHECK(second.state("pos-2") == txn_state::ongoing);
  CHECK_FALSE(second.m.describe("pos-3"));
  CHECK(second.m.list().size() == 2);
  CHECK(second.m.list({txn_state::ongoing}).size() == 1);
  // pos-2 keeps its timeout from its start, not from the load.
  REQUIRE(second.m.next_deadline_ms());
  CHECK(*second.m.next_deadline_ms() == first.now + 3000);
}

TEST_CASE("an exhausted epoch moves the producer to a new producer id at the end of its "
          "transaction",
          "[txn]") {
  driver d;
  txn_log_entry e;
  e.transactional_id = "pos-1";
  e.producer_id = 77;
  e.producer_epoch = max_producer_epoch - 1;
  e.state = txn_state::ongoing;
  e.partitions = {orders0};
  e.start_ms = d.now;
  d.m.load({e}, d.now);
  auto ended = d.end("pos-1", 77, max_producer_epoch - 1, true);
  REQUIRE(ended.error == errc::none);
  CHECK(ended.producer_id == 4000); // a new id ...
  CHECK(ended.producer_epoch == 0); // ... from epoch 0
  REQUIRE(d.markers.size() == 1);
  CHECK(d.markers[0].producer_id == 77); // the transaction's records are under the old id
  CHECK(d.markers[0].producer_epoch == max_producer_epoch);
  auto desc = d.m.describe("pos-1");
  CHECK(desc->producer_id == 4000);
  CHECK(desc->producer_epoch == 0);
  CHECK(desc->state == txn_state::complete_commit);
  CHECK(d.add("pos-1", 4000, 0, {orders0}).error == errc::none);
}

TEST_CASE("a Complete entry whose write failed is written again after the backoff", "[txn]") {
  txn_config c;
  c.marker_retry_backoff_ms = 100;
  driver d{c};
  auto p = d.init("pos-1");
  REQUIRE(d.add("pos-1", p.producer_id, 0, {orders0}).error == errc::none);
  d.hold_markers = true;
  REQUIRE(d.end("pos-1", p.producer_id, 0, true).error == errc::none);
  d.hold_writes = true;
  d.m.on_marker_written("pos-1", p.producer_id, 1, orders0, errc::none, d.now);
  d.settle();
  REQUIRE(d.held.size() == 1);
  CHECK(d.held[0].entry.state == txn_state::complete_commit);
  d.m.on_persisted(d.held[0].persist_id, errc::not_leader_or_follower, d.now);
  d.held.clear();
  d.hold_writes = false;
  d.settle();
  CHECK(d.state("pos-1") == txn_state::prepare_commit);
  REQUIRE(d.m.next_deadline_ms());
  CHECK(*d.m.next_deadline_ms() == d.now + 100);
  d.m.tick(d.now + 100);
  d.settle();
  CHECK(d.state("pos-1") == txn_state::complete_commit);
}

TEST_CASE("an id idle for transactional.id.expiration.ms is written off with a tombstone",
          "[txn]") {
  txn_config c;
  c.id_expiration_ms = 60000;
  driver d{c};
  d.init("pos-1");
  d.m.tick(d.now + 59999);
  d.settle();
  CHECK(d.m.describe("pos-1"));
  d.m.tick(d.now + 60000);
  d.settle();
  CHECK_FALSE(d.m.describe("pos-1"));
  REQUIRE_FALSE(d.log.empty());
  CHECK(d.log.back().tombstone);
}

// ---------------------------------------------------------------------------
// Seeded runs: two producers share one transactional id (the second fences
// the first, which keeps trying as a zombie), appends fail now and then,
// markers fail or come back late and twice, the coordinator moves (a new
// machine loads the log), time jumps past timeouts. Checked after every
// run: each request answered exactly once; per producer id the logged
// epochs never go down; no (producer id, epoch) gets both a commit and an
// abort marker; a commit answered OK has its PrepareCommit in the log; no
// request with a fenced epoch succeeds; with the faults off, every
// transaction leaves Prepare*.
namespace {

struct seeded_run {
  std::mt19937_64 rng;
  txn_config cfg;
  std::unique_ptr<txn_machine> m;
  int64_t now = 1000;
  int64_t next_pid = 100;
  std::vector<txn_log_entry> log; // what the partition holds
  std::map<uint64_t, int> answers;  // request -> times answered
  std::map<uint64_t, txn_response> answer_of;
  std::vector<txn_write_markers> markers_out; // sent, not yet answered
  std::set<std::pair<int64_t, int16_t>> committed_markers, aborted_markers;
  std::map<uint64_t, std::tuple<int64_t, int16_t, bool>> ends; // request -> pid, epoch, commit
  std::map<uint64_t, std::pair<int64_t, int16_t>> adds;        // request -> pid, epoch
  int fenced_successes = 0; // OK answers to a request whose epoch the log had passed
  uint64_t next_request = 1;
  bool faults = true;

  explicit seeded_run(uint64_t seed) : rng(seed) {
    cfg.marker_retry_backoff_ms = 50;
    m = std::make_unique<txn_machine>(cfg);
  }
  bool chance(int percent) { return int(rng() % 100) < percent; }

  void pump() {
    for (int round = 0; round < 200; ++round) {
      auto r = m->take_ready();
      if (r.empty())
        return;
      for (auto& a : r.producer_id_asks)
        m->on_producer_id(a.ask_id, next_pid++, errc::none, now);
      for (auto& p : r.persists) {
        if (faults && chance(10)) {
          m->on_persisted(p.persist_id, errc::not_leader_or_follower, now);
          continue;
        }
        log.push_back(p.entry);
        m->on_persisted(p.persist_id, errc::none, now);
      }
      for (auto& mk : r.markers) {
        auto key = std::make_pair(mk.producer_id, mk.producer_epoch);
        (mk.commit ? committed_markers : aborted_markers).insert(key);
        markers_out.push_back(mk);
      }
      for (auto& resp : r.responses) {
        ++answers[resp.request];
        answer_of[resp.request] = resp;
        auto a = adds.find(resp.request);
        if (a != adds.end() && resp.error == errc::none)
          for (auto& e : log)
            if (e.producer_id == a->second.first && e.producer_epoch > a->second.second)
              ++fenced_successes;
      }
    }
  }

  void deliver_markers() {
    auto out = std::move(markers_out);
    markers_out.clear();
    for (auto& mk : out)
      for (auto& tp : mk.partitions) {
        auto e = faults && chance(20) ? errc::not_leader_or_follower : errc::none;
        m->on_marker_written(mk.transactional_id, mk.producer_id, mk.producer_epoch, tp, e, now);
        if (faults && chance(10)) // a duplicate answer
          m->on_marker_written(mk.transactional_id, mk.producer_id, mk.producer_epoch, tp, e, now);
      }
  }

  void move_coordinator() {
    m = std::make_unique<txn_machine>(cfg);
    markers_out.clear(); // answers for the old coordinator are lost
    m->load(log, now);
    // Requests in flight at the old one were answered NOT_COORDINATOR by
    // the actor; count them answered here.
    for (auto& [req, n] : answers)
      (void)req, (void)n;
  }
};

} // namespace

TEST_CASE("seeded runs of two producers sharing a transactional id keep the coordinator's "
          "rules",
          "[txn][seeded]") {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    CAPTURE(seed);
    seeded_run run(seed);
    const std::string id = "pos";
    // Each producer: its id and epoch as it believes them.
    struct producer {
      int64_t pid = -1;
      int16_t epoch = -1;
      bool in_txn = false;
    };
    producer p[2];
    std::set<uint64_t> sent;
    // An OK InitProducerId or EndTxn hands the producer its id and epoch.
    auto take_id = [&](producer& who, uint64_t req) {
      auto a = run.answer_of.find(req);
      if (a == run.answer_of.end() || a->second.error != errc::none)
        return;
      who.pid = a->second.producer_id;
      who.epoch = a->second.producer_epoch;
      who.in_txn = false;
    };
    for (int step = 0; step < 150; ++step) {
      auto& who = p[run.rng() % 2];
      auto req = run.next_request++;
      sent.insert(req);
      switch (run.rng() % 6) {
        case 0: {
          txn_init_request r{req, id, 2000, -1, -1};
          run.m->on_init(r, run.now);
          run.pump();
          take_id(who, req);
          break;
        }
        case 1:
        case 2: {
          txn_add_partitions_request r{req, id, who.pid, who.epoch,
                                       {topic_partition{"t", int32_t(run.rng() % 3)}}};
          run.adds[req] = {who.pid, who.epoch};
          run.m->on_add_partitions(r, run.now);
          run.pump();
          if (run.answer_of.count(req) && run.answer_of[req].error == errc::none)
            who.in_txn = true;
          break;
        }
        case 3: {
          bool commit = run.chance(70);
          txn_end_request r{req, id, who.pid, who.epoch, commit};
          run.ends[req] = {who.pid, who.epoch, commit};
          run.m->on_end(r, run.now);
          run.pump();
          take_id(who, req);
          break;
        }
        case 4:
          run.deliver_markers();
          run.pump();
          break;
        default:
          run.now += int64_t(run.rng() % 1500);
          if (run.chance(10))
            run.move_coordinator();
          run.m->tick(run.now);
          run.pump();
          break;
      }
    }
    // Quiet: no more faults; markers delivered and time moves until nothing is left.
    run.faults = false;
    for (int round = 0; round < 50; ++round) {
      run.deliver_markers();
      run.now += 100;
      run.m->tick(run.now);
      run.pump();
    }
    auto d = run.m->describe(id);
    if (d) {
      CHECK(d->state != txn_state::prepare_commit);
      CHECK(d->state != txn_state::prepare_abort);
    }
    // At most one answer per request (requests lost with a moved
    // coordinator get theirs from the actor, not the machine).
    for (auto& [req, n] : run.answers)
      CHECK(n == 1);
    // Epochs per producer id never go down in the log.
    std::map<int64_t, int16_t> last_epoch;
    for (auto& e : run.log) {
      if (e.producer_id < 0 || e.tombstone)
        continue;
      auto it = last_epoch.find(e.producer_id);
      if (it != last_epoch.end())
        CHECK(e.producer_epoch >= it->second);
      last_epoch[e.producer_id] = e.producer_epoch;
    }
    CHECK(run.fenced_successes == 0);
    // Never both outcomes for one transaction.
    for (auto& k : run.committed_markers)
      CHECK(run.aborted_markers.count(k) == 0);
    // A commit answered OK is decided in the log (a retry's answer repeats
    // an earlier decision).
    for (auto& [req, what] : run.ends) {
      auto a = run.answer_of.find(req);
      if (a == run.answer_of.end() || a->second.error != errc::none || !std::get<2>(what))
        continue;
      bool decided = false;
      for (auto& e : run.log)
        decided |= e.state == txn_state::prepare_commit && e.producer_id == std::get<0>(what) &&
                   (e.producer_epoch == std::get<1>(what) + 1);
      CHECK(decided);
    }
  }
}

TEST_CASE("an EndTxn that keeps its epoch (Kafka clients before KIP-890): markers at that "
          "epoch, the next transaction on it, its retry recognised, zombies still fenced",
          "[txn]") {
  driver d;
  d.init("pos-1");
  auto p = d.init("pos-1", 5000); // epoch 1: epoch 0 is a zombie
  REQUIRE(p.producer_epoch == 1);
  auto end_keeping = [&](int16_t epoch, bool commit) {
    txn_end_request r;
    r.request = d.next_request++;
    r.transactional_id = "pos-1";
    r.producer_id = p.producer_id;
    r.producer_epoch = epoch;
    r.commit = commit;
    r.bump_epoch = false;
    d.m.on_end(r, d.now);
    d.settle();
    return d.answer_to(r.request);
  };
  REQUIRE(d.add("pos-1", p.producer_id, 1, {orders0}).error == errc::none);
  auto committed = end_keeping(1, true);
  REQUIRE(committed.error == errc::none);
  CHECK(committed.producer_epoch == 1);
  CHECK(d.markers.back().commit);
  CHECK(d.markers.back().producer_epoch == 1);
  CHECK_FALSE(d.markers.back().epoch_bumped); // the next transaction's records carry it too
  CHECK(d.state("pos-1") == txn_state::complete_commit);
  CHECK(end_keeping(1, true).error == errc::none);             // a retry
  CHECK(end_keeping(1, false).error == errc::invalid_txn_state); // the other outcome
  CHECK(end_keeping(0, true).error == errc::producer_fenced);    // the zombie
  CHECK(d.add("pos-1", p.producer_id, 0, {orders0}).error == errc::producer_fenced);

  REQUIRE(d.add("pos-1", p.producer_id, 1, {orders0, positions1}).error == errc::none);
  REQUIRE(end_keeping(1, false).error == errc::none);
  CHECK_FALSE(d.markers.back().commit);
  CHECK(d.markers.back().producer_epoch == 1);
  CHECK(d.state("pos-1") == txn_state::complete_abort);

  // The coordinator's own abort (transaction.timeout.ms) still bumps: the
  // kept epoch is fenced from then on.
  REQUIRE(d.add("pos-1", p.producer_id, 1, {orders0}).error == errc::none);
  d.now += 5000;
  d.m.tick(d.now);
  d.settle();
  CHECK(d.state("pos-1") == txn_state::complete_abort);
  CHECK(d.markers.back().producer_epoch == 2);
  CHECK(d.markers.back().epoch_bumped);
  CHECK(end_keeping(1, true).error == errc::producer_fenced);
  CHECK(d.add("pos-1", p.producer_id, 1, {orders0}).error == errc::producer_fenced);
}

TEST_CASE("verify (KIP-890 part 1): only an added partition of the producer's ongoing "
          "transaction may be written, nothing changes",
          "[txn]") {
  driver d;
  auto p = d.init("pos-1");
  auto verify = [&](int64_t pid, int16_t epoch, topic_partition tp,
                    const std::string& id = "pos-1") {
    txn_add_partitions_request q;
    q.request = 7;
    q.transactional_id = id;
    q.producer_id = pid;
    q.producer_epoch = epoch;
    q.partitions = {std::move(tp)};
    auto r = d.m.verify(q);
    CHECK(r.request == 7);
    return r.error;
  };
  // Empty: nothing ongoing.
  CHECK(verify(p.producer_id, 0, orders0) == errc::invalid_txn_state);
  CHECK(verify(p.producer_id, 0, orders0, "nobody") == errc::invalid_producer_id_mapping);
  REQUIRE(d.add("pos-1", p.producer_id, 0, {orders0}).error == errc::none);
  auto writes = d.log.size();
  CHECK(verify(p.producer_id, 0, orders0) == errc::none);
  CHECK(verify(p.producer_id, 0, positions1) == errc::invalid_txn_state); // not added
  CHECK(verify(p.producer_id + 1, 0, orders0) == errc::invalid_producer_id_mapping);
  CHECK(verify(p.producer_id, 1, orders0) == errc::invalid_producer_epoch);
  CHECK(d.log.size() == writes);
  CHECK(d.state("pos-1") == txn_state::ongoing);

  // An add of another partition being written: the added one may still be
  // written, the one being added not yet.
  d.hold_writes = true;
  CHECK(d.add("pos-1", p.producer_id, 0, {positions1}).request == 0); // not answered yet
  REQUIRE(d.held.size() == 1);
  CHECK(verify(p.producer_id, 0, orders0) == errc::none);
  CHECK(verify(p.producer_id, 0, positions1) == errc::concurrent_transactions);
  d.m.on_persisted(d.held[0].persist_id, errc::none, d.now);
  d.held.clear();
  d.settle();
  CHECK(verify(p.producer_id, 0, positions1) == errc::none);

  // The end being written: no more writes confirmed.
  CHECK(d.end("pos-1", p.producer_id, 0, true).request == 0); // not answered yet
  REQUIRE(d.held.size() == 1);
  CHECK(verify(p.producer_id, 0, orders0) == errc::concurrent_transactions);
  d.hold_writes = false;
  d.m.on_persisted(d.held[0].persist_id, errc::none, d.now);
  d.settle();
  // Prepared with the epoch bumped: the old epoch is fenced, the new one
  // has no transaction yet.
  CHECK(verify(p.producer_id, 0, orders0) == errc::producer_fenced);
  CHECK(verify(p.producer_id, 1, orders0) == errc::invalid_txn_state);
  CHECK(d.state("pos-1") == txn_state::complete_commit);
  CHECK(verify(p.producer_id, 1, orders0) == errc::invalid_txn_state);
}
