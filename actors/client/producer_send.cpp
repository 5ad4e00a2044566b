// The producer actor's sender loop (Kafka's Sender): which batches go to
// which broker in which request, their answers, retries in sequence order,
// and the failure of a broker's requests when its connection drops.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "actors/client/producer_actor.hpp"
#include "storage/clock.hpp"
#include "storage/crc32c.hpp"

namespace al {

namespace {

using self_ptr = producer_actor_ptr;

void complete(ready_batch& b, int64_t base_offset, const status& st) {
  if (b.callbacks.empty())
    return;
  // One metadata object per batch (the topic string is copied once, not per record).
  record_metadata md{b.tp.topic, b.tp.partition, -1, b.max_timestamp};
  for (size_t i = 0; i < b.callbacks.size(); ++i) {
    if (!b.callbacks[i])
      continue;
    md.offset = base_offset < 0 ? -1 : base_offset + int64_t(i);
    b.callbacks[i](md, st);
  }
}

void batch_done(self_ptr self) {
  auto& st = self->state;
  --st.outstanding;
  if (st.outstanding == 0 && st.acc->pending_records() == 0) {
    for (auto& rp : st.flush_waiters)
      rp.deliver(true);
    st.flush_waiters.clear();
    producer_txn_flushed(self);
  }
}

/// Stamps producer id/epoch/sequence into the header (all inside the CRC).
void stamp_sequence(producer_state& st, ready_batch& b) {
  if (st.producer_id < 0 || b.base_sequence != no_sequence)
    return;
  auto& seq = st.next_sequence[b.tp];
  b.base_sequence = seq;
  seq += b.record_count; // Kafka wraps at INT32_MAX; 2^31 batches away
  store_be<int64_t>(b.data.data() + batch_layout::producer_id, st.producer_id);
  store_be<int16_t>(b.data.data() + batch_layout::producer_epoch, st.producer_epoch);
  store_be<int32_t>(b.data.data() + batch_layout::base_sequence, b.base_sequence);
  if (!st.txn.id.empty()) { // a transaction's batch (attribute bit 4)
    auto attrs = load_be<int16_t>(b.data.data() + batch_layout::attributes);
    store_be<int16_t>(b.data.data() + batch_layout::attributes,
                      int16_t(attrs | batch_attr::transactional));
  }
  write_batch_crc(b.data.data(), b.data.size());
}

/// A batch out of the accumulator: numbered, and outstanding until its
/// callbacks ran.
ready_batch& admit(producer_state& st, ready_batch& b) {
  stamp_sequence(st, b);
  ++st.outstanding;
  return b;
}

void send_ready(self_ptr self);

void arm_pump(self_ptr self, int64_t delay_ms) {
  if (self->state.pump_armed)
    return;
  self->state.pump_armed = true;
  self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(delay_ms, 1)),
                     tick_atom::value);
}

void enqueue(producer_state& st, ready_batch b, bool in_order) {
  auto tp = b.tp;
  auto& q = st.queues[tp];
  if (in_order) {
    auto pos = std::find_if(q.pending.begin(), q.pending.end(), [&](const ready_batch& x) {
      return x.base_sequence > b.base_sequence;
    });
    q.pending.insert(pos, std::move(b));
  } else {
    q.pending.push_back(std::move(b));
  }
  st.ready.insert(std::move(tp));
}

void on_failure(self_ptr self, ready_batch b, const caf::error& err) {
  auto& st = self->state;
  auto code = error_code_of(err);
  auto now = wall_clock_ms();
  bool retriable = is_retriable(code) || code == errc::out_of_order_sequence_number;
  bool in_time = now - b.created_ms < st.cfg.delivery_timeout_ms;
  if (retriable && in_time && b.attempts <= st.cfg.retries) {
    if (code == errc::not_leader_or_follower || code == errc::network_exception ||
        code == errc::request_timed_out || code == errc::unknown_topic_or_partition)
      st.view.topics.erase(b.tp.topic); // leader moved or unknown: refresh before resending
    auto& q = st.queues[b.tp];
    q.retrying = true;
    q.retry_after_ms = now + st.cfg.retry_backoff_ms;
    enqueue(st, std::move(b), true);
    arm_pump(self, st.cfg.retry_backoff_ms);
    return;
  }
  status s{code, in_time ? describe_error(err)
                         : "delivery.timeout.ms expired: " + describe_error(err)};
  spdlog::warn("producer: batch to {} failed: {}", to_string(b.tp), s.to_string());
  producer_txn_failed(self, s);
  complete(b, -1, s);
  batch_done(self);
}

