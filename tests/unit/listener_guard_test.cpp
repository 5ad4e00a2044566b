// The listener guard against real sockets, with a fake upstream in place of
// CAF (it echoes what reaches it and records it): whole frames pass both
// ways byte for byte; garbage, an oversized header or a stalled handshake
// closes the connection before CAF sees a byte; max.connections holds.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/guard/listener_guard.hpp"
#include "tests/loopback_socket.hpp"

using namespace al::guard;
using namespace std::chrono_literals;

namespace {

using al::test::connect_to;

using buffer = std::vector<uint8_t>;

buffer frame(uint8_t op, const buffer& payload, int64_t claimed = -1) {
  uint32_t len = claimed < 0 ? uint32_t(payload.size()) : uint32_t(claimed);
  buffer out{op, 0, 0, 0, uint8_t(len >> 24), uint8_t(len >> 16), uint8_t(len >> 8), uint8_t(len)};
  out.resize(32, 0);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

buffer direct(const std::string& types) {
  buffer out(4 + types.size());
  out[3] = uint8_t(types.size()); // no stages, u16 0, varbyte length (< 128)
  std::copy(types.begin(), types.end(), out.begin() + 4);
  return out;
}

/// Accepts connections and echoes every byte back; remembers what it got.
struct echo_upstream {
  int fd = -1;
  uint16_t port = 0;
  std::atomic<bool> stop{false};
  std::mutex mtx;
  buffer received;
  std::atomic<int> accepted{0};
  std::thread acceptor;

  echo_upstream() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(fd, 64) == 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
    acceptor = std::thread([this] {
      std::vector<std::thread> workers; // owned and joined by this thread only
      while (!stop) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0)
          continue;
        int c = ::accept(fd, nullptr, nullptr);
        if (c < 0)
          continue;
        ++accepted;
        workers.emplace_back([this, c] {
          uint8_t buf[65536];
          while (!stop) {
            pollfd q{c, POLLIN, 0};
            if (::poll(&q, 1, 50) <= 0)
              continue;
            auto n = ::read(c, buf, sizeof buf);
            if (n <= 0)
              break;
            {
              std::lock_guard<std::mutex> g{mtx};
              received.insert(received.end(), buf, buf + n);
            }
            (void)!::write(c, buf, size_t(n));
          }
          ::close(c);
        });
      }
      for (auto& w : workers)
        w.join();
    });
  }
  ~echo_upstream() {
    stop = true;
    acceptor.join();
    ::close(fd);
  }
  size_t received_size() {
    std::lock_guard<std::mutex> g{mtx};
    return received.size();
  }
};


void send_all(int fd, const buffer& b) {
  size_t off = 0;
  while (off < b.size()) {
    auto n = ::send(fd, b.data() + off, b.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      return; // closed by the guard: the test checks that separately
    off += size_t(n);
  }
}

/// Reads `n` bytes (or until the peer closes or `limit` passes).
buffer read_n(int fd, size_t n, std::chrono::milliseconds limit = 5000ms) {
  buffer out;
  auto deadline = std::chrono::steady_clock::now() + limit;
  uint8_t buf[65536];
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0)
      continue;
    auto r = ::read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (r <= 0)
      break;
    out.insert(out.end(), buf, buf + r);
  }
  return out;
}

/// True once the guard closed `fd` (read returns 0 or an error), within `limit`.
bool closed_by_peer(int fd, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  uint8_t buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0)
      continue;
    auto r = ::read(fd, buf, sizeof buf);
    if (r <= 0)
      return true;
  }
  return false;
}

struct guarded {
  echo_upstream up;
  std::unique_ptr<listener_guard> guard;
  explicit guarded(guard_limits limits = {}) {
    auto g = listener_guard::bind({guarded_listener{"client", "127.0.0.1", 0, 0, true}}, limits);
    REQUIRE(g);
    guard = std::move(*g);
    guard->run({up.port});
  }
  uint16_t port() const { return guard->port(0); }
};

} // namespace

TEST_CASE("whole frames pass to CAF and answers come back byte for byte", "[guard]") {
  guarded g;
  int c = connect_to(g.port());
  auto hs = frame(1, buffer(40, 9));
  auto msg = frame(2, direct("@<>+@atom+al::produce_request"));
  // Split anywhere: the guard reassembles.
  buffer all = hs;
  all.insert(all.end(), msg.begin(), msg.end());
  for (size_t i = 0; i < all.size(); i += 7)
    send_all(c, buffer(all.begin() + long(i), all.begin() + long(std::min(all.size(), i + 7))));
  auto echoed = read_n(c, all.size());
  CHECK(echoed == all);
  CHECK(g.guard->stats().frames == 2);
  ::close(c);
}

