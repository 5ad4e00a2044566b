// Kafka listener: producer ids and transactions (issue 16, KIP-98).
// InitProducerId (idempotent, or with a transactional.id), AddPartitionsToTxn
// v0-3, EndTxn, DescribeTransactions, ListTransactions go to the
// transactional id's coordinator through the gateway (NOT_COORDINATOR when
// another node has it, as in Kafka); the coordinator's error comes back
// inside txn_response and becomes the Kafka error code.
//
// Kafka's clients before KIP-890 part 2 (EndTxn v0-4, every client this
// listener serves) keep their producer epoch from one transaction to the
// next, so their EndTxn asks the coordinator not to bump it
// (txn_end_request::bump_epoch = false: Kafka's transaction version 1).
// AddOffsetsToTxn goes to the transactional id's coordinator (the broker
// names the group's __consumer_offsets partition), TxnOffsetCommit to the
// group's coordinator (NOT_COORDINATOR elsewhere).
#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "actors/kafka/kafka_server.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/clock.hpp"
#include "kafka/protocol/generated/add_offsets_to_txn.hpp"
#include "kafka/protocol/generated/add_partitions_to_txn.hpp"
#include "kafka/protocol/generated/describe_transactions.hpp"
#include "kafka/protocol/generated/end_txn.hpp"
#include "kafka/protocol/generated/init_producer_id.hpp"
#include "kafka/protocol/generated/list_transactions.hpp"
#include "kafka/protocol/generated/txn_offset_commit.hpp"