/// The answer to (or the failure of) request `id`: each batch completes or
/// goes back to its partition's queue.
void on_answer(self_ptr self, uint64_t id, const produce_set_response* resp,
               const caf::error& err) {
  auto& st = self->state;
  auto i = st.requests.find(id);
  if (i == st.requests.end())
    return; // failed already: the connection dropped
  auto req = std::move(i->second);
  st.requests.erase(i);
  if (auto b = st.broker_in_flight.find(req->broker);
      b != st.broker_in_flight.end() && --b->second <= 0)
    st.broker_in_flight.erase(b);
  if (auto b = st.broker_open_in_flight.find(req->broker);
      req->open && b != st.broker_open_in_flight.end() && --b->second <= 0)
    st.broker_open_in_flight.erase(b);
  for (size_t k = 0; k < req->batches.size(); ++k) {
    auto& b = req->batches[k];
    --st.queues[b.tp].in_flight;
    if (!resp) {
      on_failure(self, std::move(b), err);
    } else if (k >= resp->results.size()) {
      on_failure(self, std::move(b),
                 make_error(errc::unknown_server_error, "no answer for this partition"));
    } else if (auto& r = resp->results[k]; r.error != errc::none) {
      on_failure(self, std::move(b), make_error(r.error, r.message));
    } else {
      complete(b, r.response.base_offset, status::ok());
      batch_done(self);
    }
  }
}

/// One produce request to `leader` with `batches` (one per partition);
/// `open`: some were taken open from the accumulator.
void send_request(self_ptr self, const client_api& leader, std::vector<ready_batch> batches,
                  bool open = false) {
  auto& st = self->state;
  produce_set_request req;
  req.acks = st.cfg.acks;
  req.timeout_ms = int32_t(st.cfg.request_timeout_ms);
  req.transactional_id = st.txn.id;
  req.parts.reserve(batches.size());
  bool fire_and_forget = st.cfg.acks == acks_mode::none;
  for (auto& b : batches) {
    ++b.attempts;
    // acks=0 never resends; otherwise the bytes stay here for a retry and
    // the request carries a copy.
    req.parts.push_back(produce_part{b.tp.topic, b.tp.partition,
                                     fire_and_forget ? std::move(b.data) : b.data});
  }
  if (fire_and_forget) {
    self->send(leader, produce_atom::value, std::move(req));
    for (auto& b : batches) {
      --st.queues[b.tp].in_flight;
      complete(b, -1, status::ok());
      batch_done(self);
    }
    return;
  }
  auto id = st.next_request++;
  auto entry = std::make_shared<producer_state::in_flight_request>();
  entry->batches = std::move(batches);
  entry->broker = leader.address();
  entry->open = open;
  st.requests.emplace(id, entry);
  ++st.broker_in_flight[leader.address()];
  if (open)
    ++st.broker_open_in_flight[leader.address()];
  if (st.monitored.insert(leader.address()).second)
    self->monitor(leader);
  self->request(leader, std::chrono::milliseconds(st.cfg.request_timeout_ms), produce_atom::value,
                std::move(req))
    .then(
      [=](const produce_set_response& resp) {
        on_answer(self, id, &resp, caf::error{});
        send_ready(self);
      },
      [=](caf::error& err) {
        on_answer(self, id, nullptr, err);
        send_ready(self);
      });
}

/// The connection to a broker dropped: its unanswered requests fail now
/// (retriable: resent in order to the partition's new leader).
void on_broker_down(self_ptr self, const caf::actor_addr& broker) {
  auto& st = self->state;
  st.monitored.erase(broker);
  st.view.forget(broker);
  std::vector<uint64_t> failed;
  for (auto& [id, req] : st.requests)
    if (req->broker == broker)
      failed.push_back(id);
  if (!failed.empty())
    spdlog::info("producer: connection to a broker lost, {} request(s) to resend", failed.size());
  auto err = make_error(errc::network_exception, "connection to the partition leader lost");
  for (auto id : failed)
    on_answer(self, id, nullptr, err);
  send_ready(self);
}

