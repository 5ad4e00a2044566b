#include "runtime/cli/cli_args.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
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

namespace {

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  auto era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = y - era * 400;
  auto doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  auto doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/// Exactly `n` digits at `pos` (advanced past them), or -1.
int64_t digits(std::string_view text, size_t& pos, size_t n) {
  if (pos + n > text.size())
    return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9')
      return -1;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

} // namespace

result<int64_t> parse_datetime_ms(std::string_view text) {
  auto bad_datetime = [&] {
    return bad("bad date-time " + quote(text) +
               " (expected YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm] or epoch milliseconds)");
  };
  int64_t epoch = 0;
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos) {
    if (!parse_int(text, epoch))
      return bad_datetime();
    return epoch;
  }
  size_t pos = 0;
  auto expect = [&](char c) { return pos < text.size() && text[pos++] == c; };
  auto year = digits(text, pos, 4);
  bool ok = year >= 0 && expect('-');
  auto month = ok ? digits(text, pos, 2) : -1;
  ok = ok && month >= 1 && month <= 12 && expect('-');
  auto day = ok ? digits(text, pos, 2) : -1;
  ok = ok && day >= 1 && day <= 31 && expect('T');
  auto hour = ok ? digits(text, pos, 2) : -1;
  ok = ok && hour >= 0 && hour <= 23 && expect(':');
  auto minute = ok ? digits(text, pos, 2) : -1;
  ok = ok && minute >= 0 && minute <= 59 && expect(':');
  auto second = ok ? digits(text, pos, 2) : -1;
  ok = ok && second >= 0 && second <= 60;
  if (!ok)
    return bad_datetime();
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    millis = digits(text, pos, 3);
    if (millis < 0)
      return bad_datetime();
  }
  auto civil_ms = ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60000 +
                  second * 1000 + millis;
  if (pos == text.size()) { // no zone: local time, as Kafka
    std::tm tm{};
    tm.tm_year = int(year - 1900);
    tm.tm_mon = int(month - 1);
    tm.tm_mday = int(day);
    tm.tm_hour = int(hour);
    tm.tm_min = int(minute);
    tm.tm_sec = int(second);
    tm.tm_isdst = -1;
    auto t = std::mktime(&tm);
    if (t == std::time_t(-1))
      return bad_datetime();
    return int64_t(t) * 1000 + millis;
  }
  if (text[pos] == 'Z' && pos + 1 == text.size())
    return civil_ms;
  if (text[pos] != '+' && text[pos] != '-')
    return bad_datetime();
  int64_t sign = text[pos++] == '+' ? 1 : -1;
  auto zh = digits(text, pos, 2);
  if (pos < text.size() && text[pos] == ':')
    ++pos;
  auto zm = digits(text, pos, 2);
  if (zh < 0 || zh > 18 || zm < 0 || zm > 59 || pos != text.size())
    return bad_datetime();
  return civil_ms - sign * (zh * 60 + zm) * 60000;
}

} // namespace al::cli
