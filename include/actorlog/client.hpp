#pragma once
// actorlog's client API: producers and consumers inside your program's CAF
// actor system, with Kafka's names, defaults and semantics.
//
//   al::actor_config cfg;             // registers actorlog's message types
//   cfg.load<caf::io::middleman>();   // clients reach nodes over TCP
//   caf::actor_system sys{cfg};
//   auto producer = al::producer::create(sys, {{"bootstrap.servers", "127.0.0.1:9101"}});
//
// What it declares (the other headers actorlog installs are internal):
//   al::producer, al::producer_record, al::record_metadata, al::send_callback
//   al::consumer, al::consumer_record, al::rebalance_listener, al::spawn_consumer
//   al::properties, al::producer_config, al::consumer_config (Kafka's keys)
//   al::topic_partition, al::offset_commit_map
//   al::status, al::result<T>, al::errc (Kafka's error codes), al::describe_error
//   al::actor_config: the CAF configuration every actorlog program uses
// Link actorlog::client (CMake) or `pkg-config actorlog`.
#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>

#include <actorlog/version.hpp>

#include "actors/client/consumer_client.hpp"
#include "actors/client/producer_client.hpp"
#include "actors/protocol/actor_config.hpp"
#include "actors/protocol/errors.hpp"