/// Whether some connected broker could take another request (or none is
/// known yet: then the batches wait for the metadata).
bool has_room(const producer_state& st) {
  if (st.view.brokers.empty())
    return true;
  for (auto& [id, b] : st.view.brokers) {
    auto i = st.broker_in_flight.find(b.address());
    if (i == st.broker_in_flight.end() || i->second < st.cfg.max_in_flight_requests_per_connection)
      return true;
  }
  return false;
}

/// Moves the accumulator's ready batches (full, or linger.ms old; all of
/// them when `force`: flush()) to their partitions' queues, numbered.
void drain(self_ptr self, bool force) {
  auto& st = self->state;
  for (auto& b : st.acc->drain(wall_clock_ms(), force))
    enqueue(st, std::move(admit(st, b)), false);
}

void arm_linger(self_ptr self) {
  auto& st = self->state;
  if (st.linger_armed || !has_room(st))
    return; // busy: the next answer drains
  auto due = st.acc->next_linger_due(wall_clock_ms());
  if (due < 0)
    return;
  st.linger_armed = true;
  self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(due, 1)),
                     linger_atom::value);
}

/// One produce request being built for a leader broker.
struct building {
  client_api leader;
  std::vector<ready_batch> batches;
  size_t bytes = 0;
  int32_t room = 0;  // requests this broker may still take
  bool full = false; // max.request.size reached with batches left over
  bool open_ok = false; // may take open batches: none of its requests in flight carries any
  bool open = false;    // took some
};

