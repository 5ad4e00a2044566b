#include "loadgen.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "common.hpp"

namespace iobench {

namespace {

using clock_type = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double process_cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    auto err = std::string(std::strerror(errno));
    ::close(fd);
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " + err);
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

struct conn {
  int fd = -1;
  int index = 0; ///< over all connections (latency mode: its phase)
  std::vector<char> out;
  size_t out_off = 0;
  bool want_out = false;
  std::vector<char> in;
  size_t in_len = 0;
  uint32_t next_corr = 0;     ///< correlation id of the next request
  uint32_t expected_corr = 0; ///< of the next answer (answers come in order)
  int in_flight = 0;
  bool dead = false;
  std::deque<int64_t> due; ///< latency mode: scheduled time of each request in flight
  int64_t next_due = 0;    ///< latency mode: when the next request is due
};

struct shared_window {
  int64_t begin_ns = 0;
  int64_t measure_ns = 0; ///< warm-up ends
  int64_t end_ns = 0;
};

class worker {
public:
  worker(const load_spec& spec, const shared_window& w, std::vector<int> fds, int first_index)
    : spec_(spec), w_(w) {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    tfd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = ~uint64_t(0);
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, tfd_, &ev);
    conns_.resize(fds.size());
    for (size_t i = 0; i < fds.size(); ++i) {
      auto& c = conns_[i];
      c.fd = fds[i];
      c.index = first_index + int(i);
      c.in.resize(64 << 10);
      epoll_event cev{};
      cev.events = EPOLLIN;
      cev.data.u64 = i;
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &cev);
    }
    body_.assign(spec.request_size, 'x');
  }

  ~worker() {
    for (auto& c : conns_)
      ::close(c.fd);
    ::close(tfd_);
    ::close(ep_);
  }

  void run() {
    latency_mode_ = spec_.rate > 0;
    if (latency_mode_) {
      // Request k of all is due at begin + k / rate; connection i sends
      // requests i, i + C, i + 2C, ...
      interval_ns_ = int64_t(1e9 * spec_.connections / spec_.rate);
      for (auto& c : conns_)
        c.next_due = w_.begin_ns + int64_t(1e9 * c.index / spec_.rate);
    } else {
      for (auto& c : conns_)
        for (int i = 0; i < spec_.pipeline; ++i)
          send_request(c, 0);
    }
    epoll_event evs[64];
    auto hard_end = w_.end_ns + int64_t(3e9); // drain at most 3 s
    for (;;) {
      auto now = now_ns();
      if (!measuring_ && now >= w_.measure_ns) {
        measuring_ = true;
        t0_ = now;
        answers0_ = answers_;
        cpu0_ = thread_cpu_s();
        pcpu0_ = process_cpu_now();
      }
      if (!stopped_ && now >= w_.end_ns) {
        stopped_ = true;
        t1_ = now;
        answers1_ = answers_;
        cpu1_ = thread_cpu_s();
        pcpu1_ = process_cpu_now();
      }
      if (latency_mode_)
        send_due(now);
      if (stopped_ && all_idle())
        break;
      if (now > hard_end) {
        error("answers still missing 3 s after the end (server too slow or stuck)");
        break;
      }
      int n = ::epoll_wait(ep_, evs, 64, 2);
      for (int i = 0; i < n; ++i) {
        if (evs[i].data.u64 == ~uint64_t(0)) {
          uint64_t ticks;
          (void)!::read(tfd_, &ticks, sizeof(ticks));
          continue;
        }
        auto& c = conns_[evs[i].data.u64];
        if (c.dead)
          continue;
        if (evs[i].events & EPOLLOUT)
          flush(c);
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
          on_readable(c);
      }
    }
  }

  // Results of this thread.
  uint64_t window_answers() const { return answers1_ - answers0_; }
  double window_s() const { return double(t1_ - t0_) * 1e-9; }
  double cpu_s() const { return cpu1_ - cpu0_; }
  /// The whole process's CPU over this thread's window.
  double process_cpu_s() const { return pcpu1_ - pcpu0_; }
  uint64_t errors = 0;
  std::string first_error;
  std::vector<int64_t> latencies;

private:
  void error(const std::string& what) {
    if (errors++ == 0)
      first_error = what;
  }

  bool all_idle() const {
    for (auto& c : conns_)
      if (!c.dead && c.in_flight > 0)
        return false;
    if (latency_mode_)
      for (auto& c : conns_)
        if (!c.dead && c.next_due < w_.end_ns)
          return false; // still behind schedule: requests due before the end
    return true;
  }

  void send_due(int64_t now) {
    int64_t next = INT64_MAX;
    for (auto& c : conns_) {
      if (c.dead || c.in_flight > 0 || c.next_due >= w_.end_ns)
        continue;
      if (c.next_due <= now) {
        send_request(c, c.next_due);
        c.next_due += interval_ns_;
      } else {
        next = std::min(next, c.next_due);
      }
    }
    itimerspec its{};
    if (next != INT64_MAX) {
      its.it_value.tv_sec = next / 1000000000;
      its.it_value.tv_nsec = next % 1000000000;
    }
    // steady_clock is CLOCK_MONOTONIC on Linux; zero disarms.
    ::timerfd_settime(tfd_, TFD_TIMER_ABSTIME, &its, nullptr);
  }

  void send_request(conn& c, int64_t due) {
    auto at = c.out.size();
    c.out.resize(at + 4 + spec_.request_size);
    store_be32(c.out.data() + at, uint32_t(spec_.request_size));
    std::memcpy(c.out.data() + at + 4, body_.data(), spec_.request_size);
    if (spec_.request_size >= 4)
      store_be32(c.out.data() + at + 4, c.next_corr);
    ++c.next_corr;
    ++c.in_flight;
    if (latency_mode_)
      c.due.push_back(due);
    flush(c);
  }

