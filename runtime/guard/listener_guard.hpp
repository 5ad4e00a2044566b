#pragma once
// The node's public TCP listeners. CAF's middleman listens on loopback
// ports of its own; a listener_guard accepts every outside connection,
// opens one to CAF for it, and moves bytes between the two on one thread
// (epoll). Client-to-node bytes pass only as whole BASP frames that a
// basp_framer accepted, so CAF never sees a malformed header, an oversized
// frame or a half-sent one; node-to-client bytes are streamed unchanged.
//
// What it bounds, and how:
// - memory: bytes buffered from all connections <= queued.max.request.bytes
//   (reading pauses at the limit and resumes as frames drain into CAF); a
//   frame larger than socket.request.max.bytes closes its connection
//   before it is buffered; toward each client at most 256 KiB is buffered
//   (reading from CAF pauses beyond that);
// - connections: at most max.connections at once (more are accepted and
//   closed at once; accept pauses for 100 ms when the process is out of
//   file descriptors);
// - time: a frame (or the handshake) must complete within
//   socket.frame.timeout.ms of its first byte, and a connection with no
//   traffic either way for connections.max.idle.ms is closed.
// Every close for a reason is counted (stats()) and logged, at most once
// per second per reason.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/guard/basp_framer.hpp"
#include "storage/status.hpp"

namespace al::guard {

struct guard_limits {
  framer_limits framer;
  int64_t queued_max_request_bytes = 512LL * 1024 * 1024;
  int32_t max_connections = 4096;
  int64_t frame_timeout_ms = 30000;
  int64_t idle_timeout_ms = 600000;
  size_t outbound_max_bytes = 256 * 1024;
};

/// One public endpoint and the loopback port of the CAF listener behind it.
struct guarded_listener {
  std::string name; ///< for logs: "client", "peer"
  std::string host;
  uint16_t port = 0; ///< 0: any free port (see listener_guard::port)
  uint16_t upstream_port = 0; ///< set by run()
  /// Also check what frames carry (basp_content_check.hpp): the client
  /// listener; nodes send types clients may not.
  bool client_content_only = false;
};

struct guard_stats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> active{0};
  std::atomic<uint64_t> refused_max_connections{0};
  std::atomic<uint64_t> rejected_malformed{0}; ///< bad header or over a size limit
  std::atomic<uint64_t> timed_out{0};          ///< frame timeout or idle
  std::atomic<uint64_t> frames{0};             ///< whole frames passed to CAF
  std::atomic<int64_t> queued_bytes{0};        ///< client bytes buffered right now
};

class listener_guard {
public:
  /// Binds every listener (an error names the one that failed). Clients
  /// that connect wait in the kernel's backlog until run().
  static result<std::unique_ptr<listener_guard>> bind(std::vector<guarded_listener> listeners,
                                                      guard_limits limits);
  /// Sets where each listener's connections go (CAF's loopback ports, in
  /// the order given to bind()) and starts the guard's thread.
  void run(const std::vector<uint16_t>& upstream_ports);
  ~listener_guard();
  listener_guard(const listener_guard&) = delete;
  listener_guard& operator=(const listener_guard&) = delete;

  /// The bound port of listener `i` (in the order given to start()).
  uint16_t port(size_t i) const;
  const guard_stats& stats() const;
  /// Closes the listeners and every connection, joins the thread. Idempotent.
  void stop();

  struct impl;

private:
  explicit listener_guard(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace al::guard
