#include "actors/client/client_config.hpp"

#include <cerrno>
#include <cstdlib>
#include <functional>
#include <limits>

namespace al {

result<std::vector<server_address>> parse_bootstrap_servers(const std::string& text) {
  std::vector<server_address> out;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    auto item = text.substr(start, end - start);
    start = end + 1;
    if (item.empty())
      continue;
    auto colon = item.rfind(':');
    char* stop = nullptr;
    long port = colon == std::string::npos ? -1 : std::strtol(item.c_str() + colon + 1, &stop, 10);
    if (colon == std::string::npos || colon == 0 || *stop != '\0' || port <= 0 || port > 65535)
      return status{errc::invalid_config,
                    "bootstrap.servers: \"" + item + "\" is not host:port"};
    out.push_back(server_address{item.substr(0, colon), uint16_t(port)});
  }
  if (out.empty())
    return status{errc::invalid_config, "bootstrap.servers: no host:port given"};
  return out;
}

namespace {

/// A table of setters: key -> parse function. Unknown key = error.
using setter = std::function<status(const std::string&)>;

status bad(const char* who, const std::string& key, const std::string& value,
           const std::string& why) {
  return {errc::invalid_config, std::string(who) + " config " + key + ": \"" + value + "\" " + why};
}

template <class Int>
setter int_setter(const char* who, const std::string& key, Int& field, int64_t min) {
  return [who, key, &field, min](const std::string& v) -> status {
    errno = 0;
    char* end = nullptr;
    long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE)
      return bad(who, key, v, "is not an integer");
    if (x < min || x > int64_t(std::numeric_limits<Int>::max()))
      return bad(who, key, v, "is out of range (minimum " + std::to_string(min) + ")");
    field = Int(x);
    return status::ok();
  };
}

setter bool_setter(const char* who, const std::string& key, bool& field) {
  return [who, key, &field](const std::string& v) -> status {
    if (v != "true" && v != "false")
      return bad(who, key, v, "is not true or false");
    field = v == "true";
    return status::ok();
  };
}

setter choice_setter(const char* who, const std::string& key, std::string& field,
                     std::vector<std::string> allowed) {
  return [who, key, &field, allowed](const std::string& v) -> status {
    for (auto& a : allowed)
      if (v == a) {
        field = v;
        return status::ok();
      }
    std::string list;
    for (auto& a : allowed)
      list += (list.empty() ? "" : ", ") + a;
    return bad(who, key, v, "is not one of " + list);
  };
}

setter servers_setter(std::vector<server_address>& field) {
  return [&field](const std::string& v) -> status {
    auto parsed = parse_bootstrap_servers(v);
    if (!parsed)
      return parsed.error();
    field = *parsed;
    return status::ok();
  };
}

status apply_all(const char* who, const properties& props,
                 const std::map<std::string, setter>& setters) {
  for (auto& [key, value] : props) {
    auto i = setters.find(key);
    if (i == setters.end())
      return {errc::invalid_config, std::string(who) + " config: unknown key \"" + key + "\""};
    if (auto st = i->second(value); !st)
      return st;
  }
  return status::ok();
}

} // namespace

