#include "runtime/config/config_schema.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <set>

namespace al::config {

namespace {

constexpr int64_t i32_max = std::numeric_limits<int32_t>::max();
constexpr int64_t i64_min = std::numeric_limits<int64_t>::min();
constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();

// --- moving values between `value` and node_config fields -------------------

void put(int32_t& f, const value& v) { f = static_cast<int32_t>(std::get<int64_t>(v)); }
void put(int64_t& f, const value& v) { f = std::get<int64_t>(v); }
void put(bool& f, const value& v) { f = std::get<bool>(v); }
void put(std::string& f, const value& v) { f = std::get<std::string>(v); }
void put(host_port& f, const value& v) { f = std::get<host_port>(v); }
void put(std::vector<voter>& f, const value& v) { f = std::get<std::vector<voter>>(v); }
void put(severity& f, const value& v) {
  auto x = parse_severity(std::get<std::string>(v));
  AL_ASSERT(x.has_value());
  f = *x;
}
void put(codec& f, const value& v) {
  auto x = parse_codec(std::get<std::string>(v));
  AL_ASSERT(x.has_value());
  f = *x;
}
void put(std::vector<node_role>& f, const value& v) {
  f.clear();
  for (auto& s : std::get<std::vector<std::string>>(v)) {
    auto x = parse_node_role(s);
    AL_ASSERT(x.has_value());
    f.push_back(*x);
  }
}
void put(cleanup& f, const value& v) {
  auto& xs = std::get<std::vector<std::string>>(v);
  bool del = std::find(xs.begin(), xs.end(), "delete") != xs.end();
  bool compact = std::find(xs.begin(), xs.end(), "compact") != xs.end();
  AL_ASSERT(del || compact);
  f = del && compact ? cleanup::compact_delete : compact ? cleanup::compact : cleanup::delete_;
}

value get(int32_t f) { return int64_t{f}; }
value get(int64_t f) { return f; }
value get(bool f) { return f; }
value get(const std::string& f) { return f; }
value get(const host_port& f) { return f; }
value get(const std::vector<voter>& f) { return f; }
value get(severity f) { return std::string{to_string(f)}; }
value get(codec f) { return std::string{to_string(f)}; }
value get(const std::vector<node_role>& f) {
  std::vector<std::string> out;
  for (auto r : f)
    out.emplace_back(to_string(r));
  return out;
}
value get(cleanup f) {
  switch (f) {
    case cleanup::delete_: return std::vector<std::string>{"delete"};
    case cleanup::compact: return std::vector<std::string>{"compact"};
    case cleanup::compact_delete: return std::vector<std::string>{"compact", "delete"};
  }
  return std::vector<std::string>{};
}

#define AL_BIND(field)                                                                  \
  [](node_config& c, const value& v) { put(c.field, v); },                             \
    [](const node_config& c) -> value { return get(c.field); }

using T = value_type;
constexpr bool req = true;
constexpr bool opt = false;

// clang-format off
const std::vector<key_info> schema_table = {
// section, name, type, required, default, min, max, allowed, help, binding
{"node", "node.id", T::int32, req, "", 0, i32_max, "",
 "Id of this node, unique in the cluster; a controller's id must appear in controller.quorum.voters.",
 AL_BIND(node_id)},
{"node", "process.roles", T::string_list, opt, "broker,controller", 0, 0, "broker|controller",
 "Roles this node runs: broker (partitions, clients), controller (metadata quorum), or both.",
 AL_BIND(process_roles)},
{"node", "listeners", T::host_port, opt, "127.0.0.1:9092", 0, 0, "",
 "The one address this node's middleman listens on, for other nodes and clients.",
 AL_BIND(listeners)},
{"node", "data.dir", T::string, req, "", 0, 0, "",
 "Directory for this node's log segments and meta.db (a relative path is relative to the working directory).",
 AL_BIND(data_dir)},
{"node", "log.level", T::enumeration, opt, "info", 0, 0, "trace|debug|info|warn|error",
 "Lowest level of log lines written.",
 AL_BIND(log_level)},
{"node", "metrics.port", T::int32, opt, "0", 0, 65535, "",
 "Port of the metrics endpoint; 0 = off.",
 AL_BIND(metrics_port)},

{"cluster", "controller.quorum.voters", T::voters, req, "", 0, 0, "",
 "The controller quorum: id@host:port of every controller node, comma-separated; the same on every node.",
 AL_BIND(quorum_voters)},
{"cluster", "broker.session.timeout.ms", T::duration_ms, opt, "9000", 1, i32_max, "",
 "A broker without heartbeats for this long is fenced by the controller and its partitions get new leaders.",
 AL_BIND(broker_session_timeout_ms)},
{"cluster", "broker.heartbeat.interval.ms", T::duration_ms, opt, "2000", 1, i32_max, "",
 "How often a broker heartbeats the active controller; must be below broker.session.timeout.ms.",
 AL_BIND(broker_heartbeat_interval_ms)},
{"cluster", "controller.election.timeout.ms", T::duration_ms, opt, "1000", 1, i32_max, "",
 "Raft election timeout of the controller quorum: a voter that hears no leader for this long starts an election.",
 AL_BIND(controller_election_timeout_ms)},
{"cluster", "metadata.snapshot.interval.entries", T::int64, opt, "1000", 0, i64_max, "",
 "A controller snapshots its metadata image every this many applied metadata log entries and deletes the log before the older of its two newest snapshots; 0 = never.",
 AL_BIND(metadata_snapshot_interval_entries)},
{"cluster", "replica.lag.time.max.ms", T::duration_ms, opt, "30000", 1, i64_max, "",
 "A follower that has not caught up with the leader for this long is removed from the ISR.",
 AL_BIND(replica_lag_time_max_ms)},
{"cluster", "replica.fetch.max.bytes", T::int32, opt, "1048576", 0, i32_max, "",
 "Bytes a follower asks for per partition and fetch (a larger first batch is still returned whole).",
 AL_BIND(replica_fetch_max_bytes)},
{"cluster", "unclean.leader.election.enable", T::boolean, opt, "false", 0, 0, "",
 "Elect a replica outside the ISR as leader when no ISR member is alive (loses committed data).",
 AL_BIND(unclean_leader_election_enable)},
{"cluster", "offsets.topic.num.partitions", T::int32, opt, "8", 1, i32_max, "",
 "Partitions of the internal __consumer_offsets topic (Kafka's default is 50).",
 AL_BIND(offsets_topic_num_partitions)},
{"cluster", "offsets.topic.replication.factor", T::int32, opt, "3", 1, 32767, "",
 "Replication factor of __consumer_offsets; capped by the number of live brokers when the topic is created.",
 AL_BIND(offsets_topic_replication_factor)},
{"cluster", "group.initial.rebalance.delay.ms", T::duration_ms, opt, "3000", 0, i32_max, "",
 "How long a new, empty consumer group waits for more members before its first rebalance (Kafka's default; tests may use 0).",
 AL_BIND(group_initial_rebalance_delay_ms)},
{"cluster", "middleman.heartbeat.interval.ms", T::duration_ms, opt, "500", 1, i32_max, "",
 "Interval of CAF middleman heartbeats between nodes; with middleman.connection.timeout.ms it detects hung peers.",
 AL_BIND(middleman_heartbeat_interval_ms)},
{"cluster", "middleman.connection.timeout.ms", T::duration_ms, opt, "3000", 1, i32_max, "",
 "A peer connection silent (not even heartbeats) for this long is closed; must exceed middleman.heartbeat.interval.ms.",
 AL_BIND(middleman_connection_timeout_ms)},
{"cluster", "request.timeout.ms", T::duration_ms, opt, "30000", 1, i32_max, "",
 "Timeout of every request to another node (CAF 0.17 gives no early error when a peer dies).",
 AL_BIND(request_timeout_ms)},

{"log", "num.partitions", T::int32, opt, "1", 1, i32_max, "",
 "Partitions of a topic created without an explicit count.",
 AL_BIND(log_defaults.num_partitions)},
{"log", "default.replication.factor", T::int32, opt, "1", 1, 32767, "",
 "Replication factor of a topic created without an explicit one.",
 AL_BIND(log_defaults.default_replication_factor)},
{"log", "min.insync.replicas", T::int32, opt, "1", 1, i32_max, "",
 "With acks=all a write fails with NOT_ENOUGH_REPLICAS while fewer replicas are in the ISR.",
 AL_BIND(log_defaults.min_insync_replicas)},
{"log", "retention.ms", T::duration_ms, opt, "604800000", -1, i64_max, "",
 "Delete log segments older than this; -1 = keep forever.",
 AL_BIND(log_defaults.retention_ms)},
{"log", "retention.bytes", T::int64, opt, "-1", -1, i64_max, "",
 "Delete the oldest segments while a partition is larger than this; -1 = no size limit.",
 AL_BIND(log_defaults.retention_bytes)},
{"log", "segment.bytes", T::int32, opt, "1073741824", 1024, i32_max, "",
 "Roll a new log segment when the active one reaches this size.",
 AL_BIND(log_defaults.segment_bytes)},
{"log", "segment.ms", T::duration_ms, opt, "604800000", 1, i64_max, "",
 "Roll a new log segment after this long even if it is not full.",
 AL_BIND(log_defaults.segment_ms)},
{"log", "cleanup.policy", T::string_list, opt, "delete", 0, 0, "compact|delete",
 "delete (old segments by retention), compact (keep the last record per key) or compact,delete.",
 AL_BIND(log_defaults.cleanup_policy)},
{"log", "log.flush.interval.messages", T::int64, opt, "9223372036854775807", 1, i64_max, "",
 "fsync a partition after this many messages; the default (Long.MAX_VALUE) never forces it, replication protects the data.",
 AL_BIND(log_defaults.log_flush_interval_messages)},
{"log", "log.flush.interval.ms", T::duration_ms, opt, "-1", -1, i64_max, "",
 "fsync a partition at least this often; -1 = no time-based flush.",
 AL_BIND(log_defaults.log_flush_interval_ms)},
{"log", "max.message.bytes", T::int32, opt, "1048588", 0, i32_max, "",
 "Largest record batch (after compression) a topic accepts.",
 AL_BIND(log_defaults.max_message_bytes)},
{"log", "delete.retention.ms", T::duration_ms, opt, "86400000", 0, i64_max, "",
 "How long delete markers (tombstones) are kept on compacted topics.",
 AL_BIND(log_defaults.delete_retention_ms)},
{"log", "index.interval.bytes", T::int32, opt, "4096", 0, i32_max, "",
 "Add an offset index entry every this many bytes of log.",
 AL_BIND(log_defaults.index_interval_bytes)},
{"log", "log.retention.check.interval.ms", T::duration_ms, opt, "300000", 1, i64_max, "",
 "How often segments are checked for deletion by retention.ms and retention.bytes.",
 AL_BIND(log_defaults.log_retention_check_interval_ms)},
{"log", "compression.type", T::enumeration, opt, "producer", 0, 0, "producer|none|gzip|snappy|lz4|zstd",
 "Codec of stored batches: producer keeps the producer's codec, any other value recompresses.",
 AL_BIND(log_defaults.compression_type)},
};
// clang-format on

#undef AL_BIND

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string join_allowed(std::string_view allowed) {
  std::string out;
  for (auto w : split(allowed, '|')) {
    if (!out.empty())
      out += ", ";
    out += w;
  }
  return out;
}

bool is_allowed(std::string_view allowed, std::string_view word) {
  for (auto w : split(allowed, '|'))
    if (w == word)
      return true;
  return false;
}

/// Strict decimal integer: optional sign, digits, nothing else.
enum class int_parse { ok, not_a_number, overflow };
int_parse parse_int64(std::string_view s, int64_t& out) {
  bool plus = !s.empty() && s.front() == '+';
  if (plus)
    s.remove_prefix(1);
  if (s.empty() || (s.front() == '-' && plus))
    return int_parse::not_a_number;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec == std::errc::result_out_of_range) {
    // from_chars stops at the first non-digit even when out of range.
    auto digits = s.front() == '-' ? s.substr(1) : s;
    bool all_digits = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    return all_digits ? int_parse::overflow : int_parse::not_a_number;
  }
  if (ec != std::errc{} || ptr != s.data() + s.size())
    return int_parse::not_a_number;
  return int_parse::ok;
}

status bad(std::string msg) { return status{errc::invalid_config, std::move(msg)}; }

bool valid_hostname(std::string_view h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

bool valid_ipv6(std::string_view h) {
  return !h.empty() && h.find(':') != std::string_view::npos &&
         std::all_of(h.begin(), h.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
         });
}

/// Parses host:port; on failure returns why (without quoting the input).
result<host_port> parse_host_port(std::string_view s) {
  host_port out;
  std::string_view port_text;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos)
      return bad("missing \"]\" after the IPv6 address");
    auto host = s.substr(1, close - 1);
    if (!valid_ipv6(host))
      return bad("bad IPv6 address " + quote(host));
    auto rest = s.substr(close + 1);
    if (rest.empty() || rest.front() != ':')
      return bad("missing \":port\"");
    out.host = std::string{host};
    port_text = rest.substr(1);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos)
      return bad("missing \":port\"");
    auto host = s.substr(0, colon);
    if (host.empty())
      return bad("missing host");
    if (host.find(':') != std::string_view::npos)
      return bad("write IPv6 addresses as [address]:port");
    if (!valid_hostname(host))
      return bad("bad host name " + quote(host));
    out.host = std::string{host};
    port_text = s.substr(colon + 1);
  }
  if (port_text.empty())
    return bad("missing port");
  bool digits = std::all_of(port_text.begin(), port_text.end(),
                            [](char c) { return c >= '0' && c <= '9'; });
  if (!digits)
    return bad("port " + quote(port_text) + " is not a number");
  int64_t port = 0;
  if (parse_int64(port_text, port) != int_parse::ok || port < 1 || port > 65535)
    return bad("port " + std::string{port_text} + " is out of range 1..65535");
  out.port = static_cast<uint16_t>(port);
  return out;
}

