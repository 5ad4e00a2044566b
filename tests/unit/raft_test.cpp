// Scenario tests for the controller quorum's Raft (raft_machine), each named
// after the section of the Raft paper (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm") whose rule it checks, in the spirit
// of etcd-raft's raft_paper_test.go; plus raft_storage on real files.
// A `cluster` runs machines with perfect storage and a network the test
// drives message by message.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <deque>
#include <iostream>
#include <functional>
#include <set>

#include "actors/controller/raft_machine.hpp"
#include "actors/controller/raft_memory_storage.hpp"
#include "actors/controller/raft_state_files.hpp"
#include "actors/controller/raft_store.hpp"
#include "log_test_support.hpp"
#include "storage/record_batch.hpp"

using namespace al;

namespace {

bytes cmd(const std::string& s) { return bytes(s.begin(), s.end()); }

/// A log given as the terms of its entries, index 1 first ("e<i>t<term>").
std::vector<raft_entry> log_of(const std::vector<int64_t>& terms) {
  std::vector<raft_entry> out;
  for (size_t i = 0; i < terms.size(); ++i)
    out.push_back({int64_t(i + 1), terms[i], cmd("e" + std::to_string(i + 1) + "t" +
                                                  std::to_string(terms[i]))});
  return out;
}

class cluster {
public:
  using tweak_fn = std::function<void(raft_config&)>;

  /// n fresh voters 1..n, or voters whose logs hold entries of these terms
  /// and whose hard state is {term, no vote, commit}.
  explicit cluster(size_t n, tweak_fn tweak = {}) : cluster(std::vector<std::vector<int64_t>>(n), 0, 0, tweak) {}
  cluster(const std::vector<std::vector<int64_t>>& logs, int64_t term, int64_t commit,
          tweak_fn tweak = {})
    : tweak_(std::move(tweak)) {
    for (size_t i = 0; i < logs.size(); ++i) {
      auto id = raft_node_id(i + 1);
      raft_ready rd; // the past, as if a ready had stored it
      rd.hard_state = raft_hard_state{term, raft_no_node, std::min<int64_t>(commit, int64_t(logs[i].size()))};
      rd.entries = log_of(logs[i]);
      disks_[id].save(rd);
    }
    for (auto& [id, d] : disks_)
      restart(id);
  }

  raft_machine& operator[](raft_node_id id) { return *nodes_.at(id); }
  raft_memory_storage& disk_of(raft_node_id id) { return disks_.at(id); }
  std::vector<bytes>& applied(raft_node_id id) { return applied_[id]; }

  void restart(raft_node_id id) {
    raft_config c;
    c.id = id;
    for (size_t i = 1; i <= disks_.size(); ++i)
      c.voters.push_back(raft_node_id(i));
    c.seed = 42;
    if (tweak_)
      tweak_(c);
    const raft_memory_storage& d = disks_[id];
    nodes_[id] = std::make_unique<raft_machine>(c, d.persisted());
    applied_[id].clear();
    if (d.snapshot())
      applied_[id].push_back(d.snapshot()->data);
  }
  /// The caller's side of compaction: store the snapshot, then compact.
  void compact(raft_node_id id, int64_t index, const std::string& image) {
    auto term = *nodes_.at(id)->log().term_at(index);
    disks_[id].save_snapshot(std::make_shared<raft_snapshot>(raft_snapshot{{index, term}, cmd(image)}));
    nodes_.at(id)->compact(index, cmd(image));
  }
  /// Whatever the machine had not yet handed out or persisted is lost.
  void crash(raft_node_id id) { nodes_.erase(id); }

