// The broker's side of Kafka's ProduceRequest over several partitions
// (produce_set_request): each partition's batch goes to its partition actor
// as an ordinary produce_request (a local message, sent in the request's
// order, so requests of one client reach each partition in the order they
// came), and the answers are gathered into one reply. A client sends one
// such request per leader broker instead of one per partition: with 10 000
// partitions that is what keeps the node's network thread and timers out
// of the per-partition cost (issue 15).
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_actor.hpp"
#include "actors/protocol/errors.hpp"

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
      g->done[i] = true;
      g->out.results[i].error = p.error().code();
      g->out.results[i].message = p.error().message();
      g->finish_one(self);
      continue;
    }
    produce_request one;
    one.topic = std::move(part.topic);
    one.partition = part.partition;
    one.acks = req.acks;
    one.timeout_ms = req.timeout_ms;
    one.batch = std::move(part.batch);
    // No timer per part: the partition answers (acks=all by timeout_ms;
    // the set's expiry covers one that stops first), or the request bounces
    // with an error if the partition actor is gone.
    self->request(*p, caf::infinite, produce_atom::value, std::move(one))
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
