// Kafka listener: CreateTopics, DeleteTopics, CreatePartitions. Requests go
// through the gateway to the controller, as actorlog's own admin CLI does.
// validate_only runs the same checks as the controller's plan (name,
// counts, configs, existence, live brokers for the replication factor) and
// commits nothing.
#include <memory>

#include "actors/controller/metadata_machine.hpp"
#include "actors/kafka/kafka_server.hpp"
#include "actors/protocol/errors.hpp"
#include "kafka/protocol/generated/create_partitions.hpp"
#include "kafka/protocol/generated/create_topics.hpp"
#include "kafka/protocol/generated/delete_topics.hpp"
#include "storage/topic_config.hpp"

namespace al::kafka_server {

namespace {

int32_t live_brokers(const metadata_response& m) {
  int32_t n = 0;
  for (auto& b : m.brokers)
    n += !b.fenced;
  return n;
}

const topic_description* find_topic(const metadata_response& m, const std::string& name) {
  for (auto& t : m.topics)
    if (t.name == name)
      return &t;
  return nullptr;
}

/// What the controller would refuse, checked without it (validate_only).
status check_create(const create_topic_request& c, const metadata_response& m) {
  if (auto st = validate_topic_name(c.name); !st)
    return st;
  if (find_topic(m, c.name))
    return {errc::topic_already_exists, "topic " + c.name + " already exists"};
  if (c.partitions == 0 || c.partitions < -1)
    return {errc::invalid_partitions, "num_partitions " + std::to_string(c.partitions)};
  if (c.replication_factor == 0 || c.replication_factor < -1 ||
      c.replication_factor > live_brokers(m))
    return {errc::invalid_replication_factor,
            "replication factor " + std::to_string(c.replication_factor) + " with " +
              std::to_string(live_brokers(m)) + " live broker(s)"};
  return validate_topic_configs(c.configs);
}

} // namespace

void handle_create_topics(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::CreateTopicsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  auto out = std::make_shared<kafka::CreateTopicsResponse>();
  if (req.topics.empty())
    return reply(self, ctx, *out);
  auto finish = countdown(self, ctx, out, req.topics.size());
  auto gw = self->state.setup.gateway;
  for (size_t i = 0; i < req.topics.size(); ++i) {
    auto& t = req.topics[i];
    kafka::CreateTopicsResponse::CreatableTopicResult r;
    r.name = t.name;
    r.error_message = std::nullopt;
    r.configs = std::nullopt;
    out->topics.push_back(r);
    create_topic_request c{t.name, t.num_partitions, t.replication_factor, {}};
    for (auto& kv : t.configs)
      if (kv.value)
        c.configs[kv.name] = *kv.value;
    auto fail = [out, i](const status& st) {
      auto& res = out->topics[i];
      res.error_code = kafka_code(st.code());
      res.error_message = st.message();
    };
    if (!t.assignments.empty()) {
      fail({errc::invalid_request, "manual replica assignments are not supported: give "
                                   "num_partitions and replication_factor"});
      finish();
      continue;
    }
    // Both paths look at the cluster first: validate_only stops there.
    self->request(gw, gateway_timeout(self), metadata_atom::value, metadata_request{{t.name}})
      .then(
        [self, gw, c, out, i, fail, finish, validate = req.validate_only](const metadata_response& m) {
          if (auto st = check_create(c, m); !st) {
            fail(st);
            return finish();
          }
          auto& res = out->topics[i];
          if (validate) {
            res.num_partitions = c.partitions;
            res.replication_factor = int16_t(c.replication_factor);
            return finish();
          }
          self->request(gw, gateway_timeout(self), create_topic_atom::value, c)
            .then(
              [out, i, finish](const topic_description& d) {
                auto& ok = out->topics[i];
                ok.num_partitions = int32_t(d.partitions.size());
                ok.replication_factor =
                  d.partitions.empty() ? -1 : int16_t(d.partitions.front().replicas.size());
                finish();
              },
              [fail, finish](const caf::error& err) {
                fail({error_code_of(err), describe_error(err)});
                finish();
              });
        },
        [fail, finish](const caf::error& err) {
          fail({error_code_of(err), describe_error(err)});
          finish();
        });
  }
}

void handle_delete_topics(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::DeleteTopicsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  std::vector<std::string> names = req.topic_names;
  for (auto& t : req.topics) {
    if (!t.name) { // by topic id only (v6+): not supported yet
      close_connection(self, "DeleteTopics by topic id is not supported");
      return;
    }
    names.push_back(*t.name);
  }
  auto out = std::make_shared<kafka::DeleteTopicsResponse>();
  if (names.empty())
    return reply(self, ctx, *out);
  auto finish = countdown(self, ctx, out, names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    kafka::DeleteTopicsResponse::DeletableTopicResult r;
    r.name = names[i];
    out->responses.push_back(r);
    self->request(self->state.setup.gateway, gateway_timeout(self), delete_topic_atom::value,
                  names[i])
      .then(
        [finish](bool) { finish(); },
        [out, i, finish](const caf::error& err) {
          out->responses[i].error_code = kafka_code(err);
          out->responses[i].error_message = describe_error(err);
          finish();
        });
  }
}

void handle_create_partitions(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::CreatePartitionsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  auto out = std::make_shared<kafka::CreatePartitionsResponse>();
  if (req.topics.empty())
    return reply(self, ctx, *out);
  auto finish = countdown(self, ctx, out, req.topics.size());
  auto gw = self->state.setup.gateway;
  for (size_t i = 0; i < req.topics.size(); ++i) {
    auto& t = req.topics[i];
    out->results.push_back({t.name, 0, std::nullopt});
    auto fail = [out, i](const status& st) {
      out->results[i].error_code = kafka_code(st.code());
      out->results[i].error_message = st.message();
    };
    if (t.assignments && !t.assignments->empty()) {
      fail({errc::invalid_request, "manual replica assignments are not supported"});
      finish();
      continue;
    }
    self->request(gw, gateway_timeout(self), metadata_atom::value, metadata_request{{t.name}})
      .then(
        [self, gw, name = t.name, count = t.count, fail, finish,
         validate = req.validate_only](const metadata_response& m) {
          auto* d = find_topic(m, name);
          if (!d) {
            fail({errc::unknown_topic_or_partition, "topic " + name + " does not exist"});
            return finish();
          }
          if (count <= int32_t(d->partitions.size())) {
            fail({errc::invalid_partitions, "topic " + name + " has " +
                                              std::to_string(d->partitions.size()) +
                                              " partitions; the new count must be larger"});
            return finish();
          }
          if (validate)
            return finish();
          self->request(gw, gateway_timeout(self), alter_topic_atom::value,
                        alter_topic_request{name, count, {}, {}})
            .then([finish](const topic_description&) { finish(); },
                  [fail, finish](const caf::error& err) {
                    fail({error_code_of(err), describe_error(err)});
                    finish();
                  });
        },
        [fail, finish](const caf::error& err) {
          fail({error_code_of(err), describe_error(err)});
          finish();
        });
  }
}

} // namespace al::kafka_server
