#include "runtime/guard/basp_framer.hpp"

namespace al::guard {

namespace {

uint32_t load_u32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

} // namespace

basp_framer::verdict basp_framer::fail(std::string why) {
  error_ = std::move(why);
  return verdict::reject;
}

basp_framer::verdict basp_framer::next(const uint8_t* data, size_t size, size_t& consumed) {
  consumed = 0;
  if (!error_.empty())
    return verdict::reject;
  if (size < basp_header_size)
    return verdict::need_more;
  auto operation = data[0];
  if (operation > basp_max_operation)
    return fail("unknown BASP operation " + std::to_string(operation) + " (not a CAF 0.17 peer)");
  // The listening side speaks first (server_handshake); what comes back
  // first is the client_handshake (1), or this is not CAF talking.
  if (frames_ == 0 && operation != 1)
    return fail("first frame is operation " + std::to_string(operation) + ", not a handshake");
  auto payload = load_u32(data + 4);
  auto limit = frames_ == 0 ? limits_.handshake_max_bytes : limits_.frame_max_bytes;
  if (payload > limit)
    return fail(std::string(frames_ == 0 ? "handshake" : "frame") + " of " +
                std::to_string(payload) + " bytes exceeds " + std::to_string(limit) +
                (frames_ == 0 ? " (handshake limit)" : " (socket.request.max.bytes)"));
  size_t total = basp_header_size + size_t(payload);
  if (size < total)
    return verdict::need_more;
  consumed = total;
  ++frames_;
  return verdict::frame;
}

} // namespace al::guard
