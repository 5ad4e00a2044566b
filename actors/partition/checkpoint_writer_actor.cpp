// The node's high-watermark checkpoint writer (see partition_actor.hpp).
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/partition/partition_actor.hpp"
#include "actors/partition/replica_checkpoint.hpp"
#include "actors/protocol/atoms.hpp"

namespace al {

caf::behavior checkpoint_writer_actor(caf::event_based_actor* self) {
  self->set_error_handler([](caf::error&) {}); // nothing it sends expects an answer
  return {
    [](hw_checkpoint_atom, const std::string& dir, int64_t hw) {
      if (auto st = save_hw_checkpoint(dir, hw); !st)
        spdlog::debug("high-watermark checkpoint in {} not written: {}", dir, st.to_string());
    },
  };
}

} // namespace al
