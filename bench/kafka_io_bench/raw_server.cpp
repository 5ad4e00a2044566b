// The machine's limit: the same frames answered by one epoll thread, no
// actors, no per-frame allocation, reads of up to 64 KiB at a time.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

#include "servers.hpp"

namespace iobench {

namespace {

struct raw_conn {
  int fd = -1;
  std::vector<char> in;
  size_t in_len = 0;
  std::vector<char> out;
  size_t out_off = 0;
  bool want_out = false;
};

class raw_server final : public server {
public:
  explicit raw_server(size_t response_size) : response_size_(response_size) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(lfd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(lfd_, SOMAXCONN) != 0)
      throw std::runtime_error("raw server: bind/listen failed");
    socklen_t len = sizeof(addr);
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lfd_;
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, lfd_, &ev);
    thread_ = std::thread([this] { loop(); });
  }

  ~raw_server() override {
    stop_ = true;
    thread_.join();
    for (auto& kv : conns_)
      ::close(kv.first);
    ::close(ep_);
    ::close(lfd_);
  }

  uint16_t port() const override { return port_; }

private:
  void loop() {
    epoll_event evs[64];
    while (!stop_) {
      int n = ::epoll_wait(ep_, evs, 64, 50);
      for (int i = 0; i < n; ++i) {
        int fd = evs[i].data.fd;
        if (fd == lfd_) {
          accept_all();
          continue;
        }
        auto it = conns_.find(fd);
        if (it == conns_.end())
          continue;
        auto& c = it->second;
        bool ok = true;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
          ok = on_readable(c);
        if (ok && (evs[i].events & EPOLLOUT))
          ok = flush(c);
        if (!ok) {
          ::close(fd);
          conns_.erase(it);
        }
      }
    }
  }

  void accept_all() {
    for (;;) {
      int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        return;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      auto& c = conns_[fd];
      c.fd = fd;
      c.in.resize(64 << 10);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }
  }

  bool on_readable(raw_conn& c) {
    for (;;) {
      if (c.in.size() - c.in_len < 4096)
        c.in.resize(c.in.size() * 2);
      auto r = ::read(c.fd, c.in.data() + c.in_len, c.in.size() - c.in_len);
      if (r == 0)
        return false;
      if (r < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? flush(c) : false;
      c.in_len += size_t(r);
      // Answer every complete frame.
      size_t pos = 0;
      while (c.in_len - pos >= 4) {
        auto size = load_be32(c.in.data() + pos);
        if (size < 4 || size > max_request_bytes)
          return false;
        if (c.in_len - pos - 4 < size)
          break;
        auto at = c.out.size();
        c.out.resize(at + 4 + response_size_);
        store_be32(c.out.data() + at, uint32_t(response_size_));
        std::memcpy(c.out.data() + at + 4, c.in.data() + pos + 4, 4);
        std::memset(c.out.data() + at + 8, 0, response_size_ - 4);
        pos += 4 + size;
      }
      if (pos > 0) {
        std::memmove(c.in.data(), c.in.data() + pos, c.in_len - pos);
        c.in_len -= pos;
      }
    }
  }

  bool flush(raw_conn& c) {
    while (c.out_off < c.out.size()) {
      auto w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          return false;
        if (!c.want_out) {
          c.want_out = true;
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLOUT;
          ev.data.fd = c.fd;
          ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
        }
        return true;
      }
      c.out_off += size_t(w);
    }
    c.out.clear();
    c.out_off = 0;
    if (c.want_out) {
      c.want_out = false;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = c.fd;
      ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    }
    return true;
  }

  size_t response_size_;
  int lfd_ = -1;
  int ep_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::unordered_map<int, raw_conn> conns_;
  std::thread thread_;
};

} // namespace

std::unique_ptr<server> start_raw_server(size_t response_size) {
  return std::make_unique<raw_server>(response_size);
}

} // namespace iobench
