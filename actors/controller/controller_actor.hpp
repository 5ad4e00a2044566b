#pragma once
// The controller actor: owner of cluster metadata on a controller-role node.
// Admin requests become commands appended (fsynced) to the metadata log,
// then applied in order: to the in-memory image (metadata_machine), to the
// node's SQLite view (store actor), and pushed to registered brokers.
// Spawn it detached: appends fsync.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <caf/actor.hpp>

#include "actors/broker/broker_api.hpp"
#include "actors/controller/controller_api.hpp"
#include "actors/controller/metadata_log.hpp"
#include "actors/store/store_api.hpp"

namespace al {

struct controller_setup {
  int32_t node_id = -1;
  std::string data_dir;
  std::string cluster_id;
  topic_defaults defaults;
  store_api store; // may be null (tests)
  int64_t broker_session_timeout_ms = 9000;
};

struct controller_state {
  controller_setup setup;
  metadata_machine machine;
  std::unique_ptr<metadata_log> log;
  status open_error;
  std::map<int32_t, broker_api> brokers;       // registered brokers, to push metadata to
  std::map<int32_t, int64_t> last_heartbeat_ms;
  static constexpr const char* name = "controller";
};

controller_api::behavior_type
controller_actor(controller_api::stateful_pointer<controller_state> self, controller_setup setup);

} // namespace al
