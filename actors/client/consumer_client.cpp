#include "actors/client/consumer_client.hpp"

#include <caf/all.hpp>

#include "actors/client/consumer_actor.hpp"

namespace al {

result<std::unique_ptr<consumer>> consumer::create(caf::actor_system& sys, const properties& props,
                                                   caf::actor direct_broker) {
  auto cfg = parse_consumer_config(props);
  if (!cfg)
    return cfg.error();
  if (cfg->bootstrap_servers.empty() && !direct_broker)
    return status{errc::invalid_config, "consumer config: bootstrap.servers is required"};
  std::unique_ptr<consumer> c{new consumer(sys, *cfg)};
  c->actor_ = sys.spawn(consumer_actor, *cfg, direct_broker);
  return c;
}

consumer::~consumer() { close(); }

status consumer::assign(const std::vector<topic_partition>& partitions) {
  for (auto& tp : partitions)
    if (tp.partition < 0 || tp.topic.empty())
      return {errc::invalid_request, "cannot assign " + to_string(tp)};
  assignment_ = partitions;
  caf::anon_send(actor_, assign_atom::value, partitions);
  return status::ok();
}

std::vector<consumer_record> consumer::poll(std::chrono::milliseconds timeout) {
  std::vector<consumer_record> out;
  if (closed_)
    return out;
  caf::scoped_actor self{sys_};
  self->request(actor_, timeout + std::chrono::seconds(5), poll_atom::value,
                int64_t(timeout.count()))
    .receive([&](std::vector<consumer_record>& recs) { out = std::move(recs); },
             [&](caf::error&) {});
  return out;
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
  // Positions are set asynchronously (auto.offset.reset asks the leader);
  // wait until the position is known, as Kafka's position() does.
  for (int attempt = 0; attempt < 200; ++attempt) {
    self->request(actor_, std::chrono::seconds(5), position_atom::value, tp)
      .receive([&](int64_t pos) { out = pos; },
               [&](caf::error& err) { out = status{error_code_of(err), describe_error(err)}; });
    if (!out || *out >= 0)
      return out;
    self->receive(caf::after(std::chrono::milliseconds(10)) >> [] {});
  }
  return out;
}

void consumer::pause(const std::vector<topic_partition>& tps) {
  caf::anon_send(actor_, pause_atom::value, tps);
}

void consumer::resume(const std::vector<topic_partition>& tps) {
  caf::anon_send(actor_, resume_atom::value, tps);
}

void consumer::close() {
  if (closed_ || !actor_)
    return;
  closed_ = true;
  caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
}

} // namespace al
