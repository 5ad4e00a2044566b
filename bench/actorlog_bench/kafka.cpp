// --client kafka: the produce / consume / latency scenarios driven by a
// librdkafka (C API) client through the nodes' Kafka listeners
// (`listeners=PLAINTEXT://...`, actors/kafka/). Topics are created and
// checked with the same admin requests as for the CAF clients; only the
// data path is Kafka's.
//
// Client settings, mapped from the CAF clients' (client_settings):
//   linger.ms                       = --linger-ms (5)
//   batch.size                      = --batch-size (16384 bytes)
//   max.in.flight.requests.per.connection = --max-in-flight (5)
//   queue.buffering.max.kbytes      = --buffer-mib (32 MiB; buffer.memory)
//   queue.buffering.max.messages    = the same budget in records
//   acks, enable.idempotence        = as the CAF producer (idempotent iff acks=all)
//   socket.nagle.disable            = true (librdkafka's default is false;
//                                     the Java client and CAF's TCP set TCP_NODELAY)
//   null keys: librdkafka's sticky partitioner for null keys (KIP-480),
//   like the CAF producer's.
// The consumer has no max.poll.records: librdkafka prefetches (up to
// queued.min.messages per partition, default 100000) and the bench takes
// up to 1000 records per poll (poll_batch: one blocking
// rd_kafka_consume_queue, then rd_kafka_consume_batch_queue without waiting).
// The consume clock starts at assign() on a connected consumer (metadata
// fetched), as the CAF scenario's starts after consumer::create.
// Note for acks=all: librdkafka 2.0.2's idempotent producer keeps one
// ProduceRequest per partition in flight once a batch holds >= 5 records
// (its cap is 5 minus the *messages* in flight); --kafka-set
// enable.idempotence=false shows the path without that rule.
#include <librdkafka/rdkafka.h>

#include <sys/prctl.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <memory>
#include <thread>

#include "bench/actorlog_bench/clients.hpp"
#include "bench/actorlog_bench/histogram.hpp"

namespace al::bench {

namespace {

std::string kafka_client_label(target& t) {
  return t.kind() == target_kind::cluster ? "kafka-cluster"
                                          : (t.kind() == target_kind::in_process ? "kafka-inproc"
                                                                                 : "kafka");
}

struct rk_deleter {
  void operator()(rd_kafka_t* rk) const {
    if (rk)
      rd_kafka_destroy(rk);
  }
};
using rk_ptr = std::unique_ptr<rd_kafka_t, rk_deleter>;

/// Delivery report counters; the callback runs on the thread calling
/// rd_kafka_poll / rd_kafka_flush (the bench's), so plain fields do.
struct dr_state {
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::string first_error;
  bench_clock::time_point last{};
  log_histogram* ack_latency = nullptr; // latency: producev .. delivery report
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* st = static_cast<dr_state*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++st->ok;
  } else {
    if (st->failed++ == 0)
      st->first_error = rd_kafka_err2str(m->err);
  }
  st->last = bench_clock::now();
  if (st->ack_latency && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    auto us = rd_kafka_message_latency(m);
    if (us >= 0)
      st->ack_latency->record(uint64_t(us) * 1000);
  }
}

// --kafka-set goes to both clients except what only one of them knows
// (librdkafka would log a warning for each).
bool is_consumer_property(const std::string& k) {
  return k.rfind("fetch.", 0) == 0 || k.rfind("queued.", 0) == 0 ||
         k == "max.partition.fetch.bytes" || k == "check.crcs" || k == "isolation.level";
}
bool is_producer_property(const std::string& k) {
  return k == "acks" || k == "linger.ms" || k == "batch.size" || k == "batch.num.messages" ||
         k.rfind("queue.buffering.", 0) == 0 || k == "enable.idempotence" ||
         k == "compression.codec" || k == "compression.type" || k == "message.timeout.ms" ||
         k == "sticky.partitioning.linger.ms" || k == "max.in.flight.requests.per.connection";
}

bool set(rd_kafka_conf_t* conf, const char* key, const std::string& value, std::string& error) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    error = std::string(key) + "=" + value + ": " + err;
    return false;
  }
  return true;
}

