// spawn_consumer (consumer_client.hpp): an actor that is a group member and
// hands each batch to a handler, then commits it (at-least-once). It owns a
// consumer actor (linked child) and drives it like al::consumer's poll loop,
// without a blocking caller: poll -> handler -> commit -> poll ...
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/client/consumer_actor.hpp"
#include "actors/client/consumer_client.hpp"

namespace al {

namespace {

struct handler_state {
  caf::actor fetcher;
  record_batch_handler handler;
  consumer_config cfg;
  bool closing = false;
  static constexpr const char* name = "consumer_handler";
};

using self_ptr = caf::stateful_actor<handler_state>*;

constexpr int64_t poll_wait_ms = 500;

void poll_next(self_ptr self);

/// The offsets to commit after a batch: last offset + 1 per partition.
offset_commit_map batch_offsets(const std::vector<consumer_record>& records) {
  offset_commit_map out;
  for (auto& r : records) {
    auto& o = out[topic_partition{r.topic, r.partition}];
    o.offset = std::max(o.offset, r.offset + 1);
  }
  return out;
}

void on_batch(self_ptr self, poll_result& r) {
  auto& st = self->state;
  for (auto& ev : r.events)
    if (ev.what == rebalance_event::kind::revoked && ev.revocation != 0)
      self->send(st.fetcher, revoke_done_atom::value, ev.revocation); // batches are committed
  if (!r.group_error.is_ok())
    spdlog::error("consumer {}: {}", st.cfg.client_id, r.group_error.to_string());
  if (r.records.empty()) {
    poll_next(self);
    return;
  }
  try {
    st.handler(r.records);
  } catch (const std::exception& e) {
    // Not committed: the records come again to whoever owns the partitions next.
    spdlog::error("consumer {}: handler failed: {}; stopping", st.cfg.client_id, e.what());
    self->quit(make_error(errc::unknown_server_error, e.what()));
    return;
  }
  self->request(st.fetcher, std::chrono::milliseconds(st.cfg.request_timeout_ms + 5000),
                commit_atom::value, batch_offsets(r.records))
    .then([self](const offset_commit_map&) { poll_next(self); },
          [self](caf::error& err) {
            // E.g. the group rebalanced meanwhile: the new owner reads it again.
            spdlog::warn("consumer {}: commit after batch failed: {}",
                         self->state.cfg.client_id, describe_error(err));
            poll_next(self);
          });
}

void poll_next(self_ptr self) {
  if (self->state.closing)
    return;
  self->request(self->state.fetcher, std::chrono::milliseconds(poll_wait_ms + 5000),
                poll_atom::value, poll_wait_ms)
    .then([self](poll_result& r) { on_batch(self, r); },
          [self](caf::error&) { self->send(self, poll_atom::value); });
}

caf::behavior consumer_handler_actor(self_ptr self, consumer_config cfg,
                                     std::vector<std::string> topics,
                                     record_batch_handler handler, caf::actor direct_broker) {
  auto& st = self->state;
  cfg.enable_auto_commit = false; // this actor commits after each batch
  st.cfg = cfg;
  st.handler = std::move(handler);
  st.fetcher = self->spawn<caf::linked>(consumer_actor, cfg, direct_broker);
  self->send(st.fetcher, subscribe_atom::value, std::move(topics));
  self->set_exit_handler([self](caf::exit_msg& em) {
    auto& s = self->state;
    if (em.source == s.fetcher.address() || em.reason == caf::exit_reason::kill || s.closing) {
      self->quit(em.reason);
      return;
    }
    s.closing = true; // leave the group first, so the partitions move at once
    self->request(s.fetcher, std::chrono::milliseconds(s.cfg.request_timeout_ms + 1000),
                  close_atom::value)
      .then([self, em](const std::vector<commit_outcome>&) { self->quit(em.reason); },
            [self, em](caf::error&) { self->quit(em.reason); });
  });
  poll_next(self);
  return {
    [=](poll_atom) { poll_next(self); },
  };
}

} // namespace

result<caf::actor> spawn_consumer(caf::actor_system& sys, const properties& props,
                                  std::vector<std::string> topics, record_batch_handler handler,
                                  caf::actor direct_broker) {
  auto cfg = parse_consumer_config(props);
  if (!cfg)
    return cfg.error();
  if (cfg->group_id.empty())
    return status{errc::invalid_group_id, "spawn_consumer needs group.id"};
  if (cfg->bootstrap_servers.empty() && !direct_broker)
    return status{errc::invalid_config, "consumer config: bootstrap.servers is required"};
  if (topics.empty() || !handler)
    return status{errc::invalid_request, "spawn_consumer needs topics and a handler"};
  // Detached: the handler may block (I/O) without holding a scheduler thread.
  return sys.spawn<caf::detached>(consumer_handler_actor, *cfg, std::move(topics),
                                  std::move(handler), direct_broker);
}

} // namespace al
