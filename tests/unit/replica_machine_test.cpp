// Scenario tests for partition replication: replica_machine (leader HW and
// ISR, acks=all, fencing, follower truncation by leader epoch), the leader
// epoch cache, and the controller's election and AlterPartition checks.
// A `cluster` holds replicas with in-memory logs; the test moves every
// request and answer by hand, so each scenario reads as a sequence of
// protocol steps. Truncation cases are the ones of KIP-101 and KIP-279.
#include <catch2/catch.hpp>

#include <limits>
#include <map>
#include <memory>
#include <optional>

#include "actors/controller/partition_election_machine.hpp"
#include "actors/partition/replica_machine.hpp"

using namespace al;

namespace {

struct entry {
  int32_t epoch;
  std::string value;
};

struct replica {
  std::unique_ptr<replica_machine> m;
  std::vector<entry> log;
  std::map<uint64_t, errc> acks;          // completed acks=all waits
  std::vector<alter_isr_request> proposals;
  std::optional<replica_fetch_request> fetch;
  std::optional<offsets_for_epoch_request> offsets;
  std::vector<int64_t> truncations;
  int64_t log_start = 0; // log[o] for o < log_start is deleted (retention)
  std::vector<int64_t> restarts; // restart_at effects executed
  std::vector<int64_t> log_starts; // log_start_offset effects executed
  int64_t cut_below = 0; // the next truncation cuts this many more records (a batch cut whole)
};

constexpr int64_t lag_ms = 1000;

class cluster {
public:
  explicit cluster(std::vector<int32_t> ids) : ids_(std::move(ids)) {
    for (auto id : ids_)
      start(id, {}, 0);
  }

  replica& operator[](int32_t id) { return r_.at(id); }
  replica_machine& m(int32_t id) { return *r_.at(id).m; }
  int64_t now = 0;

  /// (Re)starts a replica from a log on disk, as after a crash; offsets
  /// below `log_start` were deleted by retention (their epochs are gone).
  void start(int32_t id, std::vector<entry> log, int64_t checkpointed_hw, int64_t log_start = 0) {
    replica_config c;
    c.tp = {"orders", 0};
    c.broker_id = id;
    c.replica_lag_time_max_ms = lag_ms;
    c.fetch_backoff_ms = 0;
    c.request_timeout_ms = 500;
    replica_log_state s;
    s.log_start_offset = log_start;
    s.log_end_offset = int64_t(log.size());
    s.high_watermark = checkpointed_hw;
    for (size_t o = size_t(log_start); o < log.size(); ++o)
      s.epochs.assign(log[o].epoch, int64_t(o));
    auto& r = r_[id];
    r = replica{};
    r.m = std::make_unique<replica_machine>(c, std::move(s));
    r.log = std::move(log);
    r.log_start = log_start;
  }

  /// The controller's view reaches `to` (every replica when empty).
  void metadata(int32_t leader, int32_t epoch, std::vector<int32_t> isr,
                std::vector<int32_t> to = {}) {
    partition_leadership p{leader, epoch, ++partition_epoch_, ids_, std::move(isr)};
    for (auto id : to.empty() ? ids_ : to) {
      r_.at(id).m->on_metadata(p, now);
      drain(id);
    }
  }
  int32_t partition_epoch() const { return partition_epoch_; }

  /// Leader appends one record per value, as one batch each.
  int64_t append(int32_t leader, std::vector<std::string> values) {
    auto& r = r_.at(leader);
    for (auto& v : values)
      r.log.push_back({r.m->leader_epoch(), v});
    r.m->on_append(int64_t(r.log.size()));
    drain(leader);
    return int64_t(r.log.size()) - 1;
  }
  /// acks=all produce of one record: its ack id.
  uint64_t produce(int32_t leader, const std::string& value, int32_t min_isr = 2) {
    auto last = append(leader, {value});
    auto id = next_ack_++;
    r_.at(leader).m->wait_for(id, last, min_isr);
    drain(leader);
    return id;
  }

  /// Delivers the follower's pending fetch to its leader and the answer back.
  leader_fetch_result fetch(int32_t follower) {
    auto& f = r_.at(follower);
    REQUIRE(f.fetch);
    auto req = *f.fetch;
    f.fetch.reset();
    auto& l = r_.at(req.leader_id);
    auto res = l.m->on_fetch(req, now);
    drain(req.leader_id);
    replica_fetch_response resp{req.current_leader_epoch, req.fetch_offset, res.error,
                                res.high_watermark, res.log_end_offset, l.log_start};
    std::vector<fetched_batch> batches;
    std::vector<entry> records;
    // Below the leader's log start: no batches, the log start tells the
    // follower where to restart (what the partition actor answers).
    if (res.error == errc::none && req.fetch_offset >= l.log_start)
      for (auto o = req.fetch_offset; o < int64_t(l.log.size()); ++o) {
        batches.push_back({l.log[size_t(o)].epoch, o, o});
        records.push_back(l.log[size_t(o)]);
      }
    if (f.m->on_fetch_response(resp, batches, now))
      f.log.insert(f.log.end(), records.begin(), records.end());
    drain(follower);
    return res;
  }

  /// Delivers the follower's pending OffsetsForLeaderEpoch and the answer back.
  offsets_for_epoch_response ask_epoch(int32_t follower) {
    auto& f = r_.at(follower);
    REQUIRE(f.offsets);
    auto req = *f.offsets;
    f.offsets.reset();
    auto resp = r_.at(req.leader_id).m->on_offsets_for_epoch(req);
    drain(req.leader_id);
    f.m->on_offsets_for_epoch_response(resp, now);
    drain(follower);
    return resp;
  }

  /// Follows the follower's requests until it has fetched everything.
  void catch_up(int32_t follower) {
    for (int i = 0; i < 20; ++i) {
      auto& f = r_.at(follower);
      if (f.offsets)
        ask_epoch(follower);
      else if (f.fetch && f.fetch->fetch_offset < int64_t(r_.at(f.fetch->leader_id).log.size()))
        fetch(follower);
      else
        return;
    }
    FAIL("follower " << follower << " does not catch up");
  }