result<value> parse_voters(std::string_view text) {
  std::vector<voter> out;
  for (auto raw : split(text, ',')) {
    auto item = trim(raw);
    if (item.empty())
      return bad(quote(text) + " has an empty entry (expected id@host:port,id@host:port,...)");
    auto at = item.find('@');
    if (at == std::string_view::npos)
      return bad("voter " + quote(item) + " is not id@host:port (missing \"id@\")");
    int64_t id = 0;
    auto id_text = item.substr(0, at);
    auto pr = parse_int64(id_text, id);
    if (pr == int_parse::not_a_number)
      return bad("voter " + quote(item) + ": id " + quote(id_text) + " is not an integer");
    if (pr == int_parse::overflow || id < 0 || id > i32_max)
      return bad("voter " + quote(item) + ": id " + std::string{id_text}
                 + " is out of range (expected integer, >= 0)");
    auto hp = parse_host_port(item.substr(at + 1));
    if (!hp)
      return bad("voter " + quote(item) + " is not id@host:port (" + hp.error().message() + ")");
    for (auto& prev : out) {
      if (prev.id == id)
        return bad("voter id " + std::to_string(id) + " appears twice (" + quote(to_string(prev))
                   + " and " + quote(item) + ")");
      if (prev.host == hp->host && prev.port == hp->port)
        return bad("voters " + std::to_string(prev.id) + " and " + std::to_string(id)
                   + " have the same address " + to_string(*hp));
    }
    out.push_back(voter{static_cast<int32_t>(id), std::move(hp->host), hp->port});
  }
  return value{std::move(out)};
}

