// Transactions end to end on a real node (issue 16): al::producer with a
// transactional.id against the node's transaction coordinator, markers in
// the partitions, and al::consumer with read_committed and
// read_uncommitted.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "actors/client/consumer_client.hpp"
#include "actors/client/producer_client.hpp"
#include "actors/txn/txn_machine.hpp"
#include "live_node.hpp"
#include "storage/record_batch.hpp"

using namespace al;
using namespace al::test;

namespace {

/// Polls until `n` records arrived or `limit` passed; then polls `extra`
/// longer for records that should not be there.
std::vector<consumer_record> poll_n(consumer& c, size_t n,
                                    std::chrono::milliseconds limit = std::chrono::seconds(20),
                                    std::chrono::milliseconds extra = std::chrono::milliseconds(300)) {
  std::vector<consumer_record> out;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline)
    for (auto& r : c.poll(std::chrono::milliseconds(100)))
      out.push_back(std::move(r));
  auto until = std::chrono::steady_clock::now() + extra;
  while (std::chrono::steady_clock::now() < until)
    for (auto& r : c.poll(std::chrono::milliseconds(50)))
      out.push_back(std::move(r));
  return out;
}

std::set<std::string> values(const std::vector<consumer_record>& recs) {
  std::set<std::string> out;
  for (auto& r : recs)
    out.insert(r.value.value_or(""));
  return out;
}

struct txn_node : live_node {
  txn_node()
      : live_node([](config::node_config& c) {
          c.transaction_state_log_num_partitions = 2;
          c.group_initial_rebalance_delay_ms = 0;
        }) {}

  std::unique_ptr<producer> txn_producer(const std::string& id, properties extra = {}) {
    properties props{{"bootstrap.servers", bootstrap()},
                     {"transactional.id", id},
                     {"linger.ms", "1"},
                     {"max.block.ms", "20000"}};
    for (auto& [k, v] : extra)
      props[k] = v;
    auto p = producer::create(client_sys, props);
    REQUIRE(p);
    return std::move(*p);
  }

  std::unique_ptr<consumer> reader(const std::string& isolation,
                                   const std::vector<topic_partition>& tps) {
    auto c = consumer::create(client_sys, {{"bootstrap.servers", bootstrap()},
                                           {"auto.offset.reset", "earliest"},
                                           {"isolation.level", isolation}});
    REQUIRE(c);
    REQUIRE((*c)->assign(tps));
    return std::move(*c);
  }

  template <class T, class... Ts>
  caf::expected<T> ask(Ts&&... xs) {
    caf::scoped_actor self{n->system()};
    caf::expected<T> out{caf::error{}};
    self->request(caf::actor_cast<broker_api>(n->broker()), std::chrono::seconds(10),
                  std::forward<Ts>(xs)...)
      .receive([&](T& x) { out = std::move(x); }, [&](caf::error& err) { out = err; });
    return out;
  }
};

/// The group's committed offsets once `n` partitions have one (commit
/// answers at PrepareCommit: the marker that installs them follows; after a
/// restart the coordinator loads first), or what there is after 10 s.
offset_commit_map committed_when(consumer& c, const std::vector<topic_partition>& tps, size_t n) {
  offset_commit_map out;
  for (int i = 0; i < 200; ++i) {
    auto got = c.committed(tps);
    if (got) {
      out = *got;
      if (out.size() >= n)
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return out;
}

void send_all(producer& p, const std::string& topic, const std::vector<std::string>& vals) {
  int i = 0;
  for (auto& v : vals)
    REQUIRE(p.send({topic, i++ % 2, std::nullopt, v}));
}

/// One record in a transactional batch of (producer_id, epoch) at sequence `seq`.
bytes txn_batch(int64_t producer_id, int16_t epoch, int32_t seq, const std::string& value) {
  batch_options o;
  o.producer_id = producer_id;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  o.transactional = true;
  batch_builder b(o);
  b.append(1000, std::nullopt, byte_view(std::string_view(value)));
  return b.build();
}

} // namespace

TEST_CASE("read_committed sees committed transactions only, read_uncommitted sees all",
          "[txn]") {
  txn_node node;
  node.create_topic("orders", 2);
  auto p = node.txn_producer("positions-1");
  REQUIRE(p->init_transactions());
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"c1", "c2", "c3", "c4"});
  REQUIRE(p->commit_transaction());
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"a1", "a2", "a3"});
  REQUIRE(p->flush()); // written to both partitions, then aborted
  REQUIRE(p->abort_transaction());
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"c5", "c6"});
  REQUIRE(p->commit_transaction());

  std::vector<topic_partition> tps{{"orders", 0}, {"orders", 1}};
  auto committed = node.reader("read_committed", tps);
  CHECK(values(poll_n(*committed, 6)) ==
        std::set<std::string>{"c1", "c2", "c3", "c4", "c5", "c6"});
  auto all = node.reader("read_uncommitted", tps);
  auto every = poll_n(*all, 9);
  CHECK(values(every) ==
        std::set<std::string>{"c1", "c2", "c3", "c4", "a1", "a2", "a3", "c5", "c6"});
  // Three markers per partition (commit, abort, commit) hold offsets too.
  CHECK(node.log_end_offset({"orders", 0}) == 5 + 3);
  CHECK(node.log_end_offset({"orders", 1}) == 4 + 3);
}

