#pragma once
// Shared by the record batch tests: the librdkafka test files, and records
// as plain strings so expectations read like the testdata README.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "storage/record_batch.hpp"

namespace al::test {

using opt_string = std::optional<std::string>;

struct plain_record {
  int64_t offset = 0;
  int64_t timestamp = 0;
  opt_string key;
  opt_string value;
  std::vector<std::pair<std::string, opt_string>> headers;

  bool operator==(const plain_record& o) const {
    return offset == o.offset && timestamp == o.timestamp && key == o.key && value == o.value &&
           headers == o.headers;
  }
};

inline opt_string to_opt_string(const std::optional<byte_view>& b) {
  if (!b)
    return std::nullopt;
  return std::string(b->as_string());
}

inline plain_record to_plain(const record_view& r) {
  plain_record p;
  p.offset = r.offset;
  p.timestamp = r.timestamp;
  p.key = to_opt_string(r.key);
  p.value = to_opt_string(r.value);
  for (const auto& h : r.headers)
    p.headers.emplace_back(std::string(h.key), to_opt_string(h.value));
  return p;
}

inline std::vector<plain_record> to_plain(const decoded_batch& b) {
  std::vector<plain_record> out;
  for (const auto& r : b.records)
    out.push_back(to_plain(r));
  return out;
}

inline std::optional<byte_view> view_of(const opt_string& s) {
  if (!s)
    return std::nullopt;
  return byte_view{std::string_view{*s}};
}

/// Appends `records` to `builder` keeping their offsets (as deltas from
/// `base_offset`) and timestamps.
inline void append_all(batch_builder& builder, const std::vector<plain_record>& records,
                       int64_t base_offset = 0) {
  for (const auto& r : records) {
    std::vector<record_header> headers;
    for (const auto& [k, v] : r.headers)
      headers.push_back({k, view_of(v)});
    builder.append_with_offset_delta(int32_t(r.offset - base_offset), r.timestamp,
                                     view_of(r.key), view_of(r.value), headers);
  }
}

inline std::string testdata_path(const std::string& name) {
  return std::string(AL_TESTDATA_DIR) + "/librdkafka-batches/" + name;
}

inline bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline bytes testdata(const std::string& name) { return read_file(testdata_path(name)); }

/// The testdata README's trading records: AAPL/BUY and TCS/SELL alternating.
inline std::pair<std::string, std::string> trade(size_t i) {
  if (i % 2 == 0)
    return {"AAPL", "BUY 100 @ 189.5 acct=ACC0001 venue=NSE"};
  return {"TCS", "SELL 5 @ 3200 acct=ACC0002 venue=NSE"};
}

/// Seed for randomised tests: $AL_TEST_SEED when set (to rerun a failure),
/// otherwise a fresh one. Tests print it with INFO.
inline uint32_t test_seed() {
  if (const char* env = std::getenv("AL_TEST_SEED"))
    return uint32_t(std::stoul(env));
  return std::random_device{}();
}

/// After changing bytes covered by the CRC, makes the CRC right again so the
/// record decoder (not the CRC check) must catch the damage.
inline void fix_crc(bytes& batch) { write_batch_crc(batch.data(), batch.size()); }

} // namespace al::test
