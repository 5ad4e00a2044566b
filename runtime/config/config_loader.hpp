#pragma once
// Loading a node config: INI file (parsed with inih) + Kafka-style
// `--override key=value` strings, validated strictly against the schema in
// config_schema.cpp.
//
// Every problem found is reported, one per line of the status message
// (errc::invalid_config), each naming where, section, key and why:
//   configs/single/node.ini:7: [log] retention.ms: "abc" is not an integer (expected milliseconds, -1 or >= 0)
//   configs/single/node.ini:9: [node] retention.ms: key belongs in section [log]
//   configs/single/node.ini:12: [lgo]: unknown section (expected [node], [cluster] or [log]; did you mean [log]?)
//   configs/single/node.ini: [node] data.dir: required key is missing (expected a non-empty string)
//   --override:2: [log] retention.ms: "x" is not an integer (expected milliseconds, -1 or >= 0)
// `--override:N` is the N-th override (1-based). Overrides win over the file;
// a key given twice (in the file, or among the overrides) is an error.
#include <string>
#include <string_view>
#include <vector>

#include "runtime/config/node_config.hpp"
#include "storage/status.hpp"

namespace al::config {

/// Reads the INI file at `path`, applies `overrides` ("key=value", key by its
/// Kafka name), checks everything and returns the config or all errors.
result<node_config> load_node_config(const std::string& path,
                                     const std::vector<std::string>& overrides = {});

/// The same for INI text in memory; `source` names it in messages.
result<node_config> parse_node_config(std::string_view ini_text, std::string_view source,
                                      const std::vector<std::string>& overrides = {});

/// The effective config as an INI file (every key, by section), for
/// --dump-config. Loading it yields the same config. With `with_help`, each
/// key is preceded by a `# help` comment line.
std::string to_ini(const node_config& cfg, bool with_help = false);

} // namespace al::config
