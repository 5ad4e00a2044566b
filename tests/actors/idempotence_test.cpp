// Idempotent-producer state across truncation, restart and a failed flush
// (issue 12, items 1, 4 and 9), with real partition actors under the
// deterministic scheduler. Two replicas of t-0 (nodes 1 and 2), each with its
// own directory; a router actor stands in for the brokers and hands a
// follower's fetch / OffsetsForLeaderEpoch to the partition actor of the
// node it names. Leadership changes come from the test as metadata.
#include <catch2/catch.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>

#include "node_fixture.hpp"

using namespace al;
using namespace al::test;

// --- fault injection: fdatasync of a segment (.log) file fails with EIO ---
// Interposes libc's fdatasync for this binary (storage's segment::flush
// calls it); everything else, and every call while off, gets the real one.
namespace {
std::atomic<bool> fail_segment_fdatasync{false};

bool is_segment_file(int fd) {
  char link[64];
  char path[4096];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  auto n = ::readlink(link, path, sizeof path - 1);
  if (n < 4)
    return false;
  return std::string_view(path + n - 4, 4) == ".log";
}
} // namespace

extern "C" int fdatasync(int fd) {
  if (fail_segment_fdatasync.load() && is_segment_file(fd)) {
    errno = EIO;
    return -1;
  }
  return int(::syscall(SYS_fdatasync, fd));
}

namespace {

using node_map = std::map<int32_t, partition_api>;

/// The brokers, reduced to what a follower partition sends through them.
caf::behavior router_actor(caf::event_based_actor* self, std::shared_ptr<node_map> nodes) {
  auto find = [nodes](int32_t node) -> std::optional<partition_api> {
    auto i = nodes->find(node);
    if (i == nodes->end())
      return std::nullopt;
    return i->second;
  };
  return {
    [=](peer_atom, int32_t node, fetch_request& req) -> caf::result<fetch_response> {
      auto p = find(node);
      if (!p)
        return make_error(errc::network_exception, "node down");
      return self->delegate(*p, fetch_atom::value, std::move(req));
    },
    [=](peer_atom, int32_t node, topic_partition&,
        offsets_for_epoch_request& req) -> caf::result<offsets_for_epoch_response> {
      auto p = find(node);
      if (!p)
        return make_error(errc::network_exception, "node down");
      return self->delegate(*p, epoch_query_atom::value, std::move(req));
    },
    [=](alter_isr_atom, alter_isr_request&) -> caf::result<alter_isr_response> {
      return make_error(errc::network_exception, "no controller here");
    },
  };
}

bytes idempotent(int64_t pid, int16_t epoch, int32_t seq, const std::string& value) {
  batch_options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  batch_builder b{o};
  b.append(1700000000000, std::nullopt, byte_view{std::string_view{value}});
  return b.build();
}

constexpr int64_t pid = 4242;

struct two_replicas : node_fixture {
  std::shared_ptr<node_map> nodes = std::make_shared<node_map>();
  caf::actor router;
  std::vector<caf::actor> spawned;

  two_replicas() {
    router = sys.spawn(router_actor, nodes);
    sched.run();
  }

  ~two_replicas() {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::kill);
    caf::anon_send_exit(router, caf::exit_reason::kill);
    sched.run();
  }

  static partition_description leadership(int32_t leader, int32_t epoch,
                                          std::vector<int32_t> isr) {
    partition_description d;
    d.leader = leader;
    d.leader_epoch = epoch;
    d.partition_epoch = epoch;
    d.replicas = {1, 2};
    d.isr = std::move(isr);
    return d;
  }

  std::string dir_of(int32_t node) const { return dir + "/node" + std::to_string(node) + "/t-0"; }

  /// (Re)starts node `node`'s replica from its directory.
  partition_api start(int32_t node, const partition_description& d,
                      const std::function<void(partition_setup&)>& tweak = {}) {
    partition_setup ps;
    ps.tp = {"t", 0};
    ps.dir = dir_of(node);
    ps.state = d;
    ps.node_id = node;
    ps.incarnation = 1;
    ps.broker = router;
    if (tweak)
      tweak(ps);
    auto p = sys.spawn(partition_actor, ps);
    spawned.push_back(caf::actor_cast<caf::actor>(p));
    (*nodes)[node] = p;
    sched.run();
    return p;
  }

