#include "actors/client/producer_actor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "storage/crc32c.hpp"
#include "storage/clock.hpp"

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
  write_batch_crc(b.data.data(), b.data.size());
}

/// Refreshes the metadata and answers every send() waiting for a topic:
/// with its partition count once known, with an error after max.block.ms.
void check_metadata_waits(self_ptr self) {
  refresh_metadata(self, self->state.view, [self](const status& s) {
    auto& st = self->state;
    auto now = wall_clock_ms();
    std::vector<producer_state::metadata_wait> left;
    for (auto& w : st.metadata_waits) {
      auto count = st.view.partition_count(w.topic);
      if (count > 0)
        w.rp.deliver(count);
      else if (now >= w.deadline_ms)
        w.rp.deliver(s ? make_error(errc::unknown_topic_or_partition,
                                    "topic \"" + w.topic + "\" does not exist (not in the metadata after " +
                                      std::to_string(st.cfg.max_block_ms) + " ms, max.block.ms)")
                       : to_caf_error(s));
      else
        left.push_back(std::move(w));
    }
    st.metadata_waits = std::move(left);
    if (!st.metadata_waits.empty() && !st.metadata_retry_armed) {
      st.metadata_retry_armed = true;
      self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(st.cfg.retry_backoff_ms, 1)),
                         metadata_atom::value, retry_atom::value);
    }
  });
}

void pump(self_ptr self, const topic_partition& tp);

void arm_pump(self_ptr self, int64_t delay_ms) {
  if (self->state.pump_armed)
    return;
  self->state.pump_armed = true;
  self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(delay_ms, 1)),
                     tick_atom::value);
}

void requeue(producer_state& st, ready_batch b) {
  auto& q = st.queues[b.tp];
  auto pos = std::find_if(q.pending.begin(), q.pending.end(), [&](const ready_batch& x) {
    return x.base_sequence > b.base_sequence;
  });
  q.pending.insert(pos, std::move(b));
}

void on_failure(self_ptr self, ready_batch b, const caf::error& err) {
  auto& st = self->state;
  auto code = error_code_of(err);
  auto now = wall_clock_ms();
  bool retriable = is_retriable(code) || code == errc::out_of_order_sequence_number;
  bool in_time = now - b.created_ms < st.cfg.delivery_timeout_ms;
  if (retriable && in_time && b.attempts <= st.cfg.retries) {
    auto tp = b.tp;
    if (code == errc::not_leader_or_follower || code == errc::network_exception ||
        code == errc::request_timed_out || code == errc::unknown_topic_or_partition)
      st.view.topics.erase(tp.topic); // leader moved or unknown: refresh before resending
    auto& q = st.queues[tp];
    q.retrying = true;
    q.retry_after_ms = now + st.cfg.retry_backoff_ms;
    requeue(st, std::move(b));
    arm_pump(self, st.cfg.retry_backoff_ms);
    return;
  }
  status s{code, in_time ? describe_error(err)
                         : "delivery.timeout.ms expired: " + describe_error(err)};
  spdlog::warn("producer: batch to {} failed: {}", to_string(b.tp), s.to_string());
  complete(b, -1, s);
  batch_done(self);
}

void send_batch(self_ptr self, ready_batch b, const client_api& leader) {
  auto& st = self->state;
  produce_request req;
  req.topic = b.tp.topic;
  req.partition = b.tp.partition;
  req.acks = st.cfg.acks;
  req.timeout_ms = int32_t(st.cfg.request_timeout_ms);
  ++b.attempts;
  if (st.cfg.acks == acks_mode::none) {
    req.batch = std::move(b.data);
    self->send(leader, produce_atom::value, std::move(req));
    complete(b, -1, status::ok());
    batch_done(self);
    return;
  }
  // The batch bytes stay here for a retry; the request carries a copy.
  req.batch = b.data;
  auto tp = b.tp;
  ++st.queues[tp].in_flight;
  auto shared = std::make_shared<ready_batch>(std::move(b));
  auto id = st.next_request++;
  st.requests.emplace(id, producer_state::in_flight_request{shared, leader.address()});
  if (st.monitored.insert(leader.address()).second)
    self->monitor(leader);
  self->request(leader, std::chrono::milliseconds(st.cfg.request_timeout_ms), produce_atom::value,
                std::move(req))
    .then(
      [=](const produce_response& resp) {
        if (self->state.requests.erase(id) == 0)
          return; // failed already: the connection dropped
        --self->state.queues[tp].in_flight;
        complete(*shared, resp.base_offset, status::ok());
        batch_done(self);
        pump(self, tp);
      },
      [=](caf::error& err) {
        if (self->state.requests.erase(id) == 0)
          return;
        --self->state.queues[tp].in_flight;
        on_failure(self, std::move(*shared), err);
        pump(self, tp);
      });
}

/// The connection to a broker dropped: its unanswered requests fail now
/// (retriable: resent in order to the partition's new leader).
void on_broker_down(self_ptr self, const caf::actor_addr& broker) {
  auto& st = self->state;
  st.monitored.erase(broker);
  st.view.forget(broker);
  std::vector<std::shared_ptr<ready_batch>> failed;
  for (auto i = st.requests.begin(); i != st.requests.end();) {
    if (i->second.broker == broker) {
      failed.push_back(std::move(i->second.batch));
      i = st.requests.erase(i);
    } else {
      ++i;
    }
  }
  if (!failed.empty())
    spdlog::info("producer: connection to a broker lost, {} request(s) to resend", failed.size());
  std::set<topic_partition> tps;
  for (auto& b : failed) {
    tps.insert(b->tp);
    --st.queues[b->tp].in_flight;
    on_failure(self, std::move(*b),
               make_error(errc::network_exception, "connection to the partition leader lost"));
  }
  for (auto& tp : tps)
    pump(self, tp);
}

