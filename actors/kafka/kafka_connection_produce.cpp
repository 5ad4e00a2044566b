// Kafka listener: Produce (InitProducerId is in kafka_connection_txn.cpp).
// The valid partitions of a Produce request go to the gateway as one
// produce_set_request (each batch's bytes are copied out of the request
// frame once, into the message the partition appends), and the answers come
// back in one reply. Transactional batches go the same way with the
// request's transactional_id: the broker asks that id's coordinator before
// such a batch opens a transaction (KIP-890 part 1, broker_produce.cpp). Requests
// of one connection reach each partition in the order they came (CAF keeps
// the order between two actors, and the broker sends each set's parts in
// order), which idempotent producers with several requests in flight rely
// on.
#include <memory>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/kafka/kafka_server.hpp"
#include "actors/protocol/errors.hpp"
#include "kafka/protocol/generated/produce.hpp"

namespace al::kafka_server {

void handle_produce(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::ProduceRequest req;
  if (!decode(self, ctx, body, req))
    return;
  acks_mode acks;
  switch (req.acks) {
    case 0: acks = acks_mode::none; break;
    case 1: acks = acks_mode::leader; break;
    case -1: acks = acks_mode::all; break;
    default: acks = acks_mode::all; break;
  }
  struct gather {
    kafka::ProduceResponse out;
    size_t left = 0;
  };
  auto g = std::make_shared<gather>();
  bool valid_acks = req.acks == 0 || req.acks == 1 || req.acks == -1;
  for (auto& t : req.topic_data) {
    kafka::ProduceResponse::TopicProduceResponse tr;
    tr.name = t.name;
    tr.partition_responses.resize(t.partition_data.size());
    g->left += t.partition_data.size();
    g->out.responses.push_back(std::move(tr));
  }
  auto finish = [self, ctx, g]() {
    if (--g->left == 0)
      reply(self, ctx, g->out);
  };
  auto fail = [g](size_t ti, size_t pi, errc code, std::string msg) {
    auto& pr = g->out.responses[ti].partition_responses[pi];
    pr.error_code = kafka_code(code);
    pr.base_offset = -1;
    pr.error_message = std::move(msg);
  };
  if (g->left == 0) {
    if (req.acks == 0)
      return reply_nothing(self, ctx);
    return reply(self, ctx, g->out);
  }
  produce_set_request set;
  set.acks = acks;
  set.timeout_ms = std::max(0, req.timeout_ms);
  set.transactional_id = req.transactional_id.value_or("");
  std::vector<std::pair<size_t, size_t>> where; // set.parts[k] answers (topic, partition)
  for (size_t ti = 0; ti < req.topic_data.size(); ++ti) {
    auto& t = req.topic_data[ti];
    for (size_t pi = 0; pi < t.partition_data.size(); ++pi) {
      auto& p = t.partition_data[pi];
      g->out.responses[ti].partition_responses[pi].index = p.index;
      if (!valid_acks) {
        fail(ti, pi, errc::invalid_required_acks, "acks " + std::to_string(req.acks));
        finish();
        continue;
      }
      if (p.records.is_null || p.records.size == 0) {
        fail(ti, pi, errc::invalid_record, "no record batch for this partition");
        finish();
        continue;
      }
      // Magic 2 (RecordBatch) only: Kafka 4 dropped the older formats, and
      // actorlog never stored them. Byte 16 of a batch is its magic.
      if (p.records.size < 17 || p.records.data[16] != 2) {
        fail(ti, pi, errc::unsupported_for_message_format,
             "only record batches of magic 2 are accepted (got " +
               (p.records.size < 17 ? std::string("a truncated batch")
                                    : "magic " + std::to_string(int(p.records.data[16]))) +
               ")");
        finish();
        continue;
      }
      produce_part part;
      part.topic = t.name;
      part.partition = p.index;
      part.batch.assign(p.records.data, p.records.data + p.records.size);
      set.parts.push_back(std::move(part));
      where.emplace_back(ti, pi);
    }
  }
  if (!set.parts.empty()) {
    auto timeout = untimed(self, ctx, set.timeout_ms);
    self->request(self->state.setup.gateway, timeout, produce_atom::value, std::move(set))
      .then(
        [g, where, fail, finish](const produce_set_response& r) {
          for (size_t k = 0; k < where.size(); ++k) {
            auto [ti, pi] = where[k];
            if (k >= r.results.size()) {
              fail(ti, pi, errc::unknown_server_error, "no answer for this partition");
            } else if (auto& one = r.results[k]; one.error != errc::none) {
              fail(ti, pi, one.error, one.message);
            } else {
              auto& out = g->out.responses[ti].partition_responses[pi];
              out.base_offset = one.response.base_offset;
              out.log_append_time_ms = one.response.log_append_time;
              out.log_start_offset = one.response.log_start_offset;
              out.error_message = std::nullopt;
            }
            finish();
          }
        },
        [where, fail, finish](const caf::error& err) {
          for (auto [ti, pi] : where) {
            fail(ti, pi, error_code_of(err), describe_error(err));
            finish();
          }
        });
  }
  // acks=0: the client reads no answer; the appends above still happen, in order.
  if (req.acks == 0)
    reply_nothing(self, ctx);
}

} // namespace al::kafka_server
