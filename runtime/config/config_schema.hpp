#pragma once
// The one schema of node config keys: section, Kafka key name, type, default,
// range or allowed values, one-line help, and where the value lives in
// node_config. The loader, --help and --dump-config are all driven by it.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "runtime/config/node_config.hpp"
#include "storage/status.hpp"

namespace al::config {

enum class value_type {
  int32,       ///< integer in [min, max]
  int64,       ///< integer in [min, max]
  boolean,     ///< true | false
  string,      ///< non-empty text
  duration_ms, ///< integer milliseconds in [min, max]
  string_list, ///< comma-separated, each item one of `allowed`, no repeats
  enumeration, ///< one of `allowed`
  host_port,   ///< host:port or [ipv6]:port
  voters,      ///< id@host:port,id@host:port,... (ids unique)
  kafka_listener, ///< PLAINTEXT://host:port (Kafka's listener syntax); port 0: any free
                  ///< port; "" (where it is the default): unset
};

/// A parsed value. int32/int64/duration_ms -> int64_t, enumeration -> the
/// allowed word as std::string, string_list -> std::vector<std::string>.
using value = std::variant<int64_t, bool, std::string, std::vector<std::string>, host_port,
                           std::vector<voter>>;

struct key_info {
  std::string_view section;      ///< "node", "cluster" or "log"
  std::string_view name;         ///< Kafka key name, unique across sections
  value_type type;
  bool required;
  std::string_view default_text; ///< as written in an INI file; "" if required
  int64_t min;                   ///< numeric types only
  int64_t max;                   ///< numeric types only
  std::string_view allowed;      ///< enumeration, string_list: "a|b|c"
  std::string_view help;         ///< one line
  void (*store)(node_config&, const value&); ///< writes a value into its field
  value (*load)(const node_config&);          ///< reads the field
};

/// Every key, grouped by section in the order of config_sections().
const std::vector<key_info>& config_schema();

/// "node", "cluster", "log"
const std::vector<std::string_view>& config_sections();

/// The key with this Kafka name (in any section), or nullptr.
const key_info* find_config_key(std::string_view name);

/// "int", "long", "bool", "string", "duration", "list", "enum", "host:port", "voters"
std::string_view type_name(value_type t);

/// What a valid value looks like, e.g. "milliseconds, -1 or >= 0",
/// "integer, 0..65535", "one of trace, debug, info, warn, error".
std::string describe_expected(const key_info& k);

/// Parses and checks `text` for key `k`. On failure the status message is
/// the reason, e.g. `"abc" is not an integer (expected milliseconds, -1 or >= 0)`.
result<value> parse_value(const key_info& k, std::string_view text);

/// The INI text of a value of key `k`; parse_value() accepts it.
std::string format_value(const key_info& k, const value& v);

/// Text for `--help`: every key with section, type, default, range and help.
std::string render_config_help();

/// `s` in double quotes, with `"`, `\` and control bytes escaped.
std::string quote(std::string_view s);

} // namespace al::config
