// Controller actor: admin requests (topics, producer ids, cluster
// description), the message handlers, and forwarding to the active
// controller. Registration, fencing, elections and AlterPartition live in
// controller_leadership.cpp; Raft driving in controller_quorum.cpp.
#include "actors/controller/controller_actor.hpp"

#include <chrono>
#include <random>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/protocol/errors.hpp"
#include "storage/clock.hpp"

namespace al {

namespace {

using self_ptr = controller_ptr;

std::string new_topic_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 32; ++i)
    id += hex[rng() % 16];
  return id;
}

caf::error not_active(const controller_state& st) {
  auto leader = st.raft ? st.raft->leader() : raft_no_node;
  return make_error(errc::not_controller,
                    leader == raft_no_node
                      ? std::string{"no active controller (election in progress)"}
                      : "the active controller is node " + std::to_string(leader) +
                          " and it is not reachable from node " +
                          std::to_string(st.setup.node_id));
}

template <class T>
caf::result<T> propose_then(self_ptr self, const metadata_command& cmd,
                            std::function<T()> on_success) {
  auto rp = self->make_response_promise<T>();
  propose(self, cmd, [rp, on_success](const status& s) mutable {
    if (!s)
      rp.deliver(to_caf_error(s));
    else
      rp.deliver(on_success());
  });
  return rp;
}

template <class Planned>
result<metadata_command> as_command(Planned planned) {
  if (!planned)
    return planned.error();
  return metadata_command{std::move(*planned)};
}

caf::result<topic_description> on_create(self_ptr self, const create_topic_request& req) {
  auto& m = self->state.machine;
  auto cmd = as_command(m.plan_create_topic(req, self->state.setup.defaults, new_topic_id()));
  if (!cmd)
    return to_caf_error(cmd.error());
  auto name = req.name;
  auto rp = self->make_response_promise<topic_description>();
  propose(self, *cmd, [self, rp, name](const status& s) mutable {
    if (!s)
      rp.deliver(to_caf_error(s));
    else if (auto t = self->state.machine.find_topic(name))
      rp.deliver(*t);
    else
      rp.deliver(make_error(errc::unknown_topic_or_partition, name));
  });
  return rp;
}

/// Alter: partitions first, then configs, each its own command.
void alter_step(self_ptr self, alter_topic_request req, caf::typed_response_promise<topic_description> rp,
                int step) {
  auto& m = self->state.machine;
  result<metadata_command> cmd{status{errc::invalid_request, "nothing to alter"}};
  if (step == 0 && req.partitions != -1)
    cmd = as_command(m.plan_create_partitions(req.name, req.partitions, self->state.setup.defaults));
  else if (step <= 1 && (!req.set_configs.empty() || !req.delete_configs.empty()))
    cmd = as_command(m.plan_alter_configs(req)), step = 1;
  else {
    if (auto t = m.find_topic(req.name))
      rp.deliver(*t);
    else
      rp.deliver(make_error(errc::unknown_topic_or_partition, req.name));
    return;
  }
  if (!cmd) {
    rp.deliver(to_caf_error(cmd.error()));
    return;
  }
  propose(self, *cmd, [self, req, rp, step](const status& s) mutable {
    if (!s)
      rp.deliver(to_caf_error(s));
    else
      alter_step(self, req, rp, step + 1);
  });
}

caf::result<producer_id_response> on_init_pid(self_ptr self) {
  auto& st = self->state;
  // Ids are handed out from reserved blocks; a block is a metadata command.
  constexpr int32_t block = 1000;
  auto& image = st.machine.image();
  // Only ids from a block this leader reserved itself: a block reserved
  // before a restart or by an earlier leader may already be in use.
  if (st.next_producer_id < st.producer_id_block_end) {
    auto id = st.next_producer_id++;
    return producer_id_response{id, 0};
  }
  auto rp = self->make_response_promise<producer_id_response>();
  propose(self, allocate_producer_ids_cmd{image.next_producer_id, block},
          [self, rp](const status& s) mutable {
            if (!s) {
              rp.deliver(to_caf_error(s));
              return;
            }
            auto& state = self->state;
            auto end = state.machine.image().next_producer_id;
            if (state.producer_id_block_end < end) { // a block of ours committed
              state.next_producer_id = end - block;
              state.producer_id_block_end = end;
            }
            rp.deliver(producer_id_response{state.next_producer_id++, 0});
          });
  return rp;
}

