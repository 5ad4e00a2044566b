#pragma once
// The broker's consumer-group part (broker_groups.cpp): it keeps one
// group coordinator actor per __consumer_offsets partition this node leads,
// creates the offsets topic on the first FindCoordinator, and routes group
// requests to the coordinator of the group.
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/broker/broker_actor.hpp"

namespace al {

using broker_ptr = broker_api::stateful_pointer<broker_state>;

/// After every metadata image: spawn coordinators for newly led offsets
/// partitions, unload the ones no longer led, push topic partition counts,
/// answer FindCoordinator requests that waited for the offsets topic.
void sync_group_coordinators(broker_ptr self);

// ---- internal topics whose partition leaders host coordinators ------------
// (__consumer_offsets and __transaction_state; Kafka places both alike)

/// The topic if it exists with partitions.
const topic_description* coordinator_topic(broker_ptr self, const std::string& name);
/// Where the coordinator of `key` is: the leader of partition
/// abs(hash(key)) % partitions of `topic`.
caf::expected<coordinator_info> locate_coordinator(broker_ptr self, const std::string& topic,
                                                   const std::string& key);
/// Answers the FindCoordinator requests that waited for the topic.
void answer_finding(broker_ptr self, coordinator_topic_state& ct);
/// Asks the controller to create the topic (once at a time); the
/// replication factor is capped at the live brokers.
void create_coordinator_topic(broker_ptr self, coordinator_topic_state& ct,
                              create_topic_request req);
/// FindCoordinator for `key`: answered now, or once `create` made the topic.
caf::result<coordinator_info> find_coordinator(broker_ptr self, coordinator_topic_state& ct,
                                               const std::string& key,
                                               const std::function<void()>& create);

caf::result<coordinator_info> on_find_coordinator(broker_ptr self, const std::string& group_id);
/// Creates __consumer_offsets unless it exists or is being created.
void ensure_offsets_topic(broker_ptr self);

/// The local coordinator of `group_id`, or NOT_COORDINATOR /
/// COORDINATOR_NOT_AVAILABLE / INVALID_GROUP_ID.
caf::expected<group_coordinator_api> coordinator_for(broker_ptr self, const std::string& group_id);

/// Asks every coordinator in `coordinators` (partition -> handle) for its
/// list with `atm` and answers with all of them, sorted by `less`. A
/// coordinator's error (still loading) fails the answer: the list would be
/// incomplete.
template <class T, class Map, class Atom, class Less>
caf::result<std::vector<T>> gather_lists(broker_ptr self, const Map& coordinators, Atom atm,
                                         Less less) {
  if (coordinators.empty())
    return std::vector<T>{};
  auto rp = self->template make_response_promise<std::vector<T>>();
  auto out = std::make_shared<std::vector<T>>();
  auto pending = std::make_shared<size_t>(coordinators.size());
  auto failed = std::make_shared<caf::error>();
  auto done = [rp, out, pending, failed, less]() mutable {
    if (--*pending > 0)
      return;
    if (*failed) {
      rp.deliver(*failed);
      return;
    }
    std::sort(out->begin(), out->end(), less);
    rp.deliver(std::move(*out));
  };
  for (auto& [p, c] : coordinators)
    self->request(c, std::chrono::seconds(10), atm)
      .then(
        [out, done](std::vector<T>& part) mutable {
          out->insert(out->end(), part.begin(), part.end());
          done();
        },
        [failed, done](caf::error& err) mutable {
          *failed = err;
          done();
        });
  return rp;
}

/// ListGroups over every coordinator on this node.
caf::result<std::vector<group_listing>> on_list_groups(broker_ptr self);

/// Forwards a group request to the group's coordinator (its reply goes
/// straight to the client).
template <class Resp, class Atom, class... Ts>
caf::result<Resp> route_group_request(broker_ptr self, Atom atm, std::string& group_id,
                                      Ts&... xs) {
  auto c = coordinator_for(self, group_id);
  if (!c)
    return std::move(c.error());
  return self->delegate(*c, atm, std::move(group_id), std::move(xs)...);
}

} // namespace al
