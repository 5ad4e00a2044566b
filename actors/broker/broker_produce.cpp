// The broker's side of Kafka's ProduceRequest over several partitions
// (produce_set_request): each partition's batch goes to its partition actor
// as an ordinary produce_request (a local message, sent in the request's
// order, so requests of one client reach each partition in the order they
// came), and the answers are gathered into one reply. A client sends one
// such request per leader broker instead of one per partition: with 10 000
// partitions that is what keeps the node's network thread and timers out
// of the per-partition cost (issue 15).
//
// A transactional batch that would open a transaction is held until the
// coordinator of the request's transactional.id confirms the producer has
// that partition in its ongoing transaction (KIP-890 part 1,
// txn_verify_machine.hpp); batches and markers reach the partition in the
// order this actor handles them.
#include <optional>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_actor.hpp"
#include "actors/broker/broker_peer_call.hpp"
#include "actors/broker/broker_txn.hpp"
#include "actors/controller/image_lookup.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/batch_header.hpp"
#include "storage/bytes.hpp"
#include "storage/clock.hpp"

namespace al {

namespace {

using self_ptr = broker_api::stateful_pointer<broker_state>;

/// Partitions in one request at most. A client never needs more than its
/// partitions on one broker; the bound keeps a hostile request from
/// queueing millions of messages (each part also needs a batch, so the
/// frame size limit bounds it as well).
constexpr size_t max_parts = 100000;

/// Grace after timeout_ms before the broker answers the parts still open
/// itself (a partition actor answers its acks=all waits by timeout_ms).
constexpr int64_t expiry_grace_ms = 1000;

void fill_error(produce_part_result& r, const caf::error& err) {
  r.error = error_code_of(err);
  if (r.error == errc::none)
    r.error = errc::unknown_server_error;
  auto& ctx = err.context();
  if (err.category() == error_category && !ctx.empty() && ctx.match_elements<std::string>())
    r.message = ctx.get_as<std::string>(0);
  else
    r.message = describe_error(err);
}

int32_t leader_epoch_of(const broker_state& st, const topic_partition& tp) {
  auto* p = find_partition(st.image, tp.topic, tp.partition);
  return p ? p->leader_epoch : -1;
}

/// How long the broker waits for a coordinator's confirmation; the batch
/// then fails with NOT_ENOUGH_REPLICAS and the client retries it.
constexpr std::chrono::milliseconds verify_timeout{10000};

} // namespace

struct produce_gather {
  produce_set_response out;
  std::vector<bool> done; // parts answered
  size_t left = 0;
  caf::typed_response_promise<produce_set_response> rp;
  uint64_t id = 0; // in broker_state::produce_sets while nonzero
  bool answered = false;

