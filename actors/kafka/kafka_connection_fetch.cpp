// Kafka listener: Fetch and ListOffsets.
//
// A Kafka fetch names many partitions and waits until min_bytes are ready
// across them or max_wait_ms passes. The gateway fetches one partition at a
// time, so: (1) every partition is read at once without waiting; enough
// bytes, an error, or max_wait_ms 0 answer right away; (2) otherwise every
// partition is asked again, waiting up to max_wait_ms for one byte; the
// first of those to come back (data or time) ends the wait, and (3) every
// partition is read once more without waiting, and that is the answer. The
// other waits are left to expire at their partitions (reads change nothing).
// Reads stop at the high watermark (read_uncommitted, isolation_level 0) or
// at the last stable offset (read_committed, 1: the partition also lists the
// aborted transactions of the range, which the client skips); every answer
// carries the partition's last stable offset.
//
// Fetch v13+ names topics by id (KIP-516): one metadata round trip per fetch
// maps the ids to names (no cache, so a topic deleted and created again under
// its name, with a new id, is never read under the old id); an unknown id
// answers its partitions with UNKNOWN_TOPIC_ID without a read.
#include <map>
#include <memory>

#include <spdlog/spdlog.h>

#include "actors/kafka/kafka_server.hpp"
#include "actors/protocol/errors.hpp"
#include "actors/store/metadata_view_store.hpp"
#include "kafka/protocol/generated/fetch.hpp"
#include "kafka/protocol/generated/list_offsets.hpp"
#include "kafka/protocol/generated/offset_for_leader_epoch.hpp"