TEST_CASE("an open transaction holds read_committed readers at the last stable offset",
          "[txn]") {
  txn_node node;
  node.create_topic("orders", 2);
  auto before = node.txn_producer("before");
  REQUIRE(before->init_transactions());
  REQUIRE(before->begin_transaction());
  send_all(*before, "orders", {"b1", "b2"});
  REQUIRE(before->commit_transaction());

  auto p = node.txn_producer("positions-1");
  REQUIRE(p->init_transactions());
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"o1", "o2"});
  REQUIRE(p->flush()); // acknowledged, not committed

  std::vector<topic_partition> tps{{"orders", 0}, {"orders", 1}};
  auto committed = node.reader("read_committed", tps);
  CHECK(values(poll_n(*committed, 3, std::chrono::seconds(2))) ==
        std::set<std::string>{"b1", "b2"});
  auto uncommitted = node.reader("read_uncommitted", tps);
  CHECK(values(poll_n(*uncommitted, 4)) == std::set<std::string>{"b1", "b2", "o1", "o2"});
  REQUIRE(p->commit_transaction());
  CHECK(values(poll_n(*committed, 2)) == std::set<std::string>{"o1", "o2"});
}

TEST_CASE("a new producer with the same transactional.id fences the old one", "[txn]") {
  txn_node node;
  node.create_topic("orders", 2);
  auto zombie = node.txn_producer("positions-1");
  REQUIRE(zombie->init_transactions());
  REQUIRE(zombie->begin_transaction());
  send_all(*zombie, "orders", {"z1", "z2"});
  REQUIRE(zombie->flush());

  // The replacement: its InitProducerId aborts the zombie's open transaction.
  auto p = node.txn_producer("positions-1");
  REQUIRE(p->init_transactions());
  auto late = zombie->commit_transaction();
  REQUIRE_FALSE(late);
  CHECK((late.code() == errc::producer_fenced || late.code() == errc::invalid_producer_epoch));
  // A zombie's write with its old epoch is refused by the partition.
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"n1", "n2"});
  REQUIRE(p->commit_transaction());

  std::vector<topic_partition> tps{{"orders", 0}, {"orders", 1}};
  auto committed = node.reader("read_committed", tps);
  CHECK(values(poll_n(*committed, 2)) == std::set<std::string>{"n1", "n2"});
}

TEST_CASE("transaction.timeout.ms: the coordinator aborts a transaction left open", "[txn]") {
  txn_node node;
  node.create_topic("orders", 2);
  auto p = node.txn_producer("slow", {{"transaction.timeout.ms", "500"}});
  REQUIRE(p->init_transactions());
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"s1", "s2"});
  REQUIRE(p->flush());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto late = p->commit_transaction();
  REQUIRE_FALSE(late); // aborted by the coordinator (the epoch moved on)
  auto other = node.txn_producer("other");
  REQUIRE(other->init_transactions());
  REQUIRE(other->begin_transaction());
  send_all(*other, "orders", {"k1", "k2"});
  REQUIRE(other->commit_transaction());
  std::vector<topic_partition> tps{{"orders", 0}, {"orders", 1}};
  auto committed = node.reader("read_committed", tps);
  // The aborted records are skipped and the LSO moved past them.
  CHECK(values(poll_n(*committed, 2)) == std::set<std::string>{"k1", "k2"});
}

