#include "runtime/guard/basp_content_check.hpp"

#include <array>
#include <string_view>

namespace al::guard {

namespace {

/// CAF 0.17's atom encoding (caf/detail/atom_val.hpp): 6 bits per
/// character, starting from 0xF.
constexpr uint64_t atom_value(std::string_view s) {
  constexpr std::string_view table = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  uint64_t x = 0xF;
  for (char c : s) {
    auto at = table.find(c);
    x = (x << 6) | (at == std::string_view::npos ? 0 : at);
  }
  return x;
}

constexpr uint64_t no_node = atom_value("");
constexpr uint64_t default_node = atom_value("default");

/// A bounds-checked cursor over a payload.
struct cursor {
  const uint8_t* p;
  size_t size;
  size_t pos = 0;
  bool ok = true;

  bool need(size_t n) {
    if (size - pos < n)
      ok = false;
    return ok;
  }
  uint64_t fixed(size_t n) {
    if (!need(n))
      return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i)
      x = x << 8 | p[pos + i];
    pos += n;
    return x;
  }
  uint32_t varbyte() {
    uint32_t x = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (!need(1))
        return 0;
      uint8_t b = p[pos++];
      x |= uint32_t(b & 0x7F) << shift;
      if ((b & 0x80) == 0)
        return x;
    }
    ok = false;
    return 0;
  }
  std::string_view str() {
    auto n = varbyte();
    if (!ok || !need(n))
      return {};
    std::string_view s(reinterpret_cast<const char*>(p + pos), n);
    pos += n;
    return s;
  }
};

/// Skips a node id; false when it is not one CAF 0.17 writes by default.
bool skip_node_id(cursor& c) {
  auto impl = c.fixed(8);
  if (!c.ok)
    return false;
  if (impl == no_node)
    return true;
  if (impl != default_node)
    return false;
  c.fixed(4);
  return c.need(20) && (c.pos += 20, true);
}

/// Checks a serialized message's type names; empty when all are allowed.
std::string check_message(cursor& c) {
  auto zero = c.fixed(2);
  auto names = c.str();
  if (!c.ok)
    return "truncated message";
  if (zero != 0)
    return "message without type names";
  if (names == "@<>")
    return {};
  if (names.substr(0, 4) != "@<>+")
    return "malformed type list";
  names.remove_prefix(4);
  while (true) {
    auto end = names.find('+');
    std::string name{names.substr(0, end)};
    if (!client_type_allowed(name))
      return "type " + name + " is not accepted from clients";
    if (end == std::string_view::npos)
      return {};
    names.remove_prefix(end + 1);
  }
}

} // namespace

bool client_type_allowed(const std::string& name) {
  // Fixed-size values, strings (CAF checks their length against the bytes
  // present) and actor references (an id and a node id: CAF's own
  // handshake traffic, e.g. SpawnServ's "info" answers, carries them).
  static const std::array<std::string_view, 25> builtins = {
    "@atom", "@i8", "@i16", "@i32", "@i64", "@u8", "@u16", "@u32", "@u64",
    "bool", "float", "double", "@unit", "@str", "@strvec", "@strset", "@strmap",
    "@strong_actor_ptr", "@actor", "@addr", "@node", "@message_id", "@timespan",
    "@timestamp", "@duration"};
  for (auto b : builtins)
    if (name == b)
      return true;
  // actorlog's types and vectors of them; al::bytes would load like @charbuf.
  bool ours = name.rfind("al::", 0) == 0 || name.rfind("std::vector<al::", 0) == 0;
  return ours && name.find("al::bytes") == std::string::npos;
}

std::string check_client_frame(uint8_t operation, const uint8_t* payload, size_t size) {
  cursor c{payload, size};
  switch (operation) {
    case 1: // client_handshake: the client's node id
    case 4: // monitor_message: two node ids
    case 6: // heartbeat
      return {};
    case 2: { // direct_message
      auto stages = c.varbyte();
      if (!c.ok)
        return "truncated message";
      if (stages != 0)
        return "forwarding stages are not accepted from clients";
      return check_message(c);
    }
    case 5: { // down_message: its error's context is a message
      if (!skip_node_id(c) || !skip_node_id(c))
        return "down message with an unreadable node id";
      c.fixed(1 + 8); // code, category
      return check_message(c);
    }
    case 0:
      return "a second handshake";
    case 3:
      return "routed messages are not accepted from clients";
    default:
      return "unknown operation " + std::to_string(operation);
  }
}

} // namespace al::guard