  static partition_state& state_of(const partition_api& p) {
    return dynamic_cast<partition_api::stateful_base<partition_state>&>(
             *caf::actor_cast<caf::abstract_actor*>(p))
      .state;
  }

  /// kill -9: the process dies without the exit-time producer snapshot
  /// (~partition_state writes one only when the table changed since the last).
  void crash(int32_t node) {
    auto p = nodes->at(node);
    state_of(p).producers_dirty = false;
    caf::anon_send_exit(p, caf::exit_reason::kill);
    nodes->erase(node);
    sched.run();
  }

  void metadata(const partition_api& p, const partition_description& d) {
    caf::anon_send(p, metadata_update_atom::value, d);
    sched.run();
  }

  reply<produce_response> produce_to(const partition_api& p, bytes batch,
                                     acks_mode acks = acks_mode::leader) {
    produce_request req;
    req.topic = "t";
    req.acks = acks;
    req.batch = std::move(batch);
    return ask<produce_response>(p, produce_atom::value, req);
  }

  /// Every value in the replica's log, whatever its high watermark.
  static std::vector<std::string> log_values(const partition_api& p) {
    auto& log = *state_of(p).log;
    auto data = log.read(log.log_start_offset(), size_t(1) << 20);
    REQUIRE(data);
    fetch_response all;
    all.records = std::move(*data);
    return values(all);
  }

  int64_t log_end(const partition_api& p) { return state_of(p).log->log_end_offset(); }
};

} // namespace

// Item 1. Follower A snapshots its producer state at X = 3, is truncated to
// Y = 1 < X, refetches past X and is killed before its next snapshot. On
// restart it must not take the stale snapshot (entries for batches it no
// longer has): as leader it would answer the retry of a lost batch as a
// duplicate at an offset that holds another producer's record.
TEST_CASE_METHOD(two_replicas, "a producer snapshot made stale by a truncation is not loaded "
                               "after a restart",
                 "[idempotence][truncation]") {
  auto a = start(1, leadership(1, 0, {1, 2}));
  start(2, leadership(1, 0, {1, 2}));
  REQUIRE(produce_to(a, idempotent(pid, 0, 0, "p0"), acks_mode::all)); // on both
  crash(2);
  REQUIRE(produce_to(a, idempotent(pid, 0, 1, "p1"))); // A only (acks=1)
  REQUIRE(produce_to(a, idempotent(pid, 0, 2, "p2")));
  REQUIRE(ask<bool>(a, flush_atom::value)); // snapshot covering [0, 3)
  // B leads epoch 1 with its log [0, 1); A follows and truncates to 1.
  auto b = start(2, leadership(2, 1, {2}));
  metadata(a, leadership(2, 1, {2}));
  REQUIRE(log_end(a) == 1);
  for (auto v : {"q1", "q2", "q3"}) // another producer's records at 1, 2, 3
    REQUIRE(produce_to(b, batch_of({{"k", v}})));
  REQUIRE(log_end(a) == 4); // A refetched past the stale snapshot's offset
  crash(1);
  a = start(1, leadership(1, 2, {1}));
  CHECK(log_values(a) == std::vector<std::string>{"p0", "q1", "q2", "q3"});
  // The producer retries p1, whose answer it never got: it is not in A's
  // log, so it must be written, not acknowledged at offset 1 (q1's).
  auto retry = produce_to(a, idempotent(pid, 0, 1, "p1"));
  REQUIRE(retry);
  CHECK(retry.value->base_offset == 4);
  CHECK(log_values(a) == std::vector<std::string>{"p0", "q1", "q2", "q3", "p1"});
}

// Item 4. A truncation must leave every batch still in the log in the dedup
// window. Trimming the window instead erased the producer whose remembered
// batches were all cut away although an older one of its batches stayed;
// the retry of that committed batch was then appended again.
TEST_CASE_METHOD(two_replicas, "after a truncation a retry of a batch still in the log is a "
                               "duplicate",
                 "[idempotence][truncation]") {
  auto a = start(1, leadership(1, 0, {1, 2}));
  start(2, leadership(1, 0, {1, 2}));
  REQUIRE(produce_to(a, idempotent(pid, 0, 0, "p0"), acks_mode::all)); // committed
  crash(2);
  for (int32_t seq = 1; seq <= 5; ++seq) // A only: its window is now seq 1..5
    REQUIRE(produce_to(a, idempotent(pid, 0, seq, "p" + std::to_string(seq))));
  start(2, leadership(2, 1, {2}));
  metadata(a, leadership(2, 1, {2}));
  REQUIRE(log_end(a) == 1); // seq 1..5 are gone, seq 0 stays
  crash(2);
  metadata(a, leadership(1, 2, {1}));
  // The answer to seq 0 was lost; the producer retries it.
  auto retry = produce_to(a, idempotent(pid, 0, 0, "p0"));
  REQUIRE(retry);
  CHECK(retry.value->base_offset == 0);
  CHECK(log_values(a) == std::vector<std::string>{"p0"});
}