TEST_CASE("transactions are listed and described by the broker", "[txn]") {
  txn_node node;
  node.create_topic("orders", 2);
  auto p = node.txn_producer("positions-1");
  REQUIRE(p->init_transactions());
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"x"});
  REQUIRE(p->flush());
  auto listed = node.ask<std::vector<txn_description>>(txn_list_atom::value);
  REQUIRE(listed);
  REQUIRE(listed->size() == 1);
  CHECK(listed->front().transactional_id == "positions-1");
  CHECK(listed->front().state == txn_state::ongoing);
  CHECK(listed->front().partitions == std::vector<topic_partition>{{"orders", 0}});
  auto described = node.ask<std::vector<txn_description>>(
    txn_describe_atom::value, std::vector<std::string>{"positions-1", "unknown"});
  REQUIRE(described);
  REQUIRE(described->size() == 1);
  CHECK(described->front().producer_id == p->producer_id());
  CHECK(described->front().error == errc::none);
  REQUIRE(p->commit_transaction());
  // EndTxn is answered once PrepareCommit is written; CompleteCommit
  // follows when the markers are in.
  for (int i = 0; i < 100; ++i) {
    listed = node.ask<std::vector<txn_description>>(txn_list_atom::value);
    REQUIRE(listed);
    REQUIRE(listed->size() == 1);
    if (listed->front().state != txn_state::prepare_commit)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(listed->front().state == txn_state::complete_commit);
}

TEST_CASE("transactional producers are refused what Kafka refuses", "[txn]") {
  txn_node node;
  node.create_topic("orders", 1);
  auto p = node.txn_producer("positions-1");
  CHECK(p->send({"orders", 0, std::nullopt, "x"}).code() == errc::invalid_txn_state);
  CHECK(p->commit_transaction().code() == errc::invalid_txn_state);
  auto no_idem = producer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()},
                                                    {"transactional.id", "t"},
                                                    {"enable.idempotence", "false"}});
  REQUIRE_FALSE(no_idem);
  CHECK(no_idem.error().code() == errc::invalid_config);
  auto bad = node.txn_producer("t2", {{"transaction.timeout.ms", "99999999"}});
  auto init = bad->init_transactions();
  REQUIRE_FALSE(init);
  CHECK(init.code() == errc::invalid_transaction_timeout);
}

