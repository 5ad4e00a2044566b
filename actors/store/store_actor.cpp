#include "actors/store/store_api.hpp"

#include <chrono>
#include <memory>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/errors.hpp"
#include "actors/store/metadata_view_store.hpp"

namespace al {

namespace {

void write_pending(store_state& st) {
  if (st.pending_offset < 0 || !st.db)
    return;
  using namespace std::chrono;
  auto now = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  if (auto s = materialize(*st.db, st.pending, st.pending_offset, now); !s)
    spdlog::error("metadata store: applying offset {} failed: {}", st.pending_offset,
                  s.to_string());
  st.pending = metadata_image{};
  st.pending_offset = -1;
}

} // namespace

store_state::~store_state() {
  try {
    write_pending(*this); // the newest image is in the view when the node stops
  } catch (...) {
  }
}

store_api::behavior_type store_actor(store_api::stateful_pointer<store_state> self,
                                     std::string db_path) {
  auto opened = meta_store::open(db_path);
  if (!opened) {
    spdlog::critical("cannot open the metadata store: {}", opened.error().to_string());
    self->quit(to_caf_error(opened.error()));
    return {
      [](apply_atom, int64_t, const metadata_image&) {},
      [](tick_atom) {},
      [](flush_atom) { return false; },
      [](offset_commit_atom, const std::string&, int32_t, const std::vector<offset_commit>&) {},
      [](delete_group_atom, const std::string&) {},
      [](offset_fetch_atom, const std::string&) -> caf::result<std::vector<committed_offset>> {
        return make_error(errc::kafka_storage_error, "meta.db is not open");
      },
      [](list_groups_atom) -> caf::result<std::vector<std::string>> {
        return make_error(errc::kafka_storage_error, "meta.db is not open");
      },
    };
  }
  auto store = std::make_shared<meta_store>(std::move(*opened));
  self->state.db = store;
  // Nothing is linked to the store; a stray error must not end it (CAF's
  // default would). meta_store reports failures as values; an exception
  // would still end the actor (CAF 0.17), so the handler names it in the log.
  self->set_error_handler([](caf::error& err) {
    spdlog::warn("store: unexpected error message ignored: {}", describe_error(err));
  });
  self->set_exception_handler([](caf::scheduled_actor*, std::exception_ptr& ep) -> caf::error {
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      spdlog::error("store: {}", e.what());
      return make_error(errc::kafka_storage_error, e.what());
    } catch (...) {
      return make_error(errc::kafka_storage_error, "unknown exception");
    }
  });
  return {
    [=](apply_atom, int64_t offset, metadata_image& image) {
      auto& st = self->state;
      if (offset < 0 || offset <= st.pending_offset)
        return;
      st.pending = std::move(image);
      st.pending_offset = offset;
      if (!st.scheduled) { // behind every image already queued
        st.scheduled = true;
        self->send(self, tick_atom::value);
      }
    },
    [=](tick_atom) {
      self->state.scheduled = false;
      write_pending(self->state);
    },
    [=](flush_atom) {
      write_pending(self->state);
      return true;
    },
    [=](offset_commit_atom, const std::string& group, int32_t generation,
        const std::vector<offset_commit>& rows) {
      // The offsets topic already has these; a failure here only leaves the
      // view behind until the coordinator reloads and rewrites it.
      if (auto st = store->commit_offsets(group, generation, rows); !st)
        spdlog::error("metadata store: offsets of group {}: {}", group, st.to_string());
    },
    [=](delete_group_atom, const std::string& group) {
      if (auto n = store->delete_group_offsets(group); !n)
        spdlog::error("metadata store: deleting group {}: {}", group, n.error().to_string());
    },
    [=](offset_fetch_atom,
        const std::string& group) -> caf::result<std::vector<committed_offset>> {
      auto rows = store->fetch_offsets(group);
      if (!rows)
        return to_caf_error(rows.error());
      return std::move(*rows);
    },
    [=](list_groups_atom) -> caf::result<std::vector<std::string>> {
      auto groups = store->list_groups();
      if (!groups)
        return to_caf_error(groups.error());
      return std::move(*groups);
    },
  };
}

} // namespace al
