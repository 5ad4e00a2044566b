#pragma once
// The load generator: plain non-blocking sockets and epoll, in its own
// threads (each thread owns a share of the connections).
//  throughput mode (rate == 0): closed loop, `pipeline` requests in flight
//    per connection; every answer sends the next request.
//  latency mode (rate > 0): open loop, `rate` requests/s in total spread
//    evenly over the connections, one in flight per connection; a request
//    is due at its scheduled time and its latency counts from then (a late
//    send because the previous answer had not come is counted as waiting).
#include <cstdint>
#include <string>
#include <vector>

namespace iobench {

struct load_spec {
  uint16_t port = 0;
  int connections = 1;
  int pipeline = 1;
  size_t request_size = 100;  ///< body bytes (frame = 4 + this)
  size_t response_size = 50;  ///< body bytes expected back
  double warmup_s = 0.3;
  double seconds = 1.5;
  int threads = 1;
  double rate = 0; ///< > 0: latency mode
};

struct load_result {
  double requests_per_s = 0;  ///< answers per second in the measured window
  uint64_t answers = 0;       ///< answers in the window
  double window_s = 0;
  double client_cpu_s = 0;    ///< CPU of the load generator's threads in the window
  double process_cpu_s = 0;   ///< CPU of the whole process in the window
  uint64_t errors = 0;
  std::string first_error;
  std::vector<int64_t> latencies_ns; ///< latency mode, sorted
};

load_result run_load(const load_spec& spec);

} // namespace iobench
