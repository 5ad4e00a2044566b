#include "runtime/guard/listener_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "storage/assert.hpp"

#include "runtime/guard/basp_content_check.hpp"
#include "runtime/guard/guard_connection.hpp"

namespace al::guard {

namespace {

using clock_type = std::chrono::steady_clock;
constexpr size_t read_chunk = 64 * 1024;
constexpr int sweep_ms = 100;

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

result<int> bind_listener(const guarded_listener& l) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto port = std::to_string(l.port);
  if (int rc = ::getaddrinfo(l.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return status{errc::network_exception,
                  "cannot resolve " + l.host + " for the " + l.name + " listener: " + gai_strerror(rc)};
  std::string last_error = "no address";
  for (auto* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) {
      ::freeaddrinfo(found);
      return fd;
    }
    last_error = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return status{errc::network_exception, "cannot listen on " + l.host + ":" + port + " (" +
                                           l.name + " listener): " + last_error};
}

uint16_t bound_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

/// At most one log line per second per reason, with the count in between.
struct rate_limited_log {
  clock_type::time_point last{};
  uint64_t suppressed = 0;
  void warn(clock_type::time_point now, const std::string& what) {
    if (now - last < std::chrono::seconds(1)) {
      ++suppressed;
      return;
    }
    if (suppressed > 0)
      spdlog::warn("{} (and {} more like it in the last second)", what, suppressed);
    else
      spdlog::warn("{}", what);
    last = now;
    suppressed = 0;
  }
};

} // namespace

struct listener_guard::impl {
  std::vector<guarded_listener> listeners;
  std::vector<int> listen_fds;
  guard_limits limits;
  guard_stats stats;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::thread thread;
  std::atomic<bool> stopping{false};
  bool joined = false;
  // Owned by the guard's thread from here on.
  std::unordered_map<uint64_t, std::unique_ptr<guard_connection>> conns;
  uint64_t next_id = 1;
  clock_type::time_point accept_paused_until{};
  bool accept_paused = false;
  std::map<std::string, rate_limited_log> logs;

  // epoll keys: listener i -> i; wake -> UINT64_MAX; a connection's client
  // side -> id << 1, its CAF side -> id << 1 | 1 (ids start above the
  // listener count's range by shifting).
  static uint64_t key(uint64_t id, bool upstream) { return (id << 1 | (upstream ? 1 : 0)) + (1u << 16); }

