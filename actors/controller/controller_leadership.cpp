// Controller actor, partition leadership: the shell of
// active_controller_machine (broker registration, sessions and fencing,
// elections, AlterPartition). It hands the machine requests, heartbeats,
// ticks and the fate of each proposal, and carries out its ready():
// proposals to Raft, answers to the waiting requests, log lines. Admin
// requests: controller_actor.cpp.
#include <utility>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "storage/clock.hpp"
#include "actors/controller/controller_actor.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

void run_active(controller_ptr self) {
  auto& st = self->state;
  while (st.active.has_ready()) {
    auto rd = st.active.ready();
    for (auto& n : rd.notes) {
      if (n.lvl == controller_note::level::warn)
        spdlog::warn("controller: {}", n.text);
      else
        spdlog::info("controller: {}", n.text);
    }
    for (auto& r : rd.registrations)
      if (auto w = st.registering.find(r.request); w != st.registering.end()) {
        auto done = std::move(w->second);
        st.registering.erase(w);
        done(r.result);
      }
    for (auto& a : rd.alters)
      if (auto w = st.altering.find(a.request); w != st.altering.end()) {
        auto done = std::move(w->second);
        st.altering.erase(w);
        done(a);
      }
    // Raft keeps their order; each outcome goes back to the machine.
    for (auto& p : rd.proposals)
      propose(self, p.cmd, [self, id = p.id](const status& s) {
        auto& state = self->state;
        state.active.on_proposal_done(id, s, state.machine.image(), wall_clock_ms());
        run_active(self);
      });
  }
}

} // namespace

void ensure_registered(controller_ptr self, const broker_description& b, int64_t incarnation,
                       std::function<void(const status&)> done) {
  auto& st = self->state;
  auto id = st.next_request++;
  st.registering.emplace(id, std::move(done));
  st.active.on_register(id, b, incarnation, st.machine.image(), wall_clock_ms());
  run_active(self);
}

void on_broker_heartbeat(controller_ptr self, int32_t broker_id, int64_t incarnation) {
  auto& st = self->state;
  st.active.on_heartbeat(broker_id, incarnation, st.machine.image(), wall_clock_ms());
  run_active(self);
}

void leadership_tick(controller_ptr self) {
  auto& st = self->state;
  st.active.tick(st.machine.image(), wall_clock_ms());
  run_active(self);
}

void on_active_change(controller_ptr self, bool active) {
  auto& st = self->state;
  if (active)
    st.active.activate(st.machine.image(), wall_clock_ms());
  else
    st.active.deactivate();
  run_active(self);
}

caf::result<alter_isr_response> on_alter_isr(controller_ptr self, const alter_isr_request& req) {
  auto& st = self->state;
  auto rp = self->make_response_promise<alter_isr_response>();
  auto id = st.next_request++;
  st.altering.emplace(id, [rp](const alter_answer& a) mutable {
    if (a.failure.is_ok())
      rp.deliver(a.response);
    else
      rp.deliver(to_caf_error(a.failure));
  });
  st.active.on_alter_partition(id, req, st.machine.image());
  run_active(self);
  return rp;
}

} // namespace al
