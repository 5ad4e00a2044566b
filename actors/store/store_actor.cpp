#include "actors/store/store_api.hpp"

#include <chrono>
#include <memory>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/errors.hpp"
#include "actors/store/metadata_view.hpp"

namespace al {

store_api::behavior_type store_actor(store_api::stateful_pointer<store_state> self,
                                     std::string db_path) {
  auto opened = meta_store::open(db_path);
  if (!opened) {
    spdlog::critical("cannot open the metadata store: {}", opened.error().to_string());
    self->quit(to_caf_error(opened.error()));
    return {
      [](apply_atom, int64_t, const metadata_image&) {},
      [](flush_atom) { return false; },
    };
  }
  auto store = std::make_shared<meta_store>(std::move(*opened));
  return {
    [=](apply_atom, int64_t offset, const metadata_image& image) {
      using namespace std::chrono;
      if (offset < 0)
        return;
      auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
      if (auto st = materialize(*store, image, offset, now); !st)
        spdlog::error("metadata store: applying offset {} failed: {}", offset, st.to_string());
    },
    [=](flush_atom) { return true; },
  };
}

} // namespace al
