// The /metrics endpoint of a real node (threads, loopback TCP and HTTP):
// exact offsets and lag after producing and committing, 503 when the broker
// does not answer, a clear error for a metrics port in use, and a node
// with more segments than max.open.segment.files (issue 15, item 2).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "actors/client/producer_client.hpp"
#include "live_node.hpp"
#include "runtime/node/metrics_server.hpp"
#include "storage/batch_header.hpp"

using namespace al;
using namespace al::test;
using namespace std::chrono_literals;

namespace {

/// A TCP socket bound to 127.0.0.1 on an ephemeral port (listening if asked).
struct bound_socket {
  int fd = -1;
  uint16_t port = 0;
  explicit bound_socket(bool listen_on_it) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    socklen_t len = sizeof(addr);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
    if (listen_on_it)
      REQUIRE(::listen(fd, 1) == 0);
  }
  ~bound_socket() { close(); }
  void close() {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
};

/// A port that was free a moment ago (bound, then released).
uint16_t free_port() {
  bound_socket s{false};
  return s.port;
}

struct http_answer {
  int status = 0;
  std::string body;
};

http_answer get_metrics(uint16_t port) {
  httplib::Client cli{"127.0.0.1", port};
  cli.set_connection_timeout(5s);
  cli.set_read_timeout(15s);
  auto res = cli.Get("/metrics");
  if (!res)
    return {0, "no answer: " + httplib::to_string(res.error())};
  return {res->status, res->body};
}

bool has_line(const std::string& body, const std::string& line) {
  return body.find("\n" + line + "\n") != std::string::npos || body.rfind(line + "\n", 0) == 0;
}

/// A group request to the node's broker, retried (bounded) while the
/// group's coordinator is created or loads.
template <class Response, class... Ts>
Response group_request(live_node& node, Ts... xs) {
  caf::scoped_actor self{node.n->system()};
  auto broker = caf::actor_cast<broker_api>(node.n->broker());
  auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    std::optional<Response> out;
    std::string err_text;
    self->request(broker, 5s, xs...)
      .receive([&](Response& r) { out = std::move(r); },
               [&](caf::error& err) { err_text = describe_error(err); });
    if (out)
      return *out;
    INFO(err_text);
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(50ms); // coordinator still loading: poll with a bound
  }
}

/// An actor that never answers: every request to it times out.
caf::behavior silent_broker(caf::event_based_actor* self) {
  self->set_default_handler(caf::skip);
  return {[](int32_t) {}};
}

} // namespace

