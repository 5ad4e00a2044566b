// Server (a): CAF io::broker, the shape of actors/kafka/kafka_listener_actor.cpp
// and kafka_connection_actor.cpp without the Kafka decoding.
#include <chrono>
#include <map>
#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "servers.hpp"

namespace iobench {

namespace {

using caf::io::receive_policy;
using bind_atom = caf::atom_constant<caf::atom("iobind")>;

struct pending_response {
  bool done = false;
  std::vector<char> frame;
};

struct conn_state {
  caf::io::connection_handle hdl;
  caf::actor handler;
  size_t inline_response = 0; ///< > 0: the broker answers itself (no handler)
  caf::duration timeout;
  bool want_size = true;
  bool closing = false;
  uint64_t next_seq = 0;
  uint64_t next_to_send = 0;
  std::map<uint64_t, pending_response> out;
  static constexpr const char* name = "iobench-connection";
};

using conn_ptr = caf::io::stateful_broker<conn_state>*;

void close_connection(conn_ptr self) {
  auto& st = self->state;
  if (st.closing)
    return;
  st.closing = true;
  self->close(st.hdl);
  self->quit();
}

// As the real flush_in_order: every answer that is next in order goes to
// CAF's write buffer with one memcpy, then one flush.
void flush_in_order(conn_ptr self) {
  auto& st = self->state;
  bool wrote = false;
  for (auto i = st.out.begin(); i != st.out.end() && i->first == st.next_to_send && i->second.done;
       i = st.out.erase(i)) {
    auto& buf = self->wr_buf(st.hdl);
    auto& frame = i->second.frame;
    auto at = buf.size();
    buf.resize(at + frame.size());
    std::memcpy(buf.data() + at, frame.data(), frame.size());
    wrote = true;
    ++st.next_to_send;
  }
  if (wrote)
    self->flush(st.hdl);
}

void on_frame(conn_ptr self, const std::vector<char>& raw) {
  auto& st = self->state;
  auto seq = st.next_seq++;
  if (st.inline_response > 0) { // diagnosis: the I/O alone, no hand-off
    auto& p = st.out[seq];
    p.frame = make_response(raw.data(), raw.size(), st.inline_response);
    p.done = true;
    return flush_in_order(self);
  }
  st.out[seq];
  // The one copy: the frame's bytes into the message for the handler (the
  // real listener copies a produce batch once into its produce_request).
  std::vector<char> body(raw.begin(), raw.end());
  self->request(st.handler, st.timeout, std::move(body))
    .then(
      [self, seq](std::vector<char>& frame) {
        auto& s = self->state;
        auto i = s.out.find(seq);
        if (i == s.out.end() || s.closing)
          return;
        i->second.frame = std::move(frame);
        i->second.done = true;
        flush_in_order(self);
      },
      [self](caf::error&) { close_connection(self); });
}

caf::behavior connection(conn_ptr self, caf::io::connection_handle hdl, caf::actor handler,
                         int64_t timeout_ms, size_t inline_response) {
  auto& st = self->state;
  st.hdl = hdl;
  st.handler = std::move(handler);
  st.inline_response = inline_response;
  st.timeout = timeout_ms > 0 ? caf::duration{std::chrono::milliseconds(timeout_ms)}
                              : caf::duration{caf::infinite};
  self->configure_read(hdl, receive_policy::exactly(4));
  return {
    [=](const caf::io::new_data_msg& msg) {
      auto& s = self->state;
      if (s.closing)
        return;
      if (s.want_size) {
        auto size = load_be32(msg.buf.data());
        if (size < 4 || size > max_request_bytes)
          return close_connection(self);
        s.want_size = false;
        self->configure_read(hdl, receive_policy::exactly(size_t(size)));
        return;
      }
      s.want_size = true;
      self->configure_read(hdl, receive_policy::exactly(4));
      on_frame(self, msg.buf);
    },
    [=](const caf::io::connection_closed_msg&) {
      self->state.closing = true;
      self->quit();
    },
  };
}

struct acceptor_state {
  std::vector<caf::actor> handlers;
  int64_t timeout_ms = 0;
  size_t inline_response = 0;
  size_t next = 0;
  static constexpr const char* name = "iobench-acceptor";
};

using acceptor_ptr = caf::io::stateful_broker<acceptor_state>*;

caf::behavior acceptor(acceptor_ptr self, std::vector<caf::actor> handlers, int64_t timeout_ms,
                       size_t inline_response) {
  self->state.handlers = std::move(handlers);
  self->state.timeout_ms = timeout_ms;
  self->state.inline_response = inline_response;
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      auto h = st.handlers[st.next++ % st.handlers.size()];
      self->fork(connection, msg.handle, h, st.timeout_ms, st.inline_response);
    },
    [=](bind_atom) -> caf::result<uint16_t> {
      auto bound = self->add_tcp_doorman(0, "127.0.0.1", true);
      if (!bound)
        return bound.error();
      return bound->second;
    },
  };
}

class caf_server final : public server {
public:
  caf_server(caf::actor_system& sys, std::vector<caf::actor> handlers, int64_t timeout_ms,
             size_t inline_response) {
    acceptor_ = sys.middleman().spawn_broker(acceptor, std::move(handlers), timeout_ms,
                                             inline_response);
    caf::scoped_actor self{sys};
    caf::error failed;
    self->request(acceptor_, caf::infinite, bind_atom::value)
      .receive([&](uint16_t p) { port_ = p; }, [&](caf::error& err) { failed = std::move(err); });
    if (failed) {
      caf::anon_send_exit(acceptor_, caf::exit_reason::kill);
      throw std::runtime_error("caf server: cannot bind: " + sys.render(failed));
    }
  }
  ~caf_server() override { caf::anon_send_exit(acceptor_, caf::exit_reason::kill); }
  uint16_t port() const override { return port_; }

private:
  caf::actor acceptor_;
  uint16_t port_ = 0;
};

} // namespace

std::unique_ptr<server> start_caf_server(caf::actor_system& sys,
                                         std::vector<caf::actor> handlers,
                                         int64_t request_timeout_ms, size_t inline_response) {
  return std::make_unique<caf_server>(sys, std::move(handlers), request_timeout_ms,
                                      inline_response);
}

} // namespace iobench