TEST_CASE("after a restart: aborted records stay skipped, the coordinator reloads its "
          "transactions and times out the one left open", "[txn][restart]") {
  txn_node node;
  node.cfg.transaction_max_timeout_ms = 900000;
  node.create_topic("orders", 2);
  auto p = node.txn_producer("positions-1", {{"transaction.timeout.ms", "3000"}});
  REQUIRE(p->init_transactions());
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"c1", "c2"});
  REQUIRE(p->commit_transaction());
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"a1", "a2"});
  REQUIRE(p->flush());
  REQUIRE(p->abort_transaction());
  REQUIRE(p->begin_transaction());
  send_all(*p, "orders", {"open1", "open2"});
  REQUIRE(p->flush()); // left open across the restart
  auto pid = p->producer_id();
  p.reset(); // gone without ending it (close() does not end a transaction)

  node.restart();
  std::vector<topic_partition> tps{{"orders", 0}, {"orders", 1}};
  {
    // The open transaction still holds the LSO: only c1 and c2 are readable.
    auto committed = node.reader("read_committed", tps);
    CHECK(values(poll_n(*committed, 3, std::chrono::seconds(1))) ==
          std::set<std::string>{"c1", "c2"});
  }
  // The reloaded coordinator knows the id and aborts the open transaction
  // when its timeout (from its start, before the restart) passes.
  std::vector<txn_description> listed;
  for (int i = 0; i < 100; ++i) {
    auto l = node.ask<std::vector<txn_description>>(txn_list_atom::value);
    if (l && l->size() == 1 && l->front().state == txn_state::complete_abort) {
      listed = *l;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(listed.size() == 1);
  CHECK(listed.front().producer_id == pid);
  auto next = node.txn_producer("positions-1");
  REQUIRE(next->init_transactions());
  REQUIRE(next->begin_transaction());
  send_all(*next, "orders", {"c3", "c4"});
  REQUIRE(next->commit_transaction());
  auto committed = node.reader("read_committed", tps);
  CHECK(values(poll_n(*committed, 4)) == std::set<std::string>{"c1", "c2", "c3", "c4"});
  auto all = node.reader("read_uncommitted", tps);
  CHECK(values(poll_n(*all, 8)).size() == 8);
}

TEST_CASE("abort right after send: unsent records fail, the next transaction is clean", "[txn]") {
  txn_node node;
  node.create_topic("orders", 2);
  auto p = node.txn_producer("positions-1", {{"linger.ms", "50"}});
  REQUIRE(p->init_transactions());
  for (int round = 0; round < 5; ++round) {
    REQUIRE(p->begin_transaction());
    std::atomic<int> failed{0};
    for (int i = 0; i < 4; ++i)
      REQUIRE(p->send({"orders", i % 2, std::nullopt, "a" + std::to_string(round)},
                      [&](const record_metadata&, const status& s) { failed += s ? 0 : 1; }));
    REQUIRE(p->abort_transaction());
    REQUIRE(p->begin_transaction());
    send_all(*p, "orders", {"c" + std::to_string(round)});
    REQUIRE(p->commit_transaction());
  }
  std::vector<topic_partition> tps{{"orders", 0}, {"orders", 1}};
  auto committed = node.reader("read_committed", tps);
  CHECK(values(poll_n(*committed, 5)) ==
        std::set<std::string>{"c0", "c1", "c2", "c3", "c4"});
}

TEST_CASE("consume-transform-produce: offsets committed in the transaction take effect only "
          "with it", "[txn][offsets]") {
  txn_node node;
  node.create_topic("orders", 2);
  node.create_topic("positions", 1);
  {
    auto plain = producer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()}});
    REQUIRE(plain);
    for (int i = 0; i < 10; ++i)
      REQUIRE((*plain)->send({"orders", i % 2, std::nullopt, "order-" + std::to_string(i)}));
    REQUIRE((*plain)->flush());
  }
  auto offsets_of = [&](const std::vector<consumer_record>& recs) {
    std::map<topic_partition, int64_t> next;
    for (auto& r : recs)
      next[{r.topic, r.partition}] = std::max(next[{r.topic, r.partition}], r.offset + 1);
    return next;
  };
  std::vector<topic_partition> tps{{"orders", 0}, {"orders", 1}};
  auto group_consumer = [&]() {
    auto c = consumer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()},
                                                {"group.id", "position-svc"},
                                                {"enable.auto.commit", "false"},
                                                {"auto.offset.reset", "earliest"},
                                                {"isolation.level", "read_committed"}});
    REQUIRE(c);
    REQUIRE((*c)->assign(tps));
    return std::move(*c);
  };
  auto p = node.txn_producer("position-svc-0");
  REQUIRE(p->init_transactions());
  {
    // Attempt 1: transforms everything, then aborts: neither the output
    // nor the consumed offsets count.
    auto c = group_consumer();
    auto in = poll_n(*c, 10);
    REQUIRE(in.size() == 10);
    REQUIRE(p->begin_transaction());
    for (auto& r : in)
      REQUIRE(p->send({"positions", 0, std::nullopt, "pos-" + *r.value}));
    REQUIRE(p->send_offsets_to_transaction(offsets_of(in), "position-svc"));
    REQUIRE(p->abort_transaction());
    auto committed = c->committed(tps);
    REQUIRE(committed);
    CHECK(committed->empty());
  }
  {
    // Attempt 2 starts from the committed offsets (none) and commits.
    auto c = group_consumer();
    auto in = poll_n(*c, 10);
    REQUIRE(in.size() == 10);
    REQUIRE(p->begin_transaction());
    for (auto& r : in)
      REQUIRE(p->send({"positions", 0, std::nullopt, "pos-" + *r.value}));
    REQUIRE(p->send_offsets_to_transaction(offsets_of(in), "position-svc"));
    REQUIRE(p->commit_transaction());
    auto committed = committed_when(*c, tps, 2);
    REQUIRE(committed.size() == 2);
    CHECK(committed.at({"orders", 0}).offset == 5);
    CHECK(committed.at({"orders", 1}).offset == 5);
  }
  // Every order counted exactly once in positions under read_committed.
  auto out = node.reader("read_committed", {{"positions", 0}});
  auto positions = poll_n(*out, 10);
  CHECK(positions.size() == 10);
  CHECK(values(positions).size() == 10);
  // The coordinator reloads the committed offsets after a restart, and a
  // group consumer resumes after them.
  node.restart();
  auto c = group_consumer();
  CHECK(committed_when(*c, tps, 2).size() == 2);
  CHECK(poll_n(*c, 1, std::chrono::seconds(1)).empty());
}