rk_ptr make_producer(target& t, const std::string& acks, const client_settings& cs,
                     size_t record_size, dr_state* dr, std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const int64_t budget_records =
    std::max<int64_t>(1000, cs.buffer_bytes / int64_t(record_size + 16));
  bool ok =
    set(conf, "bootstrap.servers", t.kafka_bootstrap(), error) &&
    set(conf, "acks", acks, error) &&
    set(conf, "enable.idempotence", acks == "all" ? "true" : "false", error) &&
    set(conf, "linger.ms", std::to_string(cs.linger_ms), error) &&
    set(conf, "batch.size", std::to_string(cs.batch_size), error) &&
    set(conf, "max.in.flight.requests.per.connection", std::to_string(cs.max_in_flight), error) &&
    set(conf, "queue.buffering.max.kbytes", std::to_string(std::max<int64_t>(1, cs.buffer_bytes >> 10)),
        error) &&
    set(conf, "queue.buffering.max.messages",
        std::to_string(std::min<int64_t>(budget_records, 10'000'000)), error) &&
    set(conf, "socket.nagle.disable", "true", error) &&
    set(conf, "compression.codec", "none", error) &&
    set(conf, "message.timeout.ms", "120000", error) &&
    set(conf, "log_level", "4", error);
  for (auto& [k, v] : cs.kafka_extra)
    ok = ok && (is_consumer_property(k) || set(conf, k.c_str(), v, error));
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  rd_kafka_conf_set_opaque(conf, dr);
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    error = std::string("rd_kafka_new(producer): ") + err;
    return nullptr; // conf is freed by rd_kafka_new only on success
  }
  return rk_ptr(rk);
}

/// A consumer (a group.id is set because librdkafka's assign() needs one;
/// there is no join and nothing is committed), connected: it has fetched
/// the topic's metadata, so that what follows does not count librdkafka's
/// connection set-up (the CAF consumer connects in consumer::create).
rk_ptr make_consumer(target& t, const std::string& topic, const client_settings& cs,
                     std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  bool ok = set(conf, "bootstrap.servers", t.kafka_bootstrap(), error) &&
            set(conf, "group.id", "bench-" + topic, error) &&
            set(conf, "enable.auto.commit", "false", error) &&
            set(conf, "enable.auto.offset.store", "false", error) &&
            set(conf, "auto.offset.reset", "earliest", error) &&
            set(conf, "socket.nagle.disable", "true", error) &&
            set(conf, "log_level", "4", error);
  for (auto& [k, v] : cs.kafka_extra)
    ok = ok && (is_producer_property(k) || set(conf, k.c_str(), v, error));
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    error = std::string("rd_kafka_new(consumer): ") + err;
    return nullptr;
  }
  rk_ptr out(rk);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  auto me = rd_kafka_metadata(rk, 0, rkt, &md, 30000);
  if (md)
    rd_kafka_metadata_destroy(md);
  if (rkt)
    rd_kafka_topic_destroy(rkt);
  if (me) {
    error = std::string("metadata: ") + rd_kafka_err2str(me);
    return nullptr;
  }
  return out;
}

