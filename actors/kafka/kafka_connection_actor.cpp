// One Kafka client connection (see kafka_server.hpp): frames, the request
// header, dispatch, answers in request order, ApiVersions.
#include <cstring>

#include <spdlog/spdlog.h>

#include "actors/kafka/kafka_server.hpp"
#include "actors/protocol/atoms.hpp"
#include "actors/protocol/errors.hpp"
#include "storage/clock.hpp"
#include "kafka/protocol/generated/api_versions.hpp"
#include "kafka/protocol/generated/api_versions_table.hpp"

namespace al::kafka_server {

namespace {

using caf::io::receive_policy;
using handler = void (*)(conn_ptr, const request_ctx&, kafka::reader&);

/// The APIs this listener answers; ApiVersions advertises exactly these,
/// at the versions in kafka/protocol/generated/api_versions_table.cpp.
const std::map<int16_t, handler>& handlers() {
  static const std::map<int16_t, handler> table = {
    {0, handle_produce},           {1, handle_fetch},
    {2, handle_list_offsets},      {3, handle_metadata},
    {8, handle_offset_commit},     {9, handle_offset_fetch},
    {10, handle_find_coordinator}, {11, handle_join_group},
    {12, handle_heartbeat},        {13, handle_leave_group},
    {14, handle_sync_group},       {15, handle_describe_groups},
    {16, handle_list_groups},      {18, handle_api_versions},
    {42, handle_delete_groups},
    {19, handle_create_topics},    {20, handle_delete_topics},
    {22, handle_init_producer_id}, {23, handle_offset_for_leader_epoch},
    {24, handle_add_partitions_to_txn}, {26, handle_end_txn},
    {25, handle_add_offsets_to_txn}, {28, handle_txn_offset_commit},
    {32, handle_describe_configs},
    {33, handle_alter_configs},    {37, handle_create_partitions},
    {44, handle_incremental_alter_configs}, {60, handle_describe_cluster},
    {65, handle_describe_transactions}, {66, handle_list_transactions},
  };
  return table;
}

int32_t load_be32(const uint8_t* p) {
  return int32_t(uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]);
}

void store_be32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}

std::string peer(conn_ptr self) { return self->remote_addr(self->state.hdl); }

void on_request(conn_ptr self, const std::vector<char>& raw);

void flush_in_order(conn_ptr self) {
  auto& st = self->state;
  bool wrote = false;
  for (auto i = st.out.begin(); i != st.out.end() && i->first == st.next_to_send && i->second.done;
       i = st.out.erase(i)) {
    if (i->second.send) {
      auto& buf = self->wr_buf(st.hdl);
      auto& frame = i->second.frame;
      auto at = buf.size();
      buf.resize(at + frame.size()); // one memcpy, not a byte-by-byte conversion
      std::memcpy(buf.data() + at, frame.data(), frame.size());
      wrote = true;
    }
    ++st.next_to_send;
  }
  if (wrote)
    self->flush(st.hdl);
  // Frames that waited for a free slot go now, oldest first. A request
  // answered at once comes back here: the outer loop goes on (no recursion).
  if (st.draining)
    return;
  st.draining = true;
  while (!st.closing && !st.waiting.empty() && int32_t(st.out.size()) < st.setup.max_in_flight) {
    auto frame = std::move(st.waiting.front());
    st.waiting.pop_front();
    st.waiting_bytes -= int64_t(frame.size());
    on_request(self, frame);
  }
  st.draining = false;
}

void on_request(conn_ptr self, const std::vector<char>& raw) {
  auto& st = self->state;
  auto* data = reinterpret_cast<const uint8_t*>(raw.data());
  kafka::reader r{data, raw.size()};
  int16_t api_key = 0, version = 0;
  (void)r.read_int16(api_key);
  (void)r.read_int16(version);
  auto d = kafka::dispatch(api_key, version);
  auto h = handlers().find(api_key);
  if (!d.known || h == handlers().end())
    return close_connection(self, "unsupported API key " + std::to_string(api_key));
  kafka::reader hr{data, raw.size()};
  kafka::RequestHeader header;
  if (auto s = header.decode(hr, d.request_header_version); !s)
    return close_connection(self, "bad request header: " + s.to_string());
  request_ctx ctx{st.next_seq++, api_key, version, header.correlation_id,
                  d.response_header_version, header.client_id.value_or("")};
  auto& slot = st.out[ctx.seq];
  slot.api_key = api_key;
  slot.correlation_id = ctx.correlation_id;
  ++st.requests;
  if (!d.supported && api_key != 18) {
    auto* info = kafka::find_api(api_key);
    return close_connection(self, std::string(info ? info->name : "?") + " v" +
                                    std::to_string(version) + " is not supported (" +
                                    std::to_string(info ? info->min_version : 0) + ".." +
                                    std::to_string(info ? info->max_version : 0) + ")");
  }
  h->second(self, ctx, hr);
}

/// A whole frame arrived: answered now, or kept until a slot is free.
void on_frame(conn_ptr self, const std::vector<char>& raw) {
  auto& st = self->state;
  if (st.waiting.empty() && int32_t(st.out.size()) < st.setup.max_in_flight)
    return on_request(self, raw);
  st.waiting_bytes += int64_t(raw.size());
  if (st.waiting_bytes > st.setup.max_waiting_bytes)
    return close_connection(self, "more than " + std::to_string(st.setup.max_waiting_bytes) +
                                    " bytes of requests wait for earlier answers: the client "
                                    "is not reading them");
  st.waiting.push_back(raw);
}

} // namespace

