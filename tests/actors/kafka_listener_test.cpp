// The Kafka listener's connection in front of a gateway that answers some
// requests and never answers others: in-order answers, and the deadline of
// a request sent without a CAF timeout (Produce, Fetch) closes the
// connection when the answer never comes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <catch2/catch.hpp>

#include "actors/kafka/kafka_server.hpp"
#include "actors/protocol/actor_config.hpp"
#include "kafka/protocol/generated/headers.hpp"
#include "kafka/protocol/generated/produce.hpp"
#include "tests/loopback_socket.hpp"

namespace {

using al::test::connect_to;

using namespace al;
using clock_type = std::chrono::steady_clock;

struct test_config : actor_config {
  test_config() { load<caf::io::middleman>(); }
};

/// Partition 0 is appended at offset 42; every other partition never answers.
caf::behavior half_deaf_gateway(caf::event_based_actor* self,
                                std::shared_ptr<std::vector<caf::response_promise>> held) {
  return {
    [=](produce_atom, const produce_set_request& req) -> caf::result<produce_set_response> {
      if (req.parts.size() == 1 && req.parts[0].partition == 0) {
        produce_set_response r;
        r.results.resize(1);
        r.results[0].response.base_offset = 42;
        return r;
      }
      held->push_back(self->make_response_promise());
      return held->back();
    },
  };
}

std::vector<uint8_t> produce_frame(int32_t correlation_id, int32_t partition) {
  static const std::vector<uint8_t> batch = [] {
    std::vector<uint8_t> b(61, 0);
    b[16] = 2; // magic: all the listener looks at before the gateway
    return b;
  }();
  std::vector<uint8_t> out(4, 0);
  kafka::writer w{out};
  kafka::RequestHeader h;
  h.request_api_key = 0;
  h.request_api_version = 7;
  h.correlation_id = correlation_id;
  h.client_id = "listener-test";
  REQUIRE(h.encode(w, 1));
  kafka::ProduceRequest req;
  req.acks = 1;
  req.timeout_ms = 0;
  kafka::ProduceRequest::TopicProduceData t;
  t.name = "orders";
  kafka::ProduceRequest::PartitionProduceData p;
  p.index = partition;
  p.records = kafka::records_view::of(batch.data(), batch.size());
  t.partition_data.push_back(p);
  req.topic_data.push_back(t);
  REQUIRE(req.encode(w, 7));
  uint32_t size = htonl(uint32_t(out.size() - 4));
  std::memcpy(out.data(), &size, 4);
  return out;
}


/// Reads exactly n bytes; false on EOF or after `wait`.
bool read_exactly(int fd, uint8_t* buf, size_t n, std::chrono::milliseconds wait) {
  auto until = clock_type::now() + wait;
  size_t got = 0;
  while (got < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, int(left.count())) <= 0)
      return false;
    auto r = ::read(fd, buf + got, n - got);
    if (r <= 0)
      return false;
    got += size_t(r);
  }
  return true;
}

} // namespace

TEST_CASE("kafka listener: an answer that never comes closes the connection at its deadline",
          "[kafka]") {
  test_config cfg;
  caf::actor_system sys{cfg};
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  auto gw = sys.spawn(half_deaf_gateway, held);
  kafka_server::listener_setup setup;
  setup.node_id = 1;
  setup.cluster_id = "test";
  setup.request_timeout_ms = 300;
  setup.gateway = caf::actor_cast<client_api>(gw);
  auto started = kafka_server::start_listener(sys, setup);
  REQUIRE(started);
  int fd = connect_to(started->second);

  // Answered: the response carries base offset 42 for correlation id 7.
  auto f = produce_frame(7, 0);
  REQUIRE(::write(fd, f.data(), f.size()) == ssize_t(f.size()));
  uint8_t size_buf[4];
  REQUIRE(read_exactly(fd, size_buf, 4, std::chrono::seconds(10)));
  uint32_t size = ntohl(*reinterpret_cast<uint32_t*>(size_buf));
  std::vector<uint8_t> body(size);
  REQUIRE(read_exactly(fd, body.data(), size, std::chrono::seconds(10)));
  kafka::reader r{body.data(), body.size()};
  kafka::ResponseHeader rh;
  REQUIRE(rh.decode(r, 0));
  CHECK(rh.correlation_id == 7);
  kafka::ProduceResponse resp;
  REQUIRE(resp.decode(r, 7));
  REQUIRE(resp.responses.size() == 1);
  CHECK(resp.responses[0].partition_responses[0].base_offset == 42);

  // Never answered: the connection stays open until request.timeout.ms has
  // passed, then the listener closes it (EOF, no answer).
  auto sent = clock_type::now();
  auto g = produce_frame(8, 1);
  REQUIRE(::write(fd, g.data(), g.size()) == ssize_t(g.size()));
  pollfd quiet{fd, POLLIN, 0};
  CHECK(::poll(&quiet, 1, 250) == 0); // still open, and silent
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 10000) == 1);
  CHECK(::read(fd, size_buf, 1) == 0); // EOF: closed by the node
  CHECK(clock_type::now() - sent >= std::chrono::milliseconds(300));
  CHECK(clock_type::now() - sent < std::chrono::seconds(5));
  CHECK(held->size() == 1);
  ::close(fd);
  caf::anon_send_exit(started->first, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(gw, caf::exit_reason::user_shutdown);
}
