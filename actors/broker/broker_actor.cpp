#include "actors/broker/broker_actor.hpp"

#include <chrono>

#include <filesystem>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_groups.hpp"
#include "actors/broker/broker_hosting.hpp"
#include "actors/broker/broker_peer_call.hpp"
#include "actors/broker/broker_txn.hpp"
#include "actors/controller/image_lookup.hpp"
#include "actors/group/group_placement.hpp"
#include "actors/partition/partition_expiry.hpp"
#include "actors/partition/partition_state.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/clock.hpp"

namespace al {

namespace {

using self_ptr = broker_api::stateful_pointer<broker_state>;

} // namespace

/// The partition actor for a data request, or the Kafka error to answer with.
result<partition_api> route_partition(const broker_state& st, const std::string& topic,
                                      int32_t partition) {
  // A hash lookup: in an ordered map of 10 000 partitions the string
  // compares were 5 % of a node producing to all of them.
  auto hosted = st.routes.find(topic_partition{topic, partition});
  if (hosted != st.routes.end())
    return hosted->second;
  if (!find_partition(st.image, topic, partition))
    return status{errc::unknown_topic_or_partition,
                  topic + "-" + std::to_string(partition) + " does not exist"};
  return status{errc::not_leader_or_follower,
                topic + "-" + std::to_string(partition) + " is not hosted on node " +
                  std::to_string(st.setup.node_id)};
}

namespace {

result<partition_api> route(self_ptr self, const std::string& topic, int32_t partition) {
  return route_partition(self->state, topic, partition);
}

metadata_response on_metadata(self_ptr self, const metadata_request& req) {
  auto& img = self->state.image;
  metadata_response resp;
  for (auto& [id, b] : img.brokers)
    resp.brokers.push_back(b);
  if (req.brokers_only) {
    // nothing but the brokers
  } else if (req.topics.empty()) {
    for (auto& [name, t] : img.topics)
      resp.topics.push_back(t);
  } else {
    for (auto& name : req.topics) {
      auto i = img.topics.find(name);
      if (i != img.topics.end())
        resp.topics.push_back(i->second);
    }
  }
  resp.controller_id = self->state.setup.node_id; // single controller for now
  resp.responder_id = self->state.setup.node_id;
  return resp;
}

/// describe: topics from the image, offsets asked from the local replicas.
caf::result<std::vector<topic_description>> on_describe(self_ptr self,
                                                        const std::vector<std::string>& names) {
  auto& img = self->state.image;
  auto out = std::make_shared<std::vector<topic_description>>();
  for (auto& [name, t] : img.topics)
    if (names.empty() || std::find(names.begin(), names.end(), name) != names.end())
      out->push_back(t);
  for (auto& name : names)
    if (!img.topics.count(name))
      return make_error(errc::unknown_topic_or_partition, "topic \"" + name + "\" does not exist");
  auto rp = self->make_response_promise<std::vector<topic_description>>();
  auto pending = std::make_shared<size_t>(1);
  auto done = [rp, out, pending]() mutable {
    if (--*pending == 0)
      rp.deliver(*out);
  };
  for (size_t ti = 0; ti < out->size(); ++ti) {
    for (size_t pi = 0; pi < (*out)[ti].partitions.size(); ++pi) {
      topic_partition tp{(*out)[ti].name, int32_t(pi)};
      auto hosted = self->state.partitions.find(tp);
      if (hosted == self->state.partitions.end())
        continue;
      ++*pending;
      self->request(hosted->second.actor, std::chrono::seconds(5), stats_atom::value)
        .then(
          [out, ti, pi, done](const partition_description& d) mutable {
            auto& p = (*out)[ti].partitions[pi];
            p.log_start_offset = d.log_start_offset;
            p.log_end_offset = d.log_end_offset;
            p.high_watermark = d.high_watermark;
            done();
          },
          [done](caf::error&) mutable { done(); });
    }
  }
  done();
  return rp;
}

/// Messages only this node's own actors send (the controller's metadata
/// pushes, the broker's timer, a local replica's requests): true when the
/// sender is on this node; logs and refuses anything else.
bool from_this_node(self_ptr self, const char* what) {
  auto& sender = self->current_sender();
  if (sender == nullptr || sender->node() == self->node())
    return true;
  spdlog::warn("broker {}: {} from another node ({}) refused", self->state.setup.node_id, what,
               to_string(sender->node()));
  return false;
}

caf::error local_only_error(self_ptr self, const char* what) {
  return make_error(errc::cluster_authorization_failed,
                    std::string(what) + " is accepted only from node " +
                      std::to_string(self->state.setup.node_id) + "'s own actors");
}

/// A linked child (partition, group coordinator, checkpoint writer) ended:
/// log it and forget it (the next metadata image respawns a partition),
/// so one failing child never takes the broker down. An exit sent to the
/// broker itself (node shutdown) ends it.
void on_exit(self_ptr self, caf::exit_msg& em) {
  auto& st = self->state;
  if (em.source == self->address()) {
    self->quit(em.reason);
    return;
  }
  if (!em.reason)
    return; // a child that finished normally (e.g. a deleted partition)
  for (auto i = st.partitions.begin(); i != st.partitions.end(); ++i)
    if (i->second.actor.address() == em.source) {
      spdlog::error("broker {}: partition {} failed ({}); it restarts with the next metadata update",
                    st.setup.node_id, to_string(i->first), describe_error(em.reason));
      st.routes.erase(i->first);
      st.partitions.erase(i);
      return;
    }
  for (auto i = st.groups.coordinators.begin(); i != st.groups.coordinators.end(); ++i)
    if (i->second.address() == em.source) {
      spdlog::error("broker {}: group coordinator for {}-{} failed ({})", st.setup.node_id,
                    offsets_topic_name, i->first, describe_error(em.reason));
      st.groups.coordinators.erase(i);
      return;
    }
  for (auto& w : st.io_workers)
    if (w.address() == em.source) {
      // Partitions keep the old handle: their checkpoint writes are lost
      // (each file is a lower bound) until they restart.
      spdlog::error("broker {}: I/O worker failed ({}); starting a new one", st.setup.node_id,
                    describe_error(em.reason));
      w = self->spawn<caf::detached + caf::linked>(io_worker_actor);
      return;
    }
  if (st.timer_sweeper && st.timer_sweeper.address() == em.source) {
    // Partitions keep poking the old handle; the new one arms itself after
    // each sweep, so a bucket added earlier than its wake-up waits for it.
    spdlog::error("broker {}: partition timer sweeper failed ({}); starting a new one",
                  st.setup.node_id, describe_error(em.reason));
    st.timer_sweeper = self->spawn<caf::linked>(timer_sweeper_actor, st.timer_wheel);
    caf::anon_send(st.timer_sweeper, tick_atom::value);
    return;
  }
  spdlog::warn("broker {}: exit of an unknown linked actor ignored: {}", st.setup.node_id,
               describe_error(em.reason));
}

/// One registration at a time; the tick loop (which never stops) retries
/// until one succeeds, then heartbeats. (A tick that re-registered used to
/// end the loop: under load, with the first registration slow, the broker
/// registered and never heartbeated again, and was fenced for good.)
void register_with_controller(self_ptr self) {
  auto& s = self->state.setup;
  if (self->state.registered || self->state.registering)
    return;
  self->state.registering = true;
  broker_description me{s.node_id, s.host, s.port, false, s.peer_port, s.kafka_host, s.kafka_port};
  self->request(s.controller, std::chrono::seconds(10), register_atom::value, me, s.incarnation,
                caf::actor_cast<caf::actor>(self))
    .then(
      [=](metadata_image& image) {
        auto& st = self->state;
        st.registering = false;
        st.registered = true;
        spdlog::info("broker {}: registered with the controller", st.setup.node_id);
        if (st.setup.heartbeat_thread && !st.heartbeater)
          st.heartbeater = self->spawn<caf::detached + caf::linked>(
            heartbeat_actor, st.setup.controller, st.setup.node_id, st.setup.incarnation,
            std::max<int64_t>(st.setup.heartbeat_interval_ms, 1));
        apply_image(self, std::move(image));
      },
      [=](caf::error& err) {
        self->state.registering = false;
        spdlog::warn("broker: registration failed ({}), retrying", describe_error(err));
      });
}

} // namespace

broker_api::behavior_type broker_actor(self_ptr self, broker_setup setup) {
  self->state.setup = std::move(setup);
  self->set_error_handler([self](caf::error& err) {
    spdlog::warn("broker {}: unexpected error message ignored: {}", self->state.setup.node_id,
                 describe_error(err));
  });
  self->set_exit_handler([self](caf::exit_msg& em) { on_exit(self, em); });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& peers = self->state.peers;
    for (auto i = peers.begin(); i != peers.end(); ++i)
      if (i->second.address() == dm.source) {
        auto node = i->first;
        spdlog::info("broker {}: lost connection to node {}", self->state.setup.node_id, node);
        peers.erase(i);
        fail_peer_calls(self, node);
        on_peer_lost(self, node);
        return;
      }
  });
  for (int32_t i = 0; i < self->state.setup.io_threads; ++i)
    self->state.io_workers.push_back(self->spawn<caf::detached + caf::linked>(io_worker_actor));
  self->state.timer_wheel = std::make_shared<timer_wheel>(timer_wheel_granularity_ns);
  self->state.timer_sweeper =
    self->spawn<caf::linked>(timer_sweeper_actor, self->state.timer_wheel);
  if (!self->state.io_workers.empty()) { // folders of deleted partitions a crash left behind
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(self->state.setup.data_dir, ec))
      if (e.is_directory(ec) && is_deleted_dir_name(e.path().filename().string()))
        caf::anon_send(self->state.io_workers.front(), remove_dir_atom::value, e.path().string());
  }
  const auto& cfg = self->state.setup;
  self->state.hw_table = open_table(cfg, cfg.hw_table, hw_table_name,
                                    "every partition starts from its log start");
  self->state.recovery_table = open_table(cfg, cfg.recovery_table, recovery_table_name,
                                          "every segment is scanned on open");
  self->state.last_hw_write_ms = wall_clock_ms();
  register_with_controller(self);
  self->delayed_send(self, std::chrono::milliseconds(self->state.setup.heartbeat_interval_ms),
                     tick_atom::value);
  return {
    [=](produce_atom atm, produce_request& req) -> caf::result<produce_response> {
      auto p = route(self, req.topic, req.partition);
      if (!p)
        return to_caf_error(p.error());
      // Only a produce set names its transactional.id, which verification
      // needs (broker_produce.cpp).
      if (transactional_producer(req.batch))
        return make_error(errc::invalid_request,
                          "a transactional batch for " + req.topic + "-" +
                            std::to_string(req.partition) +
                            " must come in a produce set request with its transactional id");
      return self->delegate(*p, atm, std::move(req));
    },
    [=](produce_atom, produce_set_request& req) { return on_produce_set(self, req); },
    [=](expire_atom, uint64_t set) { expire_produce_set(self, set); },
    [=](fetch_atom atm, fetch_request& req) -> caf::result<fetch_response> {
      if (req.replica_id >= 0 && self->state.cut_peers.count(req.replica_id))
        return make_error(errc::network_exception, "link to node " +
                                                     std::to_string(req.replica_id) +
                                                     " is cut (fault injection)");
      auto p = route(self, req.topic, req.partition);
      if (!p)
        return to_caf_error(p.error());
      return self->delegate(*p, atm, std::move(req));
    },
    [=](list_offsets_atom atm, list_offsets_request& req) -> caf::result<list_offsets_response> {
      auto p = route(self, req.topic, req.partition);
      if (!p)
        return to_caf_error(p.error());
      return self->delegate(*p, atm, std::move(req));
    },
    [=](metadata_atom, const metadata_request& req) { return on_metadata(self, req); },
    [=](create_topic_atom atm, create_topic_request& req) {
      return self->delegate(self->state.setup.controller, atm, std::move(req));
    },
    [=](alter_topic_atom atm, alter_topic_request& req) {
      return self->delegate(self->state.setup.controller, atm, std::move(req));
    },
    [=](delete_topic_atom atm, std::string& name) {
      return self->delegate(self->state.setup.controller, atm, std::move(name));
    },
    [=](describe_topics_atom, const std::vector<std::string>& names) {
      return on_describe(self, names);
    },
    [=](describe_cluster_atom atm) { return self->delegate(self->state.setup.controller, atm); },
    [=](init_pid_atom atm) { return self->delegate(self->state.setup.controller, atm); },
    [=](stats_atom, const topic_partition& tp) -> caf::result<partition_description> {
      auto hosted = self->state.partitions.find(tp);
      if (hosted == self->state.partitions.end())
        return make_error(errc::unknown_topic_or_partition, to_string(tp));
      return self->delegate(hosted->second.actor, stats_atom::value);
    },
    [=](metadata_update_atom, metadata_image& image) {
      if (!from_this_node(self, "metadata update"))
        return;
      apply_image(self, std::move(image));
    },
    [=](metadata_update_atom, metadata_delta& delta) {
      if (!from_this_node(self, "metadata update"))
        return;
      apply_delta(self, std::move(delta));
    },
    [=](controller_atom) { return caf::actor_cast<caf::actor>(self->state.setup.controller); },
    [=](tick_atom) {
      if (!from_this_node(self, "tick"))
        return;
      auto& st = self->state;
      if (!st.registered)
        register_with_controller(self); // no-op while one is on its way
      else if (!st.heartbeater) {
        self->send(st.setup.controller, heartbeat_atom::value, st.setup.node_id,
                   st.setup.incarnation);
        ++st.heartbeats_sent;
      }
      // No transaction stays open longer than transaction.max.timeout.ms:
      // a confirmation unused for that long belongs to none.
      st.verify.expire(wall_clock_ms() - st.setup.txn.max_timeout_ms);
      if (auto now = wall_clock_ms(); now - st.last_hw_write_ms >= hw_checkpoint_interval_ms) {
        st.last_hw_write_ms = now;
        for (const auto& table : {st.hw_table, st.recovery_table}) {
          if (st.io_workers.empty()) {
            if (auto s = table->write(false); !s)
              spdlog::warn("broker {}: {}", st.setup.node_id, s.to_string());
          } else {
            caf::anon_send(st.io_workers.front(), hw_checkpoint_atom::value, hw_table_job{table});
          }
        }
      }
      self->delayed_send(self, std::chrono::milliseconds(st.setup.heartbeat_interval_ms),
                         tick_atom::value);
    },
    // consumer groups: broker_groups.cpp
    [=](find_coordinator_atom, const std::string& group) {
      return on_find_coordinator(self, group);
    },
    [=](join_group_atom atm, std::string& group, join_group_request& req) {
      return route_group_request<join_group_response>(self, atm, group, req);
    },
    [=](sync_group_atom atm, std::string& group, sync_group_request& req) {
      return route_group_request<sync_group_response>(self, atm, group, req);
    },
    [=](group_heartbeat_atom atm, std::string& group, heartbeat_request& req) {
      return route_group_request<heartbeat_response>(self, atm, group, req);
    },
    [=](leave_group_atom atm, std::string& group, leave_group_request& req) {
      return route_group_request<leave_group_response>(self, atm, group, req);
    },
    [=](offset_commit_atom atm, std::string& group, offset_commit_request& req) {
      return route_group_request<offset_commit_response>(self, atm, group, req);
    },
    [=](offset_fetch_atom atm, std::string& group, std::vector<topic_partition>& tps) {
      return route_group_request<group_offsets>(self, atm, group, tps);
    },
    [=](offset_fetch_atom atm, std::string& group, std::vector<topic_partition>& tps,
        require_stable_atom stable) {
      return route_group_request<group_offsets>(self, atm, group, tps, stable);
    },
    [=](describe_group_atom atm, std::string& group) {
      return route_group_request<group_description>(self, atm, group);
    },
    [=](delete_group_atom atm, std::string& group) {
      return route_group_request<bool>(self, atm, group);
    },
    [=](alter_offsets_atom atm, std::string& group, offset_commit_map& offsets) {
      return route_group_request<offset_commit_response>(self, atm, group, offsets);
    },
    [=](list_groups_atom) { return on_list_groups(self); },
    [=](offset_commit_atom atm, std::string& group, txn_offset_commit_request& req) {
      return route_group_request<offset_commit_response>(self, atm, group, req);
    },
    // transactions: broker_txn.cpp
    [=](find_coordinator_atom, txn_coordinator_atom, const std::string& transactional_id) {
      return on_find_txn_coordinator(self, transactional_id);
    },
    [=](init_pid_atom atm, txn_init_request& req) { return route_txn_request(self, atm, req); },
    [=](txn_add_atom atm, txn_add_partitions_request& req) {
      return route_txn_request(self, atm, req);
    },
    [=](txn_end_atom atm, txn_end_request& req) { return route_txn_request(self, atm, req); },
    [=](txn_add_atom, txn_add_offsets_request& req) { return on_add_offsets(self, req); },
    [=](txn_describe_atom, const std::vector<std::string>& ids) {
      return on_describe_txns(self, ids);
    },
    [=](txn_list_atom) { return on_list_txns(self); },
    [=](txn_marker_atom, txn_marker_request& req) { return on_write_marker(self, req); },
    [=](txn_verify_atom atm, txn_add_partitions_request& req) {
      return route_txn_request(self, atm, req);
    },
    // replication
    [=](epoch_query_atom atm, topic_partition& tp, offsets_for_epoch_request& req)
      -> caf::result<offsets_for_epoch_response> {
      if (self->state.cut_peers.count(req.replica_id))
        return make_error(errc::network_exception, "link to node " +
                                                     std::to_string(req.replica_id) +
                                                     " is cut (fault injection)");
      auto p = route(self, tp.topic, tp.partition);
      if (!p)
        return to_caf_error(p.error());
      return self->delegate(*p, atm, std::move(req));
    },
    [=](link_cut_atom atm, int32_t peer, bool cut) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.setup.fault_injection_enable)
        return make_error(errc::cluster_authorization_failed,
                          "fault injection is off on node " + std::to_string(st.setup.node_id) +
                            " (fault.injection.enable=false)");
      auto& h = st.setup.host;
      if (h.rfind("127.", 0) != 0 && h != "localhost" && h != "::1")
        return make_error(errc::invalid_request,
                          "link cuts are for loopback test clusters only; node " +
                            std::to_string(st.setup.node_id) + " listens on " + h);
      if (peer == st.setup.node_id)
        return make_error(errc::invalid_request, "a node cannot cut its link to itself");
      if (cut)
        st.cut_peers.insert(peer);
      else
        st.cut_peers.erase(peer);
      spdlog::warn("broker {}: link to node {} {} (fault injection)", st.setup.node_id, peer,
                   cut ? "cut" : "restored");
      return self->delegate(st.setup.controller, atm, peer, cut);
    },
    [=](alter_isr_atom atm, alter_isr_request& req) -> caf::result<alter_isr_response> {
      if (!from_this_node(self, "AlterPartition"))
        return local_only_error(self, "AlterPartition");
      return self->delegate(self->state.setup.controller, atm, std::move(req));
    },
    [=](peer_atom, int32_t node, fetch_request& req) -> caf::result<fetch_response> {
      if (!from_this_node(self, "follower fetch"))
        return local_only_error(self, "follower fetch");
      if (self->state.setup.replica_fetch_sessions)
        return on_session_fetch(self, node, req);
      auto timeout = peer_call_timeout + std::chrono::milliseconds(req.max_wait_ms);
      return forward_to_peer<fetch_response>(self, node, timeout, fetch_atom::value,
                                             std::move(req));
    },
    [=](fetch_atom, fetch_set_request& req) { on_fetch_set(self, req); },
    [=](fetch_atom, fetch_set_response& resp) { on_fetch_answers(self, resp); },
    [=](flush_atom) {
      if (from_this_node(self, "session flush"))
        flush_sessions(self);
    },
    [=](peer_atom, int32_t node, topic_partition& tp, offsets_for_epoch_request& req)
      -> caf::result<offsets_for_epoch_response> {
      if (!from_this_node(self, "follower epoch query"))
        return local_only_error(self, "follower epoch query");
      return forward_to_peer<offsets_for_epoch_response>(
        self, node, peer_call_timeout, epoch_query_atom::value, std::move(tp), std::move(req));
    },
  };
}

} // namespace al
