// Controller actor, partition leadership: broker registration and
// unfencing with the elections they trigger, fencing of silent brokers,
// the per-tick reconciliation of leaders and ISRs, and AlterPartition.
// The planners are pure (partition_election_machine.hpp); this file
// proposes what they return. Admin requests: controller_actor.cpp.
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "storage/clock.hpp"
#include "actors/controller/controller_actor.hpp"
#include "actors/controller/partition_election_machine.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

/// Proposes `cmds` back to back (Raft keeps their order); `done` runs once
/// every one has committed or failed. Rejections are expected: each is a
/// compare-and-set on its partition epoch, and a racing change wins.
void propose_changes(controller_ptr self, std::vector<change_partition_cmd> cmds,
                     std::function<void()> done) {
  if (cmds.empty()) {
    done();
    return;
  }
  auto left = std::make_shared<size_t>(cmds.size());
  for (auto& c : cmds) {
    spdlog::info("controller: partition {}-{}: leader {}, ISR {}", c.topic, c.partition, c.leader,
                 describe_ids(c.isr));
    propose(self, c, [left, done, c](const status& s) {
      if (!s)
        spdlog::info("controller: change of {}-{} not applied: {}", c.topic, c.partition,
                     s.to_string());
      if (--*left == 0)
        done();
    });
  }
}

election_options election_opts(const controller_state& st) {
  return election_options{st.setup.unclean_leader_election};
}

} // namespace

/// Registers broker `b` unless the image already says exactly this, then
/// elects it where it is the last in-sync replica of an offline partition.
/// A new incarnation of a live broker is fenced first: its partitions get
/// other leaders and it leaves their ISRs (it may have lost what it had not
/// flushed), so it comes back as a follower that must catch up.
void ensure_registered(controller_ptr self, const broker_description& b, int64_t incarnation,
                       std::function<void(const status&)> done) {
  auto& st = self->state;
  st.last_heartbeat_ms[b.id] = wall_clock_ms();
  auto& img = st.machine.image();
  auto known = img.brokers.find(b.id);
  auto inc = img.broker_incarnations.find(b.id);
  bool live = known != img.brokers.end() && !known->second.fenced;
  bool same_incarnation = inc != img.broker_incarnations.end() && inc->second == incarnation;
  bool same = live && same_incarnation && known->second.host == b.host &&
              known->second.port == b.port && known->second.peer_port == b.peer_port &&
              known->second.kafka_host == b.kafka_host && known->second.kafka_port == b.kafka_port;
  if (same) {
    done(status::ok());
    return;
  }
  auto id = b.id;
  auto register_then_elect = [self, b, incarnation, id, done]() {
    propose(self,
            register_broker_cmd{b.id, b.host, b.port, incarnation, b.peer_port, b.kafka_host,
                                b.kafka_port},
            [self, id, done](const status& s) {
              if (!s) {
                done(s);
                return;
              }
              auto& state = self->state;
              propose_changes(self,
                              plan_broker_unfenced(state.machine.image(), id, election_opts(state)),
                              [done] { done(status::ok()); });
            });
  };
  if (!live || same_incarnation) {
    register_then_elect();
    return;
  }
  spdlog::info("controller: broker {} restarted (new incarnation): fencing the old one first",
               id);
  propose(self, fence_broker_cmd{id, true}, [self, id, register_then_elect](const status&) {
    auto& state = self->state;
    propose_changes(self, plan_broker_fenced(state.machine.image(), id, election_opts(state)),
                    register_then_elect);
  });
}

/// Active controller: a heartbeat renews the broker's session. A fenced
/// broker of the current incarnation that heartbeats again (it was
/// partitioned away or hung) is unfenced, as KRaft does once it has caught
/// up; its partitions then take it back.
void on_broker_heartbeat(controller_ptr self, int32_t broker_id, int64_t incarnation) {
  auto& st = self->state;
  st.last_heartbeat_ms[broker_id] = wall_clock_ms();
  auto& img = st.machine.image();
  auto b = img.brokers.find(broker_id);
  auto inc = img.broker_incarnations.find(broker_id);
  if (b != img.brokers.end() && b->second.fenced && inc != img.broker_incarnations.end() &&
      inc->second == incarnation && st.unfencing.insert(broker_id).second) {
    spdlog::info("controller: fenced broker {} heartbeats again, unfencing it", broker_id);
    ensure_registered(self, b->second, incarnation, [self, broker_id](const status&) {
      self->state.unfencing.erase(broker_id);
    });
  }
}

