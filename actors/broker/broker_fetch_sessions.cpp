// The broker's fetch sessions with other nodes (issue 15; Kafka fetches
// for every partition of a leader broker in one request, KIP-227).
//
// Follower side: a local follower partition's fetch (peer_atom) waits here
// under an id (fetch_session_machine); the fetches queued for one leader
// node leave in one fetch_set_request. Leader side: each fetch of a set goes
// to its partition actor, which answers at once or long-polls as before;
// the answers queue per follower node and go back in fetch_set_responses.
// Both sides send on a flush_atom the broker sends itself when the first
// item queues: it comes after the messages already in the mailbox, so
// whatever arrived together leaves together, and nothing waits for a timer.
//
// Experimental, off by default (replica.fetch.sessions): measured no
// faster than a message per fetch at 2000 and 5000 partitions on three
// nodes, and at 10 000 follower fetches time out; why is not found yet
// (bench/RESULTS.md, issue 15).
#include <algorithm>
#include <chrono>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/broker/broker_actor.hpp"
#include "actors/protocol/errors.hpp"

namespace al {

namespace {

using self_ptr = broker_api::stateful_pointer<broker_state>;

/// An answer message is sent as soon as its queued records pass this
/// (Kafka's replica.fetch.response.max.bytes is 10 MiB): a node catching up
/// on many partitions does not build one huge message ahead of the others.
constexpr size_t answers_max_bytes = size_t(8) << 20;
/// How much longer than the fetch's own wait the leader's broker gives its
/// partition actor before answering the fetch with REQUEST_TIMED_OUT.
constexpr int64_t partition_answer_slack_ms = 2000;

void schedule_flush(self_ptr self) {
  auto& s = self->state.sessions;
  if (s.flush_pending)
    return;
  s.flush_pending = true;
  self->send(self, flush_atom::value);
}

void fail_waits(self_ptr self, const std::vector<uint64_t>& ids, const caf::error& why) {
  auto& waits = self->state.sessions.waits;
  for (auto id : ids) {
    auto w = waits.find(id);
    if (w == waits.end())
      continue;
    w->second.deliver(why);
    waits.erase(w);
  }
}

void send_answers(self_ptr self, broker_fetch_sessions::answers_to& q) {
  if (q.answers.empty())
    return;
  auto& s = self->state.sessions;
  s.answers_sent += q.answers.size();
  ++s.answer_sets_sent;
  self->send(q.to, fetch_atom::value,
             fetch_set_response{self->state.setup.node_id, std::move(q.answers)});
  q.answers.clear();
  q.bytes = 0;
}

/// Queues the answer to one fetch of follower node `replica`.
void queue_answer(self_ptr self, int32_t replica, fetch_set_answer a) {
  auto& s = self->state.sessions;
  auto q = s.outgoing.find(replica);
  if (q == s.outgoing.end())
    return; // forgotten (never happens: entries are kept)
  auto size = a.response.records.size();
  if (q->second.bytes > 0 && q->second.bytes + size > answers_max_bytes)
    send_answers(self, q->second);
  q->second.bytes += size;
  q->second.answers.push_back(std::move(a));
  schedule_flush(self);
}

fetch_set_answer answer_for(const fetch_request& f) {
  fetch_set_answer a;
  a.topic = f.topic;
  a.partition = f.partition;
  a.fetch_offset = f.offset;
  a.current_leader_epoch = f.current_leader_epoch;
  return a;
}

fetch_set_answer failed(fetch_set_answer a, errc code, std::string message) {
  a.error = code;
  a.message = std::move(message);
  return a;
}

} // namespace

caf::result<fetch_response> on_session_fetch(self_ptr self, int32_t leader, fetch_request& req) {
  auto& s = self->state.sessions;
  auto id = s.next_id++;
  auto promise = self->make_response_promise<fetch_response>();
  // The failed request is that partition's own: the text need not name it.
  if (auto old = s.machine.add(leader, std::move(req), id))
    fail_waits(self, {*old},
               make_error(errc::network_exception,
                          "a newer fetch of the same partition replaced this one"));
  s.waits.emplace(id, promise);
  schedule_flush(self);
  return promise;
}

void on_fetch_set(self_ptr self, fetch_set_request& req) {
  auto& st = self->state;
  auto sender = self->current_sender();
  if (!sender)
    return; // nowhere to answer
  auto replica = req.replica_id;
  auto& q = st.sessions.outgoing[replica];
  q.to = caf::actor_cast<broker_api>(sender); // a restarted node gets the answers
  bool cut = st.cut_peers.count(replica) > 0;
  for (auto& f : req.fetches) {
    auto a = answer_for(f);
    if (f.replica_id != replica || replica < 0) {
      queue_answer(self, replica,
                   failed(std::move(a), errc::invalid_request,
                          "fetch set of node " + std::to_string(replica) +
                            " carries a fetch for replica " + std::to_string(f.replica_id)));
      continue;
    }
    if (cut) {
      queue_answer(self, replica,
                   failed(std::move(a), errc::network_exception,
                          "link to node " + std::to_string(replica) +
                            " is cut (fault injection)"));
      continue;
    }
    auto p = route_partition(st, f.topic, f.partition);
    if (!p) {
      queue_answer(self, replica, failed(std::move(a), p.error().code(), p.error().message()));
      continue;
    }
    auto timeout = std::chrono::milliseconds(std::max(f.max_wait_ms, 0) +
                                             partition_answer_slack_ms);
    self->request(*p, timeout, fetch_atom::value, std::move(f))
      .then(
        [self, replica, a](fetch_response& resp) mutable {
          a.response = std::move(resp);
          queue_answer(self, replica, std::move(a));
        },
        [self, replica, a](caf::error& err) mutable {
          auto code = error_code_of(err);
          queue_answer(self, replica,
                       failed(std::move(a), code == errc::none ? errc::request_timed_out : code,
                              describe_error(err)));
        });
  }
}

void on_fetch_answers(self_ptr self, fetch_set_response& resp) {
  auto& st = self->state;
  auto leader = resp.leader_id;
  auto sender = self->current_sender();
  auto p = st.peers.find(leader);
  bool current = sender && (leader == st.setup.node_id // peer_broker's own node: this broker
                              ? sender->address() == self->address()
                              : p != st.peers.end() && p->second.address() == sender->address());
  if (!current || st.cut_peers.count(leader)) {
    // Not the broker this node fetches from (a connection since replaced,
    // a cut link, or someone else): the follower's fetches there time out
    // and are asked again.
    spdlog::debug("broker {}: fetch answers claiming node {} ignored (not its current "
                  "connection)",
                  st.setup.node_id, leader);
    return;
  }
  auto& s = st.sessions;
  for (auto& a : resp.answers) {
    auto id = s.machine.match(leader, a.topic, a.partition, a.fetch_offset,
                              a.current_leader_epoch);
    if (!id)
      continue; // stale: its follower asked again since
    auto w = s.waits.find(*id);
    if (w == s.waits.end())
      continue;
    if (a.error == errc::none)
      w->second.deliver(std::move(a.response));
    else
      w->second.deliver(make_error(a.error, std::move(a.message)));
    s.waits.erase(w);
  }
}

void flush_sessions(self_ptr self) {
  auto& st = self->state;
  auto& s = st.sessions;
  s.flush_pending = false;
  for (auto leader : s.machine.leaders_with_unsent()) {
    auto fetches = s.machine.take_unsent(leader);
    if (fetches.empty())
      continue;
    auto b = peer_broker(self, leader);
    if (!b) {
      fail_waits(self, s.machine.drop_leader(leader), to_caf_error(b.error()));
      continue;
    }
    ++s.sets_sent;
    s.fetches_sent += fetches.size();
    self->send(*b, fetch_atom::value, fetch_set_request{st.setup.node_id, std::move(fetches)});
  }
  for (auto& [replica, q] : s.outgoing)
    send_answers(self, q);
}

void on_peer_lost(self_ptr self, int32_t node) {
  fail_waits(self, self->state.sessions.machine.drop_leader(node),
             make_error(errc::network_exception,
                        "lost the connection to node " + std::to_string(node)));
}

} // namespace al