  /// The controller commits the leader's last proposal.
  void commit_proposal(int32_t leader) {
    auto& l = r_.at(leader);
    REQUIRE(!l.proposals.empty());
    auto req = l.proposals.back();
    alter_isr_response resp{req.tp, req.proposal_id, alter_isr_error::none, req.leader_epoch,
                            ++partition_epoch_, req.new_isr};
    l.m->on_alter_isr_response(resp, now);
    drain(leader);
  }

  /// Retention on `id` deleted every offset below `offset`.
  void delete_prefix(int32_t id, int64_t offset) {
    auto& r = r_.at(id);
    REQUIRE(offset <= r.m->high_watermark()); // retention never passes the HW
    for (auto o = r.log_start; o < offset; ++o)
      r.log[size_t(o)] = {-1, "<deleted>"};
    r.log_start = offset;
  }

  void advance(int64_t ms) {
    now += ms;
    for (auto id : ids_) {
      r_.at(id).m->tick(now);
      drain(id);
    }
  }

  void drain(int32_t id) {
    auto& r = r_.at(id);
    auto rd = r.m->ready();
    if (rd.restart_at) {
      r.log.assign(size_t(*rd.restart_at), {-1, "<deleted>"});
      r.log_start = *rd.restart_at;
      r.restarts.push_back(*rd.restart_at);
    }
    if (rd.truncate_to) {
      // Batches of one record here: the cut is where it was asked for,
      // unless a test sets cut_below to model a batch cut whole.
      int64_t cut = *rd.truncate_to - std::exchange(r.cut_below, 0);
      r.log.resize(size_t(cut));
      r.truncations.push_back(*rd.truncate_to);
      r.m->on_truncated(cut, now);
    }
    if (rd.log_start_offset) {
      r.log_start = std::max(r.log_start, *rd.log_start_offset);
      r.log_starts.push_back(*rd.log_start_offset);
    }
    for (auto& a : rd.acks)
      r.acks[a.id] = a.error;
    for (auto& p : rd.alter_isr)
      r.proposals.push_back(p);
    if (rd.offsets_for_epoch)
      r.offsets = rd.offsets_for_epoch;
    if (rd.fetch)
      r.fetch = rd.fetch;
    if (r.m->has_ready())
      drain(id);
  }

  /// The values from the log start on.
  std::vector<std::string> values(int32_t id) {
    std::vector<std::string> out;
    auto& r = r_.at(id);
    for (auto o = r.log_start; o < int64_t(r.log.size()); ++o)
      out.push_back(r.log[size_t(o)].value);
    return out;
  }

private:
  std::vector<int32_t> ids_;
  std::map<int32_t, replica> r_;
  int32_t partition_epoch_ = 0;
  uint64_t next_ack_ = 1;
};

using strings = std::vector<std::string>;
using ids = std::vector<int32_t>;

} // namespace

// ---------------------------------------------------------------------------
// Leader epoch cache (Kafka's LeaderEpochFileCache).

TEST_CASE("epoch cache: end offset of an epoch is the start of the next higher one",
          "[replication]") {
  leader_epoch_cache c;
  CHECK(c.end_offset_for(0, 0).undefined());
  c.assign(0, 0);
  c.assign(2, 40);
  c.assign(5, 41);
  CHECK_FALSE(c.assign(5, 45)); // same epoch, later batch: no entry
  CHECK_FALSE(c.assign(3, 50)); // older epoch: ignored
  CHECK(c.describe() == "0@0 2@40 5@41");
  CHECK(c.end_offset_for(5, 60) == epoch_end_offset{5, 60}); // latest: the log end
  CHECK(c.end_offset_for(2, 60) == epoch_end_offset{2, 41});
  CHECK(c.end_offset_for(3, 60) == epoch_end_offset{2, 41}); // unknown: the floor epoch
  CHECK(c.end_offset_for(0, 60) == epoch_end_offset{0, 40});
  CHECK(c.end_offset_for(6, 60).undefined());                // newer than all
  CHECK(c.end_offset_for(undefined_epoch, 60).undefined());
  leader_epoch_cache later({{3, 10}, {4, 12}});
  CHECK(later.end_offset_for(1, 20) == epoch_end_offset{1, 10}); // older than all
}

TEST_CASE("epoch cache: truncation from the end and from the start", "[replication]") {
  leader_epoch_cache c({{0, 0}, {2, 40}, {5, 41}});
  c.truncate_from_end(41);
  CHECK(c.describe() == "0@0 2@40");
  c.truncate_from_end(100); // nothing starts there
  CHECK(c.describe() == "0@0 2@40");
  c.truncate_from_start(30);
  CHECK(c.describe() == "0@30 2@40");
  c.truncate_from_start(45);
  CHECK(c.describe() == "2@45");
  c.truncate_from_end(45);
  CHECK(c.empty());
}

// ---------------------------------------------------------------------------
// Leader: high watermark, ISR, acks=all.

TEST_CASE("HW advances only when every ISR member has fetched past it", "[replication]") {
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2, 3});
  CHECK(c.m(1).role() == replica_role::leader);
  CHECK(c.m(2).role() == replica_role::follower);
  c.append(1, {"a", "b", "c"});
  CHECK(c.m(1).high_watermark() == 0);
  c.fetch(2);            // 2 gets a, b, c
  CHECK(c.fetch(2).high_watermark == 0); // 2 has 3 records, 3 has none
  c.fetch(3);
  CHECK(c.m(1).high_watermark() == 0); // 3's fetch at 0 says nothing new
  CHECK(c.fetch(3).high_watermark == 3);
  CHECK(c.m(1).high_watermark() == 3);
  // Followers learn it on their next fetch, capped by their own LEO.
  c.fetch(2);
  CHECK(c.m(2).high_watermark() == 3);
}