  /// Runs ready/advance with perfect storage; messages go to the network.
  void process(raft_node_id id) {
    auto& m = *nodes_.at(id);
    while (m.has_ready()) {
      raft_ready rd = m.ready();
      disks_[id].save(rd);
      if (rd.snapshot)
        applied_[id] = {rd.snapshot->data};
      for (auto& msg : rd.messages)
        queue_.push_back(msg);
      for (auto& e : rd.committed)
        if (!e.data.empty())
          applied_[id].push_back(e.data);
      m.advance(rd);
    }
  }
  void process_all() {
    for (auto& [id, m] : nodes_)
      process(id);
  }
  /// Delivers the oldest message (dropped on a cut link or to a crashed
  /// node) and processes the receiver. False when nothing is in flight.
  bool deliver_one() {
    process_all();
    if (queue_.empty())
      return false;
    raft_message m = queue_.front();
    queue_.pop_front();
    bool delivered = !cut_.count({m.from, m.to}) && nodes_.count(m.to);
    if (std::getenv("AL_RAFT_TRACE"))
      std::cerr << (delivered ? "deliver " : "drop    ") << describe(m) << "\n";
    if (delivered) {
      nodes_[m.to]->step(m);
      process(m.to);
    }
    return true;
  }
  void stabilize() {
    for (int i = 0; i < 100000 && deliver_one(); ++i) {
    }
    REQUIRE(queue_.empty());
  }
  bool deliver_until(const std::function<bool()>& done) {
    while (!done())
      if (!deliver_one())
        return false;
    return true;
  }
  void tick(raft_node_id id, int n = 1) {
    for (int i = 0; i < n; ++i)
      nodes_.at(id)->tick();
    process(id);
  }
  void tick_all(int n = 1) {
    for (int i = 0; i < n; ++i) {
      for (auto& [id, m] : nodes_)
        m->tick();
      stabilize();
    }
  }
  void cut(raft_node_id a, raft_node_id b) { cut_.insert({a, b}), cut_.insert({b, a}); }
  void cut_one_way(raft_node_id from, raft_node_id to) { cut_.insert({from, to}); }
  void isolate(raft_node_id id) {
    for (auto& [other, d] : disks_)
      if (other != id)
        cut(id, other);
  }
  void heal() { cut_.clear(); }
  void drop_in_flight() { queue_.clear(); }
  std::deque<raft_message>& in_flight() { return queue_; }

  /// Campaigns `id` and runs the network until it is quiet.
  void elect(raft_node_id id) {
    nodes_.at(id)->campaign();
    stabilize();
    REQUIRE(nodes_.at(id)->role() == raft_role::leader);
  }

private:
  tweak_fn tweak_;
  std::map<raft_node_id, raft_memory_storage> disks_;
  std::map<raft_node_id, std::unique_ptr<raft_machine>> nodes_;
  std::map<raft_node_id, std::vector<bytes>> applied_;
  std::deque<raft_message> queue_;
  std::set<std::pair<raft_node_id, raft_node_id>> cut_;
};

const cluster::tweak_fn paper_raft = [](raft_config& c) { // no pre-vote, no leases
  c.pre_vote = false;
  c.check_quorum = false;
};

raft_message msg(raft_msg type, raft_node_id from, raft_node_id to, int64_t term,
                 int64_t log_index = 0, int64_t log_term = 0) {
  raft_message m;
  m.type = type, m.from = from, m.to = to, m.term = term;
  m.log_index = log_index, m.log_term = log_term;
  return m;
}

} // namespace

TEST_CASE("§5.2 a follower campaigns after a random timeout between T and 2T, a majority elects it",
          "[raft]") {
  cluster c(3, paper_raft);
  int ticks = 0;
  while (c[1].role() == raft_role::follower && ticks < 100) {
    c[1].tick();
    ++ticks;
  }
  CHECK(ticks >= 10);
  CHECK(ticks < 20);
  REQUIRE(c[1].role() == raft_role::candidate);
  CHECK(c[1].term() == 1);
  // The vote for itself is persisted (and fsynced) before the requests go out.
  raft_ready rd = c[1].ready();
  REQUIRE(rd.hard_state);
  CHECK(rd.hard_state->term == 1);
  CHECK(rd.hard_state->voted_for == 1);
  CHECK(rd.must_sync);
  REQUIRE(rd.messages.size() == 2);
  for (auto& m : rd.messages)
    CHECK((m.type == raft_msg::vote && m.term == 1 && m.log_index == 0 && m.log_term == 0));
  c.disk_of(1).save(rd);
  for (auto& m : rd.messages)
    c.in_flight().push_back(m);
  c[1].advance(rd);
  c.stabilize();
  CHECK(c[1].role() == raft_role::leader);
  for (raft_node_id id : {2, 3}) {
    CHECK(c[id].role() == raft_role::follower);
    CHECK(c[id].leader() == 1);
    CHECK(c[id].term() == 1);
  }
  // §5.4.2/§8: the new leader's no-op commits everywhere.
  for (raft_node_id id : {1, 2, 3}) {
    CHECK(c[id].log().last_index() == 1);
    CHECK(c[id].commit_index() == 1);
  }
}

