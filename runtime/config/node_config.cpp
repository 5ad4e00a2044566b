#include "runtime/config/node_config.hpp"

#include <algorithm>

namespace al::config {

std::string_view to_string(node_role x) {
  switch (x) {
    case node_role::broker: return "broker";
    case node_role::controller: return "controller";
  }
  return "?";
}

std::string_view to_string(severity x) {
  switch (x) {
    case severity::trace: return "trace";
    case severity::debug: return "debug";
    case severity::info: return "info";
    case severity::warn: return "warn";
    case severity::error: return "error";
  }
  return "?";
}

std::string_view to_string(cleanup x) {
  switch (x) {
    case cleanup::delete_: return "delete";
    case cleanup::compact: return "compact";
    case cleanup::compact_delete: return "compact,delete";
  }
  return "?";
}

std::string_view to_string(codec x) {
  switch (x) {
    case codec::producer: return "producer";
    case codec::none: return "none";
    case codec::gzip: return "gzip";
    case codec::snappy: return "snappy";
    case codec::lz4: return "lz4";
    case codec::zstd: return "zstd";
  }
  return "?";
}

std::optional<node_role> parse_node_role(std::string_view s) {
  for (auto x : {node_role::broker, node_role::controller})
    if (to_string(x) == s)
      return x;
  return std::nullopt;
}

std::optional<severity> parse_severity(std::string_view s) {
  for (auto x : {severity::trace, severity::debug, severity::info, severity::warn, severity::error})
    if (to_string(x) == s)
      return x;
  return std::nullopt;
}

std::optional<codec> parse_codec(std::string_view s) {
  for (auto x : {codec::producer, codec::none, codec::gzip, codec::snappy, codec::lz4, codec::zstd})
    if (to_string(x) == s)
      return x;
  return std::nullopt;
}

std::string to_string(const host_port& x) {
  std::string out;
  if (x.host.find(':') != std::string::npos)
    out = "[" + x.host + "]";
  else
    out = x.host;
  out += ':';
  out += std::to_string(x.port);
  return out;
}

std::string to_string(const voter& x) {
  return std::to_string(x.id) + "@" + to_string(host_port{x.host, x.port});
}

bool node_config::has_role(node_role r) const {
  return std::find(process_roles.begin(), process_roles.end(), r) != process_roles.end();
}

const voter* node_config::find_voter(int32_t id) const {
  for (auto& v : quorum_voters)
    if (v.id == id)
      return &v;
  return nullptr;
}

} // namespace al::config