TEST_CASE("a lagging follower is dropped from the ISR after replica.lag.time.max.ms, not before",
          "[replication]") {
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2, 3});
  c.fetch(3); // 3 is caught up at 0, then goes quiet
  c.append(1, {"a"});
  c.fetch(2);
  c.fetch(2);
  CHECK(c.m(1).high_watermark() == 0); // 3 holds it back
  c.advance(lag_ms);
  c.fetch(2);
  CHECK(c[1].proposals.empty()); // exactly the lag: still in sync
  c.advance(1);
  REQUIRE(c[1].proposals.size() == 1);
  auto& p = c[1].proposals.back();
  CHECK(p.new_isr == ids{1, 2});
  CHECK(p.leader_epoch == 0);
  CHECK(p.partition_epoch == c.partition_epoch());
  // Until the controller commits, the HW still counts 3 (maximal ISR).
  CHECK(c.m(1).maximal_isr() == ids{1, 2, 3});
  CHECK(c.m(1).high_watermark() == 0);
  c.commit_proposal(1);
  CHECK(c.m(1).isr() == ids{1, 2});
  CHECK(c.m(1).high_watermark() == 1);
}

TEST_CASE("a follower that catches up to the HW and this epoch joins the ISR again",
          "[replication]") {
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2}); // 3 out of sync
  c.append(1, {"a", "b"});
  c.catch_up(2);
  c.fetch(2);
  CHECK(c.m(1).high_watermark() == 2);
  c.fetch(3); // at 0: behind the HW
  CHECK(c[1].proposals.empty());
  c.fetch(3); // at 2: reaches it
  REQUIRE(c[1].proposals.size() == 1);
  CHECK(c[1].proposals.back().new_isr == ids{1, 2, 3});
  CHECK(c[1].proposals.back().broker_epochs.count(3) == 1);
  // Proposed: the HW waits for 3 already; committed: min.insync counts it.
  CHECK(c.m(1).maximal_isr() == ids{1, 2, 3});
  CHECK(c.m(1).isr() == ids{1, 2});
  CHECK_FALSE(c.m(1).can_accept_acks_all(3));
  c.commit_proposal(1);
  CHECK(c.m(1).can_accept_acks_all(3));
}

TEST_CASE("acks=all completes once the HW passes the record, min.insync.replicas",
          "[replication]") {
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2, 3});
  CHECK(c.m(1).can_accept_acks_all(3));
  auto a = c.produce(1, "a");
  c.fetch(2);
  c.fetch(3);
  CHECK(c[1].acks.empty());
  c.fetch(2);
  CHECK(c[1].acks.empty()); // 3 has not confirmed yet
  c.fetch(3);
  REQUIRE(c[1].acks.count(a));
  CHECK(c[1].acks[a] == errc::none);

  // 2 and 3 stop fetching; the ISR shrinks to the leader alone.
  auto b = c.produce(1, "b");
  c.advance(lag_ms + 1);
  c.commit_proposal(1);
  CHECK(c.m(1).isr() == ids{1});
  CHECK_FALSE(c.m(1).can_accept_acks_all(2)); // refuse before appending
  CHECK(c.m(1).can_accept_acks_all(1));
  // b was appended while the ISR was bigger: it is committed now, but only
  // on one replica, so the producer hears NOT_ENOUGH_REPLICAS_AFTER_APPEND.
  REQUIRE(c[1].acks.count(b));
  CHECK(c[1].acks[b] == errc::not_enough_replicas_after_append);
}

TEST_CASE("a proposal in doubt keeps counting for the HW until a newer partition epoch",
          "[replication]") {
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2});
  c.append(1, {"a"});
  c.catch_up(3);
  c.fetch(3); // 3 at the HW: expansion proposed, the answer is lost
  REQUIRE(c[1].proposals.size() == 1);
  // 3 dies. The controller may have applied the expansion, so the leader
  // must not count the HW without 3...
  c.append(1, {"b"});
  c.catch_up(2);
  c.fetch(2);
  CHECK(c.m(1).high_watermark() == 1);
  // ...until it settles the doubt: 3 falls out of sync, the leader proposes
  // {1, 2} at the same partition epoch; once committed, the HW moves.
  c.advance(lag_ms + 1);
  c.fetch(2);
  REQUIRE(c[1].proposals.size() == 2);
  CHECK(c[1].proposals.back().new_isr == ids{1, 2});
  CHECK(c[1].proposals.back().partition_epoch == c[1].proposals.front().partition_epoch);
  c.commit_proposal(1);
  CHECK(c.m(1).maximal_isr() == ids{1, 2});
  CHECK(c.m(1).high_watermark() == 2);
}

TEST_CASE("a follower refused as ineligible is left out until it fetches again, and the "
          "doubt is settled at once", "[replication]") {
  // 3 was caught up when its broker died; the controller fenced it and took
  // it out of the ISR. Its LEO still equals the leader's, so it looks
  // caught up: the leader proposes adding it back, and the controller
  // refuses (INELIGIBLE_REPLICA). Before, the proposal stayed in doubt for
  // request.timeout.ms and held the HW (acks=all) where 3 left it.
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2, 3});
  c.append(1, {"a"});
  c.catch_up(2);
  c.catch_up(3);
  c.fetch(2);
  c.fetch(3);
  c.metadata(1, 0, {1, 2}); // 3 fenced: the controller shrank the ISR
  c.fetch(2);
  REQUIRE(c[1].proposals.size() == 1);
  auto add = c[1].proposals.back();
  CHECK(add.new_isr == ids{1, 2, 3});
  CHECK(c.m(1).maximal_isr() == ids{1, 2, 3});
  c.now += 10;
  c.m(1).on_alter_isr_response({add.tp, add.proposal_id, alter_isr_error::ineligible_replica,
                                add.leader_epoch, c.partition_epoch(), {1, 2}},
                               c.now);
  c.drain(1);
  // Settled at once: the committed ISR proposed again (a newer partition
  // epoch ends the doubt), 3 not proposed again while it does not fetch.
  REQUIRE(c[1].proposals.size() == 2);
  CHECK(c[1].proposals.back().new_isr == ids{1, 2});
  c.commit_proposal(1);
  CHECK(c.m(1).maximal_isr() == ids{1, 2});
  auto b = c.produce(1, "b");
  c.fetch(2);
  c.fetch(2);
  CHECK(c.m(1).high_watermark() == 2);
  REQUIRE(c[1].acks.count(b));
  CHECK(c[1].acks[b] == errc::none);
  c.advance(5000);
  CHECK(c[1].proposals.size() == 2);
  // 3 comes back (unfenced) and fetches: once past the back-off, it may join.
  c.catch_up(3);
  c.fetch(3);
  REQUIRE(c[1].proposals.size() == 3);
  CHECK(c[1].proposals.back().new_isr == ids{1, 2, 3});
}

