#pragma once
// Shared helpers of the scenarios: client properties for a target, payloads.
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "actors/client/client_config.hpp"
#include "actors/client/producer_record.hpp"
#include "bench/actorlog_bench/scenarios.hpp"

namespace al::bench {

using bench_clock = std::chrono::steady_clock;

inline double seconds_since(bench_clock::time_point t) {
  return std::chrono::duration<double>(bench_clock::now() - t).count();
}

inline properties producer_props(target& t, const std::string& acks, const client_settings& cs) {
  properties p{{"acks", acks},
               {"linger.ms", std::to_string(cs.linger_ms)},
               {"batch.size", std::to_string(cs.batch_size)},
               {"max.in.flight.requests.per.connection", std::to_string(cs.max_in_flight)},
               // Kafka's rule: idempotence needs acks=all (and is its default then).
               {"enable.idempotence", acks == "all" ? "true" : "false"}};
  if (!t.direct_broker())
    p["bootstrap.servers"] = t.bootstrap();
  return p;
}

inline properties consumer_props(target& t, const client_settings& cs) {
  properties p{{"auto.offset.reset", "earliest"},
               {"enable.auto.commit", "false"},
               {"max.poll.records", std::to_string(cs.max_poll_records)}};
  if (!t.direct_broker())
    p["bootstrap.servers"] = t.bootstrap();
  return p;
}

/// A few records with distinct random values (null key), reused round-robin.
inline std::vector<producer_record> make_records(const std::string& topic, size_t size,
                                                 size_t count = 16) {
  std::mt19937_64 rng(size);
  std::vector<producer_record> out;
  for (size_t i = 0; i < count; ++i) {
    std::string value(size, '\0');
    for (auto& ch : value)
      ch = char('a' + rng() % 26);
    producer_record r;
    r.topic = topic;
    r.value = std::move(value);
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace al::bench