TEST_CASE("§5.2 a voter grants one vote per term, and a restart does not forget it", "[raft]") {
  cluster c(3, paper_raft);
  c[3].step(msg(raft_msg::vote, 1, 3, 1));
  raft_ready rd = c[3].ready();
  REQUIRE(rd.hard_state); // the vote and its answer travel in one ready:
  CHECK(rd.hard_state->voted_for == 1);
  CHECK(rd.must_sync); // persisted before the grant is sent
  REQUIRE(rd.messages.size() == 1);
  CHECK((rd.messages[0].type == raft_msg::vote_resp && !rd.messages[0].reject));
  c.disk_of(3).save(rd);
  c[3].advance(rd);

  c[3].step(msg(raft_msg::vote, 2, 3, 1));
  rd = c[3].ready();
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].reject);
  c[3].advance(rd);

  c.crash(3);
  c.restart(3);
  CHECK(c[3].status().voted_for == 1);
  c[3].step(msg(raft_msg::vote, 2, 3, 1));
  rd = c[3].ready();
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].reject);
  c[3].advance(rd);
  c[3].step(msg(raft_msg::vote, 2, 3, 2)); // a new term: a new vote
  rd = c[3].ready();
  REQUIRE(rd.messages.size() == 1);
  CHECK(!rd.messages[0].reject);
  CHECK(rd.hard_state->voted_for == 2);
}

TEST_CASE("§5.1 a stale term is rejected and its sender steps down, §5.2 a candidate yields to "
          "a leader of its term", "[raft]") {
  cluster c(3, paper_raft);
  c.elect(1);
  c.isolate(1);
  c.elect(2); // term 2
  c.heal();
  REQUIRE(c[1].propose(cmd("stale"))); // the old leader of term 1 tries to replicate
  c.stabilize();
  CHECK(c[1].role() == raft_role::follower); // the answers carried term 2
  CHECK(c[1].term() == 2);
  c.tick(2); // the leader's next heartbeat
  c.stabilize();
  CHECK(c[1].leader() == 2);
  CHECK(c[1].log().last_term() == 2); // its term-1 entry was replaced
  CHECK(c[1].log().last_index() == 2);

  c[3].campaign(); // candidate at term 3
  REQUIRE(c[3].role() == raft_role::candidate);
  c.drop_in_flight();
  raft_message hb = msg(raft_msg::heartbeat, 1, 3, 3);
  c[3].step(hb);
  CHECK(c[3].role() == raft_role::follower);
  CHECK(c[3].leader() == 1);
}

TEST_CASE("§5.4.1 a voter denies its vote to a candidate with a less up-to-date log", "[raft]") {
  struct row {
    int64_t last_index, last_term;
    bool granted;
  };
  // The voter's log ends at index 2, term 2.
  for (row r : {row{1, 2, false}, row{3, 1, false}, row{1, 3, true}, row{2, 2, true},
                row{3, 2, true}}) {
    cluster c({{1, 2}, {1, 2}, {1, 2}}, 2, 0, paper_raft);
    c[2].step(msg(raft_msg::vote, 1, 2, 3, r.last_index, r.last_term));
    raft_ready rd = c[2].ready();
    REQUIRE(rd.messages.size() == 1);
    INFO("candidate log ends at " << r.last_index << "/" << r.last_term);
    CHECK(rd.messages[0].reject == !r.granted);
    CHECK(rd.messages[0].term == 3);
  }
}