  void run();
  void on_accept(size_t listener, clock_type::time_point now);
  void on_event(uint64_t k, uint32_t events, clock_type::time_point now);
  bool read_client(guard_connection& c, clock_type::time_point now);
  bool read_upstream(guard_connection& c, clock_type::time_point now);
  bool flush_upstream(guard_connection& c);
  bool flush_client(guard_connection& c);
  void update_interest(guard_connection& c);
  void close(guard_connection& c, const char* counter_reason, const std::string& why,
             clock_type::time_point now);
  void sweep(clock_type::time_point now);
  void set_accepting(bool on);
  bool may_read_client(const guard_connection& c) const;
};

void listener_guard::impl::set_accepting(bool on) {
  for (size_t i = 0; i < listen_fds.size(); ++i) {
    epoll_event ev{};
    ev.events = on ? uint32_t(EPOLLIN) : 0u;
    ev.data.u64 = i;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fds[i], &ev);
  }
  accept_paused = !on;
}

void listener_guard::impl::on_accept(size_t l, clock_type::time_point now) {
  for (;;) {
    int fd = ::accept4(listen_fds[l], nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        logs["accept"].warn(now, "guard: cannot accept on the " + listeners[l].name +
                                   " listener: " + std::strerror(errno) +
                                   " (pausing accepts for 100 ms)");
        accept_paused_until = now + std::chrono::milliseconds(100);
        set_accepting(false);
      }
      return; // EAGAIN: drained; ECONNABORTED and the like: the peer left
    }
    if (conns.size() >= size_t(limits.max_connections)) {
      ++stats.refused_max_connections; // before the close the client sees
      ::close(fd);
      logs["max"].warn(now, "guard: connection refused on the " + listeners[l].name +
                              " listener: max.connections (" +
                              std::to_string(limits.max_connections) + ") reached");
      continue;
    }
    int up = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (up < 0) {
      ::close(fd);
      logs["accept"].warn(now, std::string("guard: no socket for CAF: ") + std::strerror(errno));
      continue;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(listeners[l].upstream_port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(up, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0 && errno != EINPROGRESS) {
      logs["upstream"].warn(now, std::string("guard: cannot reach CAF's listener: ") +
                                   std::strerror(errno));
      ::close(fd);
      ::close(up);
      continue;
    }
    set_nodelay(fd);
    set_nodelay(up);
    auto id = next_id++;
    auto c = std::make_unique<guard_connection>(id, fd, up, l, limits.framer, now);
    for (bool upstream : {false, true}) {
      epoll_event ev{};
      ev.data.u64 = key(id, upstream);
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, upstream ? up : fd, &ev);
    }
    auto& ref = *c;
    conns.emplace(id, std::move(c));
    ++stats.accepted;
    stats.active = conns.size();
    update_interest(ref);
  }
}

bool listener_guard::impl::may_read_client(const guard_connection& c) const {
  return stats.queued_bytes.load() < limits.queued_max_request_bytes &&
         c.to_client.size() < limits.outbound_max_bytes && !c.rejected;
}

void listener_guard::impl::update_interest(guard_connection& c) {
  uint32_t client = (may_read_client(c) ? uint32_t(EPOLLIN) : 0u) | (c.to_client.empty() ? 0u : uint32_t(EPOLLOUT));
  if (client != c.client_events) {
    epoll_event ev{};
    ev.events = client;
    ev.data.u64 = key(c.id, false);
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.client_fd, &ev);
    c.client_events = client;
  }
  if (c.upstream_eof) {
    // A closed socket reports EPOLLHUP whatever it is asked for: stop
    // watching it while the rest goes out to the client.
    if (c.upstream_events != UINT32_MAX)
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.upstream_fd, nullptr);
    c.upstream_events = UINT32_MAX;
    return;
  }
  uint32_t upstream = (c.to_client.size() >= limits.outbound_max_bytes ? 0u : uint32_t(EPOLLIN)) |
                      (!c.upstream_connected || c.ready > 0 ? uint32_t(EPOLLOUT) : 0u);
  if (upstream != c.upstream_events) {
    epoll_event ev{};
    ev.events = upstream;
    ev.data.u64 = key(c.id, true);
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.upstream_fd, &ev);
    c.upstream_events = upstream;
  }
}

bool listener_guard::impl::read_client(guard_connection& c, clock_type::time_point now) {
  if (!may_read_client(c))
    return true; // the budget filled up earlier in this batch of events
  auto* at = c.to_caf.prepare(read_chunk);
  auto n = ::read(c.client_fd, at, read_chunk);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
    return false; // the client left; nothing half-sent reaches CAF
  if (n < 0)
    return true;
  c.to_caf.commit(size_t(n));
  stats.queued_bytes += n;
  c.last_activity = now;
  for (;;) {
    size_t consumed = 0;
    auto v = c.framer.next(c.to_caf.data() + c.ready, c.to_caf.size() - c.ready, consumed);
    if (v == basp_framer::verdict::frame) {
      if (listeners[c.listener].client_content_only) {
        const uint8_t* frame = c.to_caf.data() + c.ready;
        auto why = check_client_frame(frame[0], frame + basp_header_size, consumed - basp_header_size);
        if (!why.empty()) {
          c.rejected = true;
          c.reject_reason = why;
          return true;
        }
      }
      c.ready += consumed;
      ++stats.frames;
      continue;
    }
    if (v == basp_framer::verdict::reject) {
      c.rejected = true;
      c.reject_reason = c.framer.error();
      return true; // closed by the caller after the frames before it went out
    }
    break;
  }
  bool partial = c.to_caf.size() > c.ready;
  if (partial && c.frame_started == clock_type::time_point{})
    c.frame_started = now;
  return true;
}