TEST_CASE("a controller behind the leader's partition epoch: the leader proposes again after "
          "the request timeout instead of waiting for metadata", "[replication]") {
  // A new Raft leader answers AlterPartition before it applied the change
  // that gave the leader its partition epoch: INVALID_UPDATE_VERSION with
  // an older epoch. No newer metadata comes; waiting for it kept the ISR
  // short for good (txn_sim_test, 3000 seeds, seed 2414).
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2});
  c.append(1, {"a"});
  c.catch_up(2);
  c.catch_up(3);
  c.fetch(2);
  c.fetch(3);
  REQUIRE(c[1].proposals.size() == 1);
  auto add = c[1].proposals.back();
  CHECK(add.new_isr == ids{1, 2, 3});
  c.m(1).on_alter_isr_response({add.tp, add.proposal_id, alter_isr_error::invalid_update_version,
                                add.leader_epoch, c.partition_epoch() - 1, {}},
                               c.now);
  c.drain(1);
  CHECK(c[1].proposals.size() == 1); // not at once: the same proposal may still land
  c.advance(501); // the fixture's request.timeout.ms is 500
  c.fetch(2);
  c.fetch(3);
  REQUIRE(c[1].proposals.size() == 2);
  CHECK(c[1].proposals.back().new_isr == ids{1, 2, 3});
  c.commit_proposal(1);
  CHECK(c.m(1).isr() == ids{1, 2, 3});
}

TEST_CASE("a follower joins the ISR only once it reaches the leader's epoch start (KAFKA-7128)",
          "[replication]") {
  // 1 leads epoch 0 with ISR {1, 2, 4}; 3 is out of sync with just "a".
  cluster c({1, 2, 3, 4});
  c.metadata(1, 0, {1, 2, 4});
  c.append(1, {"a"});
  for (int i = 0; i < 2; ++i) {
    c.fetch(2);
    c.fetch(4);
  }
  CHECK(c.m(1).high_watermark() == 1);
  c.fetch(3); // at 0, below the HW: not eligible
  c.append(1, {"b", "c"});
  c.fetch(2);
  c.fetch(4);
  // 2 and 4 confirm offset 3, but the answers (carrying HW 3) are lost:
  // a, b, c are committed while 2 still believes the HW is 1.
  c.m(1).on_fetch({1, 2, 0, 0, 3}, c.now);
  c.m(1).on_fetch({1, 4, 0, 0, 3}, c.now);
  CHECK(c.m(1).high_watermark() == 3);
  CHECK(c.m(2).high_watermark() == 1);
  CHECK(c[1].proposals.empty());
  // 1 is gone; 2 leads epoch 1 from offset 3 with its stale HW 1 until 4 fetches.
  c.metadata(2, 1, {2, 4}, {2, 3, 4});
  CHECK(c.m(2).epoch_start_offset() == 3);
  CHECK(c.m(2).high_watermark() == 1);
  c.ask_epoch(3);
  c.fetch(3); // at 1: reaches the stale HW, short of committed b and c
  CHECK(c[2].proposals.empty()); // joining now would let 3 win an election without b, c
  c.fetch(3); // at 3
  REQUIRE(c[2].proposals.size() == 1);
  CHECK(c[2].proposals.back().new_isr == ids{2, 3, 4});
}

// ---------------------------------------------------------------------------
// Fencing by leader epoch.

TEST_CASE("requests with another leader epoch are fenced, a newer one changes nothing",
          "[replication]") {
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2, 3});
  auto a = c.produce(1, "a");
  replica_fetch_request old{1, 2, 0, -1 /* no epoch: unchecked */, 0};
  CHECK(c.m(1).on_fetch(old, c.now).error == errc::none);
  c.metadata(1, 1, {1, 2, 3}, {1}); // leader re-elected: epoch 1
  old.current_leader_epoch = 0;
  CHECK(c.m(1).on_fetch(old, c.now).error == errc::fenced_leader_epoch);
  // The controller moved leadership to 2 in epoch 2; 3 knows, 1 does not.
  // Kafka answers UNKNOWN_LEADER_EPOCH and leaves the leader as it is: only
  // the controller's metadata changes leadership.
  replica_fetch_request newer{1, 3, 0, 2, 0};
  CHECK(c.m(1).on_fetch(newer, c.now).error == errc::unknown_leader_epoch);
  c.drain(1);
  CHECK(c.m(1).role() == replica_role::leader);
  CHECK(c[1].acks.count(a) == 0); // still waiting
  // Delayed metadata of epoch 1 changes nothing; epoch 2 makes it follow 2,
  // and the producer hears to retry elsewhere.
  c.metadata(1, 1, {1, 2, 3}, {1});
  CHECK(c.m(1).role() == replica_role::leader);
  c.metadata(2, 2, {1, 2, 3}, {1});
  CHECK(c.m(1).role() == replica_role::follower);
  CHECK(c.m(1).leader_id() == 2);
  CHECK(c[1].acks.at(a) == errc::not_leader_or_follower);
}