TEST_CASE("garbage, a huge header or a forbidden type closes the connection, CAF sees none of it",
          "[guard]") {
  guarded g;
  SECTION("random bytes") {
    int c = connect_to(g.port());
    send_all(c, buffer{0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                       16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28});
    CHECK(closed_by_peer(c));
    ::close(c);
  }
  SECTION("a handshake claiming 1 GiB") {
    int c = connect_to(g.port());
    send_all(c, frame(1, {}, 1 << 30));
    CHECK(closed_by_peer(c));
    ::close(c);
  }
  SECTION("a @charbuf element after a good handshake") {
    int c = connect_to(g.port());
    auto hs = frame(1, buffer(8));
    send_all(c, hs);
    CHECK(read_n(c, hs.size()) == hs);
    send_all(c, frame(2, direct("@<>+@atom+@charbuf")));
    CHECK(closed_by_peer(c));
    CHECK(g.up.received_size() == hs.size()); // the handshake only
    ::close(c);
  }
  CHECK(g.guard->stats().rejected_malformed == 1);
}

TEST_CASE("a stalled handshake is closed after socket.frame.timeout.ms", "[guard]") {
  guard_limits limits;
  limits.frame_timeout_ms = 300;
  guarded g{limits};
  int silent = connect_to(g.port());
  int half = connect_to(g.port());
  auto hs = frame(1, buffer(100));
  send_all(half, buffer(hs.begin(), hs.begin() + 40)); // header and part of the payload
  CHECK(closed_by_peer(silent, 3000ms));
  CHECK(closed_by_peer(half, 3000ms));
  CHECK(g.guard->stats().timed_out == 2);
  CHECK(g.up.received_size() == 0);
  ::close(silent);
  ::close(half);
}

TEST_CASE("connections beyond max.connections are closed at once", "[guard]") {
  guard_limits limits;
  limits.max_connections = 2;
  guarded g{limits};
  int a = connect_to(g.port());
  int b = connect_to(g.port());
  // Both are served.
  for (int c : {a, b}) {
    auto hs = frame(1, buffer(4));
    send_all(c, hs);
    CHECK(read_n(c, hs.size()) == hs);
  }
  int extra = connect_to(g.port());
  CHECK(closed_by_peer(extra));
  CHECK(g.guard->stats().refused_max_connections == 1);
  ::close(extra);
  ::close(a);
  // A slot is free again once a connection left.
  bool served = false;
  for (int attempt = 0; attempt < 100 && !served; ++attempt) {
    int c = connect_to(g.port());
    auto hs = frame(1, buffer(4));
    send_all(c, hs);
    served = read_n(c, hs.size(), 200ms) == hs;
    ::close(c);
  }
  CHECK(served);
  ::close(b);
}

TEST_CASE("bytes queued from clients stay under queued.max.request.bytes", "[guard]") {
  guard_limits limits;
  limits.queued_max_request_bytes = 256 * 1024;
  limits.frame_timeout_ms = 500;
  guarded g{limits};
  std::vector<int> conns;
  // Eight clients each start a 1 MiB frame and send 512 KiB of it.
  for (int i = 0; i < 8; ++i) {
    int c = connect_to(g.port());
    auto hs = frame(1, buffer(4));
    send_all(c, hs);
    REQUIRE(read_n(c, hs.size()) == hs);
    conns.push_back(c);
  }
  std::vector<std::thread> senders;
  for (int c : conns)
    senders.emplace_back([c] { send_all(c, frame(2, buffer(512 * 1024), 1 << 20)); });
  int64_t peak = 0;
  for (int i = 0; i < 50; ++i) {
    peak = std::max(peak, g.guard->stats().queued_bytes.load());
    std::this_thread::sleep_for(10ms);
  }
  // At most one read (64 KiB) past the budget: reading pauses at the limit.
  CHECK(peak <= limits.queued_max_request_bytes + 64 * 1024);
  CHECK(peak > 0);
  // The incomplete frames time out; the memory is given back.
  for (int c : conns)
    CHECK(closed_by_peer(c, 5000ms));
  for (auto& t : senders)
    t.join();
  for (int c : conns)
    ::close(c);
  CHECK(g.guard->stats().queued_bytes == 0);
}
