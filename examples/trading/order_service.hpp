#pragma once
// The order service: generates N orders (seeded) and sends them with an
// al::producer (acks=all, enable.idempotence=true), keyed by symbol. It
// keeps sending across transient errors (the producer retries inside
// delivery.timeout.ms; errors send() reports at once, such as missing
// metadata during a leader election, are retried here) and records what
// was acknowledged where, which is the truth every consumer group is
// checked against.
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "orders.hpp"

namespace trading {

struct production_options {
  std::string bootstrap;
  std::string topic;
  int64_t orders = 10000;
  uint64_t seed = 7;
  int64_t rate = 0; // orders per second; 0: as fast as the producer takes them
};

struct production_report {
  std::vector<order> orders;          // all generated, index = order id
  std::vector<bool> acked;            // index = order id
  std::vector<int32_t> partition_of;  // index = order id; -1 unless acked
  int64_t acked_count = 0;
  int64_t failed_sends = 0;           // delivery failed (callback error)
  int64_t send_retries = 0;           // send() refused at once, tried again
  std::string first_error;
  double seconds = 0;
  int64_t producer_id = -1;
  std::string setup_error;            // the producer could not start
};

production_report produce_orders(caf::actor_system& sys, const production_options& opts);

} // namespace trading