TEST_CASE("a client's leader epoch of INT32_MAX cannot take a leader offline",
          "[replication]") {
  // Fetch or OffsetsForLeaderEpoch with current_leader_epoch INT32_MAX (any
  // client can send both): before, the leader demoted itself and ignored all
  // metadata below INT32_MAX, so the partition stayed offline until restart.
  cluster c({1, 2});
  c.metadata(1, 3, {1, 2});
  c.append(1, {"a"});
  c.catch_up(2);
  const int32_t forged = std::numeric_limits<int32_t>::max();
  replica_fetch_request fetch{1, 2, 0, forged, 0};
  CHECK(c.m(1).on_fetch(fetch, c.now).error == errc::unknown_leader_epoch);
  offsets_for_epoch_request query{1, 2, forged, 3};
  auto resp = c.m(1).on_offsets_for_epoch(query);
  CHECK(resp.error == errc::unknown_leader_epoch);
  CHECK(resp.current_leader_epoch == forged); // echoed
  c.drain(1);
  CHECK(c.m(1).role() == replica_role::leader);
  CHECK(c.m(1).leader_epoch() == 3);
  CHECK(c.m(1).can_accept_acks_all(2));
  // It keeps serving: produce, the follower's fetches, the HW.
  auto b = c.produce(1, "b");
  c.fetch(2);
  c.fetch(2);
  CHECK(c[1].acks.at(b) == errc::none);
  CHECK(c.m(1).high_watermark() == 2);
  // And the controller's next epochs still apply.
  c.metadata(2, 4, {1, 2});
  CHECK(c.m(1).role() == replica_role::follower);
  CHECK(c.m(2).role() == replica_role::leader);
  c.metadata(1, 5, {1, 2});
  CHECK(c.m(1).role() == replica_role::leader);
  CHECK(c.m(1).leader_epoch() == 5);
}

TEST_CASE("a follower discards fetch answers that are not for its fetch in flight",
          "[replication]") {
  cluster c({1, 2});
  c.metadata(1, 0, {1, 2});
  c.append(1, {"a"});
  REQUIRE(c[2].fetch);
  auto req = *c[2].fetch;
  replica_fetch_response resp{req.current_leader_epoch, req.fetch_offset, errc::none, 0, 1, 0};
  CHECK(c.m(2).on_fetch_response(resp, {{0, 0, 0}}, c.now));
  c[2].log.push_back({0, "a"});
  c.drain(2);
  CHECK_FALSE(c.m(2).on_fetch_response(resp, {{0, 0, 0}}, c.now)); // duplicate
  resp.fetch_offset = 1;
  resp.current_leader_epoch = 7;
  CHECK_FALSE(c.m(2).on_fetch_response(resp, {}, c.now)); // another epoch
  CHECK(c.m(2).log_end_offset() == 1);
}

// ---------------------------------------------------------------------------
// Leader epoch changes while leading; retention behind a follower (issue 12,
// items 5 and 6).

TEST_CASE("a leader re-elected with a newer epoch reports it like a role change",
          "[replication]") {
  // Metadata jumped from epoch 0 to 2 (epoch 1 never reached this node).
  // Parked fetches of epoch 0 must be failed and the epoch checkpointed: the
  // caller does both on role_changed, which used to stay false here.
  cluster c({1, 2});
  c.metadata(1, 0, {1, 2});
  c.append(1, {"a"});
  c.catch_up(2);
  c.m(1).on_metadata({1, 2, 10, {1, 2}, {1, 2}}, c.now);
  auto rd = c.m(1).ready();
  CHECK(rd.role_changed);
  CHECK(c.m(1).role() == replica_role::leader);
  CHECK(c.m(1).leader_epoch() == 2);
  CHECK(c.m(1).epochs().describe() == "0@0 2@1");
  // Fetches of epoch 0 are fenced from now on.
  CHECK(c.m(1).on_fetch({1, 2, 0, 0, 1}, c.now).error == errc::fenced_leader_epoch);
  // The same epoch again (a duplicate push) is no change.
  c.m(1).on_metadata({1, 2, 10, {1, 2}, {1, 2}}, c.now);
  CHECK_FALSE(c.m(1).ready().role_changed);
}

TEST_CASE("a follower refuses a batch from a leader epoch newer than its own, without aborting",
          "[replication]") {
  cluster c({1, 2});
  c.metadata(1, 0, {1, 2});
  c.append(1, {"a"});
  c.catch_up(2);
  REQUIRE(c[2].fetch); // 2 waits at offset 1, epoch 0 (a parked fetch at the leader)
  c.metadata(1, 2, {1, 2}, {1}); // only the leader learns of epoch 2
  c.append(1, {"b"});            // stamped with epoch 2
  // The old parked fetch used to be answered with b: the follower asserted.
  auto req = *c[2].fetch;
  c[2].fetch.reset();
  replica_fetch_response resp{req.current_leader_epoch, req.fetch_offset, errc::none, 1, 2, 0};
  CHECK_FALSE(c.m(2).on_fetch_response(resp, {{2, 1, 1}}, c.now));
  c.drain(2);
  CHECK(c.m(2).log_end_offset() == 1);
  CHECK(c.m(2).epochs().describe() == "0@0");
  // It fetches again; the leader fences it until its metadata catches up.
  c.advance(1);
  REQUIRE(c[2].fetch);
  CHECK(c.fetch(2).error == errc::fenced_leader_epoch);
  c.metadata(1, 2, {1, 2}, {2});
  c.catch_up(2);
  CHECK(c.values(2) == strings{"a", "b"});
  CHECK(c.m(2).epochs().describe() == "0@0 2@1");
}

TEST_CASE("a follower behind the leader's log start restarts there instead of looping",
          "[replication][retention]") {
  // 3 is out of the ISR and has fetched nothing; retention on the leader
  // deletes offsets 0..5 (all committed). 3's fetch at 0 used to be answered
  // OFFSET_OUT_OF_RANGE, 3 truncated (to 0) and fetched at 0 again, forever.
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2});
  c.append(1, {"a", "b", "c", "d", "e", "f", "g", "h"});
  c.catch_up(2);
  c.fetch(2);
  REQUIRE(c.m(1).high_watermark() == 8);
  c.delete_prefix(1, 6);
  c.catch_up(3);
  CHECK(c[3].restarts == std::vector<int64_t>{6});
  CHECK(c.m(3).log_end_offset() == 8);
  CHECK(c.values(3) == strings{"g", "h"});
  CHECK(c.m(3).epochs().describe() == "0@6");
  CHECK(c.m(3).high_watermark() >= 6);
  // Caught up, it joins the ISR: the partition is fully replicated again.
  c.fetch(3);
  REQUIRE_FALSE(c[1].proposals.empty());
  CHECK(c[1].proposals.back().new_isr == ids{1, 2, 3});
}

