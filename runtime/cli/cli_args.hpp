#pragma once
// Parsing of the client commands' option values (no CAF, unit-tested):
// bootstrap addresses, `--config key=value` lists, `key<sep>value` input
// lines, acks, and separators typed with backslash escapes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/protocol/admin_messages.hpp"
#include "actors/protocol/messages.hpp"
#include "storage/status.hpp"

namespace al::cli {

/// The listener of configs/single/node.ini.
constexpr const char* default_bootstrap = "127.0.0.1:9101";

struct endpoint {
  std::string host; ///< without brackets for IPv6
  uint16_t port = 0;
};

/// "host:port", or "[address]:port" for an IPv6 host.
std::string to_string(const endpoint& x);

/// Parses "host:port" or "[ipv6]:port" (port 1..65535).
result<endpoint> parse_endpoint(std::string_view text);

/// A comma-separated list of endpoints (Kafka's bootstrap.servers); at least one.
result<std::vector<endpoint>> parse_bootstrap(std::string_view text);

/// `--config key=value` entries into a map; an empty key, a missing '=' or a
/// key given twice is an error. cxxopts splits list options at commas, so an
/// entry without '=' continues the previous value:
/// {"cleanup.policy=compact", "delete"} is cleanup.policy=compact,delete.
result<config_map> parse_config_entries(const std::vector<std::string>& entries);

/// `--delete-config` names: non-empty, no '=', no duplicates.
result<std::vector<std::string>> parse_config_names(const std::vector<std::string>& names);

/// Splits `line` at the first `separator` (non-empty) into key and value;
/// nullopt when the separator does not occur.
std::optional<std::pair<std::string_view, std::string_view>>
split_key_value(std::string_view line, std::string_view separator);

/// Kafka's acks values: "all" or "-1", "1", "0".
result<acks_mode> parse_acks(std::string_view text);

/// Separators as typed on a shell: \t, \n, \r and \\ are replaced by the
/// character they name; anything else is kept as is.
std::string unescape(std::string_view text);

/// Where a consumer starts: earliest, latest, or an absolute offset.
struct start_position {
  enum kind_t { earliest, latest, offset } kind = latest;
  int64_t value = -1; ///< for kind offset
};

/// Kafka console consumer's --offset: "earliest", "latest" or an offset >= 0.
result<start_position> parse_start_position(std::string_view text);

/// kafka-consumer-groups --to-datetime: "YYYY-MM-DDTHH:mm:SS[.sss]" with an
/// optional zone ("Z", "+01:00", "-0530"); without one, the local time
/// zone (as Kafka). Also plain milliseconds since the epoch. Returns epoch ms.
result<int64_t> parse_datetime_ms(std::string_view text);

} // namespace al::cli