TEST_CASE("§5.3 the consistency check rejects an append without its previous entry, with a "
          "hint that skips a term", "[raft]") {
  struct row {
    int64_t prev_index, prev_term;
    bool accepted;
    int64_t hint_index, hint_term;
  };
  for (row r : {row{3, 2, true, 0, 0}, row{3, 3, false, 3, 2}, row{5, 2, false, 3, 2},
                row{2, 1, true, 0, 0}, row{3, 1, false, 2, 1}}) {
    cluster c({{1, 1, 2}, {1, 1, 2}}, 3, 0, paper_raft);
    raft_message m = msg(raft_msg::append, 1, 2, 3, r.prev_index, r.prev_term);
    c[2].step(m);
    raft_ready rd = c[2].ready();
    REQUIRE(rd.messages.size() == 1);
    const raft_message& resp = rd.messages[0];
    INFO(describe(resp));
    CHECK(resp.reject == !r.accepted);
    if (!r.accepted) {
      CHECK(resp.hint_index == r.hint_index);
      CHECK(resp.hint_term == r.hint_term);
    }
  }
}

TEST_CASE("§5.3 a leader brings every follower's log in line with its own (Figure 7)",
          "[raft]") {
  // Figure 7: the leader of term 8 and followers (a)-(f).
  cluster c({{1, 1, 1, 4, 4, 5, 5, 6, 6, 6},
             {1, 1, 1, 4, 4, 5, 5, 6, 6},
             {1, 1, 1, 4},
             {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},
             {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},
             {1, 1, 1, 4, 4, 4, 4},
             {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}},
            7, 0);
  c.elect(1);
  CHECK(c[1].term() == 8);
  for (raft_node_id id = 2; id <= 7; ++id) {
    INFO("follower " << id);
    REQUIRE(c[id].log().last_index() == 11);
    for (int64_t i = 1; i <= 11; ++i)
      CHECK(c[id].log().at(i) == c[1].log().at(i));
    CHECK(c[id].commit_index() == 11);
  }
}

TEST_CASE("§5.4.2 Figure 8: a leader never commits an entry of an earlier term by counting "
          "replicas", "[raft]") {
  // (b) S1 led term 2 and stored index 2 on S1, S2; S5 led term 3 and
  // stored its own index 2 only locally. Everyone is at term 3.
  cluster c({{1, 2}, {1, 2}, {1}, {1}, {1, 3}}, 3, 1, [](raft_config& cfg) {
    paper_raft(cfg);
    cfg.max_entries_per_message = 1; // so index 2 and index 3 travel apart
  });
  c.isolate(5);
  c.cut(1, 2);
  // (c) S1 is elected in term 4 (votes of S3, S4) and appends its no-op at 3.
  c[1].campaign();
  REQUIRE(c.deliver_until([&] { return c[1].role() == raft_role::leader; }));
  REQUIRE(c[1].term() == 4);
  c.cut(1, 4);
  // S1 brings S3 up to index 2; S2 acknowledges the index 2 it holds (what
  // it answers to an append of just that entry).
  REQUIRE(c.deliver_until([&] { return c[1].progress(3)->match == 2; }));
  c.cut(1, 3); // index 3 does not reach S3
  raft_message ack = msg(raft_msg::append_resp, 2, 1, 4);
  ack.match_index = 2;
  c[1].step(ack);
  c.stabilize();
  // Index 2 (term 2) is on S1, S2, S3, a majority of five, yet it is not
  // committed: it is not from S1's term.
  for (raft_node_id id : {1, 2, 3})
    CHECK(c[id].log().match_term(2, 2));
  CHECK(c[1].commit_index() == 1);

  SECTION("(d) S1 crashes; S5 wins term 5 and overwrites index 2: committing it would have "
          "lost a committed entry") {
    c.crash(1);
    c.heal();
    for (int i = 0; i < 3 && c[5].role() != raft_role::leader; ++i) {
      c[5].campaign();
      c.stabilize();
    }
    REQUIRE(c[5].role() == raft_role::leader);
    for (raft_node_id id : {2, 3, 4, 5}) {
      CHECK(c[id].log().match_term(2, 3));
      CHECK(c[id].commit_index() == 3);
    }
  }
  SECTION("(e) S1 replicates index 3 of its own term to a majority: 3 commits, 2 with it, "
          "and S5 can no longer win") {
    c.heal();
    c.isolate(5);
    c.tick_all(10);
    CHECK(c[1].commit_index() == 3);
    c.heal();
    c[5].campaign();
    c.stabilize();
    CHECK(c[5].role() != raft_role::leader);
    for (raft_node_id id : {1, 2, 3, 4})
      CHECK(c[id].log().match_term(2, 2));
  }
}

