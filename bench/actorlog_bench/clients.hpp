#pragma once
// Shared helpers of the scenarios: client properties for a target, payloads.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
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

/// CPU seconds (user + system, every thread) a process has used so far,
/// from /proc/<pid>/stat; pid 0: this process. -1 when it cannot be read.
inline double process_cpu_seconds(int pid = 0) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/stat")
                            : "/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line))
    return -1;
  auto close = line.rfind(')'); // the command name may hold spaces
  if (close == std::string::npos)
    return -1;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && (fields >> f); ++i) { // fields 14 and 15: utime, stime
    if (i == 14)
      utime = std::stod(f);
    else if (i == 15)
      stime = std::stod(f);
  }
  return (utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

/// CPU seconds used so far by this process and by the target's nodes.
struct cpu_reading {
  double client = 0;
  double nodes = 0;
};

inline cpu_reading read_cpu(const std::vector<int>& node_pids) {
  cpu_reading r;
  r.client = process_cpu_seconds();
  for (int pid : node_pids)
    r.nodes += process_cpu_seconds(pid);
  return r;
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