void pump(self_ptr self, const topic_partition& tp) {
  auto& st = self->state;
  auto& q = st.queues[tp];
  if (q.retrying) {
    // Resend failed batches only once nothing is in flight, in sequence order.
    if (q.in_flight > 0)
      return;
    auto now = wall_clock_ms();
    if (now < q.retry_after_ms) {
      arm_pump(self, q.retry_after_ms - now);
      return;
    }
    q.retrying = false;
  }
  while (!q.pending.empty() && q.in_flight < st.cfg.max_in_flight_requests_per_connection) {
    auto leader = st.view.leader_handle(tp);
    if (!leader) {
      refresh_metadata(self, st.view, [self, tp](const status& s) {
        if (!s)
          spdlog::debug("producer: metadata refresh failed: {}", s.to_string());
        arm_pump(self, s ? 0 : self->state.cfg.retry_backoff_ms);
      });
      return;
    }
    auto b = std::move(q.pending.front());
    q.pending.pop_front();
    if (wall_clock_ms() - b.created_ms >= st.cfg.delivery_timeout_ms) {
      complete(b, -1, status{errc::request_timed_out, "delivery.timeout.ms expired"});
      batch_done(self);
      continue;
    }
    send_batch(self, std::move(b), *leader);
  }
}

void drain(self_ptr self, bool force) {
  auto& st = self->state;
  auto batches = st.acc->drain(wall_clock_ms(), force);
  std::vector<topic_partition> touched;
  for (auto& b : batches) {
    stamp_sequence(st, b);
    ++st.outstanding;
    touched.push_back(b.tp);
    st.queues[b.tp].pending.push_back(std::move(b));
  }
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  for (auto& tp : touched)
    pump(self, tp);
}

void arm_linger(self_ptr self) {
  auto& st = self->state;
  if (st.linger_armed)
    return;
  auto due = st.acc->next_linger_due(wall_clock_ms());
  if (due < 0)
    return;
  st.linger_armed = true;
  self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(due, 1)),
                     linger_atom::value);
}

} // namespace

caf::behavior producer_actor(self_ptr self, producer_config cfg,
                             std::shared_ptr<record_accumulator> acc, caf::actor direct_broker) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.acc = std::move(acc);
  st.view.bootstrap_servers = st.cfg.bootstrap_servers;
  st.view.request_timeout = std::chrono::milliseconds(st.cfg.request_timeout_ms);
  if (direct_broker)
    st.view.bootstrap.push_back(caf::actor_cast<client_api>(direct_broker));
  // Stray messages. NOT for acks=0 replies: caf::drop answers an async
  // message with an unexpected_message error, and a partition actor (no
  // error handler) quits on it, taking the broker with it.
  self->set_default_handler(caf::drop);
  // acks=0 failures come back as async errors; CAF's default error handler
  // would end the producer. Fire-and-forget ignores them, as Kafka does.
  self->set_error_handler([](caf::error& err) {
    spdlog::debug("producer: ignored async error: {}", describe_error(err));
  });
  self->set_down_handler([self](caf::down_msg& dm) { on_broker_down(self, dm.source); });
  return {
    // acks=0: the partition still answers (asynchronously); nothing to do.
    [](const produce_response&) {},
    [=](wake_atom, bool now) {
      if (now)
        drain(self, false);
      arm_linger(self);
    },
    [=](linger_atom) {
      self->state.linger_armed = false;
      drain(self, false);
      arm_linger(self);
    },
    [=](tick_atom) {
      self->state.pump_armed = false;
      std::vector<topic_partition> tps;
      for (auto& [tp, q] : self->state.queues)
        if (!q.pending.empty())
          tps.push_back(tp);
      for (auto& tp : tps)
        pump(self, tp);
    },
    [=](retry_atom) { retry_refresh(self, self->state.view); },
    [=](flush_atom) -> caf::result<bool> {
      drain(self, true);
      if (self->state.outstanding == 0)
        return true;
      auto rp = self->make_response_promise();
      self->state.flush_waiters.push_back(rp);
      return caf::delegated<bool>{};
    },
    // Partition count of a topic (refreshing metadata when unknown).
    [=](metadata_atom, const std::string& topic) -> caf::result<int32_t> {
      auto n = self->state.view.partition_count(topic);
      if (n > 0)
        return n;
      auto rp = self->make_response_promise<int32_t>();
      self->state.metadata_waits.push_back({topic, wall_clock_ms() + self->state.cfg.max_block_ms, rp});
      check_metadata_waits(self);
      return rp;
    },
    [=](metadata_atom, retry_atom) {
      self->state.metadata_retry_armed = false;
      check_metadata_waits(self);
    },
    // Idempotence: get a producer id before the first send.
    [=](init_pid_atom) -> caf::result<producer_id_response> {
      auto rp = self->make_response_promise<producer_id_response>();
      refresh_metadata(self, self->state.view, [=](const status& s) mutable {
        auto b = self->state.view.any_broker();
        if (!s || !b) {
          rp.deliver(to_caf_error(s ? status{errc::network_exception, "no broker"} : s));
          return;
        }
        self->request(*b, std::chrono::milliseconds(self->state.cfg.request_timeout_ms),
                      init_pid_atom::value)
          .then(
            [=](const producer_id_response& r) mutable {
              self->state.producer_id = r.producer_id;
              self->state.producer_epoch = r.producer_epoch;
              rp.deliver(r);
            },
            [=](caf::error& err) mutable { rp.deliver(err); });
      });
      return rp;
    },
  };
}

} // namespace al