  void set_want_out(conn& c, bool on) {
    if (c.want_out == on)
      return;
    c.want_out = on;
    epoll_event ev{};
    ev.events = on ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
    ev.data.u64 = uint64_t(&c - conns_.data());
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void flush(conn& c) {
    while (c.out_off < c.out.size()) {
      auto w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          set_want_out(c, true);
          return;
        }
        return kill(c, "send: " + std::string(std::strerror(errno)));
      }
      c.out_off += size_t(w);
    }
    c.out.clear();
    c.out_off = 0;
    set_want_out(c, false);
  }

  void kill(conn& c, const std::string& why) {
    error(why);
    c.dead = true;
    c.in_flight = 0;
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
  }

  void on_readable(conn& c) {
    for (;;) {
      auto r = ::read(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len);
      if (r == 0)
        return kill(c, "the server closed a connection");
      if (r < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
          return;
        return kill(c, "read: " + std::string(std::strerror(errno)));
      }
      c.in_len += size_t(r);
      size_t pos = 0;
      int64_t now = 0;
      while (c.in_len - pos >= 4) {
        auto size = load_be32(c.in.data() + pos);
        if (size + 4 > c.in.size())
          return kill(c, "answer of " + std::to_string(size) + " bytes");
        if (c.in_len - pos - 4 < size)
          break;
        if (size != spec_.response_size)
          error("answer of " + std::to_string(size) + " bytes, not " +
                std::to_string(spec_.response_size));
        if (size >= 4 && load_be32(c.in.data() + pos + 4) != c.expected_corr)
          error("answers out of order: correlation id " +
                std::to_string(load_be32(c.in.data() + pos + 4)) + " instead of " +
                std::to_string(c.expected_corr));
        ++c.expected_corr;
        pos += 4 + size;
        on_answer(c, now);
        if (c.dead)
          return;
      }
      if (pos > 0) {
        std::memmove(c.in.data(), c.in.data() + pos, c.in_len - pos);
        c.in_len -= pos;
      }
    }
  }

  void on_answer(conn& c, int64_t& now) {
    --c.in_flight;
    ++answers_;
    if (latency_mode_) {
      if (now == 0)
        now = now_ns();
      auto due = c.due.front();
      c.due.pop_front();
      if (due >= w_.measure_ns && due < w_.end_ns)
        latencies.push_back(now - due);
      return; // the loop sends the next one when it is due
    }
    if (!stopped_)
      send_request(c, 0);
  }

  const load_spec& spec_;
  const shared_window& w_;
  int ep_ = -1;
  int tfd_ = -1;
  std::vector<conn> conns_;
  std::vector<char> body_;
  bool latency_mode_ = false;
  int64_t interval_ns_ = 0;
  bool measuring_ = false;
  bool stopped_ = false;
  uint64_t answers_ = 0, answers0_ = 0, answers1_ = 0;
  int64_t t0_ = 0, t1_ = 0;
  double cpu0_ = 0, cpu1_ = 0;
  double pcpu0_ = 0, pcpu1_ = 0;
};

} // namespace

load_result run_load(const load_spec& spec) {
  if (spec.request_size < 4 || spec.response_size < 4)
    throw std::invalid_argument("request and response bodies need at least 4 bytes");
  int threads = std::max(1, std::min(spec.threads, spec.connections));
  std::vector<std::vector<int>> fds(static_cast<size_t>(threads));
  for (int i = 0; i < spec.connections; ++i)
    fds[size_t(i * threads / spec.connections)].push_back(connect_to(spec.port));
  shared_window w;
  w.begin_ns = now_ns() + int64_t(20e6); // let the server accept every connection
  w.measure_ns = w.begin_ns + int64_t(spec.warmup_s * 1e9);
  w.end_ns = w.measure_ns + int64_t(spec.seconds * 1e9);
  std::vector<std::unique_ptr<worker>> workers;
  int first = 0;
  for (auto& f : fds) {
    auto n = int(f.size());
    workers.push_back(std::make_unique<worker>(spec, w, std::move(f), first));
    first += n;
  }
  std::vector<std::thread> ts;
  auto sleep_until_ns = [](int64_t t) {
    std::this_thread::sleep_until(clock_type::time_point(std::chrono::nanoseconds(t)));
  };
  sleep_until_ns(w.begin_ns);
  for (auto& wk : workers)
    ts.emplace_back([&wk] { wk->run(); });
  for (auto& t : ts)
    t.join();
  load_result out;
  // Server CPU = process CPU minus the load generator's, both over the
  // same windows (each thread's own; they differ by a few ms at most).
  double window_sum = 0;
  for (auto& wk : workers) {
    out.process_cpu_s += wk->process_cpu_s();
    window_sum += wk->window_s();
  }
  out.process_cpu_s /= double(workers.size());
  out.window_s = window_sum > 0 ? window_sum / double(workers.size()) : spec.seconds;
  for (auto& wk : workers) {
    out.answers += wk->window_answers();
    if (wk->window_s() > 0)
      out.requests_per_s += double(wk->window_answers()) / wk->window_s();
    out.client_cpu_s += wk->cpu_s();
    if (wk->errors > 0 && out.errors == 0)
      out.first_error = wk->first_error;
    out.errors += wk->errors;
    out.latencies_ns.insert(out.latencies_ns.end(), wk->latencies.begin(), wk->latencies.end());
  }
  if (spec.rate > 0) // answered requests scheduled in the window, per second
    out.requests_per_s = double(out.latencies_ns.size()) / spec.seconds;
  std::sort(out.latencies_ns.begin(), out.latencies_ns.end());
  workers.clear(); // closes the connections
  return out;
}

} // namespace iobench