namespace al::kafka_server {

namespace {

/// Kafka's OPERATION_NOT_ATTEMPTED: the other partitions of an
/// AddPartitionsToTxn that names an unknown one (no errc: nothing else
/// answers it).
constexpr int16_t operation_not_attempted = 55;

/// The Kafka code of a coordinator's answer. Versions that predate
/// PRODUCER_FENCED (KIP-588) get INVALID_PRODUCER_EPOCH, as Kafka answers
/// them: InitProducerId v0-3, AddPartitionsToTxn and EndTxn v0-1.
int16_t txn_code(errc e, bool knows_fenced) {
  if (e == errc::producer_fenced && !knows_fenced)
    e = errc::invalid_producer_epoch;
  return kafka_code(e);
}

/// A gateway that cannot reach the coordinator: the client looks it up again.
int16_t txn_code(const caf::error& err) {
  auto code = error_code_of(err);
  if (code == errc::request_timed_out || code == errc::network_exception)
    code = errc::coordinator_not_available;
  return kafka_code(code);
}

void init_idempotent(conn_ptr self, const request_ctx& ctx) {
  self->request(self->state.setup.gateway, gateway_timeout(self), init_pid_atom::value)
    .then(
      [self, ctx](const producer_id_response& r) {
        kafka::InitProducerIdResponse ok;
        ok.producer_id = r.producer_id;
        ok.producer_epoch = r.producer_epoch;
        reply(self, ctx, ok);
      },
      [self, ctx](const caf::error& err) {
        kafka::InitProducerIdResponse bad;
        bad.error_code = txn_code(err); // the controller is moving: retriable
        bad.producer_epoch = -1;
        reply(self, ctx, bad);
      });
}

void init_transactional(conn_ptr self, const request_ctx& ctx,
                        const kafka::InitProducerIdRequest& req) {
  txn_init_request r;
  r.transactional_id = *req.transactional_id;
  r.timeout_ms = req.transaction_timeout_ms;
  if (ctx.version >= 3) { // KIP-360: continue from a known id and epoch
    r.producer_id = req.producer_id;
    r.producer_epoch = req.producer_epoch;
  }
  self->request(self->state.setup.gateway, gateway_timeout(self), init_pid_atom::value, r)
    .then(
      [self, ctx](const txn_response& answer) {
        kafka::InitProducerIdResponse out;
        bool ok = answer.error == errc::none;
        out.error_code = txn_code(answer.error, ctx.version >= 4);
        out.producer_id = ok ? answer.producer_id : -1;
        out.producer_epoch = ok ? answer.producer_epoch : int16_t(-1);
        reply(self, ctx, out);
      },
      [self, ctx](const caf::error& err) {
        kafka::InitProducerIdResponse out;
        out.error_code = txn_code(err);
        out.producer_epoch = -1;
        reply(self, ctx, out);
      });
}

using add_request = kafka::AddPartitionsToTxnRequest;
using add_response = kafka::AddPartitionsToTxnResponse;

/// One code per partition, in the request's layout (v0-3).
add_response add_answer(const add_request& req,
                        const std::function<int16_t(const std::string&, int32_t)>& code_of) {
  add_response out;
  for (auto& t : req.v3_and_below_topics) {
    add_response::AddPartitionsToTxnTopicResult tr;
    tr.name = t.name;
    for (auto p : t.partitions)
      tr.results_by_partition.push_back({p, code_of(t.name, p)});
    out.results_by_topic_v3_and_below.push_back(std::move(tr));
  }
  return out;
}

void add_to_coordinator(conn_ptr self, const request_ctx& ctx, std::shared_ptr<add_request> req) {
  txn_add_partitions_request r;
  r.transactional_id = req->v3_and_below_transactional_id;
  r.producer_id = req->v3_and_below_producer_id;
  r.producer_epoch = req->v3_and_below_producer_epoch;
  for (auto& t : req->v3_and_below_topics)
    for (auto p : t.partitions)
      r.partitions.push_back({t.name, p});
  bool knows_fenced = ctx.version >= 2;
  self->request(self->state.setup.gateway, gateway_timeout(self), txn_add_atom::value,
                std::move(r))
    .then(
      [self, ctx, req, knows_fenced](const txn_response& answer) {
        auto code = txn_code(answer.error, knows_fenced);
        reply(self, ctx, add_answer(*req, [code](const std::string&, int32_t) { return code; }));
      },
      [self, ctx, req](const caf::error& err) {
        auto code = txn_code(err);
        reply(self, ctx, add_answer(*req, [code](const std::string&, int32_t) { return code; }));
      });
}

std::string state_name(txn_state s) { return std::string(to_string(s)); }

/// Kafka's transaction state names (TransactionState.java), for the
/// ListTransactions filters; PrepareEpochFence is Kafka's and never held here.
bool known_state_name(const std::string& name) {
  static const std::set<std::string> names = {"Empty",          "Ongoing",       "PrepareCommit",
                                              "PrepareAbort",   "CompleteCommit", "CompleteAbort",
                                              "Dead",           "PrepareEpochFence"};
  return names.count(name) > 0;
}

/// An id DescribeTransactions could not describe; its error code is set by the caller.
kafka::DescribeTransactionsResponse::TransactionState not_described(const std::string& id) {
  kafka::DescribeTransactionsResponse::TransactionState s;
  s.transactional_id = id;
  s.producer_id = -1;
  s.producer_epoch = -1;
  s.transaction_start_time_ms = -1;
  return s;
}

kafka::DescribeTransactionsResponse::TransactionState described(const txn_description& d) {
  kafka::DescribeTransactionsResponse::TransactionState s;
  s.transactional_id = d.transactional_id;
  s.transaction_state = state_name(d.state);
  s.transaction_timeout_ms = d.timeout_ms;
  s.transaction_start_time_ms = d.start_ms;
  s.producer_id = d.producer_id;
  s.producer_epoch = d.producer_epoch;
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (auto& tp : d.partitions)
    by_topic[tp.topic].push_back(tp.partition);
  for (auto& [topic, parts] : by_topic)
    s.topics.push_back({topic, parts});
  return s;
}

} // namespace

void handle_init_producer_id(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::InitProducerIdRequest req;
  if (!decode(self, ctx, body, req))
    return;
  if (!req.transactional_id)
    return init_idempotent(self, ctx);
  init_transactional(self, ctx, req); // an empty id is refused there (INVALID_REQUEST)
}

void handle_add_partitions_to_txn(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  auto req = std::make_shared<add_request>();
  if (!decode(self, ctx, body, *req))
    return;
  // As Kafka: unknown partitions get UNKNOWN_TOPIC_OR_PARTITION, the others
  // OPERATION_NOT_ATTEMPTED, and nothing is added.
  metadata_request m;
  for (auto& t : req->v3_and_below_topics)
    m.topics.push_back(t.name);
  if (m.topics.empty())
    return add_to_coordinator(self, ctx, req);
  self->request(self->state.setup.gateway, gateway_timeout(self), metadata_atom::value,
                std::move(m))
    .then(
      [self, ctx, req](const metadata_response& meta) {
        std::map<std::string, size_t> partitions;
        for (auto& t : meta.topics)
          partitions[t.name] = t.partitions.size();
        auto known = [&partitions](const std::string& topic, int32_t p) {
          auto i = partitions.find(topic);
          return i != partitions.end() && p >= 0 && size_t(p) < i->second;
        };
        bool all_known = true;
        for (auto& t : req->v3_and_below_topics)
          for (auto p : t.partitions)
            all_known = all_known && known(t.name, p);
        if (all_known)
          return add_to_coordinator(self, ctx, req);
        reply(self, ctx, add_answer(*req, [&known](const std::string& topic, int32_t p) {
                return known(topic, p) ? operation_not_attempted
                                       : kafka_code(errc::unknown_topic_or_partition);
              }));
      },
      [self, ctx, req](const caf::error& err) {
        auto code = txn_code(err);
        reply(self, ctx, add_answer(*req, [code](const std::string&, int32_t) { return code; }));
      });
}

void handle_end_txn(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::EndTxnRequest req;
  if (!decode(self, ctx, body, req))
    return;
  txn_end_request r;
  r.transactional_id = req.transactional_id;
  r.producer_id = req.producer_id;
  r.producer_epoch = req.producer_epoch;
  r.commit = req.committed;
  r.bump_epoch = false; // EndTxn v0-4: the client keeps its epoch (see the top)
  self->request(self->state.setup.gateway, gateway_timeout(self), txn_end_atom::value,
                std::move(r))
    .then(
      [self, ctx](const txn_response& answer) {
        kafka::EndTxnResponse out;
        out.error_code = txn_code(answer.error, ctx.version >= 2);
        reply(self, ctx, out);
      },
      [self, ctx](const caf::error& err) {
        kafka::EndTxnResponse out;
        out.error_code = txn_code(err);
        reply(self, ctx, out);
      });
}

void handle_describe_transactions(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::DescribeTransactionsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  auto out = std::make_shared<kafka::DescribeTransactionsResponse>();
  auto ids = req.transactional_ids;
  if (ids.empty())
    return reply(self, ctx, *out);
  auto gw = self->state.setup.gateway;
  self->request(gw, gateway_timeout(self), txn_describe_atom::value, ids)
    .then(
      [self, ctx, out, ids, gw](const std::vector<txn_description>& found) {
        // The gateway's broker answers an error for the ids it cannot
        // describe (not its own, its coordinator loading) and leaves out the
        // unknown ones; for those FindCoordinator tells whether another node
        // coordinates them (Kafka answers NOT_COORDINATOR or
        // TRANSACTIONAL_ID_NOT_FOUND).
        std::vector<size_t> missing;
        for (size_t i = 0; i < ids.size(); ++i) {
          auto d = std::find_if(found.begin(), found.end(), [&](const txn_description& x) {
            return x.transactional_id == ids[i];
          });
          kafka::DescribeTransactionsResponse::TransactionState s;
          if (d != found.end() && d->error != errc::none) {
            s = not_described(ids[i]); // NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ...
            s.error_code = kafka_code(d->error);
          } else if (d != found.end()) {
            s = described(*d);
          } else {
            s = not_described(ids[i]);
            missing.push_back(i);
          }
          out->transaction_states.push_back(std::move(s));
        }
        if (missing.empty())
          return reply(self, ctx, *out);
        auto done = countdown(self, ctx, out, missing.size());
        int32_t me = self->state.setup.node_id;
        for (auto i : missing)
          self->request(gw, gateway_timeout(self), find_coordinator_atom::value,
                        txn_coordinator_atom::value, ids[i])
            .then(
              [out, i, me, done](const coordinator_info& c) {
                out->transaction_states[i].error_code = kafka_code(
                  c.node_id == me ? errc::transactional_id_not_found : errc::not_coordinator);
                done();
              },
              [out, i, done](const caf::error& err) {
                out->transaction_states[i].error_code = txn_code(err);
                done();
              });
      },
      [self, ctx, out, ids](const caf::error& err) {
        for (auto& id : ids) {
          kafka::DescribeTransactionsResponse::TransactionState s;
          s.error_code = txn_code(err);
          s.transactional_id = id;
          s.producer_id = -1;
          s.producer_epoch = -1;
          out->transaction_states.push_back(std::move(s));
        }
        reply(self, ctx, *out);
      });
}

void handle_list_transactions(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::ListTransactionsRequest req;
  if (!decode(self, ctx, body, req))
    return;
  kafka::ListTransactionsResponse out;
  std::set<std::string> states; // the known names asked for
  for (auto& s : req.state_filters) {
    if (known_state_name(s))
      states.insert(s);
    else
      out.unknown_state_filters.push_back(s);
  }
  std::set<int64_t> pids(req.producer_id_filters.begin(), req.producer_id_filters.end());
  int64_t duration = ctx.version >= 1 ? req.duration_filter : -1;
  // Only what this node coordinates: Kafka's admin client asks every broker.
  self->request(self->state.setup.gateway, gateway_timeout(self), txn_list_atom::value)
    .then(
      [self, ctx, out, states, pids, duration, by_state = !req.state_filters.empty()](
        const std::vector<txn_description>& all) mutable {
        auto now = wall_clock_ms();
        for (auto& d : all) {
          auto name = state_name(d.state);
          // As Kafka's TransactionStateManager.listTransactionStates.
          if (d.state == txn_state::dead || (by_state && !states.count(name)) ||
              (!pids.empty() && !pids.count(d.producer_id)) ||
              (duration >= 0 && now - d.start_ms <= duration))
            continue;
          out.transaction_states.push_back({d.transactional_id, d.producer_id, name});
        }
        reply(self, ctx, out);
      },
      [self, ctx, out](const caf::error& err) mutable {
        out.error_code = txn_code(err);
        reply(self, ctx, out);
      });
}

void handle_add_offsets_to_txn(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::AddOffsetsToTxnRequest req;
  if (!decode(self, ctx, body, req))
    return;
  txn_add_offsets_request r{req.transactional_id, req.producer_id, req.producer_epoch,
                            req.group_id};
  self->request(self->state.setup.gateway, gateway_timeout(self), txn_add_atom::value,
                std::move(r))
    .then(
      [self, ctx](const txn_response& answer) {
        kafka::AddOffsetsToTxnResponse out;
        out.error_code = txn_code(answer.error, ctx.version >= 2);
        reply(self, ctx, out);
      },
      [self, ctx](const caf::error& err) {
        kafka::AddOffsetsToTxnResponse out;
        out.error_code = txn_code(err);
        reply(self, ctx, out);
      });
}

void handle_txn_offset_commit(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::TxnOffsetCommitRequest req;
  if (!decode(self, ctx, body, req))
    return;
  txn_offset_commit_request r;
  r.transactional_id = req.transactional_id;
  r.producer_id = req.producer_id;
  r.producer_epoch = req.producer_epoch;
  r.generation_id = req.generation_id;
  r.member_id = req.member_id;
  for (auto& t : req.topics)
    for (auto& p : t.partitions)
      r.offsets[topic_partition{t.name, p.partition_index}] = offset_and_metadata{
        p.committed_offset, p.committed_metadata.value_or(""), p.committed_leader_epoch};
  // The answer names every partition asked for, with its code.
  auto answer = [req](auto code_of) {
    kafka::TxnOffsetCommitResponse out;
    for (auto& t : req.topics) {
      kafka::TxnOffsetCommitResponse::TxnOffsetCommitResponseTopic rt;
      rt.name = t.name;
      for (auto& p : t.partitions)
        rt.partitions.push_back({p.partition_index, code_of(topic_partition{t.name, p.partition_index})});
      out.topics.push_back(std::move(rt));
    }
    return out;
  };
  bool knows_fenced = ctx.version >= 3;
  self->request(self->state.setup.gateway, gateway_timeout(self), offset_commit_atom::value,
                req.group_id, std::move(r))
    .then(
      [self, ctx, answer, knows_fenced](const offset_commit_response& resp) {
        reply(self, ctx, answer([&](const topic_partition& tp) {
          auto e = resp.partition_errors.find(tp);
          return txn_code(e != resp.partition_errors.end() ? e->second : resp.error, knows_fenced);
        }));
      },
      [self, ctx, answer](const caf::error& err) {
        auto code = txn_code(err);
        reply(self, ctx, answer([code](const topic_partition&) { return code; }));
      });
}

} // namespace al::kafka_server