TEST_CASE("A follower refuses proposals with NOT_CONTROLLER naming the leader", "[raft]") {
  cluster c(3);
  auto none = c[2].propose(cmd("x"));
  REQUIRE(!none);
  CHECK(none.error().code() == errc::not_controller);
  CHECK(none.error().message().find("no controller leader is known") != std::string::npos);
  c.elect(1);
  auto r = c[2].propose(cmd("x"));
  REQUIRE(!r);
  CHECK(r.error().code() == errc::not_controller);
  CHECK(r.error().message().find("leader is node 1") != std::string::npos);
  CHECK(c[2].leader() == 1);
  auto ok = c[1].propose(cmd("create_topic orders"));
  REQUIRE(ok);
  CHECK(ok->index == 2);
  c.stabilize();
  for (raft_node_id id : {1, 2, 3})
    CHECK(c.applied(id) == std::vector<bytes>{cmd("create_topic orders")});
}

TEST_CASE("Check-quorum: a leader cut off from the majority steps down within an election "
          "timeout, the majority elects another", "[raft]") {
  cluster c(3);
  c.elect(1);
  c.isolate(1);
  for (int i = 0; i < 20 && c[1].role() == raft_role::leader; ++i)
    c.tick_all();
  CHECK(c[1].role() == raft_role::follower);
  CHECK(c[1].leader() == raft_no_node);
  for (int i = 0; i < 40 && c[2].role() != raft_role::leader && c[3].role() != raft_role::leader;
       ++i)
    c.tick_all();
  raft_node_id leader = c[2].role() == raft_role::leader ? 2 : 3;
  REQUIRE(c[leader].role() == raft_role::leader);
  c.heal();
  c.tick_all(2);
  CHECK(c[1].leader() == leader);
  CHECK(!c[1].propose(cmd("x")));
}

TEST_CASE("§9.6 pre-vote: a partitioned voter does not inflate its term, and its return does "
          "not depose the leader", "[raft]") {
  cluster c(3);
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 100; ++i)
    c.tick_all();
  CHECK(c[3].term() == 1); // pre-campaigns only: no one answered
  CHECK(c[3].role() == raft_role::pre_candidate);
  c.heal();
  c.tick_all(30);
  CHECK(c[1].role() == raft_role::leader);
  CHECK(c[1].term() == 1);
  CHECK(c[3].leader() == 1);
}

TEST_CASE("§7 a follower behind the leader's snapshot installs it, then catches up", "[raft]") {
  cluster c(3);
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 10; ++i)
    REQUIRE(c[1].propose(cmd("c" + std::to_string(i))));
  c.stabilize();
  REQUIRE(c[1].applied_index() == 11);
  c.compact(1, 11, "image@11");
  CHECK(c[1].log().base().index == 11);
  REQUIRE(c[1].propose(cmd("after")));
  c.stabilize();
  c.heal();
  c.tick_all(10); // the leader notices the stalled follower
  CHECK(c.disk_of(3).snapshot());
  CHECK(c[3].log().base().index == 11);
  CHECK(c[3].log().last_index() == 12);
  CHECK(c[3].commit_index() == 12);
  CHECK(c.applied(3) == std::vector<bytes>{cmd("image@11"), cmd("after")});

  SECTION("a restart from the installed snapshot keeps the log") {
    c.crash(3);
    c.restart(3);
    CHECK(c[3].log().base().index == 11);
    CHECK(c[3].log().last_index() == 12);
  }
}