namespace al::kafka_server {

namespace {

struct fetch_target {
  size_t topic = 0;
  size_t index = 0; // position in the answer
  fetch_request req;
};

/// A partition answered with an error and no read (v13+: an unknown topic id).
struct refused_partition {
  size_t topic = 0;
  size_t index = 0;
  int32_t partition = 0;
  errc error = errc::none;
};

struct fetch_round {
  kafka::FetchRequest req;
  std::vector<fetch_target> targets;
  std::vector<refused_partition> refused;
  std::vector<std::optional<fetch_response>> results;
  std::vector<errc> errors;
  std::vector<std::string> messages;
  size_t left = 0;
  bool waiting_done = false;
};

void answer_fetch(conn_ptr self, const request_ctx& ctx, const std::shared_ptr<fetch_round>& f) {
  kafka::FetchResponse out;
  out.session_id = 0; // no fetch sessions: every fetch is a full one (KIP-227 allows this)
  for (auto& t : f->req.topics) {
    kafka::FetchResponse::FetchableTopicResponse tr;
    tr.topic = t.topic;
    if (ctx.version >= 13)
      tr.topic_id = t.topic_id;
    tr.partitions.resize(t.partitions.size());
    out.responses.push_back(std::move(tr));
  }
  for (auto& r : f->refused) {
    auto& pd = out.responses[r.topic].partitions[r.index];
    pd.partition_index = r.partition;
    pd.error_code = kafka_code(r.error);
    pd.high_watermark = -1;
    pd.aborted_transactions = std::nullopt;
    pd.records = kafka::records_view::of(nullptr, 0);
  }
  int64_t budget = std::max(0, f->req.max_bytes);
  bool first = true;
  for (size_t i = 0; i < f->targets.size(); ++i) {
    auto& tg = f->targets[i];
    auto& pd = out.responses[tg.topic].partitions[tg.index];
    pd.partition_index = tg.req.partition;
    pd.aborted_transactions = std::nullopt;
    if (f->errors[i] != errc::none || !f->results[i]) {
      pd.error_code = kafka_code(f->errors[i] != errc::none ? f->errors[i] : errc::unknown_server_error);
      pd.high_watermark = -1;
      pd.records = kafka::records_view::of(nullptr, 0);
      continue;
    }
    auto& r = *f->results[i];
    pd.high_watermark = r.high_watermark;
    pd.last_stable_offset = r.last_stable_offset >= 0 ? r.last_stable_offset : r.high_watermark;
    if (tg.req.isolation == fetch_isolation::read_committed) { // null for read_uncommitted
      pd.aborted_transactions.emplace();
      for (auto& a : r.aborted)
        pd.aborted_transactions->push_back({a.producer_id, a.first_offset});
    }
    pd.log_start_offset = r.log_start_offset;
    // fetch.max.bytes over the whole answer; the first batch goes whatever its size.
    if (!r.records.empty() && (first || int64_t(r.records.size()) <= budget)) {
      pd.records = kafka::records_view::of(r.records.data(), r.records.size());
      budget -= int64_t(r.records.size());
      first = false;
    } else {
      pd.records = kafka::records_view::of(nullptr, 0);
    }
  }
  reply(self, ctx, out);
}

/// Reads every partition once with `max_wait_ms`/`min_bytes`, then calls done.
void read_all(conn_ptr self, const request_ctx& ctx, const std::shared_ptr<fetch_round>& f,
              int32_t max_wait_ms,
              int32_t min_bytes, std::function<void()> done) {
  f->left = f->targets.size();
  for (size_t i = 0; i < f->targets.size(); ++i) {
    auto r = f->targets[i].req;
    r.max_wait_ms = max_wait_ms;
    r.min_bytes = min_bytes;
    self->request(self->state.setup.gateway, untimed(self, ctx, max_wait_ms), fetch_atom::value,
                  std::move(r))
      .then(
        [f, i, done](fetch_response& resp) {
          f->results[i] = std::move(resp);
          f->errors[i] = errc::none;
          if (--f->left == 0)
            done();
        },
        [f, i, done](const caf::error& err) {
          f->results[i].reset();
          f->errors[i] = error_code_of(err);
          if (--f->left == 0)
            done();
        });
  }
}

int64_t ready_bytes(const fetch_round& f) {
  int64_t n = 0;
  for (auto& r : f.results)
    if (r)
      n += int64_t(r->records.size());
  return n;
}

bool any_error(const fetch_round& f) {
  for (auto e : f.errors)
    if (e != errc::none)
      return true;
  return false;
}

fetch_target make_target(size_t ti, size_t pi, const kafka::FetchRequest::FetchPartition& p,
                         const std::string& topic, int8_t isolation_level) {
  fetch_target tg;
  tg.req.isolation = isolation_level == 1 ? fetch_isolation::read_committed
                                          : fetch_isolation::high_watermark;
  tg.topic = ti;
  tg.index = pi;
  tg.req.topic = topic;
  tg.req.partition = p.partition;
  tg.req.offset = p.fetch_offset;
  tg.req.max_bytes = std::max(1, p.partition_max_bytes);
  tg.req.current_leader_epoch = p.current_leader_epoch;
  return tg;
}

/// Reads the targets: at once, or after waiting for data (see the top).
void start_fetch(conn_ptr self, const request_ctx& ctx, const std::shared_ptr<fetch_round>& f) {
  auto& req = f->req;
  f->results.resize(f->targets.size());
  f->errors.assign(f->targets.size(), errc::none);
  if (f->targets.empty())
    return answer_fetch(self, ctx, f);
  if (ctx.version < 4) {
    // Fetch v0-3 expects message sets of magic 0/1; actorlog stores magic 2
    // and does not convert down (advertised so librdkafka enables its features).
    f->errors.assign(f->targets.size(), errc::unsupported_for_message_format);
    return answer_fetch(self, ctx, f);
  }
  int32_t max_wait = std::max(0, req.max_wait_ms);
  read_all(self, ctx, f, 0, 0, [self, ctx, f, max_wait]() {
    if (max_wait == 0 || any_error(*f) || ready_bytes(*f) >= std::max(1, f->req.min_bytes))
      return answer_fetch(self, ctx, f);
    // Wait for the first partition with data (or the time), then read all.
    auto waiting = std::make_shared<bool>(true);
    for (auto& tg : f->targets) {
      auto r = tg.req;
      r.max_wait_ms = max_wait;
      r.min_bytes = 1;
      self->request(self->state.setup.gateway, untimed(self, ctx, max_wait), fetch_atom::value,
                    std::move(r))
        .then(
          [self, ctx, f, waiting](const fetch_response&) {
            if (!*waiting)
              return;
            *waiting = false;
            read_all(self, ctx, f, 0, 0, [self, ctx, f]() { answer_fetch(self, ctx, f); });
          },
          [self, ctx, f, waiting](const caf::error&) {
            if (!*waiting)
              return;
            *waiting = false;
            read_all(self, ctx, f, 0, 0, [self, ctx, f]() { answer_fetch(self, ctx, f); });
          });
    }
  });
}

/// Fetch v13+: topic ids to names (one metadata round trip), then the same
/// reads. The replica id (v15+: in ReplicaState) goes to the gateway, which
/// refuses anything but a consumer's -1 (CLUSTER_AUTHORIZATION_FAILED).
/// ReplicaDirectoryId (v17) is a follower's and ignored; NodeEndpoints (v16)
/// stays empty (it names leaders for NOT_LEADER_OR_FOLLOWER answers).
void fetch_by_topic_id(conn_ptr self, const request_ctx& ctx,
                       const std::shared_ptr<fetch_round>& f) {
  if (f->req.topics.empty())
    return answer_fetch(self, ctx, f);
  self->request(self->state.setup.gateway, gateway_timeout(self), metadata_atom::value,
                metadata_request{})
    .then(
      [self, ctx, f](const metadata_response& m) {
        std::map<topic_uuid, const std::string*> names;
        for (auto& t : m.topics)
          if (auto id = parse_topic_id(t.topic_id); id != topic_uuid{})
            names.emplace(id, &t.name);
        auto& req = f->req;
        bool v15 = ctx.version >= 15;
        for (size_t ti = 0; ti < req.topics.size(); ++ti) {
          auto i = names.find(req.topics[ti].topic_id.bytes); // the zero id is nobody's
          for (size_t pi = 0; pi < req.topics[ti].partitions.size(); ++pi) {
            auto& p = req.topics[ti].partitions[pi];
            if (i == names.end()) {
              f->refused.push_back({ti, pi, p.partition, errc::unknown_topic_id});
              continue;
            }
            auto tg = make_target(ti, pi, p, *i->second, req.isolation_level);
            tg.req.replica_id = v15 ? req.replica_state.replica_id : req.replica_id;
            if (v15)
              tg.req.replica_epoch = req.replica_state.replica_epoch;
            f->targets.push_back(std::move(tg));
          }
        }
        start_fetch(self, ctx, f);
      },
      [self, ctx, f](const caf::error& err) { // every partition fails as its read would
        auto code = error_code_of(err);
        auto& topics = f->req.topics;
        for (size_t ti = 0; ti < topics.size(); ++ti)
          for (size_t pi = 0; pi < topics[ti].partitions.size(); ++pi)
            f->refused.push_back({ti, pi, topics[ti].partitions[pi].partition, code});
        answer_fetch(self, ctx, f);
      });
}

} // namespace

void handle_fetch(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  auto f = std::make_shared<fetch_round>();
  if (!decode(self, ctx, body, f->req))
    return;
  auto& req = f->req;
  if (req.session_id != 0 || req.session_epoch > 0) {
    kafka::FetchResponse out; // we never hand out a session, so none can be continued
    out.error_code = kafka_code(errc::fetch_session_id_not_found); // FETCH_SESSION_ID_NOT_FOUND
    return reply(self, ctx, out);
  }
  // Forgotten topics (v7+) only matter within a session: every fetch is a full one.
  if (ctx.version >= 13)
    return fetch_by_topic_id(self, ctx, f);
  for (size_t ti = 0; ti < req.topics.size(); ++ti) {
    auto& t = req.topics[ti];
    for (size_t pi = 0; pi < t.partitions.size(); ++pi)
      f->targets.push_back(make_target(ti, pi, t.partitions[pi], t.topic, req.isolation_level));
  }
  start_fetch(self, ctx, f);
}

void handle_list_offsets(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::ListOffsetsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  auto g = std::make_shared<kafka::ListOffsetsResponse>();
  size_t n = 0;
  for (auto& t : req.topics) {
    kafka::ListOffsetsResponse::ListOffsetsTopicResponse tr;
    tr.name = t.name;
    tr.partitions.resize(t.partitions.size());
    n += t.partitions.size();
    g->topics.push_back(std::move(tr));
  }
  if (n == 0)
    return reply(self, ctx, *g);
  auto finish = countdown(self, ctx, g, n);
  for (size_t ti = 0; ti < req.topics.size(); ++ti)
    for (size_t pi = 0; pi < req.topics[ti].partitions.size(); ++pi) {
      auto& p = req.topics[ti].partitions[pi];
      auto& out = g->topics[ti].partitions[pi];
      out.partition_index = p.partition_index;
      int64_t ts = p.timestamp;
      if (ts == -3) // MAX_TIMESTAMP (KIP-734): not indexed here
        ts = latest_timestamp;
      if (ts < -2) {
        out.error_code = kafka_code(errc::invalid_request);
        finish();
        continue;
      }
      // read_committed (v2+): LATEST is the last stable offset.
      auto isolation = req.isolation_level == 1 ? fetch_isolation::read_committed
                                                : fetch_isolation::high_watermark;
      self->request(self->state.setup.gateway, gateway_timeout(self), list_offsets_atom::value,
                    list_offsets_request{req.topics[ti].name, p.partition_index, ts, isolation})
        .then(
          [g, ti, pi, finish, v0 = ctx.version == 0](const list_offsets_response& r) {
            auto& o = g->topics[ti].partitions[pi];
            if (v0) {
              o.old_style_offsets = {r.offset};
            } else {
              o.offset = r.offset;
              o.timestamp = r.timestamp;
            }
            finish();
          },
          [g, ti, pi, finish](const caf::error& err) {
            g->topics[ti].partitions[pi].error_code = kafka_code(err);
            finish();
          });
    }
}

} // namespace al::kafka_server

