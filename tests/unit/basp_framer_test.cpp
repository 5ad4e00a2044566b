// The listener guard's frame and content checks (runtime/guard/): whole
// frames pass, a bad first frame, an oversized header, an unknown
// operation or a type CAF would allocate by the sender's word is refused
// with the reason, and random bytes never crash either check.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "runtime/guard/basp_content_check.hpp"
#include "runtime/guard/basp_framer.hpp"

using namespace al::guard;

namespace {

using buffer = std::vector<uint8_t>;

void put_be(buffer& out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i)
    out.push_back(uint8_t(v >> (8 * i)));
}

void put_varbyte(buffer& out, uint32_t v) {
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    out.push_back(uint8_t(b | (v != 0 ? 0x80 : 0)));
  } while (v != 0);
}

void put_str(buffer& out, const std::string& s) {
  put_varbyte(out, uint32_t(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

/// A BASP frame: the 32-byte header with `payload_len` (or the payload's
/// size), then the payload.
buffer frame(uint8_t op, const buffer& payload, int64_t payload_len = -1) {
  buffer out{op, 0, 0, 0};
  put_be(out, payload_len < 0 ? payload.size() : uint64_t(payload_len), 4);
  put_be(out, 0, 8);  // operation data
  put_be(out, 0, 8);  // source actor
  put_be(out, 42, 8); // dest actor
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

/// A direct message's payload: no stages, then the type list.
buffer direct(const std::string& types) {
  buffer out;
  put_varbyte(out, 0);
  put_be(out, 0, 2);
  put_str(out, types);
  return out;
}

uint64_t atom_value(const std::string& s) { // CAF 0.17's encoding
  const std::string table = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  uint64_t x = 0xF;
  for (char c : s)
    x = (x << 6) | table.find(c);
  return x;
}

buffer down(const std::string& context_types) {
  buffer out;
  put_be(out, atom_value("default"), 8); // source node: default_data
  put_be(out, 4242, 4);
  out.insert(out.end(), 20, 0xAB);
  put_be(out, atom_value(""), 8); // dest node: none
  out.push_back(3);               // error code
  put_be(out, atom_value("system"), 8);
  put_be(out, 0, 2);
  put_str(out, context_types);
  return out;
}

basp_framer::verdict run(basp_framer& f, const buffer& bytes, size_t& consumed) {
  return f.next(bytes.data(), bytes.size(), consumed);
}

} // namespace

TEST_CASE("whole frames pass, partial ones wait", "[guard]") {
  basp_framer f{framer_limits{}};
  auto hs = frame(1, buffer(100, 7));
  size_t consumed = 0;
  for (size_t n = 0; n < hs.size(); ++n) {
    buffer part(hs.begin(), hs.begin() + long(n));
    CHECK(run(f, part, consumed) == basp_framer::verdict::need_more);
  }
  CHECK_FALSE(f.handshake_done());
  CHECK(run(f, hs, consumed) == basp_framer::verdict::frame);
  CHECK(consumed == hs.size());
  CHECK(f.handshake_done());
  auto msg = frame(2, direct("@<>+@atom+al::produce_request"));
  auto two = msg;
  two.insert(two.end(), msg.begin(), msg.end());
  CHECK(run(f, two, consumed) == basp_framer::verdict::frame);
  CHECK(consumed == msg.size());
  CHECK(f.frames() == 2);
}

TEST_CASE("a stream that does not start with a client handshake is refused", "[guard]") {
  for (uint8_t op : {0, 2, 3, 4, 5, 6, 7, 200}) {
    basp_framer f{framer_limits{}};
    size_t consumed = 0;
    CHECK(run(f, frame(op, buffer(4)), consumed) == basp_framer::verdict::reject);
    CHECK_FALSE(f.error().empty());
    // Sticky: nothing after a refusal passes.
    CHECK(run(f, frame(1, buffer(4)), consumed) == basp_framer::verdict::reject);
  }
}

TEST_CASE("a header that claims too much is refused before its payload arrives", "[guard]") {
  framer_limits limits;
  limits.handshake_max_bytes = 1000;
  limits.frame_max_bytes = 5000;
  basp_framer f{limits};
  size_t consumed = 0;
  // The 1 GiB handshake that made CAF allocate 1 GiB: refused from its header.
  CHECK(run(f, frame(1, {}, 1 << 30), consumed) == basp_framer::verdict::reject);
  CHECK(f.error().find("handshake of 1073741824 bytes exceeds 1000") != std::string::npos);
  basp_framer g{limits};
  REQUIRE(run(g, frame(1, buffer(10)), consumed) == basp_framer::verdict::frame);
  CHECK(run(g, frame(2, {}, 5000), consumed) == basp_framer::verdict::need_more);
  CHECK(run(g, frame(2, {}, 5001), consumed) == basp_framer::verdict::reject);
  CHECK(g.error().find("socket.request.max.bytes") != std::string::npos);
  basp_framer h{limits};
  REQUIRE(run(h, frame(1, buffer(10)), consumed) == basp_framer::verdict::frame);
  CHECK(run(h, frame(9, buffer(1)), consumed) == basp_framer::verdict::reject);
  CHECK(h.error().find("unknown BASP operation 9") != std::string::npos);
}

TEST_CASE("clients may send actorlog's types and plain values only", "[guard]") {
  auto ok = [](uint8_t op, const buffer& payload) {
    return check_client_frame(op, payload.data(), payload.size());
  };
  CHECK(ok(2, direct("@<>+@atom+al::produce_request")).empty());
  CHECK(ok(2, direct("@<>+@atom+@str+al::join_group_request")).empty());
  CHECK(ok(2, direct("@<>+@atom+std::vector<al::topic_partition>")).empty());
  CHECK(ok(2, direct("@<>")).empty());
  CHECK(ok(2, direct("@<>+@atom+@charbuf")).find("@charbuf") != std::string::npos);
  CHECK(ok(2, direct("@<>+al::bytes")).find("al::bytes") != std::string::npos);
  CHECK(ok(2, direct("@<>+@error")).find("@error") != std::string::npos);
  CHECK(ok(2, direct("@<>+@message")).find("@message") != std::string::npos);
  CHECK(ok(2, direct("@<>+@atom+@str+@strong_actor_ptr+@str")).empty()); // SpawnServ's answer
  CHECK(ok(2, direct("@<>+@config_value")).find("@config_value") != std::string::npos);
  CHECK_FALSE(ok(2, direct("al::produce_request")).empty()); // no "@<>+" prefix
  buffer staged;
  put_varbyte(staged, 1);
  CHECK(ok(2, staged).find("stages") != std::string::npos);
  CHECK(ok(3, direct("@<>")).find("routed") != std::string::npos);
  CHECK(ok(0, {}).find("handshake") != std::string::npos);
  // A down message's error context is a message too.
  CHECK(ok(5, down("@<>")).empty());
  CHECK(ok(5, down("@<>+@str")).empty());
  CHECK(ok(5, down("@<>+@charbuf")).find("@charbuf") != std::string::npos);
  auto cut = down("@<>");
  cut.resize(cut.size() - 2);
  CHECK(ok(5, cut).find("truncated") != std::string::npos);
  CHECK(ok(4, buffer(3)).empty()); // monitor: node ids only, nothing allocated by claim
}

TEST_CASE("random bytes never crash the frame or content checks", "[guard][fuzz]") {
  uint32_t seed = 20261205;
  if (const char* env = std::getenv("AL_TEST_SEED"))
    seed = uint32_t(std::stoul(env));
  INFO("seed " << seed << " (rerun with AL_TEST_SEED=" << seed << ")");
  std::mt19937 rng{seed};
  std::vector<buffer> valid{frame(2, direct("@<>+@atom+al::produce_request")), frame(5, down("@<>+@str"))};
  for (int run = 0; run < 20000; ++run) {
    buffer bytes;
    if (run % 2 == 0) {
      bytes.resize(rng() % 96);
      for (auto& b : bytes)
        b = uint8_t(rng());
    } else {
      bytes = valid[size_t(run / 2) % valid.size()];
      for (int flips = 1 + int(rng() % 4); flips > 0; --flips)
        bytes[rng() % bytes.size()] = uint8_t(rng());
      bytes.resize(rng() % (bytes.size() + 1));
    }
    basp_framer f{framer_limits{}};
    size_t consumed = 0;
    auto v = f.next(bytes.data(), bytes.size(), consumed);
    CHECK(consumed <= bytes.size());
    if (bytes.size() >= basp_header_size)
      (void)check_client_frame(bytes[0], bytes.data() + basp_header_size, bytes.size() - basp_header_size);
    (void)v;
  }
}