  /// Part i answered; false when the set was answered already (expired).
  bool take(size_t i) {
    if (answered)
      return false;
    done[i] = true;
    return true;
  }
  void finish_one(self_ptr self) {
    if (--left == 0)
      answer(self);
  }
  void answer(self_ptr self) {
    if (answered)
      return;
    answered = true;
    if (id != 0)
      self->state.produce_sets.erase(id);
    rp.deliver(std::move(out));
  }
};

std::optional<std::pair<int64_t, int16_t>> transactional_producer(const bytes& batch) {
  if (batch.size() < batch_layout::header_size ||
      int8_t(batch[batch_layout::magic]) != current_magic)
    return std::nullopt;
  auto attrs = load_be<int16_t>(batch.data() + batch_layout::attributes);
  if (!(attrs & batch_attr::transactional) || (attrs & batch_attr::control))
    return std::nullopt;
  return std::make_pair(load_be<int64_t>(batch.data() + batch_layout::producer_id),
                        load_be<int16_t>(batch.data() + batch_layout::producer_epoch));
}

/// A transactional batch waiting for its coordinator's confirmation.
struct parked_produce {
  std::shared_ptr<produce_gather> g;
  size_t index = 0;
  partition_api partition;
  produce_request request;
};

namespace {

void fail_part(self_ptr self, produce_gather& g, size_t i, errc code, std::string message) {
  if (!g.take(i))
    return;
  g.out.results[i].error = code;
  g.out.results[i].message = std::move(message);
  g.finish_one(self);
}

/// Part i to its partition actor. No timer per part: the partition answers
/// (acks=all by timeout_ms; the set's expiry covers one that stops first),
/// or the request bounces with an error if the partition actor is gone.
void send_part(self_ptr self, std::shared_ptr<produce_gather> g, size_t i,
               const partition_api& partition, produce_request one) {
  self->request(partition, caf::infinite, produce_atom::value, std::move(one))
    .then(
      [self, g, i](produce_response& r) {
        if (!g->take(i))
          return;
        g->out.results[i].response = r;
        g->finish_one(self);
      },
      [self, g, i](caf::error& err) {
        if (!g->take(i))
          return;
        fill_error(g->out.results[i], err);
        g->finish_one(self);
      });
}

void run_verify(self_ptr self);

void verify_answered(self_ptr self, uint64_t call, errc code, const std::string& message) {
  self->state.verify.on_answer(call, code, message, wall_clock_ms());
  run_verify(self);
}

/// Asks the coordinator of the call's transactional.id, here or on its node.
void send_verify_call(self_ptr self, const txn_verify_call& c) {
  auto call = c.call;
  auto on_answer = [self, call](txn_response& r) {
    verify_answered(self, call, r.error, r.message);
  };
  auto on_error = [self, call](caf::error err) {
    verify_answered(self, call, error_code_of(err), describe_error(err));
  };
  txn_add_partitions_request q;
  q.transactional_id = c.transactional_id;
  q.producer_id = c.producer_id;
  q.producer_epoch = c.producer_epoch;
  q.partitions.push_back(c.tp);
  auto where = locate_coordinator(self, txn_state_topic_name, c.transactional_id);
  if (!where)
    return on_error(std::move(where.error()));
  if (where->node_id != self->state.setup.node_id)
    return call_peer<txn_response>(self, where->node_id, verify_timeout, on_answer, on_error,
                                   txn_verify_atom::value, std::move(q));
  auto coordinator = txn_coordinator_for(self, c.transactional_id);
  if (!coordinator)
    return on_error(std::move(coordinator.error()));
  self->request(*coordinator, verify_timeout, txn_verify_atom::value, std::move(q))
    .then(on_answer, [on_error](caf::error& err) { on_error(std::move(err)); });
}

/// Sends the machine's questions, and the batches it let through (to their
/// partitions) or refused (answered with the error).
void run_verify(self_ptr self) {
  auto& st = self->state;
  for (auto& o : st.verify.take_outcomes()) {
    auto i = st.verify_parked.find(o.token);
    if (i == st.verify_parked.end())
      continue;
    auto parked = std::move(i->second);
    st.verify_parked.erase(i);
    if (o.error == errc::none)
      send_part(self, parked->g, parked->index, parked->partition, std::move(parked->request));
    else
      fail_part(self, *parked->g, parked->index, o.error, std::move(o.message));
  }
  for (auto& c : st.verify.take_calls())
    send_verify_call(self, c);
}

} // namespace

void verify_marker(self_ptr self, const topic_partition& tp, int64_t producer_id) {
  self->state.verify.on_marker(tp, producer_id);
}

caf::result<produce_set_response> on_produce_set(self_ptr self, produce_set_request& req) {
  if (req.parts.empty())
    return produce_set_response{};
  if (req.parts.size() > max_parts)
    return make_error(errc::invalid_request, "produce request with " +
                                               std::to_string(req.parts.size()) +
                                               " partitions (at most " +
                                               std::to_string(max_parts) + ")");
  if (req.timeout_ms < 0)
    return make_error(errc::invalid_request,
                      "produce request with timeout_ms " + std::to_string(req.timeout_ms));
  auto g = std::make_shared<produce_gather>();
  g->out.results.resize(req.parts.size());
  g->done.resize(req.parts.size());
  g->left = req.parts.size();
  g->rp = self->make_response_promise<produce_set_response>();
  if (req.acks == acks_mode::all) {
    g->id = self->state.next_produce_set++;
    self->state.produce_sets.emplace(g->id, g);
    self->delayed_send(self, std::chrono::milliseconds(int64_t(req.timeout_ms) + expiry_grace_ms),
                       expire_atom::value, g->id);
  }
  auto rp = g->rp;
  for (size_t i = 0; i < req.parts.size(); ++i) {
    auto& part = req.parts[i];
    auto p = route_partition(self->state, part.topic, part.partition);
    if (!p) {
      fail_part(self, *g, i, p.error().code(), p.error().message());
      continue;
    }
    produce_request one;
    one.topic = std::move(part.topic);
    one.partition = part.partition;
    one.acks = req.acks;
    one.timeout_ms = req.timeout_ms;
    one.batch = std::move(part.batch);
    auto producer = transactional_producer(one.batch);
    if (!producer) {
      send_part(self, g, i, *p, std::move(one));
      continue;
    }
    if (req.transactional_id.empty()) {
      fail_part(self, *g, i, errc::invalid_request,
                "a transactional batch for " + one.topic + "-" + std::to_string(one.partition) +
                  " in a produce request without a transactional id");
      continue;
    }
    txn_write w;
    w.token = self->state.next_verify_token++;
    w.transactional_id = req.transactional_id;
    w.tp = topic_partition{one.topic, one.partition};
    w.producer_id = producer->first;
    w.producer_epoch = producer->second;
    w.leader_epoch = leader_epoch_of(self->state, w.tp);
    self->state.verify_parked.emplace(
      w.token, std::make_shared<parked_produce>(parked_produce{g, i, *p, std::move(one)}));
    self->state.verify.admit(w, wall_clock_ms());
  }
  run_verify(self);
  return rp;
}

void expire_produce_set(self_ptr self, uint64_t set) {
  auto i = self->state.produce_sets.find(set);
  if (i == self->state.produce_sets.end())
    return;
  auto g = i->second;
  size_t open = 0;
  for (size_t k = 0; k < g->done.size(); ++k)
    if (!g->done[k]) {
      g->out.results[k].error = errc::request_timed_out;
      g->out.results[k].message = "no answer from the partition within the request's timeout";
      ++open;
    }
  spdlog::warn("broker {}: produce request answered at its deadline, {} partition(s) without an answer",
               self->state.setup.node_id, open);
  g->answer(self);
}

} // namespace al
