#pragma once
// The one CAF configuration every actorlog binary and test uses: it
// registers every message type that crosses nodes (an unregistered type
// silently arrives as an empty message in CAF 0.17) and the error category.
#include <caf/actor_system_config.hpp>

namespace al {

class actor_config : public caf::actor_system_config {
public:
  actor_config();

private:
  void register_group_types(); // consumer groups (actors/group/group_messages.hpp)
};

} // namespace al
