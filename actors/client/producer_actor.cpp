#include "actors/client/producer_actor.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "storage/clock.hpp"

namespace al {

namespace {

using self_ptr = producer_actor_ptr;

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


} // namespace

caf::behavior producer_actor(self_ptr self, producer_config cfg,
                             std::shared_ptr<record_accumulator> acc, caf::actor direct_broker) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.acc = std::move(acc);
  st.view.bootstrap_servers = st.cfg.bootstrap_servers;
  st.txn.id = st.cfg.transactional_id;
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
  self->set_down_handler([self](caf::down_msg& dm) { producer_broker_down(self, dm.source); });
  return {
    // acks=0: the broker still answers (asynchronously); nothing to do.
    [](const produce_set_response&) {},
    [](const produce_response&) {},
    [=](wake_atom, bool now) {
      if (now)
        producer_send_ready(self);
      else
        producer_arm_linger(self);
    },
    [=](linger_atom) {
      self->state.linger_armed = false;
      producer_send_ready(self);
    },
    [=](tick_atom) {
      self->state.pump_armed = false;
      producer_send_ready(self);
    },
    [=](retry_atom) { retry_refresh(self, self->state.view); },
    // transactions (producer_txn.cpp)
    [=](retry_atom, uint64_t id) { producer_txn_retry(self, id); },
    [=](init_pid_atom, txn_coordinator_atom) { return producer_init_transactions(self); },
    [=](txn_begin_atom) {
      producer_begin_transaction(self);
      return true;
    },
    [=](txn_end_atom, bool commit) { return producer_end_transaction(self, commit); },
    [=](offset_commit_atom, std::string& group, offset_commit_map& offsets) {
      return producer_send_offsets(self, std::move(group), std::move(offsets));
    },
    [=](flush_atom) -> caf::result<bool> {
      producer_drain(self, true);
      producer_send_ready(self);
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
