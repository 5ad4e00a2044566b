#pragma once
// Frame boundaries and limits of CAF 0.17's BASP stream, checked before a
// byte reaches CAF. CAF reads a 32-byte header and then resizes (and zero
// fills) its buffer to the header's payload_len, up to 4 GiB, before any
// handshake: one crafted header made a node allocate 1 GiB (measured). The
// listener guard (listener_guard.hpp) feeds every byte a connection sends
// through a basp_framer and forwards only whole frames that pass it.
//
// Header (big-endian, CAF 0.17.6 libcaf_io/caf/io/basp/header.hpp):
//   operation u8 | padding u8 u8 | flags u8 | payload_len u32 |
//   operation_data u64 | source_actor u64 | dest_actor u64     = 32 bytes
// then payload_len bytes of payload.
#include <cstddef>
#include <cstdint>
#include <string>

namespace al::guard {

constexpr size_t basp_header_size = 32;
/// message_type::heartbeat, the highest operation CAF 0.17 knows.
constexpr uint8_t basp_max_operation = 6;

struct framer_limits {
  /// Largest payload of the first frame (the client handshake: node id,
  /// application identifiers; a few hundred bytes in practice).
  uint32_t handshake_max_bytes = 64 * 1024;
  /// Largest payload of any later frame (socket.request.max.bytes).
  uint32_t frame_max_bytes = 100 * 1024 * 1024;
};

/// Consumes a connection's bytes in order and says where whole frames end.
/// CAF-free and allocation-free; one per connection.
class basp_framer {
public:
  explicit basp_framer(framer_limits limits) : limits_(limits) {}

  enum class verdict {
    need_more, ///< the frame in progress is not complete yet
    frame,     ///< `consumed` bytes end a whole frame that passed the checks
    reject,    ///< the stream is malformed or over a limit: close it (see error())
  };

  /// Looks at `data[0..size)`, the bytes after the last frame returned.
  /// Returns `frame` with `consumed` = that frame's length (header plus
  /// payload) when a whole frame is there; `need_more` while it is not;
  /// `reject` once the header breaks a rule (sticky).
  verdict next(const uint8_t* data, size_t size, size_t& consumed);

  /// True once the first frame has passed (the limits switch).
  bool handshake_done() const { return frames_ > 0; }
  uint64_t frames() const { return frames_; }
  /// Why the stream was rejected (empty before that).
  const std::string& error() const { return error_; }

private:
  verdict fail(std::string why);

  framer_limits limits_;
  uint64_t frames_ = 0;
  std::string error_;
};

} // namespace al::guard
