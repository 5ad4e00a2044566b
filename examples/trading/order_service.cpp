#include "order_service.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include <caf/all.hpp>

#include <actorlog/client.hpp>

namespace trading {

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// How long one order may keep being refused by send() before it counts as failed.
constexpr auto send_give_up = 60s;

/// Outcomes of the sends, filled by the producer's callbacks.
struct ack_book {
  std::mutex mtx;
  std::vector<bool> acked;
  std::vector<int32_t> partition_of;
  int64_t acked_count = 0;
  int64_t failed = 0;
  std::string first_error;

  void ack(int64_t id, int32_t partition) {
    std::lock_guard<std::mutex> guard{mtx};
    acked[size_t(id)] = true;
    partition_of[size_t(id)] = partition;
    ++acked_count;
  }
  void fail(int64_t id, const al::status& st) {
    std::lock_guard<std::mutex> guard{mtx};
    ++failed;
    if (first_error.empty())
      first_error = "order " + std::to_string(id) + ": " + st.to_string();
  }
};

} // namespace

production_report produce_orders(caf::actor_system& sys, const production_options& opts) {
  production_report rep;
  auto producer = al::producer::create(sys, {{"bootstrap.servers", opts.bootstrap},
                                             {"client.id", "order-service"},
                                             {"acks", "all"},
                                             {"enable.idempotence", "true"},
                                             {"linger.ms", "5"}});
  if (!producer) {
    rep.setup_error = producer.error().to_string();
    return rep;
  }
  rep.producer_id = (*producer)->producer_id();
  order_generator gen{opts.seed};
  rep.orders.reserve(size_t(opts.orders));
  // Callbacks run on the producer actor's thread and may outlive this
  // function if flush() gives up: they share `acks`, not `rep`.
  auto acks = std::make_shared<ack_book>();
  acks->acked.assign(size_t(opts.orders), false);
  acks->partition_of.assign(size_t(opts.orders), -1);
  auto start = clock_type::now();
  for (int64_t i = 0; i < opts.orders; ++i) {
    if (opts.rate > 0) { // paced: order i leaves at start + i / rate
      auto due = start + std::chrono::microseconds(i * 1000000 / opts.rate);
      if (auto now = clock_type::now(); due > now)
        std::this_thread::sleep_for(due - now);
    }
    rep.orders.push_back(gen.next());
    const auto& o = rep.orders.back();
    al::producer_record rec{opts.topic, -1, o.symbol, format_order(o), {}, -1};
    auto id = o.id;
    auto cb = [acks, id](const al::record_metadata& md, const al::status& st) {
      if (st)
        acks->ack(id, md.partition);
      else
        acks->fail(id, st);
    };
    auto refused_since = clock_type::now();
    for (;;) {
      auto st = (*producer)->send(rec, cb);
      if (st)
        break;
      if (clock_type::now() - refused_since > send_give_up) {
        acks->fail(id, st);
        break;
      }
      ++rep.send_retries;
      std::this_thread::sleep_for(100ms);
    }
  }
  // Every callback has run once flush() returns (acknowledged or failed).
  auto flushed = (*producer)->flush(std::chrono::minutes(3));
  rep.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  (*producer)->close();
  std::lock_guard<std::mutex> guard{acks->mtx};
  rep.acked = acks->acked;
  rep.partition_of = acks->partition_of;
  rep.acked_count = acks->acked_count;
  rep.failed_sends = acks->failed;
  rep.first_error = acks->first_error;
  if (!flushed && rep.first_error.empty())
    rep.first_error = "flush: " + flushed.to_string();
  return rep;
}

} // namespace trading