std::string range_text(const key_info& k) {
  auto type_max = k.type == T::int32 ? i32_max : i64_max;
  if (k.min == -1 && k.max == type_max)
    return "-1 or >= 0";
  if (k.max == type_max)
    return ">= " + std::to_string(k.min);
  if (k.min == i64_min)
    return "<= " + std::to_string(k.max);
  return std::to_string(k.min) + ".." + std::to_string(k.max);
}

/// "int, >= 0", "duration ms, -1 or >= 0", "enum: a|b", "host:port", ...
std::string help_type(const key_info& k) {
  std::string out{type_name(k.type)};
  switch (k.type) {
    case T::int32:
    case T::int64: return out + ", " + range_text(k);
    case T::duration_ms: return out + " ms, " + range_text(k);
    case T::string_list:
    case T::enumeration: return out + ": " + std::string{k.allowed};
    case T::voters: return out + ": id@host:port,...";
    default: return out;
  }
}

} // namespace

const std::vector<key_info>& config_schema() {
  return schema_table;
}

const std::vector<std::string_view>& config_sections() {
  static const std::vector<std::string_view> sections{"node", "cluster", "log"};
  return sections;
}

const key_info* find_config_key(std::string_view name) {
  for (auto& k : schema_table)
    if (k.name == name)
      return &k;
  return nullptr;
}

