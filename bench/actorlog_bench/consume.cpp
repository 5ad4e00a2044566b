// consume: records/s and MB/s through al::consumer, page cache hot and cold.
#include <atomic>
#include <thread>

#include "actors/client/consumer_client.hpp"
#include "actors/client/producer_client.hpp"
#include "bench/actorlog_bench/clients.hpp"

namespace al::bench {

namespace {

/// Writes the records (acks=1, the producer's defaults otherwise).
status load(target& t, const std::string& topic, const consume_case& c,
            const client_settings& cs, progress_line& pl) {
  auto p = producer::create(t.client_system(), producer_props(t, "1", cs), t.direct_broker());
  if (!p)
    return p.error();
  auto records = make_records(topic, c.record_size);
  std::atomic<uint64_t> done{0};
  auto cb = [&done](const record_metadata&, const status&) {
    done.fetch_add(1, std::memory_order_relaxed);
  };
  const uint64_t window = std::max<uint64_t>(1, uint64_t(cs.buffer_bytes) / (c.record_size + 16));
  auto deadline = bench_clock::now() + std::chrono::duration<double>(c.max_seconds);
  pl.begin("consume: loading " + std::to_string(c.record_size) + " B records into " + topic);
  for (uint64_t i = 0; i < c.records; ++i) {
    if ((i & 1023) == 0) {
      while (i - done.load(std::memory_order_relaxed) > window && bench_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (bench_clock::now() >= deadline)
        return {errc::request_timed_out, "loading did not finish within --max-seconds"};
      pl.update(i, c.records);
    }
    if (auto st = (*p)->send(records[i & 15], cb); !st)
      return st;
  }
  auto st = (*p)->flush(std::chrono::milliseconds(int64_t(c.max_seconds * 1000) + 30000));
  pl.end(st ? "loaded" : st.to_string());
  return st;
}

row read_all(target& t, const std::string& topic, const consume_case& c,
             const client_settings& cs, const std::string& cache, progress_line& pl) {
  row r;
  r.scenario = "consume";
  r.label("client", to_string(t.kind()))
    .label("rf", std::to_string(t.replication_factor()))
    .label("size", std::to_string(c.record_size))
    .label("partitions", std::to_string(c.partitions))
    .label("cache", cache)
    .label("max.poll.records", std::to_string(cs.max_poll_records));
  auto cons = consumer::create(t.client_system(), consumer_props(t, cs), t.direct_broker());
  if (!cons) {
    r.note = "consumer: " + cons.error().to_string();
    return r;
  }
  std::vector<topic_partition> tps;
  for (int32_t p = 0; p < c.partitions; ++p)
    tps.push_back({topic, p});
  pl.begin("consume " + to_string(t.kind()) + " " + std::to_string(c.record_size) + " B " + cache +
           " partitions=" + std::to_string(c.partitions));
  auto start = bench_clock::now();
  auto deadline = start + std::chrono::duration<double>(c.max_seconds);
  (void)(*cons)->assign(tps);
  uint64_t n = 0, bytes = 0;
  bool ordered = true;
  std::vector<int64_t> next(size_t(c.partitions), 0);
  while (n < c.records && bench_clock::now() < deadline) {
    for (auto& rec : (*cons)->poll(std::chrono::milliseconds(200))) {
      ++n;
      bytes += rec.value ? rec.value->size() : 0;
      auto& expect = next[size_t(rec.partition)];
      ordered = ordered && rec.offset == expect;
      expect = rec.offset + 1;
    }
    pl.update(n, c.records);
  }
  double secs = seconds_since(start);
  (*cons)->close();
  r.figure("records", double(n))
    .figure("seconds", secs)
    .figure("rec/s", double(n) / secs)
    .figure("MB/s", double(bytes) / secs / 1e6);
  if (n < c.records)
    r.note = "only " + std::to_string(n) + " of " + std::to_string(c.records) +
             " within --max-seconds";
  else if (!ordered)
    r.note = "offsets not dense per partition!";
  pl.end(human(r.get("rec/s")) + " rec/s, " + human(r.get("MB/s")) + " MB/s" +
         (r.note.empty() ? "" : " (" + r.note + ")"));
  return r;
}

} // namespace

row consume_failure(const std::string& client, const std::string& why) {
  row r;
  r.scenario = "consume";
  r.label("client", client);
  r.note = why;
  return r;
}

std::vector<row> consume_rounds(target& t, const std::string& topic, const consume_case& c,
                                const std::string& client,
                                const std::function<row(const std::string& cache)>& read) {
  std::vector<row> out;
  row best;
  for (int i = 0; i < std::max(1, c.repeat); ++i) {
    auto r = read("hot");
    if (i == 0 || r.get("rec/s") > best.get("rec/s"))
      best = r;
  }
  if (c.repeat > 1)
    best.figure("runs", c.repeat);
  out.push_back(best);
  if (c.cold) {
    std::string how;
    if (auto st = t.restart([&] { how = evict_page_cache(t.data_dirs()); }); !st) {
      out.push_back(consume_failure(client, "restart: " + st.to_string()));
      return out;
    }
    if (auto ready = t.wait_ready(topic, c.partitions); !ready) {
      out.push_back(consume_failure(client, "after restart: " + ready.to_string()));
      return out;
    }
    out.push_back(read("cold"));
    out.back().note += (out.back().note.empty() ? "" : "; ") + how;
  }
  (void)t.delete_topic(topic);
  return out;
}

std::vector<row> run_consume(target& t, const consume_case& c, const client_settings& cs,
                             progress_line& pl) {
  auto client = to_string(t.kind());
  auto topic = next_topic("consume");
  if (auto st = t.create_topic(topic, c.partitions); !st)
    return {consume_failure(client, "create topic: " + st.to_string())};
  if (auto st = load(t, topic, c, cs, pl); !st)
    return {consume_failure(client, "load: " + st.to_string())};
  return consume_rounds(t, topic, c, client, [&](const std::string& cache) {
    return read_all(t, topic, c, cs, cache, pl);
  });
}

} // namespace al::bench
