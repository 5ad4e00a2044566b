#pragma once
// Builds a node_config from `key = value` entries (INI lines, then
// --override strings) checked against the schema, collecting every problem
// as one line "where: [section] key: why" (format: config_loader.hpp).
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/config/config_schema.hpp"
#include "runtime/config/node_config.hpp"
#include "storage/status.hpp"

namespace al::config {

class config_builder {
public:
  /// `source` names the INI text in messages (usually its path).
  explicit config_builder(std::string_view source) : source_(source) {}

  /// "where: [section] key: why" (the section and key when not empty).
  void error(const std::string& where, std::string_view section, std::string_view key,
             const std::string& why);
  /// "where: why"
  void error(const std::string& where, const std::string& why);

  /// "<source>:<line>"
  std::string file_pos(int line) const { return std::string{source_} + ":" + std::to_string(line); }

  /// A `key = value` line from the file, inside `section` ("" = before any header).
  void file_entry(int line, std::string_view section, std::string_view name, std::string_view text);

  /// The `index`-th (1-based) --override "key=value".
  void override_entry(size_t index, std::string_view entry);

  /// Required keys and the rules that tie several keys together.
  void finish();

  /// The config, or every error found, one per line (errc::invalid_config).
  result<node_config> take();

private:
  void apply(const key_info& k, std::string_view text, const std::string& where);

  /// Reports a violated rule over `keys`, unless one of them is bad or
  /// missing (then the rule's input is meaningless and already reported).
  /// The error names the key set last, the likeliest culprit.
  void rule(std::initializer_list<std::string_view> keys, const std::string& why);

  std::string_view source_;
  node_config cfg_;
  std::vector<std::string> errors_;
  struct origin {
    std::string where; // "file:line" or "--override:N"
    int seq;           // order of setting; overrides come last
  };
  int seq_ = 0;
  std::map<std::string_view, origin> set_at_;          // key -> where its valid value came from
  std::map<std::string_view, std::string> in_file_;    // key -> its first line in the file
  std::map<std::string_view, std::string> overridden_; // key -> first --override setting it
  std::set<std::string_view> bad_;                     // keys whose last value was rejected
};

} // namespace al::config