/// Assigns partitions 0..n-1 of `topic` from offset 0.
bool assign_all(rd_kafka_t* rk, const std::string& topic, int32_t partitions,
                std::string& error) {
  rd_kafka_topic_partition_list_t* tps = rd_kafka_topic_partition_list_new(partitions);
  for (int32_t p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(tps, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  auto e = rd_kafka_assign(rk, tps);
  rd_kafka_topic_partition_list_destroy(tps);
  if (e) {
    error = std::string("assign: ") + rd_kafka_err2str(e);
    return false;
  }
  return true;
}

/// One produce call, waiting (serving delivery reports) while the local
/// queue is full. Returns an error text or "".
std::string produce_one(rd_kafka_t* rk, const std::string& topic, int32_t partition, void* data,
                        size_t len, bench_clock::time_point deadline,
                        std::string_view key = {}) {
  for (;;) {
    auto e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                               RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_VALUE(data, len),
                               RD_KAFKA_V_KEY(key.empty() ? nullptr : key.data(), key.size()),
                               RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
      return {};
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      return rd_kafka_err2str(e);
    if (bench_clock::now() >= deadline)
      return "queue full until --max-seconds";
    rd_kafka_poll(rk, 1);
  }
}

/// Waits until the sum of the log end offsets reaches `want` (at most 60 s).
int64_t wait_in_log(target& t, const std::string& topic, int32_t partitions, uint64_t want,
                    std::string& error) {
  int64_t in_log = 0;
  auto until = bench_clock::now() + std::chrono::seconds(60);
  for (;;) {
    auto end = t.total_end_offset(topic, partitions);
    in_log = end ? *end : 0;
    if (!end)
      error = "log end offset: " + end.error().to_string();
    if (in_log >= int64_t(want) || bench_clock::now() > until || !end)
      return in_log;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

struct produce_outcome {
  uint64_t sent = 0;
  double seconds = 0; // first send .. last delivery report (acks=0: .. in the log)
  int64_t in_log = 0;
  std::string note;
};

/// The produce loop shared by the produce scenario and the consume load.
produce_outcome produce_all(target& t, const std::string& topic, int32_t partitions,
                            size_t record_size, uint64_t records, const std::string& acks,
                            const client_settings& cs, double max_seconds, progress_line& pl,
                            uint64_t keys = 0) {
  produce_outcome out;
  dr_state dr;
  std::string error;
  auto rk = make_producer(t, acks, cs, record_size, &dr, error);
  if (!rk) {
    out.note = "producer: " + error;
    return out;
  }
  auto values = make_records(topic, record_size);
  auto start = bench_clock::now();
  bench_clock::time_point deadline =
    start + std::chrono::duration_cast<bench_clock::duration>(std::chrono::duration<double>(max_seconds));
  bool timed_out = false;
  for (; out.sent < records; ++out.sent) {
    if ((out.sent & 1023) == 0) {
      rd_kafka_poll(rk.get(), 0); // delivery reports
      if (bench_clock::now() >= deadline) {
        timed_out = true;
        break;
      }
      pl.update(out.sent, records);
    }
    auto& v = *values[out.sent & 15].value;
    char key[24];
    std::string_view k;
    if (keys > 0) // librdkafka's partitioner spreads the keys (it copies them)
      k = std::string_view(key, size_t(std::snprintf(key, sizeof key, "k%llu",
                                                      (unsigned long long)(out.sent % keys))));
    error = produce_one(rk.get(), topic, RD_KAFKA_PARTITION_UA, v.data(), v.size(), deadline, k);
    if (!error.empty())
      break;
  }
  auto fl = rd_kafka_flush(rk.get(), int(max_seconds * 1000) + 30000);
  auto end = dr.last == bench_clock::time_point{} ? bench_clock::now() : dr.last;
  std::string end_error;
  out.in_log = wait_in_log(t, topic, partitions, out.sent, end_error);
  if (acks == "0") // delivered = written to the socket: count until in the log
    end = bench_clock::now();
  out.seconds = std::chrono::duration<double>(end - start).count();
  rk.reset();
  if (!error.empty())
    out.note = "send failed: " + error;
  else if (fl != RD_KAFKA_RESP_ERR_NO_ERROR)
    out.note = std::string("flush: ") + rd_kafka_err2str(fl);
  else if (dr.failed > 0)
    out.note = std::to_string(dr.failed) + " records failed (" + dr.first_error + ")";
  else if (!end_error.empty())
    out.note = end_error;
  else if (timed_out)
    out.note = "stopped at --max-seconds";
  else if (out.in_log < int64_t(out.sent))
    out.note = "only " + std::to_string(out.in_log) + " of " + std::to_string(out.sent) +
               " in the log";
  return out;
}

/// Waits up to timeout_ms for one message, then takes what else is in the
/// queue without waiting. (rd_kafka_consume_batch_queue alone waits until
/// the whole batch is full or the timeout passes: at 50 k rec/s a batch of
/// 1000 adds 10 ms on average.)
ssize_t poll_batch(rd_kafka_queue_t* q, int timeout_ms, std::vector<rd_kafka_message_t*>& batch) {
  rd_kafka_message_t* first = rd_kafka_consume_queue(q, timeout_ms);
  if (!first)
    return 0;
  batch[0] = first;
  auto more = rd_kafka_consume_batch_queue(q, 0, batch.data() + 1, batch.size() - 1);
  return 1 + std::max<ssize_t>(0, more);
}

row read_all(target& t, const std::string& topic, const consume_case& c,
             const client_settings& cs, const std::string& cache, progress_line& pl) {
  row r;
  r.scenario = "consume";
  r.label("client", kafka_client_label(t))
    .label("rf", std::to_string(t.replication_factor()))
    .label("size", std::to_string(c.record_size))
    .label("partitions", std::to_string(c.partitions))
    .label("cache", cache)
    .label("max.poll.records", "batch 1000");
  pl.begin("consume " + kafka_client_label(t) + " " + std::to_string(c.record_size) + " B " +
           cache + " partitions=" + std::to_string(c.partitions));
  std::string error;
  auto rk = make_consumer(t, topic, cs, error);
  if (!rk) {
    r.note = "consumer: " + error;
    return r;
  }
  // From here as the CAF scenario: assign, then poll until all are read.
  auto start = bench_clock::now();
  if (!assign_all(rk.get(), topic, c.partitions, error)) {
    r.note = "consumer: " + error;
    return r;
  }
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk.get());
  auto deadline = start + std::chrono::duration<double>(c.max_seconds);
  uint64_t n = 0, bytes = 0;
  bool ordered = true;
  std::vector<int64_t> next(size_t(c.partitions), 0);
  std::vector<rd_kafka_message_t*> batch(1000);
  while (n < c.records && bench_clock::now() < deadline) {
    auto got = poll_batch(q, 200, batch);
    for (ssize_t i = 0; i < got; ++i) {
      auto* m = batch[size_t(i)];
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++n;
        bytes += m->len;
        auto& expect = next[size_t(m->partition)];
        ordered = ordered && m->offset == expect;
        expect = m->offset + 1;
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && error.empty()) {
        error = rd_kafka_message_errstr(m);
      }
      rd_kafka_message_destroy(m);
    }
    pl.update(n, c.records);
  }
  double secs = seconds_since(start);
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk.get());
  rk.reset();
  r.figure("records", double(n))
    .figure("seconds", secs)
    .figure("rec/s", double(n) / secs)
    .figure("MB/s", double(bytes) / secs / 1e6);
  if (n < c.records)
    r.note = "only " + std::to_string(n) + " of " + std::to_string(c.records) +
             " within --max-seconds" + (error.empty() ? "" : " (" + error + ")");
  else if (!ordered)
    r.note = "offsets not dense per partition!";
  pl.end(human(r.get("rec/s")) + " rec/s, " + human(r.get("MB/s")) + " MB/s" +
         (r.note.empty() ? "" : " (" + r.note + ")"));
  return r;
}

int64_t ns_since(bench_clock::time_point epoch, bench_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - epoch).count();
}

} // namespace