int16_t kafka_code(errc e) {
  return e == errc::unknown_server_error ? int16_t(-1) : int16_t(e);
}

int16_t kafka_code(const caf::error& err) { return kafka_code(error_code_of(err)); }

std::chrono::milliseconds gateway_timeout(conn_ptr self, int32_t client_wait_ms) {
  return std::chrono::milliseconds(int64_t(self->state.setup.request_timeout_ms) +
                                   std::max(0, client_wait_ms));
}

caf::duration untimed(conn_ptr self, const request_ctx& ctx, int32_t client_wait_ms) {
  auto& st = self->state;
  auto i = st.out.find(ctx.seq);
  if (i != st.out.end()) {
    auto deadline = steady_clock_ms() + gateway_timeout(self, client_wait_ms).count();
    i->second.deadline_ms = std::max(i->second.deadline_ms, deadline);
    if (!st.sweep_armed) {
      st.sweep_armed = true;
      self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
    }
  }
  return caf::infinite;
}

void reply_encoded(conn_ptr self, const request_ctx& ctx, std::vector<uint8_t> body) {
  auto& st = self->state;
  auto i = st.out.find(ctx.seq);
  if (i == st.out.end() || st.closing)
    return; // the connection is going away
  auto& frame = i->second.frame;
  size_t header = 4 + (ctx.response_header_version >= 1 ? 1 : 0);
  frame.resize(4 + header);
  store_be32(frame.data() + 4, uint32_t(ctx.correlation_id));
  if (ctx.response_header_version >= 1)
    frame[8] = 0; // no tagged fields
  frame.insert(frame.end(), body.begin(), body.end());
  store_be32(frame.data(), uint32_t(frame.size() - 4));
  i->second.done = true;
  flush_in_order(self);
}

void reply_nothing(conn_ptr self, const request_ctx& ctx) {
  auto i = self->state.out.find(ctx.seq);
  if (i == self->state.out.end())
    return;
  i->second.done = true;
  i->second.send = false;
  flush_in_order(self);
}

void close_connection(conn_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.closing)
    return;
  st.closing = true;
  spdlog::warn("kafka listener: closing the connection from {}: {}", peer(self), why);
  self->close(st.hdl);
  self->quit();
}

void handle_api_versions(conn_ptr self, const request_ctx& ctx, kafka::reader& body) {
  kafka::ApiVersionsResponse resp;
  auto answer = ctx;
  if (!kafka::dispatch(ctx.api_key, ctx.version).supported) {
    // KIP-511: a version newer than ours gets a v0 answer with the error and
    // our ranges; the client retries with a version it finds there.
    answer.version = 0;
    resp.error_code = kafka_code(errc::unsupported_version);
  } else {
    kafka::ApiVersionsRequest req;
    if (!decode(self, ctx, body, req))
      return;
  }
  for (auto& [key, h] : handlers()) {
    auto* info = kafka::find_api(key);
    kafka::ApiVersionsResponse::ApiVersion v;
    v.api_key = key;
    v.min_version = info->min_version;
    v.max_version = info->max_version;
    resp.api_keys.push_back(v);
  }
  reply(self, answer, resp);
}

caf::behavior connection(conn_ptr self, caf::io::connection_handle hdl, listener_setup setup) {
  self->state.setup = std::move(setup);
  self->state.hdl = hdl;
  self->configure_read(hdl, receive_policy::exactly(4));
  return {
    [=](const caf::io::new_data_msg& msg) {
      auto& st = self->state;
      if (st.closing)
        return;
      if (st.want_size) {
        auto size = load_be32(reinterpret_cast<const uint8_t*>(msg.buf.data()));
        // api key, version, correlation id and a client id length at least.
        if (size < 10)
          return close_connection(self, "request size " + std::to_string(size) + " is too small");
        if (size > st.setup.socket_request_max_bytes)
          return close_connection(self, "request size " + std::to_string(size) +
                                          " exceeds socket.request.max.bytes (" +
                                          std::to_string(st.setup.socket_request_max_bytes) + ")");
        st.want_size = false;
        self->configure_read(hdl, receive_policy::exactly(size_t(size)));
        return;
      }
      st.want_size = true;
      self->configure_read(hdl, receive_policy::exactly(4));
      on_frame(self, msg.buf);
    },
    [=](tick_atom) {
      auto& st = self->state;
      st.sweep_armed = false;
      auto now = steady_clock_ms();
      bool pending = false;
      for (auto& entry : st.out) {
        auto& slot = entry.second;
        if (slot.done || slot.deadline_ms == 0)
          continue;
        if (now > slot.deadline_ms) {
          auto* info = kafka::find_api(slot.api_key);
          return close_connection(self, std::string(info ? info->name : "a") +
                                          " request (correlation id " +
                                          std::to_string(slot.correlation_id) +
                                          ") was not answered in time");
        }
        pending = true;
      }
      if (pending && !st.closing) {
        st.sweep_armed = true;
        self->delayed_send(self, std::chrono::seconds(1), tick_atom::value);
      }
    },
    [=](const caf::io::connection_closed_msg&) {
      self->state.closing = true;
      self->quit();
    },
  };
}

} // namespace al::kafka_server
