#pragma once
// al::embedded_cluster: an actorlog cluster in one call, for your tests
// (what EmbeddedKafka or a Kafka container is to Kafka users).
// Link actorlog::node (CMake) or `pkg-config actorlog-node`.
#include <actorlog/client.hpp>

#include "runtime/cluster/embedded_cluster.hpp"