TEST_CASE("metrics: exact log end offsets, high watermarks and group lag", "[metrics][live]") {
  auto port = free_port();
  live_node node{[&](config::node_config& cfg) {
    cfg.metrics_port = port;
    cfg.offsets_topic_num_partitions = 1;
    cfg.group_initial_rebalance_delay_ms = 0;
  }};
  node.create_topic("orders", 2);
  auto p = producer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()}});
  REQUIRE(p);
  std::atomic<int> failures{0};
  auto count_failure = [&](const record_metadata&, const status& st) {
    if (!st)
      ++failures;
  };
  auto record = [](int32_t partition, int i) {
    producer_record r;
    r.topic = "orders";
    r.partition = partition;
    r.key = "k" + std::to_string(i);
    r.value = "v";
    return r;
  };
  for (int i = 0; i < 5; ++i)
    REQUIRE((*p)->send(record(0, i), count_failure));
  for (int i = 0; i < 3; ++i)
    REQUIRE((*p)->send(record(1, i), count_failure));
  REQUIRE((*p)->flush());
  REQUIRE(failures == 0);
  // Simple commits (no member, generation -1) while the group is empty.
  group_request<coordinator_info>(node, find_coordinator_atom::value, std::string{"billing"});
  offset_commit_request commit;
  commit.offsets[topic_partition{"orders", 0}] = offset_and_metadata{2, "", -1};
  commit.offsets[topic_partition{"orders", 1}] = offset_and_metadata{3, "", -1};
  auto committed = group_request<offset_commit_response>(node, offset_commit_atom::value,
                                                         std::string{"billing"}, commit);
  REQUIRE(committed.error == errc::none);

  // The high watermark follows the acknowledged produce; poll (bounded) for it.
  http_answer answer;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    answer = get_metrics(port);
    if (answer.status == 200 &&
        has_line(answer.body, R"(actorlog_consumer_group_lag{group="billing",topic="orders",partition="0"} 3)"))
      break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  INFO(answer.body);
  REQUIRE(answer.status == 200);
  const auto& body = answer.body;
  CHECK(has_line(body, "# TYPE actorlog_partition_log_end_offset gauge"));
  CHECK(has_line(body, R"(actorlog_node_info{node_id="1",cluster_id=")" + node.n->cluster_id() +
                         R"("} 1)"));
  CHECK(has_line(body, R"(actorlog_cluster_brokers{state="alive"} 1)"));
  CHECK(has_line(body, R"(actorlog_partition_log_end_offset{topic="orders",partition="0"} 5)"));
  CHECK(has_line(body, R"(actorlog_partition_log_end_offset{topic="orders",partition="1"} 3)"));
  CHECK(has_line(body, R"(actorlog_partition_log_start_offset{topic="orders",partition="0"} 0)"));
  CHECK(has_line(body, R"(actorlog_partition_high_watermark{topic="orders",partition="0"} 5)"));
  CHECK(has_line(body, R"(actorlog_partition_high_watermark{topic="orders",partition="1"} 3)"));
  CHECK(has_line(body, R"(actorlog_partition_leader{topic="orders",partition="0"} 1)"));
  CHECK(has_line(body,
                 R"(actorlog_consumer_group_committed_offset{group="billing",topic="orders",partition="0"} 2)"));
  CHECK(has_line(body,
                 R"(actorlog_consumer_group_committed_offset{group="billing",topic="orders",partition="1"} 3)"));
  CHECK(has_line(body, R"(actorlog_consumer_group_lag{group="billing",topic="orders",partition="0"} 3)"));
  CHECK(has_line(body, R"(actorlog_consumer_group_lag{group="billing",topic="orders",partition="1"} 0)"));
  CHECK(has_line(body, R"(actorlog_consumer_group_members{group="billing",state="Empty"} 0)"));
  (*p)->close();
}

