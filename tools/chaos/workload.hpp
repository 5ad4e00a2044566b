#pragma once
// The chaos run's producers: idempotent acks=all al::producers in this
// process, each sending its own keys with a sequence number per key
// (value "k<key>:<seq>"), and a record of every acknowledgement
// (partition, offset, key, seq, when). Failover times are read off the
// acknowledgements of one partition.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/fwd.hpp>

#include "storage/status.hpp"
#include "tools/chaos/ack_log.hpp"

namespace al {
class producer;
}

namespace chaos {

struct acked_record {
  int32_t partition = -1;
  int64_t offset = -1;
  int32_t key = -1;
  int64_t seq = -1;
};

struct workload_options {
  std::string bootstrap;
  std::string topic;
  int producers = 2;
  int keys_per_producer = 8;
  int records_per_s = 300;   // all producers together
  int max_in_flight = 200;   // per producer: sends wait above this (bounds the final drain)
  int64_t request_timeout_ms = 5000;
  int64_t delivery_timeout_ms = 600000;
};

struct workload_counts {
  int64_t sent = 0;
  int64_t acked = 0;
  int64_t failed = 0;      // delivery failed (error callback or refused send)
  int64_t in_flight = 0;
};

class workload : public load_view {
public:
  workload(caf::actor_system& sys, workload_options opts);
  ~workload() override;

  /// Creates the producers (each obtains a producer id) and starts sending.
  al::status start();
  /// Stops sending new records (outstanding ones continue).
  void stop_sending();
  /// Waits until every sent record is acknowledged or failed.
  al::status flush(std::chrono::milliseconds timeout);
  /// Closes the producers.
  void close();

  workload_counts counts() const;
  const ack_log& acks() const override { return acks_; }
  std::string progress() const override;

  std::vector<acked_record> acked() const;
  /// The first few delivery errors, for the log.
  std::vector<std::string> sample_errors() const;

private:
  void send_loop(size_t producer_index);
  void on_ack(int32_t key, int64_t seq, int32_t partition, int64_t offset);
  void on_failure(int32_t key, int64_t seq, const al::status& st);

  caf::actor_system& sys_;
  workload_options opts_;
  std::vector<std::unique_ptr<al::producer>> producers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> sending_{false};
  std::atomic<int64_t> sent_{0};
  std::atomic<int64_t> failed_{0};
  std::vector<std::unique_ptr<std::atomic<int64_t>>> in_flight_; // per producer

  ack_log acks_;
  mutable std::mutex mtx_;
  std::vector<acked_record> acked_;
  std::vector<std::string> errors_;
};

} // namespace chaos