std::string_view type_name(value_type t) {
  switch (t) {
    case T::int32: return "int";
    case T::int64: return "long";
    case T::boolean: return "bool";
    case T::string: return "string";
    case T::duration_ms: return "duration";
    case T::string_list: return "list";
    case T::enumeration: return "enum";
    case T::host_port: return "host:port";
    case T::voters: return "voters";
  }
  return "?";
}

std::string describe_expected(const key_info& k) {
  switch (k.type) {
    case T::int32:
    case T::int64: return "integer, " + range_text(k);
    case T::duration_ms: return "milliseconds, " + range_text(k);
    case T::boolean: return "true or false";
    case T::string: return "a non-empty string";
    case T::string_list: return "comma-separated list of " + join_allowed(k.allowed);
    case T::enumeration: return "one of " + join_allowed(k.allowed);
    case T::host_port: return "host:port";
    case T::voters: return "id@host:port,id@host:port,...";
  }
  return "?";
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

result<value> parse_value(const key_info& k, std::string_view text) {
  auto expected = " (expected " + describe_expected(k) + ")";
  if (text.empty())
    return bad("empty value" + expected);
  switch (k.type) {
    case T::int32:
    case T::int64:
    case T::duration_ms: {
      int64_t x = 0;
      switch (parse_int64(text, x)) {
        case int_parse::not_a_number: return bad(quote(text) + " is not an integer" + expected);
        case int_parse::overflow: return bad(quote(text) + " is out of range" + expected);
        case int_parse::ok: break;
      }
      if (x < k.min || x > k.max)
        return bad(quote(text) + " is out of range" + expected);
      return value{x};
    }
    case T::boolean: {
      std::string lower;
      for (char c : text)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "true")
        return value{true};
      if (lower == "false")
        return value{false};
      return bad(quote(text) + " is not a boolean" + expected);
    }
    case T::string: {
      if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') && text.back() == text.front())
        return bad(quote(text) + " is quoted; write the value without quotes");
      return value{std::string{text}};
    }
    case T::enumeration: {
      if (!is_allowed(k.allowed, text))
        return bad(quote(text) + " is not " + describe_expected(k));
      return value{std::string{text}};
    }
    case T::string_list: {
      std::vector<std::string> out;
      for (auto raw : split(text, ',')) {
        auto item = trim(raw);
        if (item.empty())
          return bad(quote(text) + " has an empty item" + expected);
        if (!is_allowed(k.allowed, item))
          return bad(quote(text) + ": " + quote(item) + " is not one of " + join_allowed(k.allowed));
        if (std::find(out.begin(), out.end(), item) != out.end())
          return bad(quote(text) + ": " + quote(item) + " appears twice");
        out.emplace_back(item);
      }
      return value{std::move(out)};
    }
    case T::host_port: {
      auto hp = parse_host_port(text);
      if (!hp)
        return bad(quote(text) + " is not host:port (" + hp.error().message() + ")");
      return value{std::move(*hp)};
    }
    case T::voters:
      return parse_voters(text);
  }
  return bad("unsupported type");
}

