#include "tools/chaos/workload.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/client/producer_client.hpp"
#include "tools/chaos/checker.hpp"

namespace chaos {

using clock_type = std::chrono::steady_clock;

workload::workload(caf::actor_system& sys, workload_options opts)
  : sys_(sys), opts_(std::move(opts)) {}

workload::~workload() {
  stop_sending();
  close();
}

al::status workload::start() {
  for (int i = 0; i < opts_.producers; ++i) {
    auto p = al::producer::create(
      sys_, {{"bootstrap.servers", opts_.bootstrap},
             {"client.id", "chaos-producer-" + std::to_string(i)},
             {"acks", "all"},
             {"enable.idempotence", "true"},
             {"retries", "2147483647"},
             {"request.timeout.ms", std::to_string(opts_.request_timeout_ms)},
             {"delivery.timeout.ms", std::to_string(opts_.delivery_timeout_ms)},
             {"metadata.max.age.ms", "5000"}});
    if (!p)
      return al::status{p.error().code(), "producer " + std::to_string(i) + ": " +
                                            p.error().message()};
    spdlog::debug("producer {} has producer id {}", i, (*p)->producer_id());
    producers_.push_back(std::move(*p));
    in_flight_.push_back(std::make_unique<std::atomic<int64_t>>(0));
  }
  sending_ = true;
  for (size_t i = 0; i < producers_.size(); ++i)
    threads_.emplace_back([this, i] { send_loop(i); });
  return al::status::ok();
}

void workload::send_loop(size_t index) {
  auto& prod = *producers_[index];
  auto& in_flight = *in_flight_[index];
  const int keys = opts_.keys_per_producer;
  std::vector<int64_t> next_seq(size_t(keys), 0);
  // Each producer sends at its share of the rate, in small bursts.
  const double per_s = std::max(1.0, double(opts_.records_per_s) / double(opts_.producers));
  const auto interval = std::chrono::duration<double>(1.0 / per_s);
  auto next = clock_type::now();
  for (int64_t n = 0; sending_; ++n) {
    while (sending_ && in_flight.load() >= opts_.max_in_flight)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (!sending_)
      break;
    auto slot = size_t(n % keys);
    int32_t key = int32_t(index) * keys + int32_t(slot);
    int64_t seq = next_seq[slot]++;
    al::producer_record rec;
    rec.topic = opts_.topic;
    rec.key = "k" + std::to_string(key);
    rec.value = record_value(key, seq);
    ++in_flight;
    ++sent_;
    auto st = prod.send(rec, [this, key, seq, &in_flight](const al::record_metadata& md,
                                                          const al::status& s) {
      if (s)
        on_ack(key, seq, md.partition, md.offset);
      else
        on_failure(key, seq, s);
      --in_flight;
    });
    if (!st) {
      on_failure(key, seq, st);
      --in_flight;
    }
    next += std::chrono::duration_cast<clock_type::duration>(interval);
    auto now = clock_type::now();
    if (next > now)
      std::this_thread::sleep_until(next);
    else if (now - next > std::chrono::seconds(1))
      next = now; // fell behind (a fault): do not burst to catch up
  }
}

void workload::on_ack(int32_t key, int64_t seq, int32_t partition, int64_t offset) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    acked_.push_back(acked_record{partition, offset, key, seq});
  }
  acks_.record(partition);
}

void workload::on_failure(int32_t key, int64_t seq, const al::status& st) {
  ++failed_;
  std::lock_guard<std::mutex> guard{mtx_};
  if (errors_.size() < 10)
    errors_.push_back(record_value(key, seq) + ": " + st.to_string());
}

void workload::stop_sending() {
  sending_ = false;
  for (auto& t : threads_)
    if (t.joinable())
      t.join();
  threads_.clear();
}

al::status workload::flush(std::chrono::milliseconds timeout) {
  for (auto& p : producers_)
    if (auto st = p->flush(timeout); !st)
      return st;
  return al::status::ok();
}

void workload::close() {
  for (auto& p : producers_)
    p->close();
  producers_.clear();
}

workload_counts workload::counts() const {
  workload_counts c;
  c.sent = sent_;
  c.failed = failed_;
  for (auto& f : in_flight_)
    c.in_flight += f->load();
  std::lock_guard<std::mutex> guard{mtx_};
  c.acked = int64_t(acked_.size());
  return c;
}

std::string workload::progress() const {
  auto c = counts();
  return std::to_string(c.sent) + " sent, " + std::to_string(c.acked) + " acked, " +
         std::to_string(c.failed) + " failed, " + std::to_string(c.in_flight) + " in flight";
}

std::vector<acked_record> workload::acked() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return acked_;
}

std::vector<std::string> workload::sample_errors() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return errors_;
}

} // namespace chaos