row run_kafka_produce(target& t, const produce_case& c, const client_settings& cs,
                      progress_line& pl) {
  auto r = produce_row(kafka_client_label(t), t, c);
  auto topic = next_topic("produce");
  if (!create_topic_for(t, topic, c.partitions, r))
    return r;
  pl.begin("produce " + kafka_client_label(t) + " " + std::to_string(c.record_size) +
           " B acks=" + c.acks + " partitions=" + std::to_string(c.partitions));
  auto o = produce_all(t, topic, c.partitions, c.record_size, c.records, c.acks, cs,
                       c.max_seconds, pl, c.keys);
  r.figure("records", double(o.in_log))
    .figure("seconds", o.seconds)
    .figure("rec/s", o.seconds > 0 ? double(o.in_log) / o.seconds : 0)
    .figure("MB/s", o.seconds > 0 ? double(o.in_log) * double(c.record_size) / o.seconds / 1e6 : 0);
  r.note = o.note;
  pl.end(human(r.get("rec/s")) + " rec/s, " + human(r.get("MB/s")) + " MB/s" +
         (r.note.empty() ? "" : " (" + r.note + ")"));
  (void)t.delete_topic(topic);
  return r;
}

std::vector<row> run_kafka_consume(target& t, const consume_case& c, const client_settings& cs,
                                   progress_line& pl) {
  auto client = kafka_client_label(t);
  auto topic = next_topic("consume");
  if (auto st = t.create_topic(topic, c.partitions); !st)
    return {consume_failure(client, "create topic: " + st.to_string())};
  pl.begin("consume: loading " + std::to_string(c.record_size) + " B records into " + topic +
           " (librdkafka, acks=1)");
  auto o = produce_all(t, topic, c.partitions, c.record_size, c.records, "1", cs, c.max_seconds,
                       pl);
  pl.end(o.note.empty() ? "loaded" : o.note);
  if (!o.note.empty())
    return {consume_failure(client, "load: " + o.note)};
  // read_uncommitted only: main() skips the other levels for this client.
  return consume_rounds(t, topic, c, client, [&](const std::string& cache, const std::string&) {
    return read_all(t, topic, c, cs, cache, pl);
  });
}

