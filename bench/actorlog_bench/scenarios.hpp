#pragma once
// The measured scenarios. Each creates its own topic on the target, runs
// the real clients (al::producer / al::consumer) and returns result rows.
// Every loop is bounded by a record count and by max_seconds.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "bench/actorlog_bench/report.hpp"
#include "bench/actorlog_bench/target.hpp"

namespace al::bench {

struct client_settings {
  int64_t linger_ms = 5;          // the producer's default
  int32_t batch_size = 16384;     // the producer's default
  int32_t max_in_flight = 5;      // max.in.flight.requests.per.connection
  int32_t max_poll_records = 500; // the consumer's default
  int64_t buffer_bytes = 32 << 20; // unacknowledged bytes the bench lets the producer hold
  /// --client kafka: extra librdkafka properties (--kafka-set key=value),
  /// set on the producer and the consumer after the bench's own.
  std::vector<std::pair<std::string, std::string>> kafka_extra;
};

/// Transactions (issue 16): a transactional producer commits every
/// commit_ms (when > 0) or every commit_records sends (when > 0); both 0:
/// no transactions. Needs acks=all.
struct txn_mode {
  int64_t commit_ms = 0;
  uint64_t commit_records = 0;
  bool on() const { return commit_ms > 0 || commit_records > 0; }
  /// "every 100 ms", "every 1000 records", "off".
  std::string describe() const {
    if (commit_ms > 0)
      return "every " + std::to_string(commit_ms) + " ms";
    return commit_records > 0 ? "every " + std::to_string(commit_records) + " records" : "off";
  }
};

struct produce_case {
  size_t record_size = 100;
  std::string acks = "1"; // 0 | 1 | all
  int32_t partitions = 1;
  uint64_t records = 1'000'000;
  double max_seconds = 30;
  /// 0: null keys (sticky partitioning). N: record i has key "k<i mod N>",
  /// so the default partitioner spreads records over every partition
  /// (issue 15: spread produce beside the 4-partition figure).
  uint64_t keys = 0;
  txn_mode txn;
  bool transactional() const { return txn.on(); }
};

/// Sends `records` values of record_size bytes (null keys: sticky
/// partitioning, or `keys` distinct keys), waits until all are acknowledged and (acks=0) until the
/// log end offsets cover them. Rate = records / (first send .. last one in
/// the log).
row run_produce(target& t, const produce_case& c, const client_settings& cs, progress_line& pl);

struct consume_case {
  size_t record_size = 100;
  int32_t partitions = 1;
  uint64_t records = 1'000'000;
  bool cold = true; // also measure after a node restart with the page cache evicted
  int repeat = 1;    // hot reads; the best is reported
  double max_seconds = 60;
  /// The load's producer: plain (acks=1), or transactional (acks=all,
  /// committing as txn says), so the log holds a marker per partition and
  /// commit: offsets are then not dense.
  txn_mode txn;
  /// Each read is made once per level (isolation.level), in this order.
  std::vector<std::string> isolation_levels{"read_uncommitted"};
  /// Whether the rows name the load's transactions and the isolation level.
  bool labels_isolation() const {
    return txn.on() || isolation_levels != std::vector<std::string>{"read_uncommitted"};
  }
};

/// Loads the records, then reads them all from offset 0 with each
/// isolation level: "hot" right away (page cache), and with `cold` again
/// after restarting the node with its files evicted from the page cache.
std::vector<row> run_consume(target& t, const consume_case& c, const client_settings& cs,
                             progress_line& pl);

struct latency_case {
  size_t record_size = 100;
  std::string acks = "1";
  int32_t partitions = 1;
  double rate = 50'000;  // offered records/s
  double seconds = 10;
};

/// Produces at a fixed offered rate while a consumer polls; latency of a
/// record = consumer delivery (poll returned it) - the time it was due to
/// be sent (so a producer that falls behind shows up as latency: no
/// coordinated omission). Both clients run in the bench process.
row run_latency(target& t, const latency_case& c, const client_settings& cs, progress_line& pl);

/// The same three scenarios with a librdkafka client through the nodes'
/// Kafka listeners (kafka.cpp; built when librdkafka-dev is installed,
/// AL_BENCH_HAVE_RDKAFKA). The consume load is written by librdkafka too.
row run_kafka_produce(target& t, const produce_case& c, const client_settings& cs,
                      progress_line& pl);
std::vector<row> run_kafka_consume(target& t, const consume_case& c, const client_settings& cs,
                                   progress_line& pl);
row run_kafka_latency(target& t, const latency_case& c, const client_settings& cs,
                      progress_line& pl);

/// Unique topic names per run ("bench-produce-3").
std::string next_topic(const std::string& scenario);

// ---- shared by the CAF (produce/consume/latency.cpp) and Kafka (kafka.cpp) runs ----

/// A produce row's labels; `client` is the client's column ("remote", "kafka", ...).
row produce_row(const std::string& client, target& t, const produce_case& c);
/// A latency row's labels.
row latency_row(const std::string& client, target& t, const latency_case& c,
                const client_settings& cs);
/// Creates the run's topic; on failure the row's note says why and false comes back.
bool create_topic_for(target& t, const std::string& topic, int32_t partitions, row& r);
/// The consume scenario once the topic holds its records: per isolation
/// level the best of c.repeat hot reads, then (c.cold) a restart with the
/// page cache evicted and one cold read per level; then the topic is
/// deleted. `read(cache, isolation_level)` reads every record once ("hot"
/// or "cold"); a failure is a row with `client` and a note. A
/// read_committed row also gets its rate over the read_uncommitted one's
/// of the same cache ("vs uncommitted").
std::vector<row> consume_rounds(target& t, const std::string& topic, const consume_case& c,
                                const std::string& client,
                                const std::function<row(const std::string& cache,
                                                        const std::string& isolation)>& read);
/// A consume row that only says what failed.
row consume_failure(const std::string& client, const std::string& why);

} // namespace al::bench
