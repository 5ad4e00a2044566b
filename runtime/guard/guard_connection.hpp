#pragma once
// One guarded connection: the outside client's socket, the guard's own
// connection to CAF's loopback listener, and the bytes between them
// (listener_guard.cpp moves them).
#include <chrono>
#include <cstdint>
#include <string>

#include "runtime/guard/basp_framer.hpp"
#include "runtime/guard/byte_queue.hpp"

namespace al::guard {

struct guard_connection {
  using time_point = std::chrono::steady_clock::time_point;

  guard_connection(uint64_t id_, int client, int upstream, size_t listener_, framer_limits limits,
                   time_point now)
    : id(id_), client_fd(client), upstream_fd(upstream), listener(listener_), framer(limits),
      last_activity(now), frame_started(now) {}

  uint64_t id;
  int client_fd;
  int upstream_fd;
  size_t listener;
  basp_framer framer;
  /// Client -> CAF: the first `ready` bytes are whole frames that passed
  /// the framer; the rest is the frame in progress.
  byte_queue to_caf;
  size_t ready = 0;
  /// CAF -> client, unchecked.
  byte_queue to_client;
  bool upstream_connected = false;
  bool upstream_eof = false; ///< CAF closed its side: flush to the client, then close
  bool rejected = false;     ///< the stream was refused: close once `ready` is out
  std::string reject_reason;
  uint32_t client_events = 0;
  uint32_t upstream_events = 0;
  time_point last_activity;
  /// When the frame in progress (or, before it, the handshake) began;
  /// zero while no frame is in progress.
  time_point frame_started;
};

} // namespace al::guard