TEST_CASE("a fenced producer's transactional offset commit is refused", "[txn][offsets]") {
  txn_node node;
  node.create_topic("orders", 1);
  // __consumer_offsets does not exist yet: AddOffsetsToTxn has it created.
  auto c = consumer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()},
                                              {"group.id", "g"},
                                              {"enable.auto.commit", "false"}});
  REQUIRE(c);
  REQUIRE((*c)->assign({{"orders", 0}}));
  auto zombie = node.txn_producer("svc");
  REQUIRE(zombie->init_transactions());
  REQUIRE(zombie->begin_transaction());
  REQUIRE(zombie->send_offsets_to_transaction({{{"orders", 0}, 3}}, "g"));
  auto fresh = node.txn_producer("svc");
  REQUIRE(fresh->init_transactions()); // aborts the zombie's transaction
  REQUIRE(fresh->begin_transaction());
  REQUIRE(fresh->send_offsets_to_transaction({{{"orders", 0}, 7}}, "g"));
  auto late = zombie->send_offsets_to_transaction({{{"orders", 0}, 9}}, "g");
  CHECK_FALSE(late);
  REQUIRE(fresh->commit_transaction());
  auto committed = committed_when(**c, {{"orders", 0}}, 1);
  REQUIRE(committed.size() == 1);
  CHECK(committed.begin()->second.offset == 7);
}

TEST_CASE("TxnOffsetCommit with group metadata commits only as a member of the current "
          "generation (KIP-447)", "[txn][offsets]") {
  txn_node node;
  node.create_topic("orders", 1);
  auto p = node.txn_producer("svc");
  REQUIRE(p->init_transactions());
  REQUIRE(p->begin_transaction());
  // Without group metadata (actorlog's producer, Kafka's older API): no check.
  REQUIRE(p->send_offsets_to_transaction({{{"orders", 0}, 1}}, "g"));
  txn_offset_commit_request req;
  req.transactional_id = "svc";
  req.producer_id = p->producer_id();
  req.producer_epoch = 0;
  req.offsets[{"orders", 0}].offset = 5;
  auto ask = [&](const std::string& member, int32_t generation) {
    req.member_id = member;
    req.generation_id = generation;
    auto r = node.ask<offset_commit_response>(offset_commit_atom::value, std::string{"g"}, req);
    REQUIRE(r);
    return r->error;
  };
  // The group has no members: a member id it does not know, or a
  // generation it is not at, is a zombie of an earlier generation.
  CHECK(ask("ghost-1", -1) == errc::unknown_member_id);
  CHECK(ask("", 3) == errc::illegal_generation);
  REQUIRE(p->commit_transaction());
  auto c = consumer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()},
                                              {"group.id", "g"},
                                              {"enable.auto.commit", "false"}});
  REQUIRE(c);
  auto committed = committed_when(**c, {{"orders", 0}}, 1);
  REQUIRE(committed.size() == 1);
  CHECK(committed.begin()->second.offset == 1); // the refused commits left nothing
}

TEST_CASE("OffsetFetch with require_stable waits for a transaction's offsets (KIP-447)",
          "[txn][offsets]") {
  txn_node node;
  node.create_topic("orders", 1);
  auto p = node.txn_producer("svc");
  REQUIRE(p->init_transactions());
  REQUIRE(p->begin_transaction());
  REQUIRE(p->send_offsets_to_transaction({{{"orders", 0}, 2}}, "g"));
  std::vector<topic_partition> tps{{"orders", 0}};
  auto fetch = [&](bool stable) {
    return stable ? node.ask<group_offsets>(offset_fetch_atom::value, std::string{"g"}, tps,
                                            require_stable_atom::value)
                  : node.ask<group_offsets>(offset_fetch_atom::value, std::string{"g"}, tps);
  };
  // Pending in the open transaction: unstable for those who ask, the
  // previous (no) offset for those who do not.
  auto stable = fetch(true);
  REQUIRE_FALSE(stable);
  CHECK(error_code_of(stable.error()) == errc::unstable_offset_commit);
  auto plain = fetch(false);
  REQUIRE(plain);
  CHECK(plain->at({"orders", 0}).offset == -1);
  // A read_committed consumer of the group asks for stable offsets too:
  // its committed() waits for the transaction's end (as Kafka's does), so
  // right after the commit it sees the new offset, never the old one.
  auto c = consumer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()},
                                              {"group.id", "g"},
                                              {"enable.auto.commit", "false"},
                                              {"isolation.level", "read_committed"}});
  REQUIRE(c);
  REQUIRE((*c)->assign(tps));
  REQUIRE(p->commit_transaction());
  auto right_after = (*c)->committed(tps);
  REQUIRE(right_after);
  REQUIRE(right_after->size() == 1);
  CHECK(right_after->begin()->second.offset == 2);
  for (int i = 0; i < 200 && !fetch(true); ++i) // the marker follows the EndTxn answer
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto after = fetch(true);
  REQUIRE(after);
  CHECK(after->at({"orders", 0}).offset == 2);
  CHECK(committed_when(**c, tps, 1).begin()->second.offset == 2);
}

