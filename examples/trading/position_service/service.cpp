#include "service.hpp"

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include <actorlog/client.hpp>

#include "../positions.hpp"
#include "../topic_reader.hpp"

namespace trading {

namespace {

using namespace std::chrono_literals;

void say(const std::string& text) {
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

int failed(const std::string& what, const al::status& st, int rc) {
  say("FAILED " + what + ": " + st.to_string());
  return rc;
}

std::vector<al::topic_partition> partitions_of(const std::string& topic, int32_t n) {
  std::vector<al::topic_partition> out;
  for (int32_t p = 0; p < n; ++p)
    out.push_back({topic, p});
  return out;
}

/// The net position per symbol as the committed `positions` records of this
/// run leave it (the last record of a symbol carries its net): the
/// service's state, restored the way a Kafka Streams task restores a store
/// from its changelog. Read with read_committed, so an aborted
/// transaction's records never count.
al::result<std::map<std::string, int64_t>> restore(caf::actor_system& sys,
                                                   const service_options& o, int64_t& records) {
  auto committed = read_range(sys, o.bootstrap, o.transactional_id + "-restore",
                              "read_committed", o.output, o.output_partitions, o.output_start);
  if (!committed)
    return committed.error();
  std::map<std::string, int64_t> net;
  for (auto& r : *committed) {
    if (!r.key || !r.value)
      continue;
    if (auto u = parse_position(*r.key, *r.value)) {
      net[u->applied.symbol] = u->net;
      ++records;
    }
  }
  return net;
}

} // namespace

int run_position_service(caf::actor_system& sys, const service_options& o,
                         const std::atomic<bool>& stop) {
  auto producer = al::producer::create(sys, {{"bootstrap.servers", o.bootstrap},
                                             {"transactional.id", o.transactional_id},
                                             {"client.id", o.transactional_id},
                                             {"transaction.timeout.ms", "15000"},
                                             {"linger.ms", "2"}});
  if (!producer)
    return failed("producer", producer.error(), 1);
  auto& p = **producer;
  // Fences any earlier instance with this transactional.id and aborts the
  // transaction it left open, before anything is read.
  if (auto st = p.init_transactions(); !st)
    return failed("init_transactions", st, 3);
  say("init_transactions: producer id " + std::to_string(p.producer_id()) +
      " (an earlier instance is fenced, its open transaction aborted)");
  int64_t restored = 0;
  auto net = restore(sys, o, restored);
  if (!net)
    return failed("restore", net.error(), 3);
  say("restored " + std::to_string(net->size()) + " symbols from " + std::to_string(restored) +
      " committed positions records");
  auto consumer = al::consumer::create(
    sys, {{"bootstrap.servers", o.bootstrap},
          {"group.id", o.group},
          {"client.id", o.transactional_id},
          {"enable.auto.commit", "false"},
          {"isolation.level", "read_committed"},
          {"auto.offset.reset", "earliest"},
          {"max.poll.records", std::to_string(o.max_poll_records)}});
  if (!consumer)
    return failed("consumer", consumer.error(), 1);
  auto& c = **consumer;
  // Assigned, not subscribed: one instance owns every partition, and its
  // replacement starts at once from the committed offsets (no wait for the
  // dead member's session to expire).
  if (auto st = c.assign(partitions_of(o.input, o.input_partitions)); !st)
    return failed("assign", st, 1);
  int64_t committed_records = 0, transactions = 0;
  while (!stop.load()) {
    auto records = c.poll(200ms);
    if (records.empty())
      continue;
    if (auto st = p.begin_transaction(); !st)
      return failed("begin_transaction", st, 3);
    std::map<al::topic_partition, int64_t> next;
    for (auto& r : records) {
      next[{r.topic, r.partition}] = r.offset + 1;
      auto ord = r.key && r.value ? parse_order(*r.key, *r.value) : std::nullopt;
      if (!ord)
        continue; // not an order: consumed, nothing to write
      auto& n = (*net)[ord->symbol];
      n += ord->signed_quantity();
      position_update u{*ord, n, r.partition, r.offset};
      if (auto st = p.send({o.output, -1, ord->symbol, format_position(u)}); !st)
        return failed("send", st, 3);
    }
    if (auto st = p.send_offsets_to_transaction(next, o.group); !st)
      return failed("send_offsets_to_transaction", st, 3);
    if (o.hold_open_after > 0 && committed_records >= o.hold_open_after) {
      // The demo's crash point: the records are in the partitions' logs
      // (flushed, acknowledged), the transaction is not committed.
      if (auto st = p.flush(); !st)
        return failed("flush", st, 3);
      say("HOLDING " + std::to_string(records.size()) +
          " records written in an open transaction, not committed");
      while (!stop.load())
        std::this_thread::sleep_for(100ms);
      return 0;
    }
    if (auto st = p.commit_transaction(); !st)
      return failed("commit_transaction", st, 3);
    committed_records += int64_t(records.size());
    if (++transactions % 10 == 1)
      say("committed transaction " + std::to_string(transactions) + ": " +
          std::to_string(committed_records) + " orders so far");
  }
  say("stopping after " + std::to_string(transactions) + " transactions, " +
      std::to_string(committed_records) + " orders");
  c.close();
  p.close();
  return 0;
}

} // namespace trading