namespace al::kafka_server {

void handle_offset_for_leader_epoch(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::OffsetForLeaderEpochRequest req;
  if (!decode(self, ctx, body, req))
    return;
  auto out = std::make_shared<kafka::OffsetForLeaderEpochResponse>();
  size_t n = 0;
  for (auto& t : req.topics) {
    kafka::OffsetForLeaderEpochResponse::OffsetForLeaderTopicResult tr;
    tr.topic = t.topic;
    tr.partitions.resize(t.partitions.size());
    n += t.partitions.size();
    out->topics.push_back(std::move(tr));
  }
  if (n == 0)
    return reply(self, ctx, *out);
  auto done = countdown(self, ctx, out, n);
  for (size_t ti = 0; ti < req.topics.size(); ++ti)
    for (size_t pi = 0; pi < req.topics[ti].partitions.size(); ++pi) {
      auto& p = req.topics[ti].partitions[pi];
      out->topics[ti].partitions[pi].partition = p.partition;
      offsets_for_epoch_request q;
      q.current_leader_epoch = p.current_leader_epoch;
      q.requested_epoch = p.leader_epoch;
      self->request(self->state.setup.gateway, gateway_timeout(self), epoch_query_atom::value,
                    topic_partition{req.topics[ti].topic, p.partition}, q)
        .then(
          [out, ti, pi, done, v = ctx.version](const offsets_for_epoch_response& r) {
            auto& e = out->topics[ti].partitions[pi];
            e.error_code = kafka_code(r.error);
            if (v >= 1)
              e.leader_epoch = r.epoch;
            e.end_offset = r.end_offset;
            done();
          },
          [out, ti, pi, done](const caf::error& err) {
            out->topics[ti].partitions[pi].error_code = kafka_code(err);
            done();
          });
    }
}

} // namespace al::kafka_server
