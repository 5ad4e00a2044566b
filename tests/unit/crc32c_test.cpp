#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "storage/crc32c.hpp"

TEST_CASE("crc32c matches the standard check value", "[crc32c]") {
  const std::string s = "123456789";
  CHECK(al::crc32c(s.data(), s.size()) == 0xE3069283u);
  CHECK(al::crc32c_table(s.data(), s.size()) == 0xE3069283u);
}

TEST_CASE("crc32c vectors from RFC 3720 (iSCSI)", "[crc32c]") {
  std::string zeros(32, '\0');
  std::string ones(32, '\xff');
  std::string inc(32, '\0');
  for (int i = 0; i < 32; ++i)
    inc[i] = char(i);
  CHECK(al::crc32c(zeros.data(), 32) == 0x8A9136AAu);
  CHECK(al::crc32c(ones.data(), 32) == 0x62A8AB43u);
  CHECK(al::crc32c(inc.data(), 32) == 0x46DD794Eu);
  CHECK(al::crc32c("", 0) == 0u);
}

TEST_CASE("crc32c hardware and table paths agree, also when continued", "[crc32c]") {
  std::mt19937 rng(42);
  for (int n : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 4099}) {
    std::string data(n, '\0');
    for (auto& c : data)
      c = char(rng());
    auto whole = al::crc32c(data.data(), data.size());
    CHECK(whole == al::crc32c_table(data.data(), data.size()));
    auto half = data.size() / 2;
    auto cont = al::crc32c(data.data() + half, data.size() - half, al::crc32c(data.data(), half));
    CHECK(cont == whole);
  }
}
