#include "actors/client/consumer_client.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/client/consumer_actor.hpp"

namespace al {

namespace {

using std::chrono::milliseconds;
using clock_type = std::chrono::steady_clock;

status to_status(const caf::error& err) { return status{error_code_of(err), describe_error(err)}; }

} // namespace

result<std::unique_ptr<consumer>> consumer::create(caf::actor_system& sys, const properties& props,
                                                   caf::actor direct_broker) {
  auto cfg = parse_consumer_config(props);
  if (!cfg)
    return cfg.error();
  if (cfg->bootstrap_servers.empty() && !direct_broker)
    return status{errc::invalid_config, "consumer config: bootstrap.servers is required"};
  std::unique_ptr<consumer> c{new consumer(sys, *cfg)};
  c->actor_ = sys.spawn(consumer_actor, *cfg, direct_broker);
  c->next_auto_commit_ = clock_type::now() + milliseconds(cfg->auto_commit_interval_ms);
  return c;
}

consumer::~consumer() { close(); }

status consumer::assign(const std::vector<topic_partition>& partitions) {
  if (subscribed_)
    return {errc::invalid_request, "assign() is not allowed while subscribed (unsubscribe first)"};
  for (auto& tp : partitions)
    if (tp.partition < 0 || tp.topic.empty())
      return {errc::invalid_request, "cannot assign " + to_string(tp)};
  assignment_ = partitions;
  caf::anon_send(actor_, assign_atom::value, partitions);
  return status::ok();
}

status consumer::subscribe(std::vector<std::string> topics, rebalance_listener listener) {
  if (!uses_group())
    return {errc::invalid_group_id, "subscribe() needs group.id (or use assign())"};
  if (!subscribed_ && !assignment_.empty())
    return {errc::invalid_request, "subscribe() is not allowed after assign() (assign({}) first)"};
  if (topics.empty())
    return {errc::invalid_request, "subscribe() needs at least one topic (or unsubscribe())"};
  for (auto& t : topics)
    if (t.empty())
      return {errc::invalid_request, "subscribe(): empty topic name"};
  subscribed_ = true;
  listener_ = std::move(listener);
  caf::anon_send(actor_, subscribe_atom::value, std::move(topics));
  return status::ok();
}

void consumer::unsubscribe() {
  if (!subscribed_)
    return;
  if (listener_.on_partitions_revoked && !assignment_.empty())
    listener_.on_partitions_revoked(assignment_);
  subscribed_ = false;
  assignment_.clear();
  caf::anon_send(actor_, subscribe_atom::value, std::vector<std::string>{});
}

void consumer::run_callbacks(std::vector<commit_outcome>& outcomes) {
  for (auto& o : outcomes) {
    auto i = callbacks_.find(o.id);
    if (i == callbacks_.end())
      continue;
    auto cb = std::move(i->second);
    callbacks_.erase(i);
    if (cb)
      cb(o.offsets, o.result);
  }
}

void consumer::handle_events(std::vector<rebalance_event>& events) {
  for (auto& ev : events) {
    assignment_ = ev.owned;
    switch (ev.what) {
      case rebalance_event::kind::revoked:
        // Kafka's order: auto commit, then the listener, then give them up.
        if (cfg_.enable_auto_commit && !ev.positions.empty())
          if (auto st = commit_revoked(ev); !st)
            spdlog::warn("consumer {}: commit before revocation failed: {}", cfg_.client_id,
                         st.to_string());
        if (listener_.on_partitions_revoked)
          listener_.on_partitions_revoked(ev.partitions);
        if (ev.revocation != 0)
          caf::anon_send(actor_, revoke_done_atom::value, ev.revocation);
        break;
      case rebalance_event::kind::assigned:
        if (listener_.on_partitions_assigned)
          listener_.on_partitions_assigned(ev.partitions);
        break;
      case rebalance_event::kind::lost:
        if (listener_.on_partitions_lost)
          listener_.on_partitions_lost(ev.partitions);
        else if (listener_.on_partitions_revoked)
          listener_.on_partitions_revoked(ev.partitions);
        break;
    }
  }
}

void consumer::maybe_auto_commit() {
  if (!cfg_.enable_auto_commit || !uses_group() || (!subscribed_ && assignment_.empty()))
    return;
  auto now = clock_type::now();
  if (now < next_auto_commit_)
    return;
  next_auto_commit_ = now + milliseconds(cfg_.auto_commit_interval_ms);
  // What earlier polls returned: the user has processed it by now.
  caf::anon_send(actor_, commit_atom::value, uint64_t{0});
}

std::vector<consumer_record> consumer::poll(milliseconds timeout) {
  if (closed_)
    return {};
  maybe_auto_commit();
  auto deadline = clock_type::now() + timeout;
  caf::scoped_actor self{sys_};
  for (;;) {
    auto left = std::max(std::chrono::duration_cast<milliseconds>(deadline - clock_type::now()),
                         milliseconds(0));
    poll_result r;
    self->request(actor_, left + std::chrono::seconds(5), poll_atom::value, int64_t(left.count()))
      .receive([&](poll_result& x) { r = std::move(x); }, [&](caf::error&) {});
    run_callbacks(r.commits);
    if (!r.group_error.is_ok()) {
      group_error_ = r.group_error;
      spdlog::error("consumer {}: {}", cfg_.client_id, group_error_.to_string());
    }
    if (r.events.empty() || clock_type::now() >= deadline) {
      if (!r.events.empty())
        handle_events(r.events);
      return std::move(r.records);
    }
    handle_events(r.events);
  }
}

void consumer::seek(const topic_partition& tp, int64_t offset) {
  caf::anon_send(actor_, seek_atom::value, tp, offset);
}

void consumer::seek_to_beginning(const std::vector<topic_partition>& tps) {
  for (auto& tp : tps)
    seek(tp, earliest_timestamp);
}

void consumer::seek_to_end(const std::vector<topic_partition>& tps) {
  for (auto& tp : tps)
    seek(tp, latest_timestamp);
}

result<int64_t> consumer::position(const topic_partition& tp) {
  caf::scoped_actor self{sys_};
  result<int64_t> out{status{errc::request_timed_out, "position"}};
  // Positions are set asynchronously (committed offset, or auto.offset.reset
  // asks the leader); wait until it is known, as Kafka's position() does.
  for (int attempt = 0; attempt < 200; ++attempt) {
    self->request(actor_, std::chrono::seconds(5), position_atom::value, tp)
      .receive([&](int64_t pos) { out = pos; },
               [&](caf::error& err) { out = to_status(err); });
    if (!out || *out >= 0)
      return out;
    self->receive(caf::after(milliseconds(10)) >> [] {});
  }
  return out;
}

void consumer::pause(const std::vector<topic_partition>& tps) {
  caf::anon_send(actor_, pause_atom::value, tps);
}

void consumer::resume(const std::vector<topic_partition>& tps) {
  caf::anon_send(actor_, resume_atom::value, tps);
}

status consumer::commit_sync() {
  if (!uses_group())
    return {errc::invalid_group_id, "commit_sync() needs group.id"};
  caf::scoped_actor self{sys_};
  status out;
  self->request(actor_, milliseconds(cfg_.request_timeout_ms) + std::chrono::seconds(5),
                commit_atom::value)
    .receive([](const offset_commit_map&) {}, [&](caf::error& err) { out = to_status(err); });
  return out;
}

/// The revoked positions, fenced by the generation they were consumed in:
/// a member fenced and rejoined before this poll commits nothing.
status consumer::commit_revoked(const rebalance_event& ev) {
  caf::scoped_actor self{sys_};
  status out;
  self->request(actor_, milliseconds(cfg_.request_timeout_ms) + std::chrono::seconds(5),
                commit_atom::value, ev.positions, ev.generation)
    .receive([](const offset_commit_map&) {}, [&](caf::error& err) { out = to_status(err); });
  return out;
}

status consumer::commit_sync(const offset_commit_map& offsets) {
  if (!uses_group())
    return {errc::invalid_group_id, "commit_sync() needs group.id"};
  for (auto& [tp, om] : offsets)
    if (om.offset < 0)
      return {errc::invalid_request, "cannot commit negative offset " +
                                       std::to_string(om.offset) + " for " + to_string(tp)};
  caf::scoped_actor self{sys_};
  status out;
  self->request(actor_, milliseconds(cfg_.request_timeout_ms) + std::chrono::seconds(5),
                commit_atom::value, offsets)
    .receive([](const offset_commit_map&) {}, [&](caf::error& err) { out = to_status(err); });
  return out;
}

void consumer::commit_async(commit_callback done) {
  auto id = ++next_callback_;
  callbacks_[id] = std::move(done);
  caf::anon_send(actor_, commit_atom::value, id);
}

void consumer::commit_async(const offset_commit_map& offsets, commit_callback done) {
  auto id = ++next_callback_;
  callbacks_[id] = std::move(done);
  caf::anon_send(actor_, commit_atom::value, offsets, id);
}

result<offset_commit_map> consumer::committed(const std::vector<topic_partition>& tps) {
  if (!uses_group())
    return status{errc::invalid_group_id, "committed() needs group.id"};
  caf::scoped_actor self{sys_};
  result<offset_commit_map> out{status{errc::request_timed_out, "committed"}};
  self->request(actor_, milliseconds(cfg_.request_timeout_ms) + std::chrono::seconds(5),
                committed_atom::value, tps)
    .receive(
      [&](group_offsets& offsets) {
        offset_commit_map m;
        for (auto& [tp, o] : offsets)
          if (o.offset >= 0)
            m[tp] = offset_and_metadata{o.offset, o.metadata, o.leader_epoch};
        out = std::move(m);
      },
      [&](caf::error& err) { out = to_status(err); });
  return out;
}

result<int64_t> consumer::committed(const topic_partition& tp) {
  auto all = committed(std::vector<topic_partition>{tp});
  if (!all)
    return all.error();
  auto i = all->find(tp);
  return i == all->end() ? int64_t{-1} : i->second.offset;
}

consumer_metrics consumer::metrics() {
  caf::scoped_actor self{sys_};
  consumer_metrics out;
  self->request(actor_, std::chrono::seconds(5), metrics_atom::value)
    .receive([&](consumer_metrics& m) { out = std::move(m); }, [](caf::error&) {});
  return out;
}

void consumer::close() {
  if (closed_ || !actor_)
    return;
  if (uses_group() && cfg_.enable_auto_commit && (subscribed_ || !assignment_.empty()))
    if (auto st = commit_sync(); !st)
      spdlog::warn("consumer {}: commit on close failed: {}", cfg_.client_id, st.to_string());
  if (subscribed_ && listener_.on_partitions_revoked && !assignment_.empty())
    listener_.on_partitions_revoked(assignment_);
  closed_ = true;
  {
    caf::scoped_actor self{sys_};
    std::vector<commit_outcome> outcomes;
    self->request(actor_, milliseconds(cfg_.request_timeout_ms) + std::chrono::seconds(1),
                  close_atom::value)
      .receive([&](std::vector<commit_outcome>& o) { outcomes = std::move(o); },
               [](caf::error&) {});
    run_callbacks(outcomes);
  }
  caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
}

} // namespace al