result<producer_config> parse_producer_config(const properties& props) {
  const char* who = "producer";
  producer_config c;
  std::string acks = "all";
  std::string codec = "none";
  std::map<std::string, setter> setters = {
    {"bootstrap.servers", servers_setter(c.bootstrap_servers)},
    {"client.id", [&](const std::string& v) { c.client_id = v; return status::ok(); }},
    {"acks", choice_setter(who, "acks", acks, {"all", "-1", "0", "1"})},
    {"linger.ms", int_setter(who, "linger.ms", c.linger_ms, 0)},
    {"batch.size", int_setter(who, "batch.size", c.batch_size, 0)},
    {"compression.type",
     choice_setter(who, "compression.type", codec, {"none", "gzip", "snappy", "lz4", "zstd"})},
    {"retries", int_setter(who, "retries", c.retries, 0)},
    {"retry.backoff.ms", int_setter(who, "retry.backoff.ms", c.retry_backoff_ms, 0)},
    {"delivery.timeout.ms", int_setter(who, "delivery.timeout.ms", c.delivery_timeout_ms, 1)},
    {"request.timeout.ms", int_setter(who, "request.timeout.ms", c.request_timeout_ms, 1)},
    {"max.in.flight.requests.per.connection",
     int_setter(who, "max.in.flight.requests.per.connection",
                c.max_in_flight_requests_per_connection, 1)},
    {"max.request.size", int_setter(who, "max.request.size", c.max_request_size, 1)},
    {"enable.idempotence", bool_setter(who, "enable.idempotence", c.enable_idempotence)},
    {"buffer.memory", int_setter(who, "buffer.memory", c.buffer_memory, 0)},
    {"metadata.max.age.ms", int_setter(who, "metadata.max.age.ms", c.metadata_max_age_ms, 0)},
    {"max.block.ms", int_setter(who, "max.block.ms", c.max_block_ms, 0)},
    {"transactional.id", [&](const std::string& v) {
       c.transactional_id = v;
       return status::ok();
     }},
    {"transaction.timeout.ms",
     int_setter(who, "transaction.timeout.ms", c.transaction_timeout_ms, 1)},
  };
  if (auto st = apply_all(who, props, setters); !st)
    return st;
  c.acks = acks == "0" ? acks_mode::none : acks == "1" ? acks_mode::leader : acks_mode::all;
  if (!c.transactional_id.empty() && !c.enable_idempotence)
    return status{errc::invalid_config, "producer config: transactional.id requires "
                                        "enable.idempotence=true (Kafka's rule)"};
  parse_compression(codec, c.compression_type);
  if (c.enable_idempotence) {
    // Kafka's rules for idempotence.
    if (c.acks != acks_mode::all)
      return status{errc::invalid_config,
                    "producer config: enable.idempotence=true requires acks=all"};
    if (c.max_in_flight_requests_per_connection > 5)
      return status{errc::invalid_config, "producer config: enable.idempotence=true requires "
                                          "max.in.flight.requests.per.connection <= 5"};
  }
  if (c.bootstrap_servers.empty() && props.count("bootstrap.servers"))
    return status{errc::invalid_config, "producer config: bootstrap.servers is empty"};
  return c;
}

result<consumer_config> parse_consumer_config(const properties& props) {
  const char* who = "consumer";
  consumer_config c;
  std::map<std::string, setter> setters = {
    {"bootstrap.servers", servers_setter(c.bootstrap_servers)},
    {"client.id", [&](const std::string& v) { c.client_id = v; return status::ok(); }},
    {"group.id", [&](const std::string& v) { c.group_id = v; return status::ok(); }},
    {"enable.auto.commit", bool_setter(who, "enable.auto.commit", c.enable_auto_commit)},
    {"auto.commit.interval.ms",
     int_setter(who, "auto.commit.interval.ms", c.auto_commit_interval_ms, 0)},
    {"auto.offset.reset",
     choice_setter(who, "auto.offset.reset", c.auto_offset_reset, {"earliest", "latest", "none"})},
    {"max.poll.records", int_setter(who, "max.poll.records", c.max_poll_records, 1)},
    {"max.poll.interval.ms", int_setter(who, "max.poll.interval.ms", c.max_poll_interval_ms, 1)},
    {"session.timeout.ms", int_setter(who, "session.timeout.ms", c.session_timeout_ms, 1)},
    {"heartbeat.interval.ms",
     int_setter(who, "heartbeat.interval.ms", c.heartbeat_interval_ms, 1)},
    {"fetch.min.bytes", int_setter(who, "fetch.min.bytes", c.fetch_min_bytes, 0)},
    {"fetch.max.wait.ms", int_setter(who, "fetch.max.wait.ms", c.fetch_max_wait_ms, 0)},
    {"max.partition.fetch.bytes",
     int_setter(who, "max.partition.fetch.bytes", c.max_partition_fetch_bytes, 1)},
    {"request.timeout.ms", int_setter(who, "request.timeout.ms", c.request_timeout_ms, 1)},
    {"retry.backoff.ms", int_setter(who, "retry.backoff.ms", c.retry_backoff_ms, 0)},
    {"partition.assignment.strategy",
     choice_setter(who, "partition.assignment.strategy", c.partition_assignment_strategy,
                   {"range", "roundrobin", "sticky", "cooperative-sticky"})},
    {"isolation.level", choice_setter(who, "isolation.level", c.isolation_level,
                                      {"read_uncommitted", "read_committed"})},
  };
  if (auto st = apply_all(who, props, setters); !st)
    return st;
  if (c.heartbeat_interval_ms >= c.session_timeout_ms)
    return status{errc::invalid_config,
                  "consumer config: heartbeat.interval.ms must be lower than session.timeout.ms"};
  if (!c.group_id.empty() && props.count("enable.auto.commit") == 0)
    c.enable_auto_commit = true;
  return c;
}

} // namespace al
