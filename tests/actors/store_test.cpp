// The store actor: the SQLite view of the metadata image (issue 15: images
// queued behind each other collapse into the newest).
#include <catch2/catch.hpp>

#include <filesystem>

#include "actors/store/store_api.hpp"
#include "node_fixture.hpp"
#include "storage/meta_store.hpp"

using namespace al;
using namespace al::test;

namespace {

metadata_image image_with_topics(int n) {
  metadata_image img;
  img.brokers[1] = broker_description{1, "127.0.0.1", 9100, false, 0, "", 0};
  for (int t = 0; t < n; ++t) {
    topic_description d;
    d.name = "t" + std::to_string(t);
    d.topic_id = std::string(31, '0') + char('1' + t);
    partition_description p;
    p.partition = 0;
    p.leader = 1;
    p.replicas = {1};
    p.isr = {1};
    d.partitions.push_back(p);
    img.topics[d.name] = d;
  }
  return img;
}

} // namespace

TEST_CASE("store: queued images collapse into the newest, flush writes it at once",
          "[store]") {
  auto dir = (std::filesystem::temp_directory_path() /
              ("al-store-test-" + std::to_string(::getpid())))
               .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    test_config cfg;
    caf::actor_system sys{cfg};
    auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
    auto store = sys.spawn(store_actor, dir + "/meta.db");
    sched.run();
    caf::scoped_actor self{sys};
    // Three pushes before the store runs: only the newest is written.
    for (int i = 1; i <= 3; ++i)
      self->send(store, apply_atom::value, int64_t(10 * i), image_with_topics(i));
    sched.run_once(); // the first push: a write is scheduled behind the others
    auto& st = dynamic_cast<caf::stateful_actor<store_state, store_api::base>&>(
      *caf::actor_cast<caf::abstract_actor*>(store));
    CHECK(st.state.pending_offset == 10);
    CHECK(st.state.scheduled);
    sched.run_once();
    sched.run_once();
    CHECK(st.state.pending_offset == 30); // 10 and 20 replaced, nothing written yet
    sched.run(); // the scheduled write
    CHECK(st.state.pending_offset == -1);
    {
      auto view = meta_store::open(dir + "/meta.db");
      REQUIRE(view);
      auto pos = view->applied_position();
      REQUIRE(pos);
      CHECK(pos->offset == 30);
      auto topics = view->list_topics();
      REQUIRE(topics);
      CHECK(topics->size() == 3);
    }
    // An older push after a newer one is ignored; flush writes what waits.
    self->send(store, apply_atom::value, int64_t(20), image_with_topics(2));
    self->send(store, apply_atom::value, int64_t(40), image_with_topics(4));
    auto done = self->request(store, caf::infinite, flush_atom::value);
    sched.run_once();
    sched.run_once();
    sched.run_once(); // the flush, before the scheduled write
    CHECK(st.state.pending_offset == -1);
    bool flushed = false;
    done.receive([&](bool ok) { flushed = ok; }, [](caf::error&) {});
    CHECK(flushed);
    auto view = meta_store::open(dir + "/meta.db");
    REQUIRE(view);
    CHECK(view->applied_position()->offset == 40);
    CHECK(view->list_topics()->size() == 4);
    caf::anon_send_exit(store, caf::exit_reason::kill);
    sched.run();
  }
  std::filesystem::remove_all(dir);
}