bool listener_guard::impl::flush_upstream(guard_connection& c) {
  if (!c.upstream_connected || c.ready == 0)
    return true;
  auto n = ::write(c.upstream_fd, c.to_caf.data(), c.ready);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  c.to_caf.consume(size_t(n));
  c.ready -= size_t(n);
  stats.queued_bytes -= n;
  c.to_caf.shrink_if_empty(1 << 20);
  return true;
}

bool listener_guard::impl::read_upstream(guard_connection& c, clock_type::time_point now) {
  auto room = limits.outbound_max_bytes - std::min(limits.outbound_max_bytes, c.to_client.size());
  if (room == 0)
    return true;
  auto* at = c.to_client.prepare(room);
  auto n = ::read(c.upstream_fd, at, room);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
    c.upstream_eof = true; // CAF closed it: pass on what it sent, then close
    return true;
  }
  if (n > 0) {
    c.to_client.commit(size_t(n));
    c.last_activity = now;
  }
  return true;
}

bool listener_guard::impl::flush_client(guard_connection& c) {
  if (c.to_client.empty())
    return true;
  auto n = ::send(c.client_fd, c.to_client.data(), c.to_client.size(), MSG_NOSIGNAL);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  c.to_client.consume(size_t(n));
  c.to_client.shrink_if_empty(1 << 20);
  return true;
}

void listener_guard::impl::close(guard_connection& c, const char* reason, const std::string& why,
                                 clock_type::time_point now) {
  if (reason != nullptr)
    logs[reason].warn(now, "guard: closed a connection on the " + listeners[c.listener].name +
                             " listener: " + why);
  // Counters first: whoever sees the close sees them updated.
  stats.queued_bytes -= int64_t(c.to_caf.size());
  stats.active = conns.size() - 1;
  ::close(c.client_fd);
  ::close(c.upstream_fd);
  conns.erase(c.id); // destroys c
}

