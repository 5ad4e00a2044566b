#pragma once
// The Kafka listener (`listeners=PLAINTEXT://host:port`): Kafka's wire
// protocol in front of the same client gateway that actorlog's own CAF
// clients use (actors/broker/client_gateway_actor.hpp), so a Kafka client can
// do exactly what a CAF client can, and nothing internal.
//
//   kafka_listener_actor.cpp    the acceptor (a CAF io::broker): bounds
//                               connections (max.connections), forks one
//                               connection broker per client
//   kafka_connection_actor.cpp  one connection: size-prefixed frames
//                               (socket.request.max.bytes), request header,
//                               dispatch by API key and version, responses
//                               in request order (pipelining allowed: at most
//                               max_in_flight requests per connection are
//                               being answered; later frames wait, up to
//                               max_waiting_bytes, beyond which the client is
//                               not reading its answers and is disconnected),
//                               ApiVersions
//   kafka_connection_<group>.cpp  one file per group of APIs (metadata,
//                               produce, fetch, groups, admin, configs, txn):
//                               decode the request, ask the gateway, encode
//                               the answer
//
// Every broker runs on CAF's multiplexer thread (the middleman's), never on
// a thread per connection; handlers only decode, copy produce payloads into
// the internal request and encode, so the thread does not block. A slow
// long-poll fetch is a pending request to the gateway, not a blocked thread.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/io/broker.hpp>
#include <caf/io/connection_handle.hpp>

#include "actors/broker/client_api.hpp"
#include "kafka/protocol/generated/headers.hpp"
#include "kafka/protocol/wire.hpp"