row run_kafka_latency(target& t, const latency_case& c, const client_settings& cs,
                      progress_line& pl) {
  auto r = latency_row(kafka_client_label(t), t, c, cs);
  if (!r.note.empty())
    return r;
  auto topic = next_topic("latency");
  if (!create_topic_for(t, topic, c.partitions, r))
    return r;
  std::string error;
  dr_state dr;
  log_histogram ack_hist(8);
  auto cons = make_consumer(t, topic, cs, error);
  if (cons && !assign_all(cons.get(), topic, c.partitions, error))
    cons.reset();
  auto prod = cons ? make_producer(t, c.acks, cs, c.record_size, &dr, error) : nullptr;
  if (!cons || !prod) {
    r.note = error;
    return r;
  }
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(cons.get());
  std::vector<rd_kafka_message_t*> batch(1000);
  // Warm-up, not measured: metadata, producer id (acks=all), the
  // consumer's offset lookup and first fetch. One short record per
  // partition, flushed, and read back by the consumer.
  char warm[] = "warm";
  for (int32_t p = 0; p < c.partitions; ++p) {
    auto e = produce_one(prod.get(), topic, p, warm, 4, bench_clock::now() + std::chrono::seconds(30));
    if (!e.empty()) {
      r.note = "warm-up: " + e;
      return r;
    }
  }
  rd_kafka_flush(prod.get(), 30000);
  {
    int32_t seen = 0;
    auto until = bench_clock::now() + std::chrono::seconds(30);
    while (seen < c.partitions && bench_clock::now() < until) {
      auto got = poll_batch(q, 100, batch);
      for (ssize_t i = 0; i < got; ++i) {
        seen += batch[size_t(i)]->err == RD_KAFKA_RESP_ERR_NO_ERROR ? 1 : 0;
        rd_kafka_message_destroy(batch[size_t(i)]);
      }
    }
    if (seen < c.partitions) {
      rd_kafka_queue_destroy(q);
      r.note = "warm-up: the consumer did not see the warm-up records in 30 s";
      return r;
    }
  }

  rd_kafka_poll(prod.get(), 0);
  dr.ack_latency = &ack_hist; // from here on: the measured records
  const auto total = uint64_t(c.rate * c.seconds);
  const auto epoch = bench_clock::now();
  std::atomic<uint64_t> sent{0};
  std::atomic<bool> sending_done{false};
  log_histogram hist(8);
  uint64_t received = 0;
  std::thread poller([&] {
    auto hard_stop = bench_clock::now() + std::chrono::duration<double>(c.seconds + 60);
    bench_clock::time_point done_at{};
    while (bench_clock::now() < hard_stop) {
      auto got = poll_batch(q, 100, batch);
      auto now_ns = ns_since(epoch, bench_clock::now());
      for (ssize_t i = 0; i < got; ++i) {
        auto* m = batch[size_t(i)];
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->len >= 8) {
          int64_t due_ns = 0;
          std::memcpy(&due_ns, m->payload, 8);
          hist.record(uint64_t(std::max<int64_t>(0, now_ns - due_ns)));
          ++received;
        }
        rd_kafka_message_destroy(m);
      }
      if (sending_done.load()) {
        if (received >= sent.load())
          break;
        auto now = bench_clock::now();
        if (done_at == bench_clock::time_point{})
          done_at = now;
        else if (now - done_at > std::chrono::seconds(30))
          break;
      }
    }
  });

  // The producer, as in latency.cpp: record i is due at epoch + lead + i /
  // rate, its value starts with that due time; sleep between due times.
  // librdkafka copies the value (RD_KAFKA_MSG_F_COPY) since the 16 buffers
  // are rewritten while earlier records may still be queued.
  ::prctl(PR_SET_TIMERSLACK, 1000UL);
  auto records = make_records(topic, c.record_size);
  const double interval_ns = 1e9 / c.rate;
  const int64_t lead_ns = 10'000'000;
  pl.begin("latency " + kafka_client_label(t) + " " + std::to_string(c.record_size) +
           " B acks=" + c.acks + " at " + human(c.rate) + " rec/s");
  uint64_t i = 0;
  auto send_deadline = epoch + std::chrono::duration<double>(c.seconds + 10);
  while (i < total && bench_clock::now() < send_deadline) {
    auto now_ns = ns_since(epoch, bench_clock::now());
    while (i < total) {
      auto due_ns = lead_ns + int64_t(double(i) * interval_ns);
      if (due_ns > now_ns)
        break;
      auto& v = *records[i & 15].value;
      std::memcpy(v.data(), &due_ns, 8);
      auto e = rd_kafka_producev(prod.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                 RD_KAFKA_V_VALUE(v.data(), v.size()),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(prod.get(), 1);
        continue;
      }
      if (e) {
        error = rd_kafka_err2str(e);
        break;
      }
      ++i;
      sent.store(i);
    }
    if (!error.empty())
      break;
    rd_kafka_poll(prod.get(), 0); // delivery reports
    if ((i & 255) == 0)
      pl.update(i, total);
    auto next_due = lead_ns + int64_t(double(i) * interval_ns);
    auto wait = next_due - ns_since(epoch, bench_clock::now());
    if (wait > 0)
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
  }
  double send_secs = double(ns_since(epoch, bench_clock::now()) - lead_ns) / 1e9;
  auto fl = rd_kafka_flush(prod.get(), 30000);
  sending_done = true;
  poller.join();
  rd_kafka_queue_destroy(q);
  prod.reset();
  rd_kafka_consumer_close(cons.get());
  cons.reset();
  auto ms = [](uint64_t ns) { return double(ns) / 1e6; };
  r.figure("sent rec/s", double(i) / send_secs)
    .figure("received", double(received))
    .figure("p50 ms", ms(hist.percentile(50)))
    .figure("p99 ms", ms(hist.percentile(99)))
    .figure("p99.9 ms", ms(hist.percentile(99.9)))
    .figure("max ms", ms(hist.max()))
    .figure("mean ms", hist.mean() / 1e6)
    // librdkafka's own rd_kafka_message_latency: producev .. delivery report
    // (the produce half: acks received), to tell it from the fetch half.
    .figure("ack p50 ms", ms(ack_hist.percentile(50)))
    .figure("ack p99 ms", ms(ack_hist.percentile(99)));
  if (!error.empty())
    r.note = "send failed: " + error;
  else if (fl != RD_KAFKA_RESP_ERR_NO_ERROR)
    r.note = std::string("flush: ") + rd_kafka_err2str(fl);
  else if (dr.failed > 0)
    r.note = std::to_string(dr.failed) + " records failed (" + dr.first_error + ")";
  else if (received < i)
    r.note = "received " + std::to_string(received) + " of " + std::to_string(i);
  else if (i < total)
    r.note = "producer fell behind: sent " + std::to_string(i) + " of " + std::to_string(total);
  char buf[160];
  std::snprintf(buf, sizeof buf, "p50 %.3f  p99 %.3f  p99.9 %.3f  max %.3f ms", r.get("p50 ms"),
                r.get("p99 ms"), r.get("p99.9 ms"), r.get("max ms"));
  pl.end(buf + (r.note.empty() ? std::string() : " (" + r.note + ")"));
  (void)t.delete_topic(topic);
  return r;
}

} // namespace al::bench
