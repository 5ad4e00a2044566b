#include "actors/broker/client_gateway_actor.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/group/group_placement.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

using self_ptr = client_api::stateful_pointer<gateway_state>;

/// Asks the broker and answers the client with whatever comes back. A
/// requester in this process (a Kafka listener's connection, an embedded
/// client) is not a client on the wire: its request is delegated, so the
/// answer goes straight from the actor that makes it to the requester (one
/// hop and two timer events fewer per produce or fetch). Only remote
/// requesters get relayed answers, which carry no internal actor's address.
template <class Response, class... Ts>
caf::result<Response> relay(self_ptr self, Ts&&... xs) {
  if (auto& sender = self->current_sender(); sender && sender->node() == self->node()) {
    auto rp = self->make_response_promise();
    rp.delegate(self->state.setup.broker, std::forward<Ts>(xs)...);
    return rp;
  }
  auto rp = self->make_response_promise<Response>();
  self->request(self->state.setup.broker, self->state.setup.relay_timeout, std::forward<Ts>(xs)...)
    .then([rp](Response& r) mutable { rp.deliver(std::move(r)); },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::error internal_topic_error(const std::string& what, const std::string& topic) {
  return make_error(errc::invalid_topic_exception,
                    "cannot " + what + " internal topic " + topic);
}

/// A produce set naming an internal topic: those parts are refused here,
/// each with its own error, and the rest goes on (a client's batches for
/// other partitions are not failed with them).
caf::result<produce_set_response> on_produce_set(self_ptr self, produce_atom atm,
                                                 produce_set_request& req) {
  std::vector<size_t> kept; // indexes of req.parts relayed
  for (size_t i = 0; i < req.parts.size(); ++i)
    if (!is_internal_topic(req.parts[i].topic))
      kept.push_back(i);
  if (kept.size() == req.parts.size())
    return relay<produce_set_response>(self, atm, std::move(req));
  produce_set_response out;
  out.results.resize(req.parts.size());
  for (size_t i = 0; i < req.parts.size(); ++i) {
    out.results[i].error = errc::invalid_topic_exception;
    out.results[i].message = "cannot append to internal topic " + req.parts[i].topic;
  }
  if (kept.empty())
    return out;
  produce_set_request rest;
  rest.acks = req.acks;
  rest.timeout_ms = req.timeout_ms;
  rest.transactional_id = std::move(req.transactional_id);
  for (auto i : kept)
    rest.parts.push_back(std::move(req.parts[i]));
  auto rp = self->make_response_promise<produce_set_response>();
  self->request(self->state.setup.broker, self->state.setup.relay_timeout, atm, std::move(rest))
    .then(
      [rp, out, kept](produce_set_response& r) mutable {
        for (size_t k = 0; k < kept.size() && k < r.results.size(); ++k)
          out.results[kept[k]] = std::move(r.results[k]);
        rp.deliver(std::move(out));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace

bool is_internal_topic(const std::string& name) {
  return name == offsets_topic_name || name == txn_state_topic_name;
}

client_api::behavior_type client_gateway_actor(self_ptr self, gateway_setup setup) {
  self->state.setup = std::move(setup);
  self->set_error_handler([self](caf::error& err) {
    spdlog::warn("gateway {}: unexpected error message ignored: {}", self->state.setup.node_id,
                 describe_error(err));
  });
  return {
    [=](produce_atom atm, produce_request& req) -> caf::result<produce_response> {
      if (is_internal_topic(req.topic))
        return internal_topic_error("append to", req.topic);
      return relay<produce_response>(self, atm, std::move(req));
    },
    [=](produce_atom atm, produce_set_request& req) -> caf::result<produce_set_response> {
      return on_produce_set(self, atm, req);
    },
    [=](fetch_atom atm, fetch_request& req) -> caf::result<fetch_response> {
      if (req.replica_id != consumer_replica_id)
        return make_error(errc::cluster_authorization_failed,
                          "fetch with replica_id " + std::to_string(req.replica_id) +
                            ": only brokers fetch as followers (use -1)");
      // Records above the high watermark are not committed: a truncation
      // may remove them. Only the node's own coordinators read them.
      if (req.isolation == fetch_isolation::log_end)
        return make_error(errc::cluster_authorization_failed,
                          "fetch with isolation " + std::to_string(int(req.isolation)) +
                            ": clients read only up to the high watermark");
      return relay<fetch_response>(self, atm, std::move(req));
    },
    [=](list_offsets_atom atm, list_offsets_request& req) {
      return relay<list_offsets_response>(self, atm, std::move(req));
    },
    [=](metadata_atom atm, metadata_request& req) {
      return relay<metadata_response>(self, atm, std::move(req));
    },
    [=](init_pid_atom atm) { return relay<producer_id_response>(self, atm); },
    [=](epoch_query_atom atm, topic_partition& tp, offsets_for_epoch_request& req) {
      req.replica_id = consumer_replica_id; // a client, never a follower
      return relay<offsets_for_epoch_response>(self, atm, std::move(tp), std::move(req));
    },
    [=](create_topic_atom atm, create_topic_request& req) -> caf::result<topic_description> {
      if (is_internal_topic(req.name))
        return make_error(errc::invalid_request,
                          "creation of internal topic " + req.name + " is prohibited");
      return relay<topic_description>(self, atm, std::move(req));
    },
    [=](alter_topic_atom atm, alter_topic_request& req) -> caf::result<topic_description> {
      if (is_internal_topic(req.name) && req.partitions != -1)
        return internal_topic_error("change the partition count of", req.name);
      return relay<topic_description>(self, atm, std::move(req));
    },
    [=](delete_topic_atom atm, std::string& name) -> caf::result<bool> {
      if (is_internal_topic(name))
        return internal_topic_error("delete", name);
      return relay<bool>(self, atm, std::move(name));
    },
    [=](describe_topics_atom atm, std::vector<std::string>& names) {
      return relay<std::vector<topic_description>>(self, atm, std::move(names));
    },
    [=](describe_cluster_atom atm) { return relay<cluster_description>(self, atm); },
    [=](stats_atom atm, topic_partition& tp) {
      return relay<partition_description>(self, atm, std::move(tp));
    },
    [=](find_coordinator_atom atm, std::string& group) {
      return relay<coordinator_info>(self, atm, std::move(group));
    },
    // The broker refuses it unless fault.injection.enable is set.
    [=](link_cut_atom atm, int32_t peer, bool cut) { return relay<bool>(self, atm, peer, cut); },
    [=](join_group_atom atm, std::string& group, join_group_request& req) {
      return relay<join_group_response>(self, atm, std::move(group), std::move(req));
    },
    [=](sync_group_atom atm, std::string& group, sync_group_request& req) {
      return relay<sync_group_response>(self, atm, std::move(group), std::move(req));
    },
    [=](group_heartbeat_atom atm, std::string& group, heartbeat_request& req) {
      return relay<heartbeat_response>(self, atm, std::move(group), std::move(req));
    },
    [=](leave_group_atom atm, std::string& group, leave_group_request& req) {
      return relay<leave_group_response>(self, atm, std::move(group), std::move(req));
    },
    [=](offset_commit_atom atm, std::string& group, offset_commit_request& req) {
      return relay<offset_commit_response>(self, atm, std::move(group), std::move(req));
    },
    [=](offset_fetch_atom atm, std::string& group, std::vector<topic_partition>& tps) {
      return relay<group_offsets>(self, atm, std::move(group), std::move(tps));
    },
    [=](offset_fetch_atom atm, std::string& group, std::vector<topic_partition>& tps,
        require_stable_atom stable) {
      return relay<group_offsets>(self, atm, std::move(group), std::move(tps), stable);
    },
    [=](describe_group_atom atm, std::string& group) {
      return relay<group_description>(self, atm, std::move(group));
    },
    [=](delete_group_atom atm, std::string& group) {
      return relay<bool>(self, atm, std::move(group));
    },
    [=](alter_offsets_atom atm, std::string& group, offset_commit_map& offsets) {
      return relay<offset_commit_response>(self, atm, std::move(group), std::move(offsets));
    },
    [=](list_groups_atom atm) { return relay<std::vector<group_listing>>(self, atm); },
    [=](find_coordinator_atom atm, txn_coordinator_atom t, std::string& id) {
      return relay<coordinator_info>(self, atm, t, std::move(id));
    },
    [=](init_pid_atom atm, txn_init_request& req) {
      return relay<txn_response>(self, atm, std::move(req));
    },
    [=](txn_add_atom atm, txn_add_partitions_request& req) {
      for (auto& tp : req.partitions) // the coordinators' own topics stay theirs
        if (is_internal_topic(tp.topic))
          return caf::result<txn_response>{internal_topic_error("add to a transaction", tp.topic)};
      return relay<txn_response>(self, atm, std::move(req));
    },
    [=](txn_add_atom atm, txn_add_offsets_request& req) {
      return relay<txn_response>(self, atm, std::move(req));
    },
    [=](offset_commit_atom atm, std::string& group, txn_offset_commit_request& req) {
      return relay<offset_commit_response>(self, atm, std::move(group), std::move(req));
    },
    [=](txn_end_atom atm, txn_end_request& req) {
      return relay<txn_response>(self, atm, std::move(req));
    },
    [=](txn_describe_atom atm, std::vector<std::string>& ids) {
      return relay<std::vector<txn_description>>(self, atm, std::move(ids));
    },
    [=](txn_list_atom atm) { return relay<std::vector<txn_description>>(self, atm); },
  };
}

} // namespace al
