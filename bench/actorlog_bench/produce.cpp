// produce: records/s and MB/s through al::producer.
#include <atomic>
#include <thread>

#include "actors/client/producer_client.hpp"
#include "bench/actorlog_bench/clients.hpp"
#include "bench/actorlog_bench/txn_pacer.hpp"

namespace al::bench {

std::string next_topic(const std::string& scenario) {
  static int counter = 0;
  return "bench-" + scenario + "-" + std::to_string(counter++);
}

row produce_row(const std::string& client, target& t, const produce_case& c) {
  row r;
  r.scenario = "produce";
  r.label("client", client)
    .label("rf", std::to_string(t.replication_factor()))
    .label("size", std::to_string(c.record_size))
    .label("acks", c.acks)
    .label("partitions", std::to_string(c.partitions));
  if (c.keys > 0)
    r.label("keys", std::to_string(c.keys));
  if (c.transactional())
    r.label("txn", c.txn.describe());
  return r;
}

bool create_topic_for(target& t, const std::string& topic, int32_t partitions, row& r) {
  if (auto st = t.create_topic(topic, partitions); !st) {
    r.note = "create topic: " + st.to_string();
    return false;
  }
  return true;
}

row run_produce(target& t, const produce_case& c, const client_settings& cs, progress_line& pl) {
  auto r = produce_row(to_string(t.kind()), t, c);
  auto topic = next_topic("produce");
  if (!create_topic_for(t, topic, c.partitions, r))
    return r;
  auto props = producer_props(t, c.acks, cs);
  if (c.transactional())
    props["transactional.id"] = "bench-" + topic;
  auto p = producer::create(t.client_system(), props, t.direct_broker());
  if (!p) {
    r.note = "producer: " + p.error().to_string();
    return r;
  }
  txn_pacer txns(**p, c.txn);
  if (auto st = txns.start(); !st) {
    r.note = "init/begin transaction: " + st.to_string();
    return r;
  }
  auto records = make_records(topic, c.record_size);
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> failed{0};
  auto cb = [&acked, &failed](const record_metadata&, const status& s) {
    if (s)
      acked.fetch_add(1, std::memory_order_relaxed);
    else
      failed.fetch_add(1, std::memory_order_relaxed);
  };
  // Back-pressure as Kafka's buffer.memory: at most this many records
  // sent but not yet acknowledged (or failed).
  const uint64_t window = std::max<uint64_t>(1, uint64_t(cs.buffer_bytes) / (c.record_size + 16));
  pl.begin("produce " + to_string(t.kind()) + " " + std::to_string(c.record_size) + " B acks=" +
           c.acks + " partitions=" + std::to_string(c.partitions));
  auto pids = t.node_pids();
  auto cpu_start = read_cpu(pids);
  auto start = bench_clock::now();
  auto deadline = start + std::chrono::duration<double>(c.max_seconds);
  uint64_t sent = 0;
  bool timed_out = false;
  std::string error;
  for (; sent < c.records; ++sent) {
    if (auto st = txns.before_send(); !st) {
      error = "commit: " + st.to_string();
      break;
    }
    if ((sent & 1023) == 0) {
      while (sent - acked.load(std::memory_order_relaxed) - failed.load(std::memory_order_relaxed) >
               window &&
             bench_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (bench_clock::now() >= deadline) {
        timed_out = true;
        break;
      }
      pl.update(sent, c.records);
    }
    status st;
    if (c.keys == 0) {
      st = (*p)->send(records[sent & 15], cb);
    } else { // a copy per record: the bench client's cost, the same for every partition count
      auto rec = records[sent & 15];
      rec.key = "k" + std::to_string(sent % c.keys);
      st = (*p)->send(std::move(rec), cb);
    }
    if (!st) {
      error = st.to_string();
      break;
    }
  }
  auto fl = (*p)->flush(std::chrono::milliseconds(int64_t(c.max_seconds * 1000) + 30000));
  if (error.empty())
    if (auto st = txns.finish(); !st)
      error = "commit: " + st.to_string();
  // With acks 1 or all every record is in the log once flush() returns:
  // the clock stops there. (It used to stop after the end offsets below,
  // one request per partition: about 4 s of 10 000 partitions' runs.)
  auto acked_secs = seconds_since(start);
  auto cpu_end = read_cpu(pids);
  // With acks=0 the producer finishes when it has sent, not when the
  // partition has appended: wait for the log end offset too (<= 60 s).
  // Either way the count is what the log holds.
  int64_t in_log = 0;
  std::string end_error;
  auto wait_until = bench_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto end = t.total_end_offset(topic, c.partitions);
    in_log = end ? *end : 0;
    if (!end)
      end_error = "log end offset: " + end.error().to_string();
    if (in_log >= int64_t(sent) || bench_clock::now() > wait_until || !end)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  double secs = c.acks == "0" ? seconds_since(start) : acked_secs;
  (*p)->close();
  p->reset();
  // Transactions: the log also holds a marker per partition and commit;
  // count the records acknowledged.
  double counted = c.transactional() ? double(acked.load()) : double(in_log);
  r.figure("records", counted)
    .figure("seconds", secs)
    .figure("rec/s", counted / secs)
    .figure("MB/s", counted * double(c.record_size) / secs / 1e6);
  // CPU per record, from the start to flush(): a per-record cost that a
  // busy machine does not distort the way it distorts records/s. The
  // client's figure is this whole process (with an in-process node, the
  // node's CPU is in it).
  if (counted > 0 && c.acks != "0") {
    r.figure("client us/rec", (cpu_end.client - cpu_start.client) * 1e6 / counted);
    if (!pids.empty())
      r.figure("node us/rec", (cpu_end.nodes - cpu_start.nodes) * 1e6 / counted);
  }
  if (c.transactional())
    r.figure("commits", double(txns.commits()));
  if (!error.empty())
    r.note = "send failed: " + error;
  else if (!end_error.empty())
    r.note = end_error;
  else if (!fl)
    r.note = "flush: " + fl.to_string();
  else if (failed > 0)
    r.note = std::to_string(failed.load()) + " records failed";
  else if (timed_out)
    r.note = "stopped at --max-seconds";
  else if (in_log < int64_t(sent))
    r.note = "only " + std::to_string(in_log) + " of " + std::to_string(sent) + " in the log";
  pl.end(human(r.get("rec/s")) + " rec/s, " + human(r.get("MB/s")) + " MB/s" +
         (r.note.empty() ? "" : " (" + r.note + ")"));
  (void)t.delete_topic(topic);
  return r;
}

} // namespace al::bench