TEST_CASE("a transactional write its coordinator does not confirm is refused and holds no "
          "reader (KIP-890 part 1)",
          "[txn][verify]") {
  txn_node node;
  node.create_topic("orders", 2);
  auto p = node.txn_producer("svc");
  REQUIRE(p->init_transactions());
  REQUIRE(p->begin_transaction());
  REQUIRE(p->send({"orders", 0, std::nullopt, "in-txn"}));
  REQUIRE(p->flush()); // orders-0 added and written
  auto pid = p->producer_id();
  auto produce = [&](const std::string& id, int32_t partition, bytes batch) {
    produce_set_request set;
    set.transactional_id = id;
    set.parts.push_back(produce_part{"orders", partition, std::move(batch)});
    auto r = node.ask<produce_set_response>(produce_atom::value, set);
    REQUIRE(r);
    REQUIRE(r->results.size() == 1);
    return r->results[0];
  };
  // orders-1 is not in the transaction: the batch would open one no
  // coordinator knows of, and hold orders-1's last stable offset for good.
  auto not_added = produce("svc", 1, txn_batch(pid, 0, 0, "hanging"));
  CHECK(not_added.error == errc::invalid_txn_state);
  CHECK(not_added.message.find("orders-1") != std::string::npos);
  CHECK(produce("", 1, txn_batch(pid, 0, 0, "no-id")).error == errc::invalid_request);
  CHECK(produce("nobody", 1, txn_batch(pid, 0, 0, "x")).error ==
        errc::invalid_producer_id_mapping);
  CHECK(produce("svc", 1, txn_batch(pid + 1, 0, 0, "x")).error ==
        errc::invalid_producer_id_mapping);
  CHECK(produce("svc", 0, txn_batch(pid, 1, 0, "x")).error == errc::invalid_producer_epoch);
  // The single-partition request has no transactional id to verify with.
  produce_request one;
  one.topic = "orders";
  one.partition = 1;
  one.batch = txn_batch(pid, 0, 0, "single");
  auto single = node.ask<produce_response>(produce_atom::value, one);
  REQUIRE_FALSE(single);
  CHECK(error_code_of(single.error()) == errc::invalid_request);
  // A TxnOffsetCommit without AddOffsetsToTxn: refused the same way.
  node.create_topic("input", 1);
  txn_offset_commit_request commit;
  commit.transactional_id = "svc";
  commit.producer_id = pid;
  commit.producer_epoch = 0;
  commit.offsets[{"input", 0}].offset = 5;
  std::optional<errc> offsets_error;
  for (int i = 0; i < 100; ++i) { // FindCoordinator creates __consumer_offsets
    node.ask<coordinator_info>(find_coordinator_atom::value, std::string{"g"});
    auto r = node.ask<offset_commit_response>(offset_commit_atom::value, std::string{"g"}, commit);
    offsets_error = r ? r->error : error_code_of(r.error());
    if (offsets_error != errc::coordinator_not_available && offsets_error != errc::not_coordinator &&
        offsets_error != errc::coordinator_load_in_progress)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO("offset commit error " << (offsets_error ? int(*offsets_error) : -1));
  CHECK(offsets_error == errc::invalid_txn_state);

  // The transaction itself goes on, and orders-1 is readable under
  // read_committed up to its end: nothing hangs there.
  REQUIRE(p->send({"orders", 0, std::nullopt, "in-txn-2"}));
  REQUIRE(p->commit_transaction());
  auto plain = producer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()}});
  REQUIRE(plain);
  REQUIRE((*plain)->send({"orders", 1, std::nullopt, "plain"}));
  REQUIRE((*plain)->flush());
  auto committed = node.reader("read_committed", {{"orders", 0}, {"orders", 1}});
  CHECK(values(poll_n(*committed, 3)) == std::set<std::string>{"in-txn", "in-txn-2", "plain"});
}
