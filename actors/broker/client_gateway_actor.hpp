#pragma once
// The client gateway: the actor a node publishes on `caf.listener`. It speaks
// client_api only and relays each request to the broker with a request of
// its own, answering the client itself: a client never learns the address
// of a broker, partition, coordinator or controller actor (in CAF 0.17 the
// reply to a delegated request names the actor that answered, and that
// actor's other messages would be open to the client). It also refuses
// what only nodes may do: fetching as a follower or past the high
// watermark, appending to or reshaping internal topics.
#include <chrono>
#include <cstdint>

#include "actors/broker/broker_api.hpp"
#include "actors/broker/client_api.hpp"

namespace al {

struct gateway_setup {
  int32_t node_id = -1;
  broker_api broker;
  /// How long a relayed request may take (long polls and admin requests
  /// included) before the gateway answers REQUEST_TIMED_OUT itself.
  std::chrono::milliseconds relay_timeout{120000};
};

struct gateway_state {
  gateway_setup setup;
  static constexpr const char* name = "client_gateway";
};

client_api::behavior_type client_gateway_actor(client_api::stateful_pointer<gateway_state> self,
                                               gateway_setup setup);

/// Kafka's internal topics: clients may not produce to them, create,
/// delete or repartition them.
bool is_internal_topic(const std::string& name);

} // namespace al
