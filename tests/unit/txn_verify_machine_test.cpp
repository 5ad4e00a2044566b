// txn_verify_machine (KIP-890 part 1): a transactional batch that would
// open a transaction on a partition waits for its coordinator's
// confirmation, the batches behind it keep their order, a marker ends the
// confirmation, and an answer that crossed a marker confirms nothing.
#include <catch2/catch.hpp>

#include "actors/broker/txn_verify_machine.hpp"

using namespace al;

namespace {

const topic_partition orders0{"orders", 0};
const topic_partition orders1{"orders", 1};

struct driver {
  txn_verify_machine m;
  uint64_t next_token = 1;
  int64_t now = 1000;
  std::vector<txn_verify_call> calls;
  std::vector<txn_write_outcome> outcomes;

  uint64_t write(const topic_partition& tp, int64_t pid, int16_t epoch, int32_t leader_epoch = 3,
                 const std::string& id = "pos-1") {
    txn_write w;
    w.token = next_token++;
    w.transactional_id = id;
    w.tp = tp;
    w.producer_id = pid;
    w.producer_epoch = epoch;
    w.leader_epoch = leader_epoch;
    m.admit(w, now);
    drain();
    return w.token;
  }
  void answer(uint64_t call, errc e = errc::none) {
    m.on_answer(call, e, "because", now);
    drain();
  }
  void drain() {
    for (auto& c : m.take_calls())
      calls.push_back(c);
    for (auto& o : m.take_outcomes())
      outcomes.push_back(o);
  }
  /// The tokens let through, in order.
  std::vector<uint64_t> passed() const {
    std::vector<uint64_t> out;
    for (auto& o : outcomes)
      if (o.error == errc::none)
        out.push_back(o.token);
    return out;
  }
  std::vector<std::pair<uint64_t, errc>> refused() const {
    std::vector<std::pair<uint64_t, errc>> out;
    for (auto& o : outcomes)
      if (o.error != errc::none)
        out.emplace_back(o.token, o.error);
    return out;
  }
};

using tokens = std::vector<uint64_t>;

} // namespace

TEST_CASE("the first batch asks the coordinator, the ones behind it wait in order, then all "
          "pass, later batches of that epoch pass at once",
          "[txn][verify]") {
  driver d;
  auto a = d.write(orders0, 42, 0);
  auto b = d.write(orders0, 42, 0);
  REQUIRE(d.calls.size() == 1);
  CHECK(d.calls[0].transactional_id == "pos-1");
  CHECK(d.calls[0].tp == orders0);
  CHECK(d.calls[0].producer_id == 42);
  CHECK(d.calls[0].producer_epoch == 0);
  CHECK(d.outcomes.empty());
  CHECK(d.m.waiting() == 2);
  d.answer(d.calls[0].call);
  CHECK(d.passed() == tokens{a, b});
  auto c = d.write(orders0, 42, 0);
  CHECK(d.calls.size() == 1); // no new question
  CHECK(d.passed() == tokens{a, b, c});
  // Another partition, another producer: their own questions.
  d.write(orders1, 42, 0);
  d.write(orders0, 43, 0);
  CHECK(d.calls.size() == 3);
  CHECK(d.m.entries() == 3);
}

TEST_CASE("a refusal answers the batches of that epoch with the produce error, retriable "
          "coordinator trouble becomes NOT_ENOUGH_REPLICAS",
          "[txn][verify]") {
  driver d;
  auto a = d.write(orders0, 42, 0);
  auto b = d.write(orders0, 42, 0);
  d.answer(d.calls[0].call, errc::invalid_txn_state);
  CHECK(d.refused() == std::vector<std::pair<uint64_t, errc>>{{a, errc::invalid_txn_state},
                                                              {b, errc::invalid_txn_state}});
  CHECK(d.outcomes[0].message.find("orders-0") != std::string::npos);
  CHECK(d.outcomes[0].message.find("because") != std::string::npos);
  CHECK(d.m.entries() == 0); // nothing confirmed: the next batch asks again
  auto c = d.write(orders0, 42, 0);
  REQUIRE(d.calls.size() == 2);
  d.answer(d.calls[1].call, errc::coordinator_load_in_progress);
  CHECK(d.refused().back() == std::make_pair(c, errc::not_enough_replicas));
  auto e = d.write(orders0, 42, 0);
  d.answer(d.calls[2].call, errc::producer_fenced);
  CHECK(d.refused().back() == std::make_pair(e, errc::invalid_producer_epoch));
  CHECK(txn_verify_machine::produce_error_of(errc::network_exception) ==
        errc::not_enough_replicas);
  CHECK(txn_verify_machine::produce_error_of(errc::invalid_producer_id_mapping) ==
        errc::invalid_producer_id_mapping);
}

