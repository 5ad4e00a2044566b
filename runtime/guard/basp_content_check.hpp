#pragma once
// What a client may put inside a BASP frame, checked by the client
// listener's guard before CAF decodes it. CAF 0.17 decodes a message's
// elements by the type names the sender lists, and loads a builtin
// `std::vector<char>` (@charbuf) by allocating and zeroing the length the
// sender claims (up to 4 GiB) before it checks the bytes exist: a small
// frame with such an element, at the top or nested in an error's context,
// can make the node allocate gigabytes. Clients have no reason to send
// those types, so the client listener refuses every frame whose type names
// are not on this list:
//   @atom, integers, bool, float, double, @unit, time values, @str,
//   @strvec, @strset, @strmap, actor references (@strong_actor_ptr, @actor,
//   @addr, @node: CAF's own traffic carries them), and actorlog's registered
//   `al::` types (their byte fields are checked,
//   actors/protocol/checked_bytes.hpp) except al::bytes. Refused among
//   others: @charbuf, @message and @error (a nested message can hold any
//   type), @config_value (nests without bound), @group.
// Layouts read here (CAF 0.17.6; integers big-endian, lengths varbyte):
//   direct_message (2): stages (count, must be 0 from a client) | message
//   monitor_message (4): two node ids (no check needed)
//   down_message (5): source node id | dest node id | error
//   message: u16 0 | type names "@<>+T1+T2..." | elements
//   error:   code u8 | category atom u64 | context message
//   node id: implementation atom u64 ("" = none; "default": pid u32 | host 20 bytes)
// routed_message (3) and handshakes after the first frame are refused.
#include <cstddef>
#include <cstdint>
#include <string>

namespace al::guard {

/// Empty when a frame from a client may pass to CAF, else why not.
/// `payload` is the frame's payload (after the 32-byte header).
std::string check_client_frame(uint8_t operation, const uint8_t* payload, size_t size);

/// Whether `name` (one type name of a message) may come from a client.
bool client_type_allowed(const std::string& name);

} // namespace al::guard