std::string format_value(const key_info& k, const value& v) {
  switch (k.type) {
    case T::int32:
    case T::int64:
    case T::duration_ms: return std::to_string(std::get<int64_t>(v));
    case T::boolean: return std::get<bool>(v) ? "true" : "false";
    case T::string:
    case T::enumeration: return std::get<std::string>(v);
    case T::string_list: {
      std::string out;
      for (auto& s : std::get<std::vector<std::string>>(v)) {
        if (!out.empty())
          out += ',';
        out += s;
      }
      return out;
    }
    case T::host_port: return to_string(std::get<host_port>(v));
    case T::voters: {
      std::string out;
      for (auto& x : std::get<std::vector<voter>>(v)) {
        if (!out.empty())
          out += ',';
        out += to_string(x);
      }
      return out;
    }
  }
  return {};
}

std::string render_config_help() {
  std::string out;
  out += "Node config keys (Kafka names). Set them in the INI file under their [section],\n"
         "or with --override key=value (applied after the file, checked the same way).\n";
  for (auto section : config_sections()) {
    out += "\n[";
    out += section;
    out += "]\n";
    for (auto& k : schema_table) {
      if (k.section != section)
        continue;
      out += "  ";
      out += k.name;
      out += "  (";
      out += help_type(k);
      if (k.required) {
        out += "; required)\n";
      } else {
        out += "; default ";
        out += k.default_text;
        out += ")\n";
      }
      out += "      ";
      out += k.help;
      out += '\n';
    }
  }
  return out;
}

} // namespace al::config
