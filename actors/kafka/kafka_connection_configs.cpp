// Kafka listener: DescribeConfigs, AlterConfigs, IncrementalAlterConfigs.
//
// A topic's configs are every topic-level key actorlog knows
// (storage/topic_config.hpp): its own overrides (DYNAMIC_TOPIC_CONFIG) and
// otherwise the node's default (DEFAULT_CONFIG). A broker resource shows the
// node's settings from its config file, read-only (STATIC_BROKER_CONFIG):
// brokers have no dynamic configs here, so altering one is refused.
#include <algorithm>
#include <memory>
#include <set>
#include <sstream>

#include "actors/kafka/kafka_server.hpp"
#include "actors/protocol/errors.hpp"
#include "kafka/protocol/generated/alter_configs.hpp"
#include "kafka/protocol/generated/describe_configs.hpp"
#include "kafka/protocol/generated/incremental_alter_configs.hpp"
#include "storage/topic_config.hpp"

namespace al::kafka_server {

namespace {

constexpr int8_t topic_resource = 2;
constexpr int8_t broker_resource = 4;
constexpr int8_t dynamic_topic_config = 1;
constexpr int8_t static_broker_config = 4;
constexpr int8_t default_config = 5;

int8_t config_type_of(const topic_config_key& k) {
  std::string t = k.type;
  if (std::string(k.name) == "cleanup.policy")
    return 7; // LIST
  return t == "bool" ? 1 : t == "int" ? 3 : t == "long" ? 5 : 2; // BOOLEAN INT LONG STRING
}

using result_t = kafka::DescribeConfigsResponse::DescribeConfigsResult;
using entry_t = kafka::DescribeConfigsResponse::DescribeConfigsResourceResult;

bool wanted(const std::optional<std::vector<std::string>>& keys, const std::string& name) {
  return !keys || std::find(keys->begin(), keys->end(), name) != keys->end();
}

/// v0 says "is_default", later versions the source; only one may be set.
void set_source(entry_t& e, int8_t source, int16_t version) {
  if (version == 0)
    e.is_default = source == default_config;
  else
    e.config_source = source;
}

void describe_topic(const listener_setup& setup, const topic_description& t,
                    const kafka::DescribeConfigsRequest::DescribeConfigsResource& res,
                    bool documentation, int16_t version, result_t& out) {
  for (auto& k : topic_config_keys()) {
    if (!wanted(res.configuration_keys, k.name))
      continue;
    entry_t e;
    e.name = k.name;
    auto own = t.configs.find(k.name);
    auto dflt = setup.topic_defaults.find(k.name);
    if (own != t.configs.end()) {
      e.value = own->second;
      set_source(e, dynamic_topic_config, version);
    } else {
      e.value = dflt != setup.topic_defaults.end() ? std::optional<std::string>(dflt->second)
                                                    : std::nullopt;
      set_source(e, default_config, version);
    }
    if (version >= 3) {
      e.config_type = config_type_of(k);
      e.documentation = documentation ? std::optional<std::string>(k.help) : std::nullopt;
    } else {
      e.documentation = std::nullopt;
    }
    out.configs.push_back(std::move(e));
  }
}

void describe_broker(const listener_setup& setup,
                     const kafka::DescribeConfigsRequest::DescribeConfigsResource& res,
                     int16_t version, result_t& out) {
  for (auto& [name, value] : setup.broker_configs) {
    if (!wanted(res.configuration_keys, name))
      continue;
    entry_t e;
    e.name = name;
    e.value = value;
    e.read_only = true;
    set_source(e, static_broker_config, version);
    if (version >= 3)
      e.config_type = 2;
    e.documentation = std::nullopt;
    out.configs.push_back(std::move(e));
  }
}

/// The topic's overrides after `ops` (Kafka's IncrementalAlterConfigs: SET 0,
/// DELETE 1, APPEND 2, SUBTRACT 3; the last two only for list values).
result<alter_topic_request> apply_ops(
  const topic_description& t,
  const std::vector<kafka::IncrementalAlterConfigsRequest::AlterableConfig>& ops) {
  alter_topic_request a{t.name, -1, {}, {}};
  auto current = t.configs;
  for (auto& op : ops) {
    switch (op.config_operation) {
      case 0:
        if (!op.value)
          return status{errc::invalid_request, op.name + ": SET without a value"};
        current[op.name] = *op.value;
        break;
      case 1: current.erase(op.name); break;
      case 2:
      case 3: {
        if (op.name != "cleanup.policy" || !op.value)
          return status{errc::invalid_request,
                        op.name + ": APPEND and SUBTRACT apply to list configs only"};
        std::set<std::string> items;
        std::istringstream in(current.count(op.name) ? current[op.name] : "delete");
        for (std::string x; std::getline(in, x, ',');)
          items.insert(x);
        if (op.config_operation == 2)
          items.insert(*op.value);
        else
          items.erase(*op.value);
        std::string joined;
        for (auto& x : items)
          joined += (joined.empty() ? "" : ",") + x;
        current[op.name] = joined;
        break;
      }
      default:
        return status{errc::invalid_request,
                      op.name + ": unknown operation " + std::to_string(op.config_operation)};
    }
  }
  for (auto& [k, v] : current)
    if (!t.configs.count(k) || t.configs.at(k) != v)
      a.set_configs[k] = v;
  for (auto& [k, v] : t.configs)
    if (!current.count(k))
      a.delete_configs.push_back(k);
  if (auto st = validate_topic_configs(current); !st)
    return st;
  return a;
}

/// Alters one topic resource: describe it, compute the change, validate,
/// and (unless validate_only) send it. `done(code, message)`.
template <class Ops>
void alter_topic_configs(conn_ptr self, const std::string& name, Ops ops, bool validate_only,
                         std::function<void(errc, std::string)> done) {
  auto gw = self->state.setup.gateway;
  self->request(gw, gateway_timeout(self), describe_topics_atom::value,
                std::vector<std::string>{name})
    .then(
      [self, gw, ops, validate_only, done](const std::vector<topic_description>& ts) {
        if (ts.empty())
          return done(errc::unknown_topic_or_partition, "no such topic");
        auto change = apply_ops(ts.front(), ops);
        if (!change)
          return done(change.error().code(), change.error().message());
        if (validate_only)
          return done(errc::none, "");
        self->request(gw, gateway_timeout(self), alter_topic_atom::value, *change)
          .then([done](const topic_description&) { done(errc::none, ""); },
                [done](const caf::error& err) { done(error_code_of(err), describe_error(err)); });
      },
      [done](const caf::error& err) { done(error_code_of(err), describe_error(err)); });
}

/// Shared by AlterConfigs and IncrementalAlterConfigs: one answer per resource.
template <class Response, class Request, class ToOps>
void alter_configs(conn_ptr self, const request_ctx& ctx, Request& req, ToOps to_ops) {
  auto out = std::make_shared<Response>();
  if (req.resources.empty())
    return reply(self, ctx, *out);
  auto finish = countdown(self, ctx, out, req.resources.size());
  for (size_t i = 0; i < req.resources.size(); ++i) {
    auto& res = req.resources[i];
    typename Response::AlterConfigsResourceResponse r;
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    r.error_message = std::nullopt;
    out->responses.push_back(r);
    auto done = [out, i, finish](errc code, std::string msg) {
      out->responses[i].error_code = kafka_code(code);
      if (code != errc::none)
        out->responses[i].error_message = std::move(msg);
      finish();
    };
    if (res.resource_type != topic_resource) {
      done(errc::invalid_request, res.resource_type == broker_resource
                                    ? "broker configs come from the node's config file"
                                    : "only topic and broker resources exist here");
      continue;
    }
    alter_topic_configs(self, res.resource_name, to_ops(res), req.validate_only, done);
  }
}

} // namespace

void handle_describe_configs(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::DescribeConfigsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  auto out = std::make_shared<kafka::DescribeConfigsResponse>();
  if (req.resources.empty())
    return reply(self, ctx, *out);
  auto finish = countdown(self, ctx, out, req.resources.size());
  for (size_t i = 0; i < req.resources.size(); ++i) {
    auto& res = req.resources[i];
    result_t r;
    r.resource_type = res.resource_type;
    r.resource_name = res.resource_name;
    r.error_message = std::nullopt;
    out->results.push_back(r);
    if (res.resource_type == broker_resource) {
      if (res.resource_name != std::to_string(self->state.setup.node_id) &&
          !res.resource_name.empty()) {
        out->results[i].error_code = kafka_code(errc::invalid_request);
        out->results[i].error_message = "this node is broker " +
                                        std::to_string(self->state.setup.node_id);
      } else {
        describe_broker(self->state.setup, res, ctx.version, out->results[i]);
      }
      finish();
      continue;
    }
    if (res.resource_type != topic_resource) {
      out->results[i].error_code = kafka_code(errc::invalid_request);
      out->results[i].error_message = "only topic and broker resources exist here";
      finish();
      continue;
    }
    self->request(self->state.setup.gateway, gateway_timeout(self), describe_topics_atom::value,
                  std::vector<std::string>{res.resource_name})
      .then(
        [self, out, i, res, finish, doc = req.include_documentation, v = ctx.version](
          const std::vector<topic_description>& ts) {
          if (ts.empty())
            out->results[i].error_code = kafka_code(errc::unknown_topic_or_partition);
          else
            describe_topic(self->state.setup, ts.front(), res, doc, v, out->results[i]);
          finish();
        },
        [out, i, finish](const caf::error& err) {
          out->results[i].error_code = kafka_code(err);
          out->results[i].error_message = describe_error(err);
          finish();
        });
  }
}

void handle_alter_configs(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::AlterConfigsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  // Legacy AlterConfigs replaces the whole set: everything not named goes.
  alter_configs<kafka::AlterConfigsResponse>(self, ctx, req, [](const auto& res) {
    std::vector<kafka::IncrementalAlterConfigsRequest::AlterableConfig> ops;
    for (auto& k : topic_config_keys()) {
      kafka::IncrementalAlterConfigsRequest::AlterableConfig op;
      op.name = k.name;
      op.config_operation = 1;
      op.value = std::nullopt;
      for (auto& c : res.configs)
        if (c.name == k.name && c.value) {
          op.config_operation = 0;
          op.value = c.value;
        }
      ops.push_back(op);
    }
    for (auto& c : res.configs) // unknown names still reach validation
      if (std::none_of(topic_config_keys().begin(), topic_config_keys().end(),
                       [&](const topic_config_key& k) { return c.name == k.name; }))
        ops.push_back({c.name, 0, c.value});
    return ops;
  });
}

void handle_incremental_alter_configs(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::IncrementalAlterConfigsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  alter_configs<kafka::IncrementalAlterConfigsResponse>(
    self, ctx, req, [](const auto& res) { return res.configs; });
}

} // namespace al::kafka_server