/// Active controller: registers broker `b` and answers with the image that
/// holds the registration.
caf::result<metadata_image> on_register(self_ptr self, const broker_description& b,
                                        int64_t incarnation) {
  auto rp = self->make_response_promise<metadata_image>();
  ensure_registered(self, b, incarnation, [self, rp](const status& s) mutable {
    if (s)
      rp.deliver(self->state.machine.image());
    else
      rp.deliver(to_caf_error(s));
  });
  return rp;
}

caf::result<cluster_description> on_describe_cluster(self_ptr self) {
  auto& st = self->state;
  auto d = std::make_shared<cluster_description>();
  d->cluster_id = st.setup.cluster_id;
  d->controller_id = st.raft ? st.raft->leader() : -1;
  d->metadata_offset = st.machine.last_applied_offset();
  for (auto& [id, b] : st.machine.image().brokers)
    d->brokers.push_back(b);
  d->quorum.push_back(own_quorum_status(st));
  auto rp = self->make_response_promise<cluster_description>();
  auto waiting = std::make_shared<size_t>(1);
  auto done = [rp, d, waiting]() mutable {
    if (--*waiting == 0) {
      std::sort(d->quorum.begin(), d->quorum.end(),
                [](const quorum_member& a, const quorum_member& b) { return a.id < b.id; });
      rp.deliver(*d);
    }
  };
  for (auto& v : st.setup.voters) {
    if (v.id == st.setup.node_id)
      continue;
    auto peer = st.peers.find(v.id);
    if (peer == st.peers.end()) {
      d->quorum.push_back(quorum_member{v.id, "unreachable", 0, 0});
      continue;
    }
    ++*waiting;
    auto id = v.id;
    self->request(peer->second, std::chrono::seconds(2), quorum_atom::value)
      .then([d, done](const quorum_member& q) mutable { d->quorum.push_back(q); done(); },
            [d, done, id](caf::error&) mutable {
              d->quorum.push_back(quorum_member{id, "unreachable", 0, 0});
              done();
            });
  }
  done();
  return rp;
}

} // namespace