TEST_CASE("§7 a follower that holds the snapshot's last entry keeps its log and commits",
          "[raft]") {
  cluster c({{1, 1, 1}, {1, 1, 1, 1}}, 1, 0);
  raft_message m = msg(raft_msg::install_snapshot, 1, 2, 1);
  m.snapshot = std::make_shared<raft_snapshot>(raft_snapshot{{3, 1}, cmd("image@3")});
  c[2].step(m);
  raft_ready rd = c[2].ready();
  CHECK(!rd.snapshot);
  CHECK(c[2].log().last_index() == 4);
  CHECK(c[2].commit_index() == 3);
  REQUIRE(rd.messages.size() == 1);
  CHECK(rd.messages[0].match_index == 3);
}

TEST_CASE("Restart: term, vote, log and commit come back from storage, what a crash cut off "
          "before advance() is lost and was never promised", "[raft]") {
  cluster c(3);
  c.elect(1);
  REQUIRE(c[1].propose(cmd("a")));
  c.stabilize();
  c.crash(2);
  c.restart(2);
  CHECK(c[2].term() == 1);
  CHECK(c[2].log().last_index() == 2);
  CHECK(c[2].commit_index() == 2);
  c.process(2);
  CHECK(c.applied(2) == std::vector<bytes>{cmd("a")}); // replayed from the log

  REQUIRE(c[1].propose(cmd("b")));
  c.process(1);
  auto& q = c.in_flight();
  auto to2 = std::find_if(q.begin(), q.end(), [](auto& m) { return m.to == 2; });
  REQUIRE(to2 != q.end());
  raft_message append = *to2;
  c.drop_in_flight();
  c[2].step(append);
  raft_ready rd = c[2].ready(); // holds entry 3 and its ack; the crash comes first
  CHECK(rd.entries.size() == 1);
  CHECK(rd.must_sync);
  c.crash(2);
  c.restart(2);
  CHECK(c[2].log().last_index() == 2);
  CHECK(c[1].progress(2)->match == 2); // the ack never left
}

namespace {

raft_ready storage_ready(raft_hard_state hs, std::vector<raft_entry> entries,
                         int64_t truncate_from = 0) {
  raft_ready rd;
  rd.hard_state = hs;
  rd.entries = std::move(entries);
  rd.truncate_from = truncate_from;
  rd.must_sync = true;
  return rd;
}

/// The log as (offset, leader epoch, value, header count) per batch.
std::vector<std::tuple<int64_t, int32_t, std::string, size_t>> raw(const raft_storage& s) {
  std::vector<std::tuple<int64_t, int32_t, std::string, size_t>> out;
  auto all = s.log().read(s.log().log_start_offset(), 1 << 20);
  REQUIRE(all);
  byte_view rest{*all};
  while (!rest.empty()) {
    auto b = decode_batch(rest);
    REQUIRE(b);
    REQUIRE(b->records.size() == 1);
    auto& r = b->records[0];
    out.emplace_back(r.offset, b->header.partition_leader_epoch,
                     std::string(r.value->as_string()), r.headers.size());
    rest = rest.sub(b->header.size_in_bytes(), rest.size - b->header.size_in_bytes());
  }
  return out;
}

} // namespace

