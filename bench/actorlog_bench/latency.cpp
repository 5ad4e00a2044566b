// latency: end-to-end (produce due time -> consumer delivery) at a fixed rate.
#include <sys/prctl.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "actors/client/consumer_client.hpp"
#include "actors/client/producer_client.hpp"
#include "bench/actorlog_bench/clients.hpp"
#include "bench/actorlog_bench/histogram.hpp"

namespace al::bench {

namespace {

int64_t ns_since(bench_clock::time_point epoch, bench_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t - epoch).count();
}

} // namespace

row latency_row(const std::string& client, target& t, const latency_case& c,
                const client_settings& cs) {
  row r;
  r.scenario = "latency";
  r.label("client", client)
    .label("rf", std::to_string(t.replication_factor()))
    .label("size", std::to_string(c.record_size))
    .label("acks", c.acks)
    .label("partitions", std::to_string(c.partitions))
    .label("linger.ms", std::to_string(cs.linger_ms))
    .label("offered rec/s", human(c.rate));
  if (c.record_size < 8 || c.rate <= 0) // the due time rides in the first 8 bytes
    r.note = "needs records of >= 8 bytes and a rate > 0";
  return r;
}

row run_latency(target& t, const latency_case& c, const client_settings& cs, progress_line& pl) {
  auto r = latency_row(to_string(t.kind()), t, c, cs);
  if (!r.note.empty())
    return r;
  auto topic = next_topic("latency");
  if (!create_topic_for(t, topic, c.partitions, r))
    return r;
  auto cons = consumer::create(t.client_system(), consumer_props(t, cs), t.direct_broker());
  auto prod = producer::create(t.client_system(), producer_props(t, c.acks, cs), t.direct_broker());
  if (!cons || !prod) {
    r.note = !cons ? "consumer: " + cons.error().to_string()
                   : "producer: " + prod.error().to_string();
    return r;
  }
  std::vector<topic_partition> tps;
  for (int32_t p = 0; p < c.partitions; ++p)
    tps.push_back({topic, p});
  (void)(*cons)->assign(tps);
  for (auto& tp : tps)
    (void)(*cons)->position(tp); // wait until the consumer knows where to start
  // Warm-up, not measured: the producer's first send fetches metadata and,
  // for acks=all, a producer id (about 80 ms on a 3-node cluster, which
  // otherwise lands in p99.9 and max of every run). One record with a short
  // value (the poller skips values under 8 bytes) per partition, flushed.
  for (int32_t p = 0; p < c.partitions; ++p) {
    producer_record warm;
    warm.topic = topic;
    warm.partition = p;
    warm.value = std::string("warm");
    if (auto st = (*prod)->send(warm); !st) {
      r.note = "warm-up: " + st.to_string();
      return r;
    }
  }
  if (auto st = (*prod)->flush(std::chrono::seconds(30)); !st) {
    r.note = "warm-up: " + st.to_string();
    return r;
  }

  const auto total = uint64_t(c.rate * c.seconds);
  const auto epoch = bench_clock::now();
  std::atomic<uint64_t> sent{0};
  std::atomic<bool> sending_done{false};
  log_histogram hist(8);
  uint64_t received = 0;
  // The consumer thread: poll until it has every record sent, or 30 s
  // after the producer finished.
  std::thread poller([&] {
    auto hard_stop = bench_clock::now() + std::chrono::duration<double>(c.seconds + 60);
    bench_clock::time_point done_at{};
    while (bench_clock::now() < hard_stop) {
      auto recs = (*cons)->poll(std::chrono::milliseconds(100));
      auto now = bench_clock::now();
      auto now_ns = ns_since(epoch, now);
      for (auto& rec : recs) {
        if (!rec.value || rec.value->size() < 8)
          continue;
        int64_t due_ns = 0;
        std::memcpy(&due_ns, rec.value->data(), 8);
        hist.record(uint64_t(std::max<int64_t>(0, now_ns - due_ns)));
        ++received;
      }
      if (sending_done.load()) {
        if (received >= sent.load())
          break;
        if (done_at == bench_clock::time_point{})
          done_at = now;
        else if (now - done_at > std::chrono::seconds(30))
          break;
      }
    }
  });

  // The producer: record i is due at epoch + lead + i / rate; its value
  // starts with that due time (ns since epoch). Sleep between due times
  // instead of spinning (2 cores): a record sent late still counts from
  // its due time.
  ::prctl(PR_SET_TIMERSLACK, 1000UL); // 1 us: wake close to the due time
  auto records = make_records(topic, c.record_size);
  const double interval_ns = 1e9 / c.rate;
  const int64_t lead_ns = 10'000'000; // first record 10 ms after epoch
  pl.begin("latency " + to_string(t.kind()) + " " + std::to_string(c.record_size) + " B acks=" +
           c.acks + " at " + human(c.rate) + " rec/s");
  std::string error;
  uint64_t i = 0;
  auto send_deadline = epoch + std::chrono::duration<double>(c.seconds + 10);
  while (i < total && bench_clock::now() < send_deadline) {
    auto now_ns = ns_since(epoch, bench_clock::now());
    while (i < total) {
      auto due_ns = lead_ns + int64_t(double(i) * interval_ns);
      if (due_ns > now_ns)
        break;
      auto& rec = records[i & 15];
      std::memcpy(rec.value->data(), &due_ns, 8);
      if (auto st = (*prod)->send(rec); !st) {
        error = st.to_string();
        break;
      }
      ++i;
      sent.store(i);
    }
    if (!error.empty())
      break;
    if ((i & 255) == 0)
      pl.update(i, total);
    auto next_due = lead_ns + int64_t(double(i) * interval_ns);
    auto wait = next_due - ns_since(epoch, bench_clock::now());
    if (wait > 0)
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
  }
  double send_secs = double(ns_since(epoch, bench_clock::now()) - lead_ns) / 1e9;
  auto fl = (*prod)->flush(std::chrono::seconds(30));
  sending_done = true;
  poller.join();
  (*prod)->close();
  (*cons)->close();
  auto ms = [](uint64_t ns) { return double(ns) / 1e6; };
  r.figure("sent rec/s", double(i) / send_secs)
    .figure("received", double(received))
    .figure("p50 ms", ms(hist.percentile(50)))
    .figure("p99 ms", ms(hist.percentile(99)))
    .figure("p99.9 ms", ms(hist.percentile(99.9)))
    .figure("max ms", ms(hist.max()))
    .figure("mean ms", hist.mean() / 1e6);
  if (!error.empty())
    r.note = "send failed: " + error;
  else if (!fl)
    r.note = "flush: " + fl.to_string();
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