TEST_CASE("a follower with an old diverged log behind the leader's log start restarts there",
          "[replication][retention]") {
  // 2 led epoch 1 alone and wrote x at offset 2; 1 led epoch 2, wrote more,
  // and retention deleted up to offset 4. 2 truncates by epoch (to 2), then
  // finds its fetch offset below the log start and restarts at 4.
  cluster c({1, 2});
  c.start(1, {{0, "a"}, {0, "b"}, {2, "c"}, {2, "d"}, {2, "e"}}, 5);
  c.start(2, {{0, "a"}, {0, "b"}, {1, "x"}}, 2);
  c.metadata(1, 3, {1}, {1});
  c.delete_prefix(1, 4);
  c.metadata(1, 3, {1}, {2});
  c.catch_up(2);
  CHECK(c[2].truncations == std::vector<int64_t>{2});
  CHECK(c[2].restarts == std::vector<int64_t>{4});
  CHECK(c.values(2) == strings{"e"});
  CHECK(c.m(2).log_end_offset() == 5);
}

namespace {
/// 1 leads epoch 2 with [4, 6) of epoch 1 (retention deleted below 4); 2
/// has a diverged epoch 0 log [0, 6) with HW 2 and has not heard of epoch 2.
void start_diverged_behind_log_start(cluster& c) {
  c.start(1, {{1, "<deleted>"}, {1, "<deleted>"}, {1, "<deleted>"}, {1, "<deleted>"},
              {1, "e"}, {1, "f"}}, 6, 4);
  c.start(2, {{0, "a"}, {0, "b"}, {0, "x"}, {0, "y"}, {0, "w"}, {0, "v"}}, 2);
  c.metadata(1, 2, {1}, {1});
}
} // namespace

TEST_CASE("a follower takes the leader's log start: records it kept below it are never read",
          "[replication][retention]") {
  // 2 led epoch 0 alone and wrote x, y at 2, 3 (never committed); 1 led
  // epoch 1, wrote c, d there, and retention deleted up to offset 4 (its
  // epochs below 4 are gone with it). Asked where epoch 0 ends, 1 can only
  // say "before my first offset, 4": 2 cuts at 4 and keeps x, y. The leader
  // cannot compare them any more; Kafka's follower raises its log start to
  // the leader's on every fetch answer, so they are never read. Without
  // that, 2 would serve x at offset 2, below its HW, as committed.
  cluster c({1, 2});
  start_diverged_behind_log_start(c);
  c.metadata(1, 2, {1}, {2});
  c.catch_up(2);
  CHECK(c[2].truncations == std::vector<int64_t>{4});
  CHECK(c[2].restarts.empty());
  CHECK(c[2].log_starts == std::vector<int64_t>{4});
  CHECK(c.m(2).high_watermark() == 6);
  CHECK(c.values(2) == strings{"e", "f"});
  CHECK(c.m(2).epochs().describe() == "1@4"); // epoch 0 lay wholly below the log start
  // A later answer with the same log start changes nothing.
  c.append(1, {"g"});
  c.catch_up(2);
  CHECK(c[2].log_starts == std::vector<int64_t>{4});
}

TEST_CASE("a truncation inside one of the follower's batches: the log ends where it was cut",
          "[replication][retention]") {
  // As above, but 2 wrote x, y, w at 2..4 as one batch. The leader's answer,
  // 4, lies inside it; partition_log cuts the batch whole, so the log ends at
  // 2, and the machine must fetch from there (cluster simulation, isr case,
  // seeds 439 and 9734: it fetched from 4 and counted a log end the disk did
  // not have). Fetching at 2, below the leader's log start, restarts at 4.
  cluster c({1, 2});
  start_diverged_behind_log_start(c);
  c[2].cut_below = 2;
  c.metadata(1, 2, {1}, {2});
  c.ask_epoch(2);
  CHECK(c[2].truncations == std::vector<int64_t>{4});
  CHECK(c.m(2).log_end_offset() == 2);
  REQUIRE(c[2].fetch);
  CHECK(c[2].fetch->fetch_offset == 2);
  c.catch_up(2);
  CHECK(c[2].restarts == std::vector<int64_t>{4});
  CHECK(c.values(2) == strings{"e", "f"});
  CHECK(c.m(2).high_watermark() == 6);
  CHECK(c.m(2).log_end_offset() == 6);
}

TEST_CASE("a cut below the HW lowers the follower's HW with it", "[replication]") {
  // Unclean case: the follower's HW 3 sits inside a batch [2, 4) that the
  // leader's answer (3) cuts whole: the log, and so the HW, end at 2.
  cluster c({1, 2});
  c.start(1, {{0, "a"}, {0, "b"}, {0, "c"}, {1, "d"}}, 4);
  c.start(2, {{0, "a"}, {0, "b"}, {0, "c"}, {0, "z"}}, 3);
  c.metadata(1, 2, {1}, {1});
  c[2].cut_below = 1;
  c.metadata(1, 2, {1}, {2});
  c.ask_epoch(2);
  CHECK(c[2].truncations == std::vector<int64_t>{3});
  CHECK(c.m(2).log_end_offset() == 2);
  CHECK(c.m(2).high_watermark() == 2);
  c.catch_up(2);
  CHECK(c.values(2) == strings{"a", "b", "c", "d"});
  CHECK(c.m(2).epochs().describe() == "0@0 1@3");
}

// ---------------------------------------------------------------------------
// Truncation by leader epoch (KIP-101, KIP-279).

