#pragma once
// kafka-io-bench: shared pieces of the servers and the load generator.
//
// Wire format (Kafka's framing, nothing else of Kafka): a frame is a 4-byte
// big-endian size followed by that many bytes. A request body starts with a
// 4-byte correlation id, the rest is filler (100 B, or 16 KiB = one produce
// batch); a response body starts with the same correlation id, then zeros
// up to the configured response size (~50 B, a produce answer's size).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace iobench {

inline uint32_t load_be32(const void* ptr) {
  auto p = static_cast<const unsigned char*>(ptr);
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

inline void store_be32(void* ptr, uint32_t v) {
  auto p = static_cast<unsigned char*>(ptr);
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

/// Largest request body any server accepts (the real listener's
/// socket.request.max.bytes is 100 MB; the bench sends at most 16 KiB).
constexpr uint32_t max_request_bytes = 64u << 20;

/// The whole response frame (size prefix included) to one request body.
inline std::vector<char> make_response(const char* req, size_t req_len, size_t resp_size) {
  std::vector<char> frame(4 + resp_size);
  store_be32(frame.data(), uint32_t(resp_size));
  if (req_len >= 4 && resp_size >= 4)
    std::memcpy(frame.data() + 4, req, 4);
  return frame;
}

/// A running server on 127.0.0.1; the destructor stops it.
class server {
public:
  virtual ~server() = default;
  virtual uint16_t port() const = 0;
};

} // namespace iobench