// Item 4, older producer epoch: the newer epoch's batches were all cut, the
// older epoch's are still in the log; the table must know that epoch again.
TEST_CASE_METHOD(two_replicas, "after a truncation the producer epoch of the remaining log "
                               "applies",
                 "[idempotence][truncation]") {
  auto a = start(1, leadership(1, 0, {1, 2}));
  start(2, leadership(1, 0, {1, 2}));
  REQUIRE(produce_to(a, idempotent(pid, 0, 0, "e0s0"), acks_mode::all));
  crash(2);
  REQUIRE(produce_to(a, idempotent(pid, 1, 0, "e1s0"))); // epoch bump, A only
  start(2, leadership(2, 1, {2}));
  metadata(a, leadership(2, 1, {2}));
  REQUIRE(log_end(a) == 1);
  crash(2);
  metadata(a, leadership(1, 2, {1}));
  auto late = produce_to(a, idempotent(pid, 0, 0, "e0s0")); // a late retry of epoch 0
  REQUIRE(late);
  CHECK(late.value->base_offset == 0);
  CHECK(log_values(a) == std::vector<std::string>{"e0s0"});
}

// Item 9. flush.messages=1: the batch is written, its fsync fails. The
// client is told KAFKA_STORAGE_ERROR, but producer state and the replica's
// log end count the batch, so a follower fetches past it. The log is not
// trusted with another acknowledgement until a restart (after a failed fsync
// the next one may "succeed" with the data lost); after the restart the
// retry is answered with the original offset, not written again.
TEST_CASE_METHOD(two_replicas, "a failed flush after the append neither duplicates the retry "
                               "nor stalls followers",
                 "[idempotence][flush]") {
  auto leader_only = [](partition_setup& ps) {
    ps.log.flush_messages = 1;
    ps.broker = {}; // leader only: the follower's fetches come from the test
  };
  auto a = start(1, leadership(1, 0, {1}), leader_only);
  fail_segment_fdatasync = true;
  auto first = produce_to(a, idempotent(pid, 0, 0, "p0"));
  CHECK(first.code() == errc::kafka_storage_error);
  CHECK(log_end(a) == 1);                                 // written, not flushed
  CHECK(state_of(a).replica->log_end_offset() == 1);      // and counted
  REQUIRE(state_of(a).producers.find(pid) != nullptr);    // a retry is a duplicate
  fail_segment_fdatasync = false;
  // No more writes, not even once the disk seems to work again.
  auto again = produce_to(a, idempotent(pid, 0, 0, "p0"));
  CHECK(again.code() == errc::kafka_storage_error);
  CHECK(produce_to(a, idempotent(pid, 0, 1, "p1")).code() == errc::kafka_storage_error);
  CHECK(ask<bool>(a, flush_atom::value).code() == errc::kafka_storage_error);
  CHECK(log_end(a) == 1);
  // A follower fetches the batch, then waits at the log end: no
  // OFFSET_OUT_OF_RANGE for an offset the leader has.
  auto follower = fetch_req("t", 0, 0);
  follower.replica_id = 2;
  follower.current_leader_epoch = 0;
  follower.replica_epoch = 1;
  auto f = ask<fetch_response>(a, fetch_atom::value, follower);
  REQUIRE(f);
  CHECK(values(*f.value) == std::vector<std::string>{"p0"});
  follower.offset = 1;
  f = ask<fetch_response>(a, fetch_atom::value, follower);
  REQUIRE(f);
  CHECK(f.value->log_end_offset == 1);
  // The node restarts; recovery reads the batch back. The retry is answered
  // with the first write's offset, the next batch goes after it.
  crash(1);
  a = start(1, leadership(1, 1, {1}), leader_only);
  auto retry = produce_to(a, idempotent(pid, 0, 0, "p0"));
  REQUIRE(retry);
  CHECK(retry.value->base_offset == 0);
  auto next = produce_to(a, idempotent(pid, 0, 1, "p1"));
  REQUIRE(next);
  CHECK(next.value->base_offset == 1);
  CHECK(state_of(a).log->flushed_offset() == 2);
  CHECK(log_values(a) == std::vector<std::string>{"p0", "p1"});
}

