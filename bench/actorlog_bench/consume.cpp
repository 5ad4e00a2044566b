// consume: records/s and MB/s through al::consumer, page cache hot and cold,
// per isolation level (a transactional load: read_committed beside
// read_uncommitted).
#include <atomic>
#include <thread>

#include "actors/client/consumer_client.hpp"
#include "actors/client/producer_client.hpp"
#include "bench/actorlog_bench/clients.hpp"
#include "bench/actorlog_bench/txn_pacer.hpp"

namespace al::bench {

namespace {

/// Writes the records (acks=1, the producer's defaults otherwise; with
/// c.txn, a transactional producer with acks=all committing as it says).
status load(target& t, const std::string& topic, const consume_case& c,
            const client_settings& cs, progress_line& pl) {
  auto props = producer_props(t, c.txn.on() ? "all" : "1", cs);
  if (c.txn.on())
    props["transactional.id"] = "bench-" + topic;
  auto p = producer::create(t.client_system(), props, t.direct_broker());
  if (!p)
    return p.error();
  txn_pacer txns(**p, c.txn);
  if (auto st = txns.start(); !st)
    return st;
  auto records = make_records(topic, c.record_size);
  std::atomic<uint64_t> done{0};
  auto cb = [&done](const record_metadata&, const status&) {
    done.fetch_add(1, std::memory_order_relaxed);
  };
  const uint64_t window = std::max<uint64_t>(1, uint64_t(cs.buffer_bytes) / (c.record_size + 16));
  auto deadline = bench_clock::now() + std::chrono::duration<double>(c.max_seconds);
  pl.begin("consume: loading " + std::to_string(c.record_size) + " B records into " + topic +
           (c.txn.on() ? ", transactions " + c.txn.describe() : ""));
  for (uint64_t i = 0; i < c.records; ++i) {
    if (auto st = txns.before_send(); !st)
      return st;
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
  if (st)
    st = txns.finish();
  pl.end(st ? "loaded" + (c.txn.on() ? " (" + std::to_string(txns.commits()) + " commits)"
                                     : std::string())
            : st.to_string());
  return st;
}

/// The consume order check: per partition, offsets strictly increase, and
/// (a plain load) are dense from 0. A transactional load leaves a marker
/// (an offset without a record) per partition and commit, so there only
/// the increase and the record count (every transaction commits) hold.
class order_check {
public:
  order_check(int32_t partitions, bool dense) : next_(size_t(partitions), 0), dense_(dense) {}
  void add(int32_t partition, int64_t offset) {
    auto& expect = next_[size_t(partition)];
    ok_ = ok_ && (dense_ ? offset == expect : offset >= expect);
    expect = offset + 1;
  }
  /// Empty when every offset was as expected.
  std::string problem() const {
    if (ok_)
      return {};
    return dense_ ? "offsets not dense per partition!" : "offsets not increasing per partition!";
  }

private:
  std::vector<int64_t> next_;
  bool dense_;
  bool ok_ = true;
};

row read_all(target& t, const std::string& topic, const consume_case& c,
             const client_settings& cs, const std::string& cache, const std::string& isolation,
             progress_line& pl) {
  row r;
  r.scenario = "consume";
  r.label("client", to_string(t.kind()))
    .label("rf", std::to_string(t.replication_factor()))
    .label("size", std::to_string(c.record_size))
    .label("partitions", std::to_string(c.partitions))
    .label("cache", cache)
    .label("max.poll.records", std::to_string(cs.max_poll_records));
  if (c.labels_isolation())
    r.label("txn", c.txn.describe()).label("isolation", isolation);
  auto props = consumer_props(t, cs);
  props["isolation.level"] = isolation;
  auto cons = consumer::create(t.client_system(), props, t.direct_broker());
  if (!cons) {
    r.note = "consumer: " + cons.error().to_string();
    return r;
  }
  std::vector<topic_partition> tps;
  for (int32_t p = 0; p < c.partitions; ++p)
    tps.push_back({topic, p});
  pl.begin("consume " + to_string(t.kind()) + " " + std::to_string(c.record_size) + " B " + cache +
           " partitions=" + std::to_string(c.partitions) + " " + isolation);
  auto start = bench_clock::now();
  auto deadline = start + std::chrono::duration<double>(c.max_seconds);
  (void)(*cons)->assign(tps);
  uint64_t n = 0, bytes = 0;
  order_check order(c.partitions, !c.txn.on());
  while (n < c.records && bench_clock::now() < deadline) {
    for (auto& rec : (*cons)->poll(std::chrono::milliseconds(200))) {
      ++n;
      bytes += rec.value ? rec.value->size() : 0;
      order.add(rec.partition, rec.offset);
    }
    pl.update(n, c.records);
  }
  double secs = seconds_since(start);
  // Anything past the expected count is a record read twice or invented
  // (or an aborted one): a short, untimed look for more.
  uint64_t extra = 0;
  if (n == c.records)
    for (auto& rec : (*cons)->poll(std::chrono::milliseconds(200))) {
      ++extra;
      order.add(rec.partition, rec.offset);
    }
  (*cons)->close();
  r.figure("records", double(n))
    .figure("seconds", secs)
    .figure("rec/s", double(n) / secs)
    .figure("MB/s", double(bytes) / secs / 1e6);
  if (n < c.records)
    r.note = "only " + std::to_string(n) + " of " + std::to_string(c.records) +
             " within --max-seconds";
  else if (n + extra > c.records)
    r.note = std::to_string(n + extra) + " records read, " + std::to_string(c.records) +
             " written!";
  else
    r.note = order.problem();
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

namespace {

/// A read_committed row's rate over the read_uncommitted row's of the same
/// cache, read beside it.
void compare_levels(std::vector<row>& rows, size_t from, const consume_case& c) {
  if (c.isolation_levels.size() < 2)
    return;
  const row* uncommitted = nullptr;
  for (size_t i = from; i < rows.size(); ++i)
    if (i - from < c.isolation_levels.size() && c.isolation_levels[i - from] == "read_uncommitted")
      uncommitted = &rows[i];
  if (!uncommitted || uncommitted->get("rec/s") <= 0)
    return;
  double base = uncommitted->get("rec/s");
  for (size_t i = from; i < rows.size(); ++i)
    if (i - from < c.isolation_levels.size() && c.isolation_levels[i - from] == "read_committed")
      rows[i].figure("vs uncommitted", rows[i].get("rec/s") / base);
}

} // namespace

std::vector<row> consume_rounds(target& t, const std::string& topic, const consume_case& c,
                                const std::string& client,
                                const std::function<row(const std::string& cache,
                                                        const std::string& isolation)>& read) {
  std::vector<row> out;
  for (const auto& level : c.isolation_levels) {
    row best;
    for (int i = 0; i < std::max(1, c.repeat); ++i) {
      auto r = read("hot", level);
      if (i == 0 || r.get("rec/s") > best.get("rec/s"))
        best = r;
    }
    if (c.repeat > 1)
      best.figure("runs", c.repeat);
    out.push_back(best);
  }
  compare_levels(out, 0, c);
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
    const size_t from = out.size();
    for (const auto& level : c.isolation_levels) {
      out.push_back(read("cold", level));
      out.back().note += (out.back().note.empty() ? "" : "; ") + how;
    }
    compare_levels(out, from, c);
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
  return consume_rounds(t, topic, c, client,
                        [&](const std::string& cache, const std::string& isolation) {
                          return read_all(t, topic, c, cs, cache, isolation, pl);
                        });
}

} // namespace al::bench
