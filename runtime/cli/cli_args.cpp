#include "runtime/cli/cli_args.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

namespace al::cli {

namespace {

status bad(std::string why) { return {errc::invalid_request, std::move(why)}; }

std::string quote(std::string_view s) { return "\"" + std::string{s} + "\""; }

bool parse_int(std::string_view s, int64_t& out) {
  if (s.empty())
    return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

} // namespace

std::string to_string(const endpoint& x) {
  if (x.host.find(':') != std::string::npos)
    return "[" + x.host + "]:" + std::to_string(x.port);
  return x.host + ":" + std::to_string(x.port);
}

result<endpoint> parse_endpoint(std::string_view text) {
  endpoint out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close == 1)
      return bad("bad address " + quote(text) + " (expected [ipv6]:port)");
    out.host = std::string{text.substr(1, close - 1)};
    auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':')
      return bad("bad address " + quote(text) + " (missing \":port\")");
    port_text = rest.substr(1);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return bad("bad address " + quote(text) + " (expected host:port)");
    auto host = text.substr(0, colon);
    if (host.empty())
      return bad("bad address " + quote(text) + " (missing host)");
    if (host.find(':') != std::string_view::npos)
      return bad("bad address " + quote(text) + " (write IPv6 addresses as [address]:port)");
    out.host = std::string{host};
    port_text = text.substr(colon + 1);
  }
  int64_t port = 0;
  if (!parse_int(port_text, port) || port < 1 || port > 65535)
    return bad("bad address " + quote(text) + " (port must be 1..65535)");
  out.port = static_cast<uint16_t>(port);
  return out;
}

result<std::vector<endpoint>> parse_bootstrap(std::string_view text) {
  std::vector<endpoint> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    auto item = text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    if (!item.empty()) {
      auto ep = parse_endpoint(item);
      if (!ep)
        return ep.error();
      out.push_back(std::move(*ep));
    }
    if (comma == std::string_view::npos)
      break;
    pos = comma + 1;
  }
  if (out.empty())
    return bad("no bootstrap address given (expected host:port)");
  return out;
}

result<config_map> parse_config_entries(const std::vector<std::string>& entries) {
  // Join the pieces cxxopts split at commas back onto their entry.
  std::vector<std::string> joined;
  for (const auto& e : entries) {
    if (e.find('=') == std::string::npos && !joined.empty())
      joined.back() += "," + e;
    else
      joined.push_back(e);
  }
  config_map out;
  for (const auto& e : joined) {
    auto eq = e.find('=');
    if (eq == std::string::npos)
      return bad("bad config " + quote(e) + " (expected key=value)");
    auto key = e.substr(0, eq);
    if (key.empty())
      return bad("bad config " + quote(e) + " (empty key)");
    if (!out.emplace(key, e.substr(eq + 1)).second)
      return bad("config " + quote(key) + " given twice");
  }
  return out;
}

result<std::vector<std::string>> parse_config_names(const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const auto& n : names) {
    if (n.empty())
      return bad("empty config name");
    if (n.find('=') != std::string::npos)
      return bad("bad config name " + quote(n) + " (give only the key, without =value)");
    if (!seen.insert(n).second)
      return bad("config " + quote(n) + " given twice");
  }
  return names;
}

std::optional<std::pair<std::string_view, std::string_view>>
split_key_value(std::string_view line, std::string_view separator) {
  if (separator.empty())
    return std::nullopt;
  auto pos = line.find(separator);
  if (pos == std::string_view::npos)
    return std::nullopt;
  return std::make_pair(line.substr(0, pos), line.substr(pos + separator.size()));
}

result<acks_mode> parse_acks(std::string_view text) {
  if (text == "all" || text == "-1")
    return acks_mode::all;
  if (text == "1")
    return acks_mode::leader;
  if (text == "0")
    return acks_mode::none;
  return bad("bad acks " + quote(text) + " (expected all, -1, 1 or 0)");
}

std::string unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      switch (text[i + 1]) {
        case 't': out += '\t'; ++i; continue;
        case 'n': out += '\n'; ++i; continue;
        case 'r': out += '\r'; ++i; continue;
        case '\\': out += '\\'; ++i; continue;
        default: break;
      }
    }
    out += text[i];
  }
  return out;
}

result<start_position> parse_start_position(std::string_view text) {
  if (text == "earliest")
    return start_position{start_position::earliest, -1};
  if (text == "latest")
    return start_position{start_position::latest, -1};
  int64_t n = 0;
  if (!parse_int(text, n) || n < 0)
    return bad("bad offset " + quote(text) + " (expected earliest, latest or a number >= 0)");
  return start_position{start_position::offset, n};
}

} // namespace al::cli