controller_api::behavior_type controller_actor(controller_ptr self, controller_setup setup) {
  self->state.setup = std::move(setup);
  self->state.active = active_controller_machine{
    {self->state.setup.broker_session_timeout_ms, self->state.setup.unclean_leader_election}};
  start_quorum(self);
  self->set_error_handler([self](caf::error& err) {
    spdlog::warn("controller {}: unexpected error message ignored: {}",
                 self->state.setup.node_id, describe_error(err));
  });
  self->delayed_send(self, std::chrono::milliseconds(self->state.tick_ms), tick_atom::value);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& peers = self->state.peers;
    for (auto i = peers.begin(); i != peers.end(); ++i)
      if (i->second.address() == dm.source) {
        spdlog::info("controller {}: lost voter {}", self->state.setup.node_id, i->first);
        peers.erase(i);
        break;
      }
  });
  return {
    [=](create_topic_atom atm, create_topic_request& req) -> caf::result<topic_description> {
      settle(self);
      if (!is_active(self->state)) {
        if (auto peer = active_peer(self->state))
          return self->delegate(*peer, atm, std::move(req));
        return not_active(self->state);
      }
      return on_create(self, req);
    },
    [=](alter_topic_atom atm, alter_topic_request& req) -> caf::result<topic_description> {
      settle(self);
      if (!is_active(self->state)) {
        if (auto peer = active_peer(self->state))
          return self->delegate(*peer, atm, std::move(req));
        return not_active(self->state);
      }
      if (!self->state.machine.find_topic(req.name))
        return make_error(errc::unknown_topic_or_partition,
                          "topic \"" + req.name + "\" does not exist");
      auto rp = self->make_response_promise<topic_description>();
      alter_step(self, req, rp, 0);
      return rp;
    },
    [=](delete_topic_atom atm, std::string& name) -> caf::result<bool> {
      settle(self);
      if (!is_active(self->state)) {
        if (auto peer = active_peer(self->state))
          return self->delegate(*peer, atm, std::move(name));
        return not_active(self->state);
      }
      auto cmd = as_command(self->state.machine.plan_delete_topic(name));
      if (!cmd)
        return to_caf_error(cmd.error());
      return propose_then<bool>(self, *cmd, [] { return true; });
    },
    [=](metadata_atom) {
      settle(self);
      return self->state.machine.image();
    },
    [=](describe_cluster_atom) {
      settle(self);
      return on_describe_cluster(self);
    },
    [=](init_pid_atom atm) -> caf::result<producer_id_response> {
      settle(self);
      if (!is_active(self->state)) {
        if (auto peer = active_peer(self->state))
          return self->delegate(*peer, atm);
        return not_active(self->state);
      }
      return on_init_pid(self);
    },
    [=](register_atom, const broker_description& b, int64_t incarnation,
        caf::actor broker) -> caf::result<metadata_image> {
      settle(self);
      auto& st = self->state;
      if (caf::actor_cast<caf::actor>(st.local_broker) != broker)
        st.machine.mark_full(); // a new broker: its first push is the whole image
      st.local_broker = caf::actor_cast<broker_api>(broker);
      if (is_active(st))
        return on_register(self, b, incarnation);
      auto peer = active_peer(st);
      if (!peer)
        return not_active(st);
      // The active controller's image: it has the registration (and any
      // elections) that this node may not have applied yet.
      auto rp = self->make_response_promise<metadata_image>();
      self->request(*peer, std::chrono::seconds(10), register_atom::value, b, incarnation)
        .then([rp](metadata_image& image) mutable { rp.deliver(std::move(image)); },
              [rp](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [=](register_atom atm, broker_description& b,
        int64_t incarnation) -> caf::result<metadata_image> {
      settle(self);
      if (!is_active(self->state)) {
        if (auto peer = active_peer(self->state))
          return self->delegate(*peer, atm, std::move(b), incarnation);
        return not_active(self->state);
      }
      return on_register(self, b, incarnation);
    },
    [=](alter_isr_atom atm, alter_isr_request& req) -> caf::result<alter_isr_response> {
      if (!is_active(self->state)) {
        if (auto peer = active_peer(self->state))
          return self->delegate(*peer, atm, std::move(req));
        return not_active(self->state);
      }
      return on_alter_isr(self, req);
    },
    [=](heartbeat_atom atm, int32_t broker_id, int64_t incarnation) {
      auto& st = self->state;
      if (st.cut_peers.count(broker_id))
        return; // fault injection: that node's link is cut
      if (is_active(st))
        on_broker_heartbeat(self, broker_id, incarnation);
      else if (auto peer = active_peer(st))
        self->send(*peer, atm, broker_id, incarnation);
    },
    [=](raft_atom, raft_wire& w) { on_raft_message(self, std::move(w)); },
    [=](link_cut_atom, int32_t peer, bool cut) {
      auto& st = self->state;
      if (cut)
        st.cut_peers.insert(peer);
      else
        st.cut_peers.erase(peer);
      spdlog::warn("controller {}: link to node {} {} (fault injection)", st.setup.node_id, peer,
                   cut ? "cut" : "restored");
      return true;
    },
    [=](quorum_atom) { return own_quorum_status(self->state); },
    [=](batch_atom) { on_batch(self); },
    [=](tick_atom) {
      auto& st = self->state;
      auto now = wall_clock_ms();
      // Raft counts ticks, not time: ticks that come late stretch its
      // timeouts on this node only, and peers that tick on time read that
      // as silence. Say so when it happens.
      if (st.last_tick_ms > 0 && now - st.last_tick_ms > 5 * st.tick_ms)
        spdlog::warn("controller {}: tick {} ms late (every {} ms)", st.setup.node_id,
                     now - st.last_tick_ms - st.tick_ms, st.tick_ms);
      st.last_tick_ms = now;
      on_quorum_tick(self);
      leadership_tick(self);
      self->delayed_send(self, std::chrono::milliseconds(self->state.tick_ms), tick_atom::value);
    },
  };
}

} // namespace al
