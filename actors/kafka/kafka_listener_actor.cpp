// The Kafka listener's acceptor (see kafka_server.hpp).
#include <spdlog/spdlog.h>

#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/kafka/kafka_server.hpp"

namespace al::kafka_server {

namespace {

using bind_atom = caf::atom_constant<caf::atom("kbind")>;

struct acceptor_state {
  listener_setup setup;
  int32_t open = 0;
  uint64_t refused = 0;
  static constexpr const char* name = "kafka-listener";
};

using acceptor_ptr = caf::io::stateful_broker<acceptor_state>*;

caf::behavior acceptor(acceptor_ptr self, listener_setup setup) {
  self->state.setup = std::move(setup);
  self->set_down_handler([self](caf::down_msg&) { --self->state.open; });
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      if (!st.setup.gateway || st.open >= st.setup.max_connections) {
        ++st.refused;
        if (st.open >= st.setup.max_connections)
          spdlog::warn("kafka listener: connection refused: max.connections ({}) reached",
                       st.setup.max_connections);
        self->close(msg.handle);
        return;
      }
      auto conn = self->fork(connection, msg.handle, st.setup);
      self->monitor(conn);
      ++st.open;
    },
    [=](set_gateway_atom, const client_api& gateway) { self->state.setup.gateway = gateway; },
    [=](bind_atom, const std::string& host, uint16_t port) -> caf::result<uint16_t> {
      auto bound = self->add_tcp_doorman(port, host.c_str(), true);
      if (!bound)
        return bound.error();
      spdlog::info("kafka listener on PLAINTEXT://{}:{}", host, bound->second);
      return bound->second;
    },
  };
}

} // namespace

caf::expected<std::pair<caf::actor, uint16_t>> start_listener(caf::actor_system& sys,
                                                              listener_setup setup) {
  auto host = setup.host;
  auto port = setup.port;
  auto a = sys.middleman().spawn_broker(acceptor, std::move(setup));
  // Binding happens on the multiplexer: ask the acceptor to open the port
  // and wait for the answer (start-up only).
  caf::scoped_actor self{sys};
  caf::expected<std::pair<caf::actor, uint16_t>> out{caf::sec::unexpected_response};
  self->request(a, caf::infinite, bind_atom::value, host, port)
    .receive([&](uint16_t bound) { out = std::make_pair(a, bound); },
             [&](caf::error& err) {
               out = std::move(err);
               caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
             });
  return out;
}

} // namespace al::kafka_server