// Issue 15: a follower's truncation is fsynced by its I/O worker, not on
// the scheduler. Until that job is back the follower fetches nothing, so
// nothing is written past the cut before the cut is on disk (a cut
// .txnindex entry or batch could otherwise come back after an OS crash
// over offsets written anew). The worker here holds truncation jobs until
// the test lets them run; every other job goes to a real I/O worker.
namespace {

using release_atom = caf::atom_constant<caf::atom("release")>;

struct held_cuts {
  std::vector<std::pair<caf::response_promise, segment_sync_job>> jobs;
  /// Runs the held jobs and answers the partition, in order.
  void release() {
    for (auto& [rp, job] : jobs) {
      auto done = run_segment_sync(job);
      rp.deliver(done ? std::string{} : done.to_string());
    }
    jobs.clear();
  }
};

caf::behavior cut_holding_worker(caf::event_based_actor* self, caf::actor real,
                                 std::shared_ptr<held_cuts> held) {
  return {
    [=](segment_sync_atom a, segment_sync_job& job) -> caf::result<std::string> {
      if (!job.truncation) {
        self->delegate(real, a, std::move(job));
        return caf::delegated<std::string>{};
      }
      auto rp = self->make_response_promise();
      held->jobs.emplace_back(rp, std::move(job));
      return caf::delegated<std::string>{};
    },
    [=](open_log_atom a, open_partition_job& j) { return self->delegate(real, a, std::move(j)); },
    [=](epoch_checkpoint_atom a, epoch_checkpoint_job& j) { self->send(real, a, std::move(j)); },
    [=](producer_snapshot_atom a, producer_snapshot_job& j) { self->send(real, a, std::move(j)); },
    [=](delete_files_atom a, file_delete_job& j) { self->send(real, a, std::move(j)); },
    [=](release_atom) { held->release(); }, // promises are kept by their actor
  };
}

} // namespace

TEST_CASE_METHOD(two_replicas, "a follower fetches nothing past its cut until the I/O worker "
                               "has made the cut durable",
                 "[idempotence][truncation][io]") {
  auto real = sys.spawn(io_worker_actor);
  auto held = std::make_shared<held_cuts>();
  auto io = sys.spawn(cut_holding_worker, real, held);
  spawned.push_back(real);
  spawned.push_back(io);
  auto with_worker = [&](partition_setup& ps) { // as on a node: deferred syncs
    ps.io = io;
    ps.recovery_table = std::make_shared<hw_checkpoint_table>(dir, recovery_table_name);
  };
  auto a = start(1, leadership(1, 0, {1, 2}), with_worker);
  start(2, leadership(1, 0, {1, 2}));
  REQUIRE(produce_to(a, idempotent(pid, 0, 0, "p0"), acks_mode::all)); // on both
  crash(2);
  REQUIRE(produce_to(a, idempotent(pid, 0, 1, "p1"))); // A only
  auto b = start(2, leadership(2, 1, {2}));
  REQUIRE(produce_to(b, batch_of({{"k", "q1"}})));
  metadata(a, leadership(2, 1, {2}));
  // A cut p1 (in the page cache) and handed the fsync to its worker, which
  // holds it: no fetch went out, q1 is not here yet.
  REQUIRE(held->jobs.size() == 1);
  CHECK(held->jobs[0].second.truncation);
  CHECK(log_end(a) == 1);
  CHECK(state_of(a).log->truncation_unsynced());
  CHECK_FALSE(state_of(a).held_requests.empty());
  caf::anon_send(io, release_atom::value);
  sched.run();
  CHECK_FALSE(state_of(a).log->truncation_unsynced());
  CHECK(state_of(a).held_requests.empty());
  CHECK(log_end(a) == 2); // fetched q1 once the cut was on disk
  CHECK(log_values(a) == std::vector<std::string>{"p0", "q1"});
}