TEST_CASE("metrics: a broker that does not answer gives 503, not a hung scrape",
          "[metrics][live]") {
  client_config cfg;
  caf::actor_system sys{cfg};
  auto silent = sys.spawn(silent_broker);
  metrics_setup setup;
  setup.node_id = 7;
  setup.port = free_port();
  setup.scrape_timeout = 300ms;
  auto direct = collect_metrics(sys, caf::actor_cast<broker_api>(silent), setup);
  REQUIRE_FALSE(direct);
  CHECK(direct.error().code() == errc::request_timed_out);
  auto server = metrics_server::start(sys, caf::actor_cast<broker_api>(silent), setup);
  REQUIRE(server);
  auto started = std::chrono::steady_clock::now();
  auto answer = get_metrics(setup.port);
  INFO(answer.body);
  CHECK(answer.status == 503);
  CHECK(answer.body.find("did not answer metadata within the scrape budget of 300 ms") !=
        std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  (*server)->stop();
  caf::anon_send_exit(silent, caf::exit_reason::kill);
}

TEST_CASE("metrics: a metrics port in use is an error naming the port", "[metrics][live]") {
  client_config cfg;
  caf::actor_system sys{cfg};
  auto silent = sys.spawn(silent_broker);
  auto broker = caf::actor_cast<broker_api>(silent);
  SECTION("taken by another program") {
    bound_socket taken{true};
    metrics_setup setup;
    setup.port = taken.port;
    auto server = metrics_server::start(sys, broker, setup);
    REQUIRE_FALSE(server);
    INFO(server.error().to_string());
    CHECK(server.error().message().find("metrics.port=" + std::to_string(taken.port)) !=
          std::string::npos);
    CHECK(server.error().message().find("Address already in use") != std::string::npos);
  }
  SECTION("taken by another node's metrics endpoint") {
    metrics_setup setup;
    setup.port = free_port();
    auto first = metrics_server::start(sys, broker, setup);
    REQUIRE(first);
    auto second = metrics_server::start(sys, broker, setup);
    REQUIRE_FALSE(second);
    CHECK(second.error().message().find(std::to_string(setup.port)) != std::string::npos);
  }
  caf::anon_send_exit(silent, caf::exit_reason::kill);
}

TEST_CASE("metrics: a node whose metrics port is taken does not start", "[metrics][live]") {
  bound_socket taken{true};
  config::node_config cfg;
  auto dir = (std::filesystem::temp_directory_path() /
              ("al-metrics-taken-" + std::to_string(::getpid())))
               .string();
  std::filesystem::remove_all(dir);
  cfg.node_id = 1;
  cfg.data_dir = dir;
  cfg.caf_listener = {"127.0.0.1", 0};
  cfg.kafka_listener = {"127.0.0.1", 0};
  cfg.peer_listener = {"127.0.0.1", 0};
  cfg.quorum_voters = {{1, "127.0.0.1", 0}};
  cfg.metrics_port = taken.port;
  auto started = node::start(cfg);
  REQUIRE_FALSE(started);
  INFO(started.error().to_string());
  CHECK(started.error().message().find("metrics.port=" + std::to_string(taken.port)) !=
        std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("metrics: a node with more segments than max.open.segment.files keeps every record",
          "[metrics][live][open_file_cache]") {
  auto port = free_port();
  live_node node{[&](config::node_config& cfg) {
    cfg.metrics_port = port;
    cfg.offsets_topic_num_partitions = 1;
    cfg.max_open_segment_files = 16;
  }};
  constexpr int32_t partitions = 64;
  constexpr int per_partition = 20;
  node.create_topic("wide", partitions, {{"segment.bytes", "2048"}}); // several segments each
  auto p = producer::create(node.client_sys, {{"bootstrap.servers", node.bootstrap()},
                                              {"linger.ms", "0"}, {"batch.size", "1024"}});
  REQUIRE(p);
  std::atomic<int> failures{0};
  std::mutex first_mtx;
  std::string first_error;
  for (int i = 0; i < per_partition; ++i)
    for (int32_t part = 0; part < partitions; ++part) {
      producer_record r;
      r.topic = "wide";
      r.partition = part;
      r.key = "k" + std::to_string(i);
      r.value = std::string(200, char('a' + i % 26));
      REQUIRE((*p)->send(r, [&](const record_metadata&, const status& st) {
        if (st)
          return;
        ++failures;
        std::lock_guard<std::mutex> lock(first_mtx);
        if (first_error.empty())
          first_error = st.to_string();
      }));
    }
  auto flushed = (*p)->flush();
  INFO(first_error);
  INFO(flushed.to_string());
  REQUIRE(flushed);
  REQUIRE(failures == 0);
  // Every partition reads back whole, from segments whose descriptors the
  // bound closed and the read reopened.
  caf::scoped_actor self{node.n->system()};
  auto broker = caf::actor_cast<broker_api>(node.n->broker());
  for (int32_t part = 0; part < partitions; ++part) {
    fetch_request req;
    req.topic = "wide";
    req.partition = part;
    req.max_wait_ms = 0;
    int64_t records = 0, next = 0;
    self->request(broker, 10s, fetch_atom::value, req)
      .receive(
        [&](const fetch_response& f) {
          for (size_t pos = 0; pos + batch_layout::log_overhead <= f.records.size();) {
            auto h = read_batch_header(f.records.data() + pos);
            CHECK(h.base_offset == next);
            records += h.records_count;
            next = h.last_offset() + 1;
            pos += h.size_in_bytes();
          }
        },
        [&](caf::error& err) { FAIL_CHECK(describe_error(err)); });
    INFO("partition " << part);
    CHECK(records == per_partition);
  }
  auto answer = get_metrics(port);
  REQUIRE(answer.status == 200);
  const auto& body = answer.body;
  INFO(body.substr(0, 2000));
  CHECK(has_line(body, "actorlog_node_open_segment_files_max 16"));
  auto value_of = [&](const std::string& name) {
    auto at = body.find("\n" + name + " ");
    REQUIRE(at != std::string::npos);
    return std::stoll(body.substr(at + name.size() + 2));
  };
  CHECK(value_of("actorlog_node_open_segment_files") <= 16);
  CHECK(value_of("actorlog_node_segment_file_evictions_total") > 0);
  CHECK(value_of("actorlog_node_segment_file_reopens_total") > 0);
  (*p)->close();
}
