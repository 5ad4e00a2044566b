#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "storage/compression.hpp"
#include "storage/snappy_codec.hpp"

using namespace al;

namespace {

const compression all_codecs[] = {compression::none, compression::gzip, compression::snappy,
                                  compression::lz4, compression::zstd};

bytes sample(size_t n, uint32_t seed) {
  // Compressible but not trivial: words from a small alphabet plus noise.
  std::mt19937 rng(seed);
  static const char* words[] = {"BUY ", "SELL ", "AAPL ", "TCS ", "@ 189.5 ", "acct=ACC0001 "};
  bytes b;
  while (b.size() < n) {
    std::string w = words[rng() % 6];
    b.insert(b.end(), w.begin(), w.end());
    if (rng() % 8 == 0)
      b.push_back(uint8_t(rng()));
  }
  b.resize(n);
  return b;
}

bytes compressed(compression c, const bytes& in, compress_options opts = {}) {
  bytes out;
  auto st = compress(c, byte_view{in}, out, opts);
  REQUIRE(st.is_ok());
  return out;
}

} // namespace

TEST_CASE("every codec round-trips empty, small and large inputs", "[compression]") {
  for (auto c : all_codecs) {
    for (size_t n : {size_t(0), size_t(1), size_t(100), size_t(70000), size_t(1) << 20}) {
      INFO("codec " << to_string(c) << " size " << n);
      auto in = sample(n, uint32_t(n));
      auto z = compressed(c, in);
      bytes prefix = {9, 9}; // decompress appends after existing bytes
      bytes out = prefix;
      auto st = decompress(c, byte_view{z}, out);
      REQUIRE(st.is_ok());
      REQUIRE(out.size() == n + 2);
      CHECK(byte_view{out}.sub(2, n) == byte_view{in});
      CHECK(out[0] == 9);
    }
  }
}

TEST_CASE("gzip output is an RFC 1952 stream and lz4 a standard frame", "[compression]") {
  auto in = sample(1000, 1);
  auto gz = compressed(compression::gzip, in);
  REQUIRE(gz.size() > 10);
  CHECK(gz[0] == 0x1f);
  CHECK(gz[1] == 0x8b);
  auto lz = compressed(compression::lz4, in);
  REQUIRE(lz.size() > 7);
  CHECK(load_be<uint32_t>(lz.data()) == 0x04224D18u); // 0x184D2204 little-endian
  CHECK(lz[4] == 0x60); // version 01, independent blocks, no checksums, no size
  CHECK(lz[5] == 0x40); // 64 KiB maximum block size
  auto zs = compressed(compression::zstd, in);
  CHECK(load_be<uint32_t>(zs.data()) == 0x28B52FFDu);
}

TEST_CASE("xerial-framed snappy (Java clients) decodes, raw snappy too", "[compression]") {
  auto in = sample(100000, 3); // > 3 chunks of 32 KiB
  bytes framed;
  // Built by hand from the format: magic, version 1, compatible 1, chunks.
  const uint8_t header[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  framed.assign(std::begin(header), std::end(header));
  for (size_t pos = 0; pos < in.size(); pos += 20000) {
    size_t at = framed.size();
    framed.resize(at + 4);
    snappy_raw_compress(byte_view{in}.sub(pos, std::min<size_t>(20000, in.size() - pos)), framed);
    store_be<int32_t>(framed.data() + at, int32_t(framed.size() - at - 4));
  }
  CHECK(is_xerial_snappy(byte_view{framed}));
  bytes out;
  REQUIRE(decompress(compression::snappy, byte_view{framed}, out).is_ok());
  CHECK(out == in);

  // The writer's own framing, and two concatenated xerial streams.
  compress_options xerial;
  xerial.snappy_xerial = true;
  auto ours = compressed(compression::snappy, in, xerial);
  CHECK(is_xerial_snappy(byte_view{ours}));
  CHECK(std::equal(ours.begin(), ours.begin() + 16, framed.begin()));
  auto twice = ours;
  twice.insert(twice.end(), ours.begin(), ours.end());
  out.clear();
  REQUIRE(decompress(compression::snappy, byte_view{twice}, out).is_ok());
  CHECK(out.size() == 2 * in.size());

  // Header only: zero chunks, empty output.
  out.clear();
  REQUIRE(decompress(compression::snappy, byte_view{framed.data(), 16}, out).is_ok());
  CHECK(out.empty());

  // A chunk length past the end is corrupt, not an overread.
  bytes bad(framed.begin(), framed.begin() + 16);
  bad.insert(bad.end(), {0x00, 0x00, 0x10, 0x00, 0x01, 0x02});
  auto st = decompress(compression::snappy, byte_view{bad}, out);
  CHECK(st.code() == errc::corrupt_message);
  CHECK(st.message().find("xerial chunk") != std::string::npos);
}

TEST_CASE("decompression is bounded: bombs and over-limit outputs fail cleanly", "[compression]") {
  bytes zeros(size_t(4) << 20, 0); // 4 MiB of zeros compresses to almost nothing
  for (auto c : all_codecs) {
    INFO("codec " << to_string(c));
    auto z = compressed(c, zeros);
    bytes out = {1, 2, 3};
    auto st = decompress(c, byte_view{z}, out, size_t(1) << 20, "bomb.bin position 0");
    CHECK(st.code() == errc::message_too_large); // not corrupt: just too much
    CHECK(st.message().find("bomb.bin position 0") != std::string::npos);
    CHECK(st.message().find("1048576") != std::string::npos);
    CHECK(out == bytes{1, 2, 3}); // output rolled back
    // Exactly at the limit is fine.
    out.clear();
    CHECK(decompress(c, byte_view{z}, out, zeros.size()).is_ok());
    CHECK(out.size() == zeros.size());
  }
}

TEST_CASE("truncated and garbage input give CORRUPT_MESSAGE for every codec", "[compression]") {
  auto in = sample(50000, 5);
  std::mt19937 rng(11);
  for (auto c : all_codecs) {
    if (c == compression::none)
      continue;
    INFO("codec " << to_string(c));
    auto z = compressed(c, in);
    bytes out;
    for (size_t cut : {size_t(0), size_t(1), z.size() / 2, z.size() - 1}) {
      INFO("cut at " << cut);
      auto st = decompress(c, byte_view{z.data(), cut}, out);
      CHECK(st.code() == errc::corrupt_message);
      CHECK(out.empty());
    }
    bytes garbage(1000);
    for (auto& b : garbage)
      b = uint8_t(rng());
    CHECK(decompress(c, byte_view{garbage}, out).code() == errc::corrupt_message);
    // Trailing bytes after a complete stream are corrupt as well.
    auto tail = z;
    tail.push_back(0x42);
    if (c != compression::snappy) // raw snappy has no end marker to trail
      CHECK(decompress(c, byte_view{tail}, out).code() == errc::corrupt_message);
  }
}

TEST_CASE("the old Kafka lz4 variant with a broken header checksum is rejected",
          "[compression]") {
  auto in = sample(1000, 9);
  auto z = compressed(compression::lz4, in);
  z[6] ^= 0xFF; // the frame descriptor's header checksum byte
  bytes out;
  auto st = decompress(compression::lz4, byte_view{z}, out);
  CHECK(st.code() == errc::corrupt_message);
  CHECK(st.message().find("lz4") != std::string::npos);
}