TEST_CASE("KIP-101 scenario 1: truncating to the HW on restart would lose a committed record",
          "[replication]") {
  // A (1) leads epoch 0 with B (2). B gets m1 and m2 but hears HW 1 only.
  cluster c({1, 2});
  c.metadata(1, 0, {1, 2});
  c.append(1, {"m1"});
  c.fetch(2);
  c.append(1, {"m2"});
  c.fetch(2); // B has m1, m2; the answer carried HW 1
  CHECK(c.m(2).high_watermark() == 1);
  c.m(1).on_fetch({1, 2, 0, 0, 2}, c.now); // B's next fetch reaches A; its answer is lost
  CHECK(c.m(1).high_watermark() == 2);    // m2 is committed (acks=all would be answered)
  // B restarts: LEO 2, checkpointed HW 1. Old Kafka truncated to the HW here.
  c.start(2, c[2].log, 1);
  c.metadata(1, 0, {1, 2}, {2});
  CHECK(c[2].truncations.empty()); // it asks A about epochs instead
  CHECK(c[2].offsets);
  // A dies before answering; B is elected from the ISR and still has m2.
  c.metadata(2, 1, {2}, {2});
  CHECK(c.m(2).role() == replica_role::leader);
  CHECK(c.values(2) == strings{"m1", "m2"});
  CHECK(c.m(2).epoch_start_offset() == 2);
}

TEST_CASE("KIP-101 scenario 2: after a double failure the HW would leave the logs diverged",
          "[replication]") {
  // A (1) led epoch 0 with m1, m2, HW 2. B (2) lost m2 with its page cache.
  cluster c({1, 2});
  c.start(1, {{0, "m1"}, {0, "m2"}}, 2);
  c.start(2, {{0, "m1"}}, 1);
  // B comes back first, leads epoch 1 and takes m3 at offset 1.
  c.metadata(2, 1, {2}, {2});
  c.append(2, {"m3"});
  CHECK(c.m(2).high_watermark() == 2);
  // A comes back as follower. By HW (2) it would keep m2 at offset 1 while B
  // has m3 there. By epoch: "where does epoch 0 end?" B says offset 1.
  c.metadata(2, 1, {2}, {1});
  auto answer = c.ask_epoch(1);
  CHECK(answer.epoch == 0);
  CHECK(answer.end_offset == 1);
  CHECK(c[1].truncations == std::vector<int64_t>{1});
  c.catch_up(1);
  CHECK(c.values(1) == strings{"m1", "m3"});
  CHECK(c.values(1) == c.values(2));
}

TEST_CASE("KIP-279: a follower that does not know the leader's epoch truncates in rounds",
          "[replication]") {
  // Leader 1: epochs 0@0 1@2 3@3. Follower 2: 0@0 2@2 (it led epoch 2 alone).
  cluster c({1, 2});
  c.start(1, {{0, "a"}, {0, "b"}, {1, "c"}}, 2);
  c.start(2, {{0, "a"}, {0, "b"}, {2, "x"}, {2, "y"}}, 2);
  c.metadata(1, 3, {1}, {1});
  c.append(1, {"d"});
  c.metadata(1, 3, {1}, {2});
  // Round 1: epoch 2 is unknown to the leader; its floor is epoch 1 ending at 3.
  auto first = c.ask_epoch(2);
  CHECK((first.epoch == 1 && first.end_offset == 3));
  // The follower has no epoch 1: it cuts at the end of its floor (epoch 0: 2).
  CHECK(c[2].truncations == std::vector<int64_t>{2});
  // Round 2: epoch 0 ends at 2 on both.
  auto second = c.ask_epoch(2);
  CHECK((second.epoch == 0 && second.end_offset == 2));
  c.catch_up(2);
  CHECK(c.values(2) == strings{"a", "b", "c", "d"});
  CHECK(c.m(2).epochs().describe() == "0@0 1@2 3@3");
}

TEST_CASE("a leader that wrote nothing in its epoch leaves no trace after truncation",
          "[replication]") {
  cluster c({1, 2});
  c.metadata(1, 0, {1, 2});
  c.append(1, {"a"});
  c.catch_up(2);
  c.metadata(2, 1, {1, 2}); // 2 leads epoch 1, writes nothing, is replaced
  c.metadata(1, 2, {1, 2});
  CHECK(c.m(2).epochs().describe() == "0@0 1@1");
  c.ask_epoch(2); // epoch 1 is unknown to 1; its floor 0 ends at 1
  CHECK(c.m(2).epochs().describe() == "0@0");
  c.append(1, {"b"});
  c.catch_up(2);
  CHECK(c.values(2) == strings{"a", "b"});
  CHECK(c.m(2).epochs().describe() == "0@0 2@1");
}

// ---------------------------------------------------------------------------
// Controller: elections and AlterPartition.

namespace {

metadata_image image_with(std::vector<partition_description> parts, std::vector<int32_t> fenced = {}) {
  metadata_image img;
  for (int32_t b = 1; b <= 3; ++b) {
    img.brokers[b] = broker_description{b, "127.0.0.1", uint16_t(9100 + b), false};
    img.broker_incarnations[b] = 100 + b;
  }
  for (auto b : fenced)
    img.brokers[b].fenced = true;
  topic_description t;
  t.name = "orders";
  t.partitions = std::move(parts);
  img.topics["orders"] = t;
  return img;
}

partition_description part(int32_t index, int32_t leader, ids replicas, ids isr) {
  partition_description p;
  p.partition = index;
  p.leader = leader;
  p.leader_epoch = 4;
  p.replicas = std::move(replicas);
  p.isr = std::move(isr);
  return p;
}

} // namespace

TEST_CASE("election: a fenced leader is replaced by the first live ISR member", "[replication]") {
  auto img = image_with({part(0, 1, {1, 2, 3}, {1, 3, 2}), part(1, 2, {2, 3, 1}, {2, 3, 1})}, {1});
  auto cmds = plan_broker_fenced(img, 1, {});
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0].leader == 2); // replicas order, not ISR order
  CHECK(cmds[0].isr == ids{3, 2});
  CHECK(cmds[1].leader == 2); // 1 only followed: it leaves the ISR
  CHECK(cmds[1].isr == ids{2, 3});
}

