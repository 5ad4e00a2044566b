#include <catch2/catch.hpp>

#include <limits>
#include <random>

#include "storage/varint.hpp"

using namespace al;

namespace {

bytes enc32(int32_t v) {
  bytes b;
  append_varint(b, v);
  return b;
}

bytes enc64(int64_t v) {
  bytes b;
  append_varlong(b, v);
  return b;
}

varint_error dec32(const bytes& b, int32_t& v, size_t& used) {
  const uint8_t* p = b.data();
  auto e = read_varint(p, b.data() + b.size(), v);
  used = size_t(p - b.data());
  return e;
}

varint_error dec64(const bytes& b, int64_t& v, size_t& used) {
  const uint8_t* p = b.data();
  auto e = read_varlong(p, b.data() + b.size(), v);
  used = size_t(p - b.data());
  return e;
}

} // namespace

TEST_CASE("zigzag maps small magnitudes to small codes", "[varint]") {
  CHECK(zigzag_encode32(0) == 0u);
  CHECK(zigzag_encode32(-1) == 1u);
  CHECK(zigzag_encode32(1) == 2u);
  CHECK(zigzag_encode32(-2) == 3u);
  CHECK(zigzag_encode32(std::numeric_limits<int32_t>::max()) == 0xFFFFFFFEu);
  CHECK(zigzag_encode32(std::numeric_limits<int32_t>::min()) == 0xFFFFFFFFu);
  CHECK(zigzag_encode64(std::numeric_limits<int64_t>::min()) == ~uint64_t(0));
  for (int32_t v : {0, 1, -1, 63, -64, 64, std::numeric_limits<int32_t>::min()})
    CHECK(zigzag_decode32(zigzag_encode32(v)) == v);
}

TEST_CASE("varint encodings match Kafka's ByteUtils", "[varint]") {
  // Values checked by hand: zigzag, then 7 bits per byte, low group first.
  CHECK(enc32(0) == bytes{0x00});
  CHECK(enc32(-1) == bytes{0x01});
  CHECK(enc32(1) == bytes{0x02});
  CHECK(enc32(63) == bytes{0x7E});
  CHECK(enc32(-64) == bytes{0x7F});
  CHECK(enc32(64) == bytes{0x80, 0x01});
  CHECK(enc32(300) == bytes{0xD8, 0x04});
  CHECK(enc32(std::numeric_limits<int32_t>::max()) == bytes{0xFE, 0xFF, 0xFF, 0xFF, 0x0F});
  CHECK(enc32(std::numeric_limits<int32_t>::min()) == bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x0F});
  CHECK(enc64(std::numeric_limits<int64_t>::min()) ==
        bytes{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01});
  CHECK(varint_size(-64) == 1);
  CHECK(varint_size(64) == 2);
  CHECK(varint_size(std::numeric_limits<int32_t>::min()) == max_varint_size);
  CHECK(varlong_size(std::numeric_limits<int64_t>::max()) == max_varlong_size);
}

TEST_CASE("varint and varlong round-trip edge and random values", "[varint]") {
  std::vector<int64_t> values = {0, 1, -1, 63, 64, -64, -65, 8191, 8192, -8193,
                                 std::numeric_limits<int32_t>::max(),
                                 std::numeric_limits<int32_t>::min(),
                                 std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<int64_t>::min()};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i)
    values.push_back(int64_t(rng()) >> (rng() % 64));
  for (int64_t v : values) {
    INFO("value " << v);
    auto b64 = enc64(v);
    CHECK(b64.size() == varlong_size(v));
    int64_t got = 0;
    size_t used = 0;
    REQUIRE(dec64(b64, got, used) == varint_error::none);
    CHECK(got == v);
    CHECK(used == b64.size());
    if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
      auto b32 = enc32(int32_t(v));
      CHECK(b32 == b64); // same encoding for values that fit both
      int32_t got32 = 0;
      REQUIRE(dec32(b32, got32, used) == varint_error::none);
      CHECK(got32 == int32_t(v));
    }
  }
}

TEST_CASE("truncated varints are errors and consume nothing", "[varint]") {
  int32_t v = 42;
  size_t used = 7;
  CHECK(dec32(bytes{}, v, used) == varint_error::truncated);
  CHECK(used == 0);
  CHECK(v == 42);
  CHECK(dec32(bytes{0x80}, v, used) == varint_error::truncated);
  CHECK(dec32(bytes{0xFF, 0xFF, 0xFF, 0xFF}, v, used) == varint_error::truncated);
  int64_t l = 0;
  CHECK(dec64(bytes{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, l, used) ==
        varint_error::truncated);
  CHECK(used == 0);
}

TEST_CASE("overlong varints are errors", "[varint]") {
  int32_t v = 0;
  size_t used = 0;
  // Six bytes for an int32; a fifth byte with bits beyond 32.
  CHECK(dec32(bytes{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, v, used) == varint_error::too_long);
  CHECK(dec32(bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x1F}, v, used) == varint_error::too_long);
  CHECK(dec32(bytes{0xFF, 0xFF, 0xFF, 0xFF, 0x0F}, v, used) == varint_error::none);
  int64_t l = 0;
  CHECK(dec64(bytes{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02}, l, used) ==
        varint_error::too_long);
  CHECK(dec64(bytes(11, 0x80), l, used) == varint_error::too_long);
  // Non-minimal but in-range encodings are accepted, as Kafka accepts them.
  CHECK(dec32(bytes{0x82, 0x00}, v, used) == varint_error::none);
  CHECK(v == 1);
}

TEST_CASE("decoding stops at the end of one varint", "[varint]") {
  bytes b = {0xD8, 0x04, 0x01, 0x02};
  const uint8_t* p = b.data();
  int32_t v = 0;
  REQUIRE(read_varint(p, b.data() + b.size(), v) == varint_error::none);
  CHECK(v == 300);
  REQUIRE(read_varint(p, b.data() + b.size(), v) == varint_error::none);
  CHECK(v == -1);
  REQUIRE(read_varint(p, b.data() + b.size(), v) == varint_error::none);
  CHECK(v == 1);
  CHECK(p == b.data() + b.size());
}