namespace al::kafka_server {

struct listener_setup {
  int32_t node_id = -1;
  std::string cluster_id;
  std::string host = "127.0.0.1"; ///< bind address
  uint16_t port = 0;              ///< 0: any free port
  int32_t max_connections = 4096;
  int32_t socket_request_max_bytes = 104857600;
  int32_t request_timeout_ms = 30000;
  int32_t max_in_flight = 32; ///< decoded requests per connection awaiting their answer
  int64_t max_waiting_bytes = 64 << 20; ///< frames read but not yet decoded, per connection
  bool auto_create_topics = true; ///< auto.create.topics.enable
  /// Topic-level config name -> the broker's default (DescribeConfigs).
  std::map<std::string, std::string> topic_defaults;
  /// The node's own settings, shown for a broker resource (read-only: they
  /// come from its config file).
  std::map<std::string, std::string> broker_configs;
  client_api gateway;         ///< set once the node has spawned it
};

/// Binds the listener and starts the acceptor. Returns the acceptor and
/// the bound port. Connections that arrive before the gateway is known
/// (listener_set_gateway) are closed.
caf::expected<std::pair<caf::actor, uint16_t>> start_listener(caf::actor_system& sys,
                                                              listener_setup setup);

using set_gateway_atom = caf::atom_constant<caf::atom("kgateway")>;

// ---- one connection ------------------------------------------------------------

struct request_ctx {
  uint64_t seq = 0;
  int16_t api_key = 0;
  int16_t version = 0;
  int32_t correlation_id = 0;
  int16_t response_header_version = 0;
  std::string client_id;
};

struct pending_response {
  bool done = false;
  bool send = true; ///< false: answered by silence (Produce with acks=0)
  int64_t deadline_ms = 0; ///< untimed(): the connection closes if not answered by then
  int16_t api_key = 0;     ///< for the log line when that happens
  int32_t correlation_id = 0;
  std::vector<uint8_t> frame;
};

struct conn_state {
  listener_setup setup;
  caf::io::connection_handle hdl;
  bool want_size = true;       ///< the next read is a 4-byte size
  uint64_t next_seq = 0;       ///< given to the next request
  uint64_t next_to_send = 0;   ///< responses go out in this order
  std::map<uint64_t, pending_response> out;
  std::deque<std::vector<char>> waiting; ///< frames beyond max_in_flight, in order
  int64_t waiting_bytes = 0;
  bool draining = false; ///< flush_in_order is dispatching waiting frames
  bool closing = false;
  bool sweep_armed = false; ///< a tick checks the untimed requests' deadlines
  uint64_t requests = 0;
  static constexpr const char* name = "kafka-connection";
};

using conn_ptr = caf::io::stateful_broker<conn_state>*;

caf::behavior connection(conn_ptr self, caf::io::connection_handle hdl, listener_setup setup);

/// Queues `body` (already encoded) as the answer to `ctx` and sends every
/// answer that is next in order.
void reply_encoded(conn_ptr self, const request_ctx& ctx, std::vector<uint8_t> body);
/// No answer at all (acks=0), but later answers may go out.
void reply_nothing(conn_ptr self, const request_ctx& ctx);
/// The client broke the protocol: log why and close the connection.
void close_connection(conn_ptr self, const std::string& why);

template <class Response>
void reply(conn_ptr self, const request_ctx& ctx, const Response& r) {
  std::vector<uint8_t> body;
  kafka::writer w{body};
  if (auto st = r.encode(w, ctx.version); !st) {
    close_connection(self, "cannot encode the answer: " + st.to_string());
    return;
  }
  reply_encoded(self, ctx, std::move(body));
}

/// A request answered after `n` gateway calls (one per partition, topic,
/// group...): call the returned function once per finished call; the last
/// one sends `*out`. With n == 0 send the answer yourself.
template <class Response>
std::function<void()> countdown(conn_ptr self, const request_ctx& ctx,
                                std::shared_ptr<Response> out, size_t n) {
  auto left = std::make_shared<size_t>(n);
  return [self, ctx, out, left]() {
    if (--*left == 0)
      reply(self, ctx, *out);
  };
}

/// Kafka's int16 error code of an actorlog error (UNKNOWN_SERVER_ERROR is -1).
int16_t kafka_code(errc e);
int16_t kafka_code(const caf::error& err);
/// How long the gateway may take (request.timeout.ms plus the client's own wait).
std::chrono::milliseconds gateway_timeout(conn_ptr self, int32_t client_wait_ms = 0);
/// For the hot paths (Produce, Fetch): no CAF request timeout (each one is
/// two events on CAF's timer thread: 14 % of a node's CPU under a produce
/// load), but a deadline on the request's answer slot, the same
/// gateway_timeout later; one tick per second closes the connection when a
/// deadline passes (the client then retries, as after a broker's silence).
/// The partition answers within the client's wait itself (acks=all timeout,
/// fetch max wait) and CAF answers for an actor that is gone.
caf::duration untimed(conn_ptr self, const request_ctx& ctx, int32_t client_wait_ms = 0);

// ---- handlers (one file each; each takes the request body's reader) ------------

void handle_api_versions(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_metadata(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_find_coordinator(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_describe_cluster(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_produce(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_init_producer_id(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_add_partitions_to_txn(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_end_txn(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_add_offsets_to_txn(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_txn_offset_commit(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_describe_transactions(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_list_transactions(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_fetch(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_list_offsets(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_offset_for_leader_epoch(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_join_group(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_sync_group(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_heartbeat(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_leave_group(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_offset_commit(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_offset_fetch(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_describe_groups(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_list_groups(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_delete_groups(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_create_topics(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_delete_topics(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_create_partitions(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_describe_configs(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_alter_configs(conn_ptr self, const request_ctx& ctx, kafka::reader& body);
void handle_incremental_alter_configs(conn_ptr self, const request_ctx& ctx, kafka::reader& body);

/// Decodes a request body; on failure closes the connection (Kafka does the
/// same with a request it cannot parse) and returns false.
template <class Request>
bool decode(conn_ptr self, const request_ctx& ctx, kafka::reader& body, Request& out) {
  if (auto st = out.decode(body, ctx.version); !st) {
    close_connection(self, st.to_string()); // the codec's status names the API and version
    return false;
  }
  return true;
}

} // namespace al::kafka_server
