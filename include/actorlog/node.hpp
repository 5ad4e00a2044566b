#pragma once
// Embedding an actorlog node in your program: al::node::start(cfg) runs a
// broker and controller inside this process, in an actor system of its own,
// listening where its config says (as actorlog-node does).
//
//   auto cfg = al::config::load_node_config("node.ini", {"data.dir=/tmp/n1"});
//   auto node = al::node::start(*cfg);   // al::result<std::unique_ptr<al::node>>
//   ... (*node)->port() ...              // clients' bootstrap port
//   (*node)->stop();
//
// For tests that want a whole cluster, see <actorlog/embedded_cluster.hpp>.
// Link actorlog::node (CMake) or `pkg-config actorlog-node`.
#include <actorlog/client.hpp>

#include "runtime/config/config_loader.hpp"
#include "runtime/node/node.hpp"