/// Active controller: fences brokers silent for broker.session.timeout.ms;
/// reconcile_leadership then moves their partitions.
void check_broker_sessions(controller_ptr self) {
  auto& st = self->state;
  if (!is_active(st))
    return;
  auto now = wall_clock_ms();
  for (auto& [id, b] : st.machine.image().brokers) {
    if (b.fenced)
      continue;
    auto hb = st.last_heartbeat_ms.find(id);
    if (hb == st.last_heartbeat_ms.end()) {
      st.last_heartbeat_ms[id] = now;
      continue;
    }
    if (now - hb->second <= st.setup.broker_session_timeout_ms)
      continue;
    spdlog::warn("controller: broker {} silent for {} ms, fencing it", id, now - hb->second);
    hb->second = now; // one proposal per session timeout at most
    propose(self, fence_broker_cmd{id, true}, [id](const status& s) {
      if (!s)
        spdlog::warn("controller: fencing broker {} failed: {}", id, s.to_string());
    });
  }
}

/// Active controller, every tick: partitions led by fenced brokers get new
/// leaders, fenced brokers leave ISRs, offline partitions whose last ISR
/// member is back get it as leader. The planners only return what is still
/// to do, so this also finishes what a failed-over controller left behind.
void reconcile_leadership(controller_ptr self) {
  auto& st = self->state;
  if (!is_active(st) || st.elections_in_flight)
    return;
  auto& img = st.machine.image();
  std::vector<change_partition_cmd> cmds;
  std::set<std::pair<std::string, int32_t>> planned;
  for (auto& [id, b] : img.brokers) {
    auto plan = b.fenced ? plan_broker_fenced(img, id, election_opts(st))
                         : plan_broker_unfenced(img, id, election_opts(st));
    for (auto& c : plan)
      if (planned.insert({c.topic, c.partition}).second)
        cmds.push_back(std::move(c));
  }
  if (cmds.empty())
    return;
  st.elections_in_flight = true;
  propose_changes(self, std::move(cmds), [self] { self->state.elections_in_flight = false; });
}

/// KIP-497 AlterPartition from a partition leader.
caf::result<alter_isr_response> on_alter_isr(controller_ptr self, const alter_isr_request& req) {
  auto& img = self->state.machine.image();
  alter_isr_response resp;
  resp.tp = req.tp;
  resp.proposal_id = req.proposal_id;
  auto fill = [](alter_isr_response& r, const metadata_image& image) {
    auto t = image.topics.find(r.tp.topic);
    if (t == image.topics.end() || r.tp.partition < 0 ||
        r.tp.partition >= int32_t(t->second.partitions.size()))
      return;
    auto& p = t->second.partitions[size_t(r.tp.partition)];
    r.leader_epoch = p.leader_epoch;
    r.partition_epoch = p.partition_epoch;
    r.isr = p.isr;
  };
  fill(resp, img);
  auto d = plan_alter_isr(img, resp.partition_epoch, req);
  if (d.error != alter_isr_error::none) {
    spdlog::info("controller: AlterPartition refused: {} ({})", d.message, to_string(d.error));
    resp.error = d.error;
    return resp;
  }
  auto rp = self->make_response_promise<alter_isr_response>();
  propose(self, d.cmd, [self, rp, resp, fill](const status& s) mutable {
    // Apply re-checks what the plan checked: the partition epoch (a racing
    // change won) and the added members' incarnations (KIP-903: a fence or
    // re-registration was logged after this was planned).
    if (!s) {
      if (s.code() == errc::invalid_update_version) {
        resp.error = alter_isr_error::invalid_update_version;
      } else if (s.code() == errc::ineligible_replica) {
        resp.error = alter_isr_error::ineligible_replica;
      } else {
        rp.deliver(to_caf_error(s));
        return;
      }
      spdlog::info("controller: AlterPartition of {} not applied: {}", to_string(resp.tp),
                   s.to_string());
    }
    fill(resp, self->state.machine.image());
    rp.deliver(resp);
  });
  return rp;
}

} // namespace al