TEST_CASE("election: no live ISR member leaves the partition offline with its last member",
          "[replication]") {
  auto img = image_with({part(0, 1, {1, 2, 3}, {1})}, {1});
  auto cmds = plan_broker_fenced(img, 1, {});
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].leader == -1);
  CHECK(cmds[0].isr == ids{1});
  // Unclean: the first live replica leads alone, and what only 1 had is lost.
  auto unclean = plan_broker_fenced(img, 1, election_options{true});
  REQUIRE(unclean.size() == 1);
  CHECK(unclean[0].leader == 2);
  CHECK(unclean[0].isr == ids{2});
  // The topic config overrides the cluster default.
  img.topics["orders"].configs["unclean.leader.election.enable"] = "false";
  CHECK(plan_broker_fenced(img, 1, election_options{true})[0].leader == -1);
}

TEST_CASE("election: the last ISR member leads again when it returns, others do not",
          "[replication]") {
  auto img = image_with({part(0, -1, {1, 2, 3}, {1})}, {});
  CHECK(plan_broker_unfenced(img, 2, {}).empty()); // 2 may lack committed records
  auto cmds = plan_broker_unfenced(img, 1, {});
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].leader == 1);
  CHECK(cmds[0].isr == ids{1});
  auto unclean = plan_broker_unfenced(img, 2, election_options{true});
  REQUIRE(unclean.size() == 1);
  CHECK((unclean[0].leader == 2 && unclean[0].isr == ids{2}));
}

TEST_CASE("AlterPartition: compare-and-set on leader epoch and partition epoch", "[replication]") {
  auto img = image_with({part(0, 1, {1, 2, 3}, {1, 2})}, {});
  alter_isr_request req;
  req.tp = {"orders", 0};
  req.leader_id = 1;
  req.leader_epoch = 4;
  req.partition_epoch = 7;
  req.new_isr = {1, 2, 3};
  req.broker_epochs = {{2, 102}, {3, 103}};
  auto ok = plan_alter_isr(img, 7, req);
  CHECK(ok.error == alter_isr_error::none);
  CHECK((ok.cmd.leader == 1 && ok.cmd.isr == ids{1, 2, 3} && !ok.cmd.bump_leader_epoch));
  CHECK(plan_alter_isr(img, 8, req).error == alter_isr_error::invalid_update_version);
  auto r = req;
  r.leader_epoch = 3;
  CHECK(plan_alter_isr(img, 7, r).error == alter_isr_error::fenced_leader_epoch);
  r = req;
  r.leader_id = 2;
  CHECK(plan_alter_isr(img, 7, r).error == alter_isr_error::fenced_leader_epoch);
  r = req;
  r.new_isr = {2, 3};
  CHECK(plan_alter_isr(img, 7, r).error == alter_isr_error::invalid_request);
  r.new_isr = {1, 4};
  CHECK(plan_alter_isr(img, 7, r).error == alter_isr_error::invalid_request);
  r = req;
  r.broker_epochs[3] = 99; // 3 restarted since the leader saw it fetch
  CHECK(plan_alter_isr(img, 7, r).error == alter_isr_error::ineligible_replica);
  img.brokers[3].fenced = true;
  CHECK(plan_alter_isr(img, 7, req).error == alter_isr_error::ineligible_replica);
  r = req;
  r.new_isr = {1}; // shrinking never needs eligibility
  CHECK(plan_alter_isr(img, 7, r).error == alter_isr_error::none);
  r.tp.partition = 5;
  CHECK(plan_alter_isr(img, 7, r).error == alter_isr_error::unknown_topic_or_partition);
}

TEST_CASE("next_tick_ms: a leader with caught-up followers needs no timer, a lagging ISR member "
          "is due exactly when it stops counting as caught up",
          "[replication][timers]") {
  cluster c({1, 2, 3});
  c.metadata(1, 0, {1, 2, 3});
  c.fetch(2);
  c.fetch(3);
  CHECK_FALSE(c.m(1).next_tick_ms()); // every follower at the leader's LEO
  c.now = 100;
  c.append(1, {"a"}); // 2 and 3 are behind now, caught up as of 100 at the latest
  c.fetch(2);
  c.fetch(2); // 2 reaches the LEO
  auto due = c.m(1).next_tick_ms();
  REQUIRE(due);
  // 3 last counted as caught up when it fetched at 0 (at the LEO then).
  CHECK(*due == 0 + lag_ms + 1);
  // A tick before it changes nothing, the tick at it proposes the shrink:
  // the same moment a 200 ms ticker would have found, give or take.
  c.now = *due - 1;
  c.m(1).tick(c.now);
  c.drain(1);
  CHECK(c[1].proposals.empty());
  c.now = *due;
  c.m(1).tick(c.now);
  c.drain(1);
  REQUIRE(c[1].proposals.size() == 1);
  CHECK(c[1].proposals.back().new_isr == ids{1, 2});
  // A proposal in flight is due at its timeout.
  auto again = c.m(1).next_tick_ms();
  REQUIRE(again);
  CHECK(*again == c.now + 500);
  c.commit_proposal(1);
  CHECK_FALSE(c.m(1).next_tick_ms()); // 2 is at the LEO, 3 is out of the ISR
}

TEST_CASE("next_tick_ms: a follower is due at its request timeout while a fetch is out",
          "[replication][timers]") {
  cluster c({1, 2});
  c.metadata(1, 0, {1, 2});
  c.now = 40;
  c.catch_up(2);
  REQUIRE(c[2].fetch); // its next fetch is out (a long poll at the leader)
  auto due = c.m(2).next_tick_ms();
  REQUIRE(due);
  c[2].fetch.reset(); // the answer is lost
  c.now = *due - 1;
  c.m(2).tick(c.now);
  c.drain(2);
  CHECK_FALSE(c[2].fetch); // not yet
  c.now = *due;
  c.m(2).tick(c.now);
  c.drain(2);
  CHECK(c[2].fetch); // asked again at the timeout
  CHECK(*c.m(2).next_tick_ms() == c.now + 500);
}
