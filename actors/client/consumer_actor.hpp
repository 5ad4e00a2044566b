#pragma once
// The consumer actor (Kafka's fetcher): keeps one long-poll fetch in flight
// per assigned, unpaused partition, buffers decoded records, and answers
// poll requests from al::consumer. Positions start at the committed offset
// when a group has one, else at auto.offset.reset.
#include <deque>
#include <map>
#include <set>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/client/cluster_view.hpp"
#include "actors/client/consumer_record.hpp"

namespace al {

struct consumer_state {
  struct partition_fetch {
    int64_t position = -1;      // next offset to hand to the user; -1: not initialised yet
    int64_t high_watermark = -1;
    bool in_flight = false;
    bool paused = false;
    uint64_t epoch = 0;         // bumped by seek/assign: late fetch replies are ignored
  };

  consumer_config cfg;
  cluster_view view;
  std::map<topic_partition, partition_fetch> parts;
  std::deque<consumer_record> buffer;
  caf::response_promise poll_waiter;      // a pending poll, if any
  uint64_t poll_id = 0;
  int64_t records_consumed = 0;
  static constexpr const char* name = "consumer";
};

using consumer_actor_ptr = caf::stateful_actor<consumer_state>*;

caf::behavior consumer_actor(consumer_actor_ptr self, consumer_config cfg,
                             caf::actor direct_broker);

} // namespace al

// Polled records stay in the process (consumer actor -> al::consumer): they
// never cross nodes, so they need no serialization.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<al::consumer_record>)