void listener_guard::impl::on_event(uint64_t k, uint32_t events, clock_type::time_point now) {
  auto i = conns.find((k - (1u << 16)) >> 1);
  if (i == conns.end())
    return; // closed earlier in this batch of events
  auto& c = *i->second;
  bool upstream = ((k - (1u << 16)) & 1) != 0;
  bool ok = true;
  if (upstream) {
    if (!c.upstream_connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      int err = 0;
      socklen_t len = sizeof(err);
      ::getsockopt(c.upstream_fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        close(c, "upstream", std::string("cannot reach CAF's listener: ") + std::strerror(err), now);
        return;
      }
      c.upstream_connected = true;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
      ok = read_upstream(c, now);
    ok = ok && flush_upstream(c) && flush_client(c);
  } else {
    if (events & EPOLLIN)
      ok = read_client(c, now);
    else if (events & (EPOLLHUP | EPOLLERR))
      ok = false;
    ok = ok && flush_upstream(c) && flush_client(c);
  }
  if (!ok) {
    close(c, nullptr, "", now); // a side left: nothing to report
    return;
  }
  if (c.rejected && c.ready == 0) {
    ++stats.rejected_malformed;
    // Separate log budgets: a burst of garbage must not hide a refused type.
    close(c, c.framer.error().empty() ? "content" : "malformed", c.reject_reason, now);
    return;
  }
  if (c.upstream_eof && c.to_client.empty()) {
    close(c, nullptr, "", now);
    return;
  }
  if (c.framer.handshake_done() && c.to_caf.size() == c.ready)
    c.frame_started = {};
  update_interest(c);
}

void listener_guard::impl::sweep(clock_type::time_point now) {
  if (accept_paused && now >= accept_paused_until)
    set_accepting(true);
  auto frame_limit = std::chrono::milliseconds(limits.frame_timeout_ms);
  auto idle_limit = std::chrono::milliseconds(limits.idle_timeout_ms);
  std::vector<guard_connection*> expired;
  for (auto& [id, c] : conns) {
    bool frame_late = c->frame_started != clock_type::time_point{} && now - c->frame_started > frame_limit;
    bool idle = now - c->last_activity > idle_limit;
    if (frame_late || idle)
      expired.push_back(c.get());
    else
      update_interest(*c); // the shared budget may have freed up
  }
  for (auto* c : expired) {
    ++stats.timed_out;
    bool handshake = !c->framer.handshake_done();
    std::string why = now - c->last_activity > idle_limit
                        ? "idle for connections.max.idle.ms (" + std::to_string(limits.idle_timeout_ms) + " ms)"
                        : std::string(handshake ? "handshake" : "frame") +
                            " incomplete after socket.frame.timeout.ms (" +
                            std::to_string(limits.frame_timeout_ms) + " ms)";
    close(*c, "timeout", why, now);
  }
}

void listener_guard::impl::run() {
  std::vector<epoll_event> events(256);
  auto last_sweep = clock_type::now();
  while (!stopping.load()) {
    int n = ::epoll_wait(epoll_fd, events.data(), int(events.size()), sweep_ms);
    auto now = clock_type::now();
    for (int i = 0; i < n; ++i) {
      auto k = events[size_t(i)].data.u64;
      if (k == UINT64_MAX)
        continue; // woken to stop
      if (k < listen_fds.size())
        on_accept(size_t(k), now);
      else
        on_event(k, events[size_t(i)].events, now);
    }
    if (now - last_sweep >= std::chrono::milliseconds(sweep_ms)) {
      sweep(now);
      last_sweep = now;
    }
  }
  for (auto& [id, c] : conns) {
    ::close(c->client_fd);
    ::close(c->upstream_fd);
  }
  conns.clear();
  stats.active = 0;
}

listener_guard::listener_guard(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

listener_guard::~listener_guard() { stop(); }

result<std::unique_ptr<listener_guard>> listener_guard::bind(std::vector<guarded_listener> ls,
                                                             guard_limits limits) {
  auto p = std::make_unique<impl>();
  p->listeners = std::move(ls);
  p->limits = limits;
  for (auto& l : p->listeners) {
    auto fd = bind_listener(l);
    if (!fd) {
      for (int open : p->listen_fds)
        ::close(open);
      return fd.error();
    }
    p->listen_fds.push_back(*fd);
  }
  p->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  p->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  for (size_t i = 0; i < p->listen_fds.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, p->listen_fds[i], &ev);
  }
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.u64 = UINT64_MAX;
  ::epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, p->wake_fd, &wake);
  return std::unique_ptr<listener_guard>(new listener_guard(std::move(p)));
}

void listener_guard::run(const std::vector<uint16_t>& upstream_ports) {
  AL_ASSERT(upstream_ports.size() == impl_->listeners.size(), upstream_ports.size());
  AL_ASSERT(!impl_->thread.joinable());
  for (size_t i = 0; i < upstream_ports.size(); ++i)
    impl_->listeners[i].upstream_port = upstream_ports[i];
  auto* raw = impl_.get();
  impl_->thread = std::thread([raw] { raw->run(); });
}

uint16_t listener_guard::port(size_t i) const { return bound_port(impl_->listen_fds.at(i)); }

const guard_stats& listener_guard::stats() const { return impl_->stats; }

void listener_guard::stop() {
  if (!impl_ || impl_->joined)
    return;
  impl_->stopping = true;
  uint64_t one = 1;
  (void)::write(impl_->wake_fd, &one, sizeof(one));
  if (impl_->thread.joinable())
    impl_->thread.join();
  impl_->joined = true;
  for (int fd : impl_->listen_fds)
    ::close(fd);
  ::close(impl_->epoll_fd);
  ::close(impl_->wake_fd);
}

} // namespace al::guard