TEST_CASE("a marker ends the confirmation: the next transaction's first batch asks again",
          "[txn][verify]") {
  driver d;
  d.write(orders0, 42, 0);
  d.answer(d.calls[0].call);
  d.m.on_marker(orders0, 42);
  CHECK(d.m.entries() == 0);
  // Kafka clients keep their epoch across transactions: same epoch, asked again.
  d.write(orders0, 42, 0);
  CHECK(d.calls.size() == 2);
  // A marker for another producer or partition changes nothing.
  d.answer(d.calls[1].call);
  d.m.on_marker(orders1, 42);
  d.m.on_marker(orders0, 41);
  d.write(orders0, 42, 0);
  CHECK(d.calls.size() == 2);
  CHECK(d.passed().size() == 3);
}

TEST_CASE("an answer that crossed a marker confirms nothing: the batches ask again",
          "[txn][verify]") {
  driver d;
  auto a = d.write(orders0, 42, 0);
  d.m.on_marker(orders0, 42); // the transaction ended while we asked
  d.answer(d.calls[0].call);  // the coordinator had answered before its end
  CHECK(d.passed().empty());
  REQUIRE(d.calls.size() == 2); // asked again
  CHECK(d.m.waiting() == 1);
  d.answer(d.calls[1].call, errc::invalid_txn_state);
  CHECK(d.refused() == std::vector<std::pair<uint64_t, errc>>{{a, errc::invalid_txn_state}});
  // A stale answer to an old question is ignored.
  d.answer(d.calls[0].call);
  CHECK(d.outcomes.size() == 1);
}

TEST_CASE("another epoch or another partition leader epoch asks again, batches behind a "
          "question keep their order across epochs",
          "[txn][verify]") {
  driver d;
  auto a = d.write(orders0, 42, 0);
  d.answer(d.calls[0].call);
  // KIP-890 part 2: the next transaction runs on epoch 1.
  auto b = d.write(orders0, 42, 1);
  auto c = d.write(orders0, 42, 2); // behind b's question, whatever its epoch
  REQUIRE(d.calls.size() == 2);
  CHECK(d.calls[1].producer_epoch == 1);
  d.answer(d.calls[1].call, errc::producer_fenced);
  // b refused; c asks for its own epoch.
  CHECK(d.refused() == std::vector<std::pair<uint64_t, errc>>{{b, errc::invalid_producer_epoch}});
  REQUIRE(d.calls.size() == 3);
  CHECK(d.calls[2].producer_epoch == 2);
  d.answer(d.calls[2].call);
  CHECK(d.passed() == tokens{a, c});
  // The partition's leadership moved (and back): asked again.
  d.write(orders0, 42, 2, 4);
  CHECK(d.calls.size() == 4);
}

TEST_CASE("confirmations unused for longer than the bound are forgotten, questions in flight "
          "are kept",
          "[txn][verify]") {
  driver d;
  d.write(orders0, 42, 0);
  d.answer(d.calls[0].call);
  d.now = 5000;
  d.write(orders1, 42, 0); // in flight
  d.m.expire(4000);
  CHECK(d.m.entries() == 1);
  CHECK(d.m.waiting() == 1);
  d.answer(d.calls[1].call);
  CHECK(d.passed().size() == 2);
}