TEST_CASE("raft_storage: one Kafka batch per entry (offset = index - 1, leader epoch = term), "
          "hard state and log survive a reopen", "[raft][storage]") {
  test::temp_dir dir("raft-storage");
  {
    auto s = raft_storage::open(dir.path(), 1000);
    REQUIRE(s);
    REQUIRE((*s)->save(storage_ready({2, 1, 2}, {{1, 1, {}}, {2, 2, cmd("create")},
                                                 {3, 2, cmd("x")}}), 1000));
    using row = std::tuple<int64_t, int32_t, std::string, size_t>;
    CHECK(raw(**s) == std::vector<row>{{0, 1, "", 0}, {1, 2, "create", 0}, {2, 2, "x", 0}});
    // A new leader of term 3 replaced index 3.
    REQUIRE((*s)->save(storage_ready({3, 2, 2}, {{3, 3, cmd("y")}}, 3), 1001));
  }
  auto s = raft_storage::open(dir.path(), 2000);
  REQUIRE(s);
  auto p = (*s)->recover(2000);
  REQUIRE(p);
  CHECK(p->hard_state == raft_hard_state{3, 2, 2});
  CHECK(!p->snapshot);
  CHECK(p->entries == std::vector<raft_entry>{{1, 1, {}}, {2, 2, cmd("create")}, {3, 3, cmd("y")}});
  raft_config cfg;
  cfg.id = 1;
  cfg.voters = {1, 2, 3};
  raft_machine m(cfg, std::move(*p));
  CHECK(m.term() == 3);
  CHECK(m.commit_index() == 2);
  CHECK(m.log().last_index() == 3);
}

TEST_CASE("raft_storage: a snapshot install empties the log behind a marker, recovery drops "
          "the tail of an install a crash cut short, local snapshots keep the log",
          "[raft][storage]") {
  test::temp_dir dir("raft-snapshot");
  auto s = raft_storage::open(dir.path(), 1000);
  REQUIRE(s);
  REQUIRE((*s)->save(storage_ready({2, 1, 1}, {{1, 1, {}}, {2, 1, cmd("a")}, {3, 2, cmd("b")}}), 1000));

  SECTION("installed from the leader") {
    raft_ready rd = storage_ready({3, raft_no_node, 10}, {{11, 3, cmd("z")}});
    rd.snapshot = std::make_shared<raft_snapshot>(raft_snapshot{{10, 3}, cmd("image")});
    REQUIRE((*s)->save(rd, 1001));
    using row = std::tuple<int64_t, int32_t, std::string, size_t>;
    CHECK(raw(**s) == std::vector<row>{{9, 3, "", 1}, {10, 3, "z", 0}}); // marker, entry
    auto p = (*s)->recover(1002);
    REQUIRE(p);
    REQUIRE(p->snapshot);
    CHECK(p->snapshot->data == cmd("image"));
    CHECK(p->applied == 10);
    CHECK(p->entries == std::vector<raft_entry>{{11, 3, cmd("z")}});
  }
  SECTION("a crash between the snapshot file and the log reset") {
    REQUIRE(write_snapshot(dir.path(), raft_snapshot{{5, 2}, cmd("image")}));
    auto p = (*s)->recover(1001);
    REQUIRE(p);
    CHECK(p->entries.empty()); // indexes 1-3 do not lead to the snapshot's index 5
    CHECK((*s)->log().log_end_offset() == 5);
    REQUIRE((*s)->save(storage_ready({2, 1, 5}, {{6, 2, cmd("c")}}), 1002));
    CHECK((*s)->read_entries(6)->size() == 1);
  }
  SECTION("taken locally") {
    REQUIRE((*s)->save_snapshot(raft_snapshot{{2, 1}, cmd("image@2")}, 1001));
    auto p = (*s)->recover(1001);
    REQUIRE(p);
    CHECK(p->applied == 2);
    CHECK(p->entries == std::vector<raft_entry>{{3, 2, cmd("b")}});
  }
  SECTION("a crash after quorum-state, before the entries: commit is capped at the log") {
    REQUIRE(write_hard_state(dir.path(), {3, 1, 9}));
    auto p = (*s)->recover(1001);
    REQUIRE(p);
    CHECK(p->hard_state == raft_hard_state{3, 1, 3});
  }
  SECTION("a damaged quorum-state is refused, naming the file") {
    auto bytes_ = encode_hard_state({2, 1, 1});
    bytes_[7] ^= 1;
    REQUIRE(write_file_atomically(dir.path(), quorum_state_file_name, bytes_));
    auto p = (*s)->recover(1001);
    REQUIRE(!p);
    CHECK(p.error().code() == errc::corrupt_message);
    CHECK(p.error().message().find("quorum-state") != std::string::npos);
  }
}
