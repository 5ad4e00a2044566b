// Kafka listener: Metadata, FindCoordinator (groups and transactional ids),
// DescribeCluster (who is where).
// Brokers are named by their advertised Kafka listener (register_broker_cmd
// carries it); a broker without one (an older node) is left out.
#include <memory>

#include <spdlog/spdlog.h>

#include "actors/broker/client_gateway_actor.hpp"
#include "actors/kafka/kafka_server.hpp"
#include "actors/protocol/errors.hpp"
#include "actors/store/metadata_view_store.hpp"
#include "kafka/protocol/generated/describe_cluster.hpp"
#include "kafka/protocol/generated/find_coordinator.hpp"
#include "kafka/protocol/generated/metadata.hpp"

namespace al::kafka_server {

namespace {

/// The brokers a Kafka client may use: registered, not fenced, with a
/// Kafka listener (an older node has none).
bool listed(const broker_description& b) { return !b.fenced && b.kafka_port != 0; }

metadata_request brokers_only() {
  metadata_request r;
  r.brokers_only = true;
  return r;
}

kafka::MetadataResponse to_kafka(const metadata_response& m, const std::string& cluster_id,
                                 const std::vector<std::string>& missing, errc missing_error) {
  kafka::MetadataResponse out;
  for (auto& b : m.brokers)
    if (listed(b))
      out.brokers.push_back({b.id, b.kafka_host, b.kafka_port, std::nullopt});
  out.cluster_id = cluster_id;
  out.controller_id = m.controller_id;
  for (auto& t : m.topics) {
    kafka::MetadataResponse::MetadataResponseTopic kt;
    kt.name = t.name;
    kt.topic_id.bytes = parse_topic_id(t.topic_id);
    kt.is_internal = is_internal_topic(t.name);
    for (auto& p : t.partitions) {
      kafka::MetadataResponse::MetadataResponsePartition kp;
      kp.partition_index = p.partition;
      kp.leader_id = p.leader;
      kp.leader_epoch = p.leader_epoch;
      kp.error_code = p.leader < 0 ? kafka_code(errc::leader_not_available) : 0;
      kp.replica_nodes = p.replicas;
      kp.isr_nodes = p.isr;
      kt.partitions.push_back(std::move(kp));
    }
    out.topics.push_back(std::move(kt));
  }
  for (auto& name : missing) {
    kafka::MetadataResponse::MetadataResponseTopic kt;
    kt.name = name;
    kt.error_code = kafka_code(missing_error);
    out.topics.push_back(std::move(kt));
  }
  return out;
}

/// Node id -> advertised Kafka listener, from a metadata answer.
const broker_description* kafka_endpoint(const metadata_response& m, int32_t node_id) {
  for (auto& b : m.brokers)
    if (b.id == node_id && b.kafka_port != 0)
      return &b;
  return nullptr;
}

void answer_metadata(conn_ptr self, const request_ctx& ctx, std::vector<std::string> names,
                     bool auto_create) {
  auto gw = self->state.setup.gateway;
  self->request(gw, gateway_timeout(self), metadata_atom::value, metadata_request{names})
    .then(
      [self, ctx, names, auto_create, gw](metadata_response& m) {
        std::vector<std::string> missing;
        for (auto& n : names) {
          bool found = false;
          for (auto& t : m.topics)
            found = found || t.name == n;
          if (!found)
            missing.push_back(n);
        }
        errc missing_error = errc::unknown_topic_or_partition;
        if (auto_create && !missing.empty()) {
          // Kafka's auto.create.topics.enable: created with the cluster's
          // defaults; the client sees LEADER_NOT_AVAILABLE and asks again.
          missing_error = errc::leader_not_available;
          for (auto& n : missing)
            if (!is_internal_topic(n))
              self->request(gw, gateway_timeout(self), create_topic_atom::value,
                            create_topic_request{n, -1, -1, {}})
                .then([n](const topic_description&) {
                        spdlog::info("kafka listener: topic {} auto-created", n);
                      },
                      [n](const caf::error& err) {
                        spdlog::info("kafka listener: auto-creating {} failed: {}", n,
                                     describe_error(err));
                      });
        }
        reply(self, ctx, to_kafka(m, self->state.setup.cluster_id, missing, missing_error));
      },
      [self, ctx](const caf::error& err) {
        spdlog::warn("kafka listener: metadata failed: {}", describe_error(err));
        kafka::MetadataResponse out; // no brokers: the client retries
        out.cluster_id = self->state.setup.cluster_id;
        reply(self, ctx, out);
      });
}

} // namespace

void handle_metadata(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::MetadataRequest req;
  if (!decode(self, ctx, body, req))
    return;
  // v0: an empty list means every topic; from v1 on null does, empty none.
  bool all = !req.topics || (ctx.version == 0 && req.topics->empty());
  if (!all && req.topics->empty()) {
    auto gw = self->state.setup.gateway;
    // Still the brokers and the controller.
    self->request(gw, gateway_timeout(self), metadata_atom::value, brokers_only())
      .then([self, ctx](const metadata_response& m) {
              reply(self, ctx, to_kafka(m, self->state.setup.cluster_id, {}, errc::none));
            },
            [self, ctx](const caf::error&) { reply(self, ctx, kafka::MetadataResponse{}); });
    return;
  }
  std::vector<std::string> names;
  if (!all)
    for (auto& t : *req.topics) {
      if (!t.name || t.name->empty()) {
        // Lookup by topic id alone (v10+): not supported yet.
        close_connection(self, "Metadata by topic id is not supported");
        return;
      }
      names.push_back(*t.name);
    }
  bool auto_create = !all && self->state.setup.auto_create_topics &&
                     (ctx.version < 4 || req.allow_auto_topic_creation);
  answer_metadata(self, ctx, std::move(names), auto_create);
}

void handle_find_coordinator(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::FindCoordinatorRequest req;
  if (!decode(self, ctx, body, req))
    return;
  bool batched = ctx.version >= 4;
  auto keys = batched ? req.coordinator_keys : std::vector<std::string>{req.key};
  struct gather {
    kafka::FindCoordinatorResponse out;
    size_t left = 0;
  };
  auto g = std::make_shared<gather>();
  g->out.coordinators.resize(keys.size());
  g->left = keys.size();
  auto gw = self->state.setup.gateway;
  auto finish = [self, ctx, g, batched]() {
    if (--g->left > 0)
      return;
    if (!batched && !g->out.coordinators.empty()) {
      auto& c = g->out.coordinators.front();
      g->out.error_code = c.error_code;
      g->out.error_message = c.error_message;
      g->out.node_id = c.node_id;
      g->out.host = c.host;
      g->out.port = c.port;
      g->out.coordinators.clear();
    }
    reply(self, ctx, g->out);
  };
  if (keys.empty())
    return reply(self, ctx, g->out);
  // Kafka's key types: 0 a group, 1 a transactional id (2, share groups: not here).
  if (req.key_type != 0 && req.key_type != 1) {
    for (size_t i = 0; i < keys.size(); ++i) {
      auto& c = g->out.coordinators[i];
      c.key = keys[i];
      c.node_id = -1;
      c.error_code = kafka_code(errc::invalid_request);
      c.error_message = "key type " + std::to_string(req.key_type) + " is not supported";
      finish();
    }
    return;
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    auto& c = g->out.coordinators[i];
    c.key = keys[i];
    c.node_id = -1;
    auto found = [self, gw, g, i, finish](const coordinator_info& info) {
      self->request(gw, gateway_timeout(self), metadata_atom::value, brokers_only())
        .then(
          [g, i, info, finish](const metadata_response& m) {
            auto& slot = g->out.coordinators[i];
            if (auto* b = kafka_endpoint(m, info.node_id)) {
              slot.node_id = b->id, slot.host = b->kafka_host, slot.port = b->kafka_port;
              slot.error_message = std::nullopt;
            } else {
              slot.error_code = kafka_code(errc::coordinator_not_available);
              slot.error_message =
                "node " + std::to_string(info.node_id) + " has no Kafka listener";
            }
            finish();
          },
          [g, i, finish](const caf::error& err) {
            g->out.coordinators[i].error_code = kafka_code(errc::coordinator_not_available);
            g->out.coordinators[i].error_message = describe_error(err);
            finish();
          });
    };
    auto failed = [g, i, finish](const caf::error& err) {
      auto code = error_code_of(err);
      g->out.coordinators[i].error_code =
        kafka_code(code == errc::request_timed_out || code == errc::network_exception
                     ? errc::coordinator_not_available
                     : code);
      g->out.coordinators[i].error_message = describe_error(err);
      finish();
    };
    if (req.key_type == 1) // created __transaction_state on first use, as Kafka does
      self->request(gw, gateway_timeout(self), find_coordinator_atom::value,
                    txn_coordinator_atom::value, keys[i])
        .then(found, failed);
    else
      self->request(gw, gateway_timeout(self), find_coordinator_atom::value, keys[i])
        .then(found, failed);
  }
}

void handle_describe_cluster(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::DescribeClusterRequest req;
  if (!decode(self, ctx, body, req))
    return;
  auto gw = self->state.setup.gateway;
  self->request(gw, gateway_timeout(self), metadata_atom::value,
                brokers_only())
    .then(
      [self, ctx](const metadata_response& m) {
        kafka::DescribeClusterResponse out;
        out.cluster_id = self->state.setup.cluster_id;
        out.controller_id = m.controller_id;
        for (auto& b : m.brokers)
          if (listed(b))
            out.brokers.push_back({b.id, b.kafka_host, b.kafka_port, std::nullopt});
        out.error_message = std::nullopt;
        reply(self, ctx, out);
      },
      [self, ctx](const caf::error& err) {
        kafka::DescribeClusterResponse out;
        out.error_code = kafka_code(err);
        out.error_message = describe_error(err);
        out.cluster_id = self->state.setup.cluster_id;
        reply(self, ctx, out);
      });
}

} // namespace al::kafka_server
