// Parsing and formatting the values of config keys (types and ranges from
// the schema): strict integers, booleans, lists, host:port and voters.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>

#include "runtime/config/config_schema.hpp"
#include "runtime/config/config_text.hpp"

namespace al::config {

namespace {

constexpr int64_t i32_max = std::numeric_limits<int32_t>::max();

using T = value_type;

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
/// `min_port` 0 lets port 0 through ("any free port").
result<host_port> parse_host_port(std::string_view s, int64_t min_port = 1) {
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
  if (parse_int64(port_text, port) != int_parse::ok || port < min_port || port > 65535)
    return bad("port " + std::string{port_text} + " is out of range " + std::to_string(min_port) +
               "..65535");
  out.port = static_cast<uint16_t>(port);
  return out;
}

/// Kafka's `listeners` syntax, one PLAINTEXT listener: PLAINTEXT://host:port.
result<value> parse_kafka_listener(std::string_view text) {
  if (text.empty())
    return value{host_port{}};
  if (text.find(',') != std::string_view::npos)
    return bad(quote(text) + ": one listener only (PLAINTEXT://host:port)");
  auto scheme = text.find("://");
  if (scheme == std::string_view::npos)
    return bad(quote(text) + " is not PLAINTEXT://host:port (missing \"PLAINTEXT://\")");
  auto name = text.substr(0, scheme);
  if (name != "PLAINTEXT")
    return bad(quote(text) + ": listener " + quote(name) +
               " is not supported (only PLAINTEXT; SSL and SASL are not implemented)");
  auto hp = parse_host_port(text.substr(scheme + 3), 0); // port 0: any free port (tests)
  if (!hp)
    return bad(quote(text) + " is not PLAINTEXT://host:port (" + hp.error().message() + ")");
  return value{std::move(*hp)};
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

} // namespace

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
  if (text.empty() && k.type != T::kafka_listener) // "": advertised.listeners unset
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
    case T::kafka_listener:
      return parse_kafka_listener(text);
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
    case T::kafka_listener: {
      auto& hp = std::get<host_port>(v);
      return hp.host.empty() ? std::string{} : "PLAINTEXT://" + to_string(hp);
    }
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

} // namespace al::config
