// Server (b): standalone Asio (libasio-dev, header-only, ASIO_STANDALONE) on
// a small thread pool, handing every request to the CAF handler actor.
#include <asio.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <stdexcept>
#include <thread>

#include <caf/send.hpp>

#include "handler.hpp"
#include "servers.hpp"

namespace iobench {

namespace {

using asio::ip::tcp;

/// One client connection. Every member is touched only on the connection's
/// strand (the socket's executor), except `ex_` (immutable) in deliver().
class connection final : public reply_sink, public std::enable_shared_from_this<connection> {
public:
  connection(tcp::socket sock, caf::actor handler, bool move_buffer, size_t inline_response,
             std::atomic<int>& live)
    : sock_(std::move(sock)), ex_(sock_.get_executor()), handler_(std::move(handler)),
      move_buffer_(move_buffer), inline_response_(inline_response), live_(live) {
    ++live_;
  }
  ~connection() override { --live_; }

  void start() { read_size(); }

  // Called by the handler actor on a CAF worker thread: back to the strand.
  void deliver(uint64_t seq, std::vector<char> frame) override {
    asio::post(ex_, [self = shared_from_this(), seq, f = std::move(frame)]() mutable {
      self->on_response(seq, std::move(f));
    });
  }

private:
  void read_size() {
    asio::async_read(sock_, asio::buffer(size_),
                     [self = shared_from_this()](std::error_code ec, size_t) {
                       self->on_size(ec);
                     });
  }

  void on_size(std::error_code ec) {
    if (ec || closed_)
      return close();
    auto size = load_be32(size_);
    if (size < 4 || size > max_request_bytes)
      return close();
    body_.resize(size);
    asio::async_read(sock_, asio::buffer(body_),
                     [self = shared_from_this()](std::error_code ec2, size_t) {
                       self->on_body(ec2);
                     });
  }

  void on_body(std::error_code ec) {
    if (ec || closed_)
      return close();
    if (inline_response_ > 0) { // diagnosis: the I/O alone, no hand-off
      on_response(next_seq_++, make_response(body_.data(), body_.size(), inline_response_));
    } else if (move_buffer_) {
      // The buffer Asio read into becomes the message: no copy, but a
      // fresh 16 KiB allocation per frame on this thread, freed on a CAF
      // worker (see --help: glibc trims this thread's arena and every
      // frame page-faults).
      caf::anon_send(handler_, sink_request{shared_from_this(), next_seq_++, std::move(body_)});
      body_ = std::vector<char>{};
    } else {
      // As the io::broker server and the real listener: the frame is read
      // into a buffer the connection keeps, and copied once into the message.
      caf::anon_send(handler_, sink_request{shared_from_this(), next_seq_++,
                                            std::vector<char>(body_.begin(), body_.end())});
    }
    read_size();
  }

  void on_response(uint64_t seq, std::vector<char> frame) {
    if (closed_)
      return;
    if (seq != next_to_send_) {
      early_.emplace(seq, std::move(frame));
      return;
    }
    append(frame);
    for (auto i = early_.begin(); i != early_.end() && i->first == next_to_send_;
         i = early_.erase(i))
      append(i->second);
    if (!writing_)
      write();
  }

  void append(const std::vector<char>& frame) {
    out_.insert(out_.end(), frame.begin(), frame.end()); // char to char: a memmove
    ++next_to_send_;
  }

  void write() {
    if (out_.empty())
      return;
    writing_ = true;
    in_write_.swap(out_); // out_ is now the (cleared) previous write buffer
    asio::async_write(sock_, asio::buffer(in_write_),
                      [self = shared_from_this()](std::error_code ec, size_t) {
                        self->writing_ = false;
                        self->in_write_.clear();
                        if (ec)
                          return self->close();
                        self->write();
                      });
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    std::error_code ignored;
    sock_.shutdown(tcp::socket::shutdown_both, ignored);
    sock_.close(ignored);
  }

  tcp::socket sock_;
  const asio::any_io_executor ex_;
  caf::actor handler_;
  const bool move_buffer_;
  const size_t inline_response_;
  std::atomic<int>& live_;
  unsigned char size_[4] = {0, 0, 0, 0};
  std::vector<char> body_; ///< read buffer (reused unless move_buffer_)
  uint64_t next_seq_ = 0;
  uint64_t next_to_send_ = 0;
  std::map<uint64_t, std::vector<char>> early_; ///< answers that overtook an earlier one
  std::vector<char> out_;                       ///< ready, not yet being written
  std::vector<char> in_write_;                  ///< handed to async_write
  bool writing_ = false;
  bool closed_ = false;
};

class asio_server final : public server {
public:
  asio_server(std::vector<caf::actor> handlers, int threads, bool move_buffer,
              size_t inline_response)
    : handlers_(std::move(handlers)), move_buffer_(move_buffer),
      inline_response_(inline_response), ioc_(threads), acceptor_(asio::make_strand(ioc_)) {
    tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), 0};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor_.local_endpoint().port();
    accept();
    for (int i = 0; i < threads; ++i)
      threads_.emplace_back([this] { ioc_.run(); });
  }

  ~asio_server() override {
    asio::post(acceptor_.get_executor(), [this] {
      std::error_code ignored;
      acceptor_.close(ignored);
    });
    // The clients have closed their connections; wait until every
    // connection (and every message to the handler that refers to one) is gone.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (live_.load() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ioc_.stop();
    for (auto& t : threads_)
      t.join();
  }

  uint16_t port() const override { return port_; }

private:
  void accept() {
    // Each connection gets its own strand as its socket's executor.
    acceptor_.async_accept(asio::make_strand(ioc_), [this](std::error_code ec, tcp::socket s) {
      if (ec)
        return; // closed
      std::error_code ignored;
      s.set_option(tcp::no_delay(true), ignored);
      auto h = handlers_[next_++ % handlers_.size()];
      std::make_shared<connection>(std::move(s), std::move(h), move_buffer_, inline_response_,
                                   live_)
        ->start();
      accept();
    });
  }

  std::vector<caf::actor> handlers_;
  bool move_buffer_;
  size_t inline_response_;
  size_t next_ = 0;
  std::atomic<int> live_{0};
  asio::io_context ioc_; ///< concurrency hint = threads (posts from CAF threads stay locked)
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::vector<std::thread> threads_;
};

} // namespace

std::unique_ptr<server> start_asio_server(std::vector<caf::actor> handlers, int threads,
                                          bool move_buffer, size_t inline_response) {
  return std::make_unique<asio_server>(std::move(handlers), threads, move_buffer,
                                       inline_response);
}

} // namespace iobench