/// Kafka's sender loop. For each leader broker with room it builds one
/// request holding the first pending batch of each partition (retries and
/// full batches, partitions served in rotation), then open batches from the
/// accumulator, oldest first, taken only now: until a broker has room,
/// its partitions' batches stay open and keep filling. Up to
/// max.request.size per request (a larger batch goes alone). Open batches
/// ride one request per broker at a time (full ones use every in-flight
/// slot): a busy broker's next request then carries what filled meanwhile,
/// not fragments. With keys over 10 000 partitions, five requests of open
/// batches at once cut the batches to ~23 records and cost the node
/// 0.86 us of CPU per record; one at a time, ~52 records and 0.47 us
/// (bench/RESULTS.md). franz-go sends one produce request per broker at a
/// time for the same reason; a Kafka broker reads the next request of a
/// connection only after answering the last.
void send_ready(self_ptr self) {
  auto& st = self->state;
  if (has_room(st))
    for (auto& b : st.acc->drain_closed())
      enqueue(st, std::move(admit(st, b)), false);
  arm_linger(self);
  std::map<caf::actor_addr, building> out;
  auto round = ++st.round; // one batch per partition and request: q.in_round
  auto now = wall_clock_ms();
  int64_t retry_in = -1;
  bool need_metadata = false;
  auto building_for = [&](const client_api& leader) -> building& {
    auto [b, fresh] = out.try_emplace(leader.address());
    if (fresh) {
      b->second.leader = leader;
      auto f = st.broker_in_flight.find(leader.address());
      b->second.room = st.cfg.max_in_flight_requests_per_connection -
                       (f == st.broker_in_flight.end() ? 0 : f->second);
      b->second.open_ok = st.broker_open_in_flight.count(leader.address()) == 0;
    }
    return b->second;
  };
  // Leaders by partition index of the topic last looked up (the batches
  // come topic by topic in practice): no map walk per batch.
  const topic_description* last_topic = nullptr;
  auto leader_of = [&](const topic_partition& tp) -> std::optional<client_api> {
    if (!last_topic || last_topic->name != tp.topic) {
      auto t = st.view.topics.find(tp.topic);
      last_topic = t == st.view.topics.end() ? nullptr : &t->second;
    }
    if (!last_topic || tp.partition < 0 || tp.partition >= int32_t(last_topic->partitions.size()))
      return std::nullopt;
    auto b = st.view.brokers.find(last_topic->partitions[size_t(tp.partition)].leader);
    if (b == st.view.brokers.end())
      return std::nullopt;
    return b->second;
  };
  auto visit = [&](std::set<topic_partition>::iterator it) {
    auto& tp = *it;
    auto& q = st.queues[tp];
    if (q.retrying) {
      // Failed batches go again only once nothing is in flight, in order.
      if (q.in_flight > 0)
        return std::next(it);
      if (now < q.retry_after_ms) {
        retry_in = retry_in < 0 ? q.retry_after_ms - now : std::min(retry_in, q.retry_after_ms - now);
        return std::next(it);
      }
      q.retrying = false;
    }
    while (!q.pending.empty() && now - q.pending.front().created_ms >= st.cfg.delivery_timeout_ms) {
      complete(q.pending.front(), -1, status{errc::request_timed_out, "delivery.timeout.ms expired"});
      q.pending.pop_front();
      batch_done(self);
    }
    if (q.pending.empty())
      return st.ready.erase(it);
    if (producer_txn_holds(st, tp))
      return std::next(it);
    auto leader = leader_of(tp);
    if (!leader) {
      need_metadata = true;
      return std::next(it);
    }
    auto& req = building_for(*leader);
    auto size = q.pending.front().data.size();
    if (!req.batches.empty() && req.bytes + size > size_t(st.cfg.max_request_size)) {
      send_request(self, req.leader, std::move(req.batches));
      req.batches.clear();
      req.bytes = 0;
      --req.room;
    }
    if (req.room <= 0)
      return std::next(it);
    req.bytes += size;
    req.batches.push_back(std::move(q.pending.front()));
    q.pending.pop_front();
    ++q.in_flight;
    q.in_round = round;
    st.cursor = tp;
    return q.pending.empty() ? st.ready.erase(it) : std::next(it);
  };
  // After the cursor to the end, then from the start up to the cursor.
  auto cursor = st.cursor;
  for (auto it = st.ready.upper_bound(cursor); it != st.ready.end();)
    it = visit(it);
  for (auto it = st.ready.begin(); it != st.ready.end() && !(cursor < *it);)
    it = visit(it);
  // Open batches for the brokers with room left.
  int32_t open_brokers = 0;
  for (auto& [id, b] : st.view.brokers)
    if (auto& req = building_for(b); req.room > 0 && req.open_ok)
      ++open_brokers;
  std::vector<building*> taken_for;
  auto batches = st.acc->drain_open(now, false, [&](const topic_partition& tp, size_t size) {
    using offer = record_accumulator::offer;
    if (open_brokers <= 0)
      return offer::stop;
    if (auto q = st.queues.find(tp); q != st.queues.end() &&
                                     (!q->second.pending.empty() || q->second.retrying ||
                                      q->second.in_round == round))
      return offer::leave; // after the batches it already has, or in the next request
    if (producer_txn_holds(st, tp))
      return offer::leave;
    auto leader = leader_of(tp);
    if (!leader) {
      need_metadata = true;
      return offer::leave;
    }
    auto& req = building_for(*leader);
    if (req.room <= 0 || req.full || !req.open_ok)
      return offer::leave;
    if (req.bytes > 0 && req.bytes + size > size_t(st.cfg.max_request_size)) {
      req.full = true;
      --open_brokers;
      return offer::leave;
    }
    req.bytes += size;
    req.open = true;
    taken_for.push_back(&req);
    return offer::take;
  });
  for (size_t k = 0; k < batches.size(); ++k) {
    auto& b = admit(st, batches[k]);
    ++st.queues[b.tp].in_flight;
    taken_for[k]->batches.push_back(std::move(b));
  }
  bool again = false;
  for (auto& [addr, req] : out)
    if (!req.batches.empty()) {
      send_request(self, req.leader, std::move(req.batches), req.open);
      again = again || (req.full && req.room > 1);
    }
  if (need_metadata) {
    refresh_metadata(self, st.view, [self](const status& s) {
      if (!s)
        spdlog::debug("producer: metadata refresh failed: {}", s.to_string());
      arm_pump(self, s ? 0 : self->state.cfg.retry_backoff_ms);
    });
  }
  if (retry_in >= 0)
    arm_pump(self, retry_in);
  if (!st.txn.wanted.empty())
    producer_txn_add(self);
  if (again)
    send_ready(self); // a request filled up and its broker has room for another
}

} // namespace

void producer_send_ready(producer_actor_ptr self) { send_ready(self); }
void producer_drain(producer_actor_ptr self, bool force) { drain(self, force); }
void producer_arm_linger(producer_actor_ptr self) { arm_linger(self); }
void producer_broker_down(producer_actor_ptr self, const caf::actor_addr& broker) {
  on_broker_down(self, broker);
  producer_txn_broker_down(self, broker);
}
void producer_fail_batch(producer_actor_ptr self, ready_batch& b, const status& why) {
  complete(b, -1, why);
  batch_done(self);
}

} // namespace al
