// Cross-check of our murmur2 partitioner against librdkafka's own
// (rd_kafka_msg_partitioner_murmur2 and _murmur2_random, the Java-compatible
// partitioners). Test-only dependency: tests/CMakeLists.txt builds this file
// only when librdkafka-dev is installed. No broker is needed: a producer
// handle and a topic object are enough to call the partitioner callbacks.
//
// Keys are random (seeded; the seed is printed, AL_SEED=N reproduces a run),
// of every length from 0 to 64 bytes plus a few long ones, with arbitrary
// byte values (NUL and high bytes included), against every partition count
// from 1 to 100.
#include <catch2/catch.hpp>

#include <librdkafka/rdkafka.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "actors/client/partitioner.hpp"

using namespace al;

namespace {

/// A producer handle and a topic object, destroyed in reverse order.
struct rdkafka_topic {
  rd_kafka_t* rk = nullptr;
  rd_kafka_topic_t* rkt = nullptr;

  rdkafka_topic() {
    char errstr[512] = {0};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // Nothing is produced: the bootstrap address is never contacted
    // successfully, and log lines about it are silenced.
    rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:1", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    INFO("rd_kafka_new: " << errstr);
    REQUIRE(rk != nullptr); // on success rd_kafka_new owns conf
    rkt = rd_kafka_topic_new(rk, "partitioner-check", nullptr);
    REQUIRE(rkt != nullptr);
  }
  ~rdkafka_topic() {
    if (rkt)
      rd_kafka_topic_destroy(rkt);
    if (rk)
      rd_kafka_destroy(rk);
  }
  rdkafka_topic(const rdkafka_topic&) = delete;
  rdkafka_topic& operator=(const rdkafka_topic&) = delete;
};

uint64_t test_seed() {
  static const uint64_t seed = [] {
    if (const char* s = std::getenv("AL_SEED"))
      return uint64_t(std::strtoull(s, nullptr, 10));
    return uint64_t(std::random_device{}()) << 32 | std::random_device{}();
  }();
  return seed;
}

/// Keys of every length 0..64 (several each) and a few long ones, random bytes.
std::vector<std::string> random_keys(uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::uniform_int_distribution<int> byte{0, 255};
  std::vector<size_t> lengths;
  for (size_t len = 0; len <= 64; ++len)
    for (int i = 0; i < 8; ++i)
      lengths.push_back(len);
  for (size_t len : {127, 128, 129, 1000, 4093, 65536})
    lengths.push_back(len);
  std::vector<std::string> keys;
  for (auto len : lengths) {
    std::string k(len, '\0');
    for (auto& c : k)
      c = char(byte(rng));
    keys.push_back(std::move(k));
  }
  // Fixed binary keys: all zero bytes, all 0xff, and Kafka's test vector.
  keys.push_back(std::string(7, '\0'));
  keys.push_back(std::string(9, '\xff'));
  keys.push_back("21");
  return keys;
}

byte_view view_of(const std::string& k) { return byte_view{std::string_view{k}}; }

} // namespace

TEST_CASE("murmur2 partitioner: same partition as librdkafka for random binary keys",
          "[partitioner][librdkafka]") {
  const auto seed = test_seed();
  std::cout << "partitioner_librdkafka_test: seed " << seed << " (AL_SEED=" << seed
            << " reproduces)" << std::endl;
  INFO("seed " << seed);
  rdkafka_topic t;
  auto keys = random_keys(seed);
  size_t checked = 0, mismatches = 0;
  for (int32_t count = 1; count <= 100; ++count) {
    for (const auto& k : keys) {
      // A non-null pointer for the empty key: librdkafka hashes it as an
      // empty byte array (a NULL key means "no key" to the _random variant).
      const void* data = k.empty() ? static_cast<const void*>("") : k.data();
      int32_t theirs = rd_kafka_msg_partitioner_murmur2(t.rkt, data, k.size(), count, nullptr,
                                                        nullptr);
      int32_t theirs_random = rd_kafka_msg_partitioner_murmur2_random(t.rkt, data, k.size(),
                                                                      count, nullptr, nullptr);
      int32_t ours = partition_for_key(view_of(k), count);
      ++checked;
      if (ours != theirs || ours != theirs_random) {
        ++mismatches;
        if (mismatches <= 10) {
          UNSCOPED_INFO("key length " << k.size() << ", " << count << " partitions: ours " << ours
                                      << ", librdkafka murmur2 " << theirs << ", murmur2_random "
                                      << theirs_random);
        }
      }
    }
  }
  INFO("checked " << checked << " (key, partition count) pairs");
  CHECK(checked == keys.size() * 100);
  CHECK(mismatches == 0);
}

TEST_CASE("murmur2 partitioner: the empty key agrees with librdkafka for 1..100 partitions",
          "[partitioner][librdkafka]") {
  rdkafka_topic t;
  std::string empty;
  for (int32_t count = 1; count <= 100; ++count) {
    INFO(count << " partitions");
    CHECK(partition_for_key(view_of(empty), count) ==
          rd_kafka_msg_partitioner_murmur2(t.rkt, "", 0, count, nullptr, nullptr));
    CHECK(partition_for_key(view_of(empty), count) ==
          rd_kafka_msg_partitioner_murmur2_random(t.rkt, "", 0, count, nullptr, nullptr));
  }
}
