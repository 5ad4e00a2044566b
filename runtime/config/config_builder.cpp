#include "runtime/config/config_builder.hpp"

#include <cctype>

#include "runtime/config/config_text.hpp"

namespace al::config {

namespace {

/// "did you mean node.id?" for typos, CAF-style dashes and `[node] id`.
std::string suggest_key(std::string_view section, std::string_view name) {
  std::string norm;
  for (char c : name)
    norm += c == '-' || c == '_' ? '.' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const key_info* best = nullptr;
  size_t best_dist = 3;
  for (auto& k : config_schema()) {
    size_t d = edit_distance(norm, k.name);
    if (!section.empty() && std::string{section} + "." + norm == k.name)
      d = 0;
    if (d < best_dist) {
      best = &k;
      best_dist = d;
    }
  }
  return best ? " (did you mean " + std::string{best->name} + "?)" : std::string{};
}

} // namespace

void config_builder::error(const std::string& where, std::string_view section,
                           std::string_view key, const std::string& why) {
  std::string line = where + ": ";
  if (!section.empty())
    line += "[" + std::string{section} + "]" + (key.empty() ? "" : " ");
  line += std::string{key};
  line += ": " + why;
  errors_.push_back(std::move(line));
}

void config_builder::error(const std::string& where, const std::string& why) {
  errors_.push_back(where + ": " + why);
}

void config_builder::file_entry(int line, std::string_view section, std::string_view name,
                                std::string_view text) {
  auto where = file_pos(line);
  auto* k = find_config_key(name);
  if (section.empty()) {
    if (k)
      error(where, "", name, "key before any [section] header (it belongs in [" + std::string{k->section} + "])");
    else
      error(where, "", name, "unknown key, before any [section] header" + suggest_key("", name));
    return;
  }
  if (!known_section(section))
    return; // reported once at the section header
  if (!k) {
    error(where, section, name, "unknown key" + suggest_key(section, name));
    return;
  }
  if (k->section != section) {
    error(where, section, name, "key belongs in section [" + std::string{k->section} + "]");
    return;
  }
  if (auto i = in_file_.find(k->name); i != in_file_.end()) {
    error(where, section, name, "duplicate key (first set at " + i->second + ")");
    return;
  }
  in_file_.emplace(k->name, where);
  apply(*k, text, where);
}

void config_builder::override_entry(size_t index, std::string_view entry) {
  auto where = "--override:" + std::to_string(index);
  auto eq = entry.find('=');
  if (eq == std::string_view::npos) {
    error(where, quote(entry) + " is not key=value");
    return;
  }
  auto name = trim(entry.substr(0, eq));
  auto text = trim(entry.substr(eq + 1));
  if (name.empty()) {
    error(where, quote(entry) + " has no key (expected key=value)");
    return;
  }
  auto* k = find_config_key(name);
  if (!k) {
    error(where, "", name, "unknown key" + suggest_key("", name));
    return;
  }
  if (auto i = overridden_.find(k->name); i != overridden_.end()) {
    error(where, k->section, name, "overridden twice (first at " + i->second + ")");
    return;
  }
  overridden_.emplace(k->name, where);
  apply(*k, text, where);
}

void config_builder::apply(const key_info& k, std::string_view text,
                           const std::string& where) {
  auto v = parse_value(k, text);
  if (!v) {
    bad_.insert(k.name);
    error(where, k.section, k.name, v.error().message());
    return;
  }
  bad_.erase(k.name); // an override may fix a bad file value; the file error stays reported
  k.store(cfg_, *v);
  set_at_[k.name] = origin{where, ++seq_};
}

void config_builder::finish() {
  for (auto& k : config_schema())
    if (k.required && !set_at_.count(k.name) && !bad_.count(k.name))
      error(std::string{source_}, k.section, k.name,
            "required key is missing (expected " + describe_expected(k) + ")");
  auto& c = cfg_;
  if (c.has_role(node_role::controller)) {
    if (auto* self = c.find_voter(c.node_id); !self) {
      std::string ids;
      for (auto& v : c.quorum_voters)
        ids += (ids.empty() ? "" : ", ") + std::to_string(v.id);
      rule({"node.id", "controller.quorum.voters", "process.roles"},
           "node.id " + std::to_string(c.node_id) + " is not among controller.quorum.voters ("
             + ids + ") but process.roles includes controller");
    } else if (self->port != c.peer_listener.port) {
      rule({"controller.quorum.voters", "peer.listener", "node.id", "process.roles"},
           "this node's entry in controller.quorum.voters, " + to_string(*self)
             + ", and peer.listener, " + to_string(c.peer_listener) + ", differ in port");
    }
  }
  if (c.caf_listener.port != 0 && c.caf_listener.port == c.peer_listener.port)
    rule({"caf.listener", "peer.listener"},
         "caf.listener and peer.listener must differ in port (both " + std::to_string(c.caf_listener.port)
           + "): clients and other nodes use separate listeners");
  for (auto [name, other] : {std::pair{"caf.listener", &c.caf_listener},
                             std::pair{"peer.listener", &c.peer_listener}})
    if (c.kafka_listener.port != 0 && c.kafka_listener.port == other->port)
      rule({"listeners", name}, std::string("listeners and ") + name +
                                  " must differ in port (both " +
                                  std::to_string(c.kafka_listener.port) + ")");
  if (c.advertised_listener.host.empty() &&
      (c.kafka_listener.host == "0.0.0.0" || c.kafka_listener.host == "::"))
    rule({"advertised.listeners", "listeners"},
         "listeners binds every interface (" + c.kafka_listener.host +
           "): set advertised.listeners to the address clients should use");
  if (c.queued_max_request_bytes < c.socket_request_max_bytes)
    rule({"queued.max.request.bytes", "socket.request.max.bytes"},
         "queued.max.request.bytes (" + std::to_string(c.queued_max_request_bytes)
           + ") must be at least socket.request.max.bytes ("
           + std::to_string(c.socket_request_max_bytes) + ")");
  if (c.broker_heartbeat_interval_ms >= c.broker_session_timeout_ms)
    rule({"broker.heartbeat.interval.ms", "broker.session.timeout.ms"},
         "broker.heartbeat.interval.ms (" + std::to_string(c.broker_heartbeat_interval_ms)
           + ") must be less than broker.session.timeout.ms ("
           + std::to_string(c.broker_session_timeout_ms) + ")");
  if (c.middleman_heartbeat_interval_ms >= c.middleman_connection_timeout_ms)
    rule({"middleman.heartbeat.interval.ms", "middleman.connection.timeout.ms"},
         "middleman.heartbeat.interval.ms (" + std::to_string(c.middleman_heartbeat_interval_ms)
           + ") must be less than middleman.connection.timeout.ms ("
           + std::to_string(c.middleman_connection_timeout_ms) + ")");
  auto& ld = c.log_defaults;
  if (ld.min_insync_replicas > ld.default_replication_factor)
    rule({"min.insync.replicas", "default.replication.factor"},
         "min.insync.replicas (" + std::to_string(ld.min_insync_replicas)
           + ") must not exceed default.replication.factor ("
           + std::to_string(ld.default_replication_factor)
           + "): acks=all writes to default topics would always fail");
}

void config_builder::rule(std::initializer_list<std::string_view> keys,
                          const std::string& why) {
  const key_info* culprit = nullptr;
  const origin* at = nullptr;
  for (auto key : keys) {
    auto* k = find_config_key(key);
    AL_ASSERT(k != nullptr, key);
    auto i = set_at_.find(key);
    if (bad_.count(key) || (k->required && i == set_at_.end()))
      return;
    if (i != set_at_.end() && (!at || i->second.seq > at->seq)) {
      culprit = k;
      at = &i->second;
    }
  }
  if (!culprit) // only defaults: the schema's defaults break a rule
    culprit = find_config_key(*keys.begin());
  error(at ? at->where : std::string{source_}, culprit->section, culprit->name, why);
}

result<node_config> config_builder::take() {
  if (errors_.empty())
    return std::move(cfg_);
  std::string msg;
  for (auto& e : errors_) {
    if (!msg.empty())
      msg += '\n';
    msg += e;
  }
  return status{errc::invalid_config, std::move(msg)};
}

} // namespace al::config
