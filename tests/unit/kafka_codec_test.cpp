// The generated Kafka codecs (kafka/protocol/generated): golden bytes written
// by hand from Kafka's JSON definitions (each field commented), one request
// captured from librdkafka 2.0.2, and a round trip of every message at every
// version with every field set. Format: docs/formats/kafka-codecs.md.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>

#include "kafka/protocol/generated/all.hpp"
#include "kafka/protocol/generated/samples.hpp"

using namespace al;
using namespace al::kafka;
using bytes_t = std::vector<uint8_t>;

namespace {

template <class M>
M decode_ok(const bytes_t& b, int16_t version) {
  reader r(b);
  M m;
  auto s = m.decode(r, version);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  CHECK(r.remaining() == 0);
  return m;
}

template <class M>
bytes_t encode_ok(const M& m, int16_t version) {
  bytes_t out;
  writer w(out);
  auto s = m.encode(w, version);
  INFO(s.to_string());
  REQUIRE(s.is_ok());
  return out;
}

template <class M>
status decode_error(const bytes_t& b, int16_t version) {
  reader r(b);
  M m;
  auto s = m.decode(r, version);
  REQUIRE_FALSE(s.is_ok());
  return s;
}

/// Decodes, lets `check` look at the value, re-encodes byte-identically.
template <class M, class Check>
void golden(const bytes_t& b, int16_t version, Check&& check) {
  M m = decode_ok<M>(b, version);
  check(m);
  CHECK(encode_ok(m, version) == b);
}

bytes_t read_testdata(const std::string& name) {
  std::ifstream in(std::string(AL_TESTDATA_DIR) + "/kafka-requests/" + name, std::ios::binary);
  REQUIRE(in.good());
  return bytes_t(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

} // namespace

// ---- headers -------------------------------------------------------------------

TEST_CASE("librdkafka 2.0.2's first request: ApiVersions v3, header v2", "[kafka][golden]") {
  bytes_t b = read_testdata("librdkafka-2.0.2-apiversions-v3.bin");
  reader r(b);
  RequestHeader h;
  int16_t api_key = int16_t(b.at(0) << 8 | b.at(1));
  int16_t api_version = int16_t(b.at(2) << 8 | b.at(3));
  auto d = dispatch(api_key, api_version);
  CHECK(d.known);
  CHECK(d.supported);
  CHECK(d.request_header_version == 2);
  CHECK(d.response_header_version == 0); // ApiVersions: always v0
  REQUIRE(h.decode(r, d.request_header_version).is_ok());
  CHECK(h.request_api_key == 18);
  CHECK(h.request_api_version == 3);
  CHECK(h.correlation_id == 1);
  CHECK(h.client_id == std::optional<std::string>("al-capture")); // int16 length, even in v2
  ApiVersionsRequest req;
  REQUIRE(req.decode(r, 3).is_ok());
  CHECK(r.remaining() == 0);
  CHECK(req.client_software_name == "librdkafka");
  CHECK(req.client_software_version == "2.0.2");

  bytes_t out;
  writer w(out);
  REQUIRE(h.encode(w, 2).is_ok());
  REQUIRE(req.encode(w, 3).is_ok());
  CHECK(out == b);
}

TEST_CASE("request header v1 and v2: client_id is never compact", "[kafka][golden]") {
  bytes_t v1 = {
      0x00, 0x03,             // request_api_key 3 (Metadata)
      0x00, 0x01,             // request_api_version 1
      0x00, 0x00, 0x00, 0x07, // correlation_id 7
      0xff, 0xff,             // client_id: int16 -1 = null
  };
  golden<RequestHeader>(v1, 1, [](const RequestHeader& h) {
    CHECK(h.request_api_key == 3);
    CHECK(h.correlation_id == 7);
    CHECK_FALSE(h.client_id.has_value());
  });
  bytes_t v2 = {
      0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x08, // Produce v9, correlation_id 8
      0x00, 0x01, 'c',                                // client_id: int16 length 1, "c"
      0x00,                                           // no tagged fields
  };
  golden<RequestHeader>(v2, 2, [](const RequestHeader& h) { CHECK(*h.client_id == "c"); });
}

TEST_CASE("response header v0 and v1", "[kafka][golden]") {
  golden<ResponseHeader>({0x00, 0x00, 0x00, 0x05}, 0,
                         [](const ResponseHeader& h) { CHECK(h.correlation_id == 5); });
  golden<ResponseHeader>({0x00, 0x00, 0x00, 0x05, 0x00}, 1, // + empty tagged fields
                         [](const ResponseHeader& h) { CHECK(h.correlation_id == 5); });
}

// ---- ApiVersions -------------------------------------------------------------------

TEST_CASE("ApiVersions v0 request is empty, v3 carries the client software", "[kafka][golden]") {
  golden<ApiVersionsRequest>({}, 0, [](const ApiVersionsRequest&) {});
  bytes_t v3 = {
      0x02, 'k',      // client_software_name: compact length 1+1
      0x02, '1',      // client_software_version
      0x00,           // no tagged fields
  };
  golden<ApiVersionsRequest>(v3, 3, [](const ApiVersionsRequest& r) {
    CHECK(r.client_software_name == "k");
    CHECK(r.client_software_version == "1");
  });
}

TEST_CASE("ApiVersions response v0 and v3 (tagged finalized_features_epoch)", "[kafka][golden]") {
  bytes_t v0 = {
      0x00, 0x23,             // error_code 35 UNSUPPORTED_VERSION (KIP-511 fallback)
      0x00, 0x00, 0x00, 0x01, // api_keys: int32 count 1
      0x00, 0x00,             //   api_key 0 (Produce)
      0x00, 0x00,             //   min_version 0
      0x00, 0x0b,             //   max_version 11
  };
  golden<ApiVersionsResponse>(v0, 0, [](const ApiVersionsResponse& r) {
    CHECK(r.error_code == 35);
    REQUIRE(r.api_keys.size() == 1);
    CHECK(r.api_keys[0].max_version == 11);
  });
  bytes_t v3 = {
      0x00, 0x00,             // error_code 0
      0x02,                   // api_keys: compact count 1+1
      0x00, 0x12,             //   api_key 18
      0x00, 0x00, 0x00, 0x04, //   min 0, max 4
      0x00,                   //   no tagged fields
      0x00, 0x00, 0x00, 0x00, // throttle_time_ms 0
      0x01,                   // 1 tagged field:
      0x01, 0x08,             //   tag 1 (finalized_features_epoch), 8 bytes
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
  };
  golden<ApiVersionsResponse>(v3, 3, [](const ApiVersionsResponse& r) {
    CHECK(r.api_keys.at(0).api_key == 18);
    CHECK(r.finalized_features_epoch == 5);
    CHECK(r.supported_features.empty()); // tag 0 absent: default
    CHECK_FALSE(r.zk_migration_ready);
  });
}

TEST_CASE("unknown tagged fields are skipped", "[kafka][golden]") {
  bytes_t b = {
      0x02, 'k', 0x02, '1',   // client_software_name, _version
      0x02,                   // 2 tagged fields
      0x07, 0x02, 0xaa, 0xbb, //   tag 7 (unknown), 2 bytes
      0x09, 0x00,             //   tag 9 (unknown), 0 bytes
  };
  auto r = decode_ok<ApiVersionsRequest>(b, 3);
  CHECK(r.client_software_name == "k");
}

// ---- Produce ---------------------------------------------------------------------

TEST_CASE("Produce v3 request: records are a view into the request buffer", "[kafka][golden]") {
  bytes_t b = {
      0xff, 0xff,             // transactional_id: null (int16 -1)
      0xff, 0xff,             // acks -1
      0x00, 0x00, 0x75, 0x30, // timeout_ms 30000
      0x00, 0x00, 0x00, 0x01, // topic_data: 1 topic
      0x00, 0x03, 'f', 'o', 'o', //   name "foo"
      0x00, 0x00, 0x00, 0x01, //   partition_data: 1 partition
      0x00, 0x00, 0x00, 0x00, //     index 0
      0x00, 0x00, 0x00, 0x04, //     records: int32 length 4
      0xde, 0xad, 0xbe, 0xef, //     (a RecordBatch in real life)
  };
  golden<ProduceRequest>(b, 3, [&](const ProduceRequest& r) {
    CHECK_FALSE(r.transactional_id.has_value());
    CHECK(r.acks == -1);
    CHECK(r.timeout_ms == 30000);
    REQUIRE(r.topic_data.size() == 1);
    CHECK(r.topic_data[0].name == "foo");
    const auto& rec = r.topic_data[0].partition_data.at(0).records;
    CHECK_FALSE(rec.is_null);
    CHECK(rec.size == 4);
    CHECK(rec.data == b.data() + 29); // no copy
  });
}

TEST_CASE("Produce v9 request (flexible)", "[kafka][golden]") {
  bytes_t b = {
      0x03, 't', 'x',         // transactional_id: compact "tx"
      0x00, 0x01,             // acks 1
      0x00, 0x00, 0x03, 0xe8, // timeout_ms 1000
      0x02,                   // topic_data: compact count 1
      0x04, 'f', 'o', 'o',    //   name "foo"
      0x02,                   //   partition_data: 1
      0x00, 0x00, 0x00, 0x02, //     index 2
      0x04, 0x01, 0x02, 0x03, //     records: compact length 3
      0x00,                   //     no tagged fields (partition)
      0x00,                   //   (topic)
      0x00,                   // (request)
  };
  golden<ProduceRequest>(b, 9, [&](const ProduceRequest& r) {
    CHECK(*r.transactional_id == "tx");
    const auto& p = r.topic_data.at(0).partition_data.at(0);
    CHECK(p.index == 2);
    CHECK(p.records.size == 3);
    CHECK(p.records.data == b.data() + 20);
  });
}

TEST_CASE("Produce v10 response: tagged current_leader and node_endpoints", "[kafka][golden]") {
  bytes_t b = {
      0x02,                   // responses: 1
      0x04, 'f', 'o', 'o',    //   name "foo"
      0x02,                   //   partition_responses: 1
      0x00, 0x00, 0x00, 0x00, //     index 0
      0x00, 0x06,             //     error_code 6 NOT_LEADER_OR_FOLLOWER
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // base_offset -1
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // log_append_time_ms -1
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // log_start_offset 0
      0x01,                   //     record_errors: empty
      0x00,                   //     error_message: null
      0x01, 0x00, 0x09,       //     1 tagged field: tag 0 (current_leader), 9 bytes
      0x00, 0x00, 0x00, 0x02, //       leader_id 2
      0x00, 0x00, 0x00, 0x05, //       leader_epoch 5
      0x00,                   //       (no tagged fields)
      0x00,                   //   (topic: no tagged fields)
      0x00, 0x00, 0x00, 0x00, // throttle_time_ms 0
      0x01, 0x00, 0x0d,       // 1 tagged field: tag 0 (node_endpoints), 13 bytes
      0x02,                   //   1 endpoint
      0x00, 0x00, 0x00, 0x02, //     node_id 2
      0x02, 'h',              //     host "h"
      0x00, 0x00, 0x23, 0x84, //     port 9092
      0x00,                   //     rack null
      0x00,                   //     (no tagged fields)
  };
  golden<ProduceResponse>(b, 10, [](const ProduceResponse& r) {
    const auto& p = r.responses.at(0).partition_responses.at(0);
    CHECK(p.error_code == 6);
    CHECK(p.log_append_time_ms == -1);
    CHECK_FALSE(p.error_message.has_value());
    CHECK(p.current_leader.leader_id == 2);
    CHECK(p.current_leader.leader_epoch == 5);
    REQUIRE(r.node_endpoints.size() == 1);
    CHECK(r.node_endpoints[0].port == 9092);
  });
}

// ---- Fetch ---------------------------------------------------------------------

TEST_CASE("Fetch v4 request (kafka-python's version)", "[kafka][golden]") {
  bytes_t b = {
      0xff, 0xff, 0xff, 0xff, // replica_id -1 (a consumer)
      0x00, 0x00, 0x01, 0xf4, // max_wait_ms 500
      0x00, 0x00, 0x00, 0x01, // min_bytes 1
      0x00, 0x10, 0x00, 0x00, // max_bytes 1 MiB (v3+)
      0x01,                   // isolation_level 1 read_committed (v4+)
      0x00, 0x00, 0x00, 0x01, // topics: 1
      0x00, 0x03, 'f', 'o', 'o', //   topic "foo"
      0x00, 0x00, 0x00, 0x01, //   partitions: 1
      0x00, 0x00, 0x00, 0x00, //     partition 0
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // fetch_offset 42
      0x00, 0x10, 0x00, 0x00, //     partition_max_bytes 1 MiB
  };
  golden<FetchRequest>(b, 4, [](const FetchRequest& r) {
    CHECK(r.replica_id == -1);
    CHECK(r.isolation_level == 1);
    CHECK(r.session_epoch == -1); // v7+ only: default
    CHECK(r.topics.at(0).partitions.at(0).fetch_offset == 42);
    CHECK(r.topics.at(0).partitions.at(0).current_leader_epoch == -1); // v9+ only
  });
}

TEST_CASE("Fetch v12 request: flexible, tagged cluster_id", "[kafka][golden]") {
  bytes_t b = {
      0xff, 0xff, 0xff, 0xff, // replica_id -1
      0x00, 0x00, 0x01, 0xf4, // max_wait_ms 500
      0x00, 0x00, 0x00, 0x01, // min_bytes 1
      0x00, 0x10, 0x00, 0x00, // max_bytes 1 MiB
      0x01,                   // isolation_level 1
      0x00, 0x00, 0x00, 0x00, // session_id 0 (no fetch session)
      0xff, 0xff, 0xff, 0xff, // session_epoch -1
      0x02,                   // topics: compact 1
      0x04, 'f', 'o', 'o',    //   topic "foo" (v0-12)
      0x02,                   //   partitions: 1
      0x00, 0x00, 0x00, 0x00, //     partition 0
      0xff, 0xff, 0xff, 0xff, //     current_leader_epoch -1
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // fetch_offset 42
      0x00, 0x00, 0x00, 0x03, //     last_fetched_epoch 3 (v12+)
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // log_start_offset -1
      0x00, 0x10, 0x00, 0x00, //     partition_max_bytes 1 MiB
      0x00,                   //     (no tagged fields)
      0x00,                   //   (no tagged fields)
      0x01,                   // forgotten_topics_data: empty
      0x01,                   // rack_id "" (compact)
      0x01, 0x00, 0x02, 0x02, 'c', // 1 tagged field: tag 0 (cluster_id), 2 bytes, "c"
  };
  golden<FetchRequest>(b, 12, [](const FetchRequest& r) {
    CHECK(r.cluster_id == std::optional<std::string>("c"));
    CHECK(r.session_id == 0);
    CHECK(r.topics.at(0).topic == "foo");
    CHECK(r.topics.at(0).partitions.at(0).last_fetched_epoch == 3);
    CHECK(r.rack_id.empty());
  });
}

TEST_CASE("Fetch v13 request: topics and forgotten topics by id", "[kafka][golden]") {
  bytes_t b = {
      0xff, 0xff, 0xff, 0xff, // replica_id -1 (v0-14)
      0x00, 0x00, 0x01, 0xf4, // max_wait_ms 500
      0x00, 0x00, 0x00, 0x01, // min_bytes 1
      0x00, 0x10, 0x00, 0x00, // max_bytes 1 MiB
      0x00,                   // isolation_level 0
      0x00, 0x00, 0x00, 0x00, // session_id 0
      0xff, 0xff, 0xff, 0xff, // session_epoch -1
      0x02,                   // topics: compact 1
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // topic_id (v13+; no name)
      0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
      0x02,                   //   partitions: 1
      0x00, 0x00, 0x00, 0x01, //     partition 1
      0xff, 0xff, 0xff, 0xff, //     current_leader_epoch -1
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // fetch_offset 42
      0xff, 0xff, 0xff, 0xff, //     last_fetched_epoch -1
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // log_start_offset -1
      0x00, 0x10, 0x00, 0x00, //     partition_max_bytes 1 MiB
      0x00,                   //     (no tagged fields)
      0x00,                   //   (no tagged fields)
      0x02,                   // forgotten_topics_data: 1
      0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, // topic_id (v13+)
      0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
      0x03,                   //   partitions: 2
      0x00, 0x00, 0x00, 0x03, //     3
      0x00, 0x00, 0x00, 0x04, //     4
      0x00,                   //   (no tagged fields)
      0x01,                   // rack_id ""
      0x00,                   // (no tagged fields)
  };
  golden<FetchRequest>(b, 13, [](const FetchRequest& r) {
    CHECK(r.replica_id == -1);
    REQUIRE(r.topics.size() == 1);
    CHECK(r.topics[0].topic.empty()); // v0-12 only
    CHECK(r.topics[0].topic_id.bytes[0] == 0x01);
    CHECK(r.topics[0].topic_id.bytes[15] == 0x10);
    CHECK(r.topics[0].partitions.at(0).partition == 1);
    REQUIRE(r.forgotten_topics_data.size() == 1);
    CHECK(r.forgotten_topics_data[0].topic_id.bytes[15] == 0xaf);
    CHECK(r.forgotten_topics_data[0].partitions == std::vector<int32_t>{3, 4});
  });
  // A name has no place in v13: Topic is ignorable, so it is dropped, not refused.
  FetchRequest named = decode_ok<FetchRequest>(b, 13);
  named.topics[0].topic = "foo";
  CHECK(encode_ok(named, 13) == b);
}

TEST_CASE("Fetch v17 request: tagged ReplicaState and ReplicaDirectoryId", "[kafka][golden]") {
  bytes_t b = {
      0x00, 0x00, 0x01, 0xf4, // max_wait_ms 500 (no replica_id from v15 on)
      0x00, 0x00, 0x00, 0x01, // min_bytes 1
      0x00, 0x10, 0x00, 0x00, // max_bytes 1 MiB
      0x00,                   // isolation_level 0
      0x00, 0x00, 0x00, 0x00, // session_id 0
      0xff, 0xff, 0xff, 0xff, // session_epoch -1
      0x02,                   // topics: 1
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, //   topic_id
      0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
      0x02,                   //   partitions: 1
      0x00, 0x00, 0x00, 0x00, //     partition 0
      0xff, 0xff, 0xff, 0xff, //     current_leader_epoch -1
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // fetch_offset 42
      0xff, 0xff, 0xff, 0xff, //     last_fetched_epoch -1
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // log_start_offset -1
      0x00, 0x10, 0x00, 0x00, //     partition_max_bytes 1 MiB
      0x01, 0x00, 0x10,       //     1 tagged field: tag 0 (replica_directory_id), 16 bytes
      0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
      0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
      0x00,                   //   (no tagged fields)
      0x01,                   // forgotten_topics_data: empty
      0x01,                   // rack_id ""
      0x02,                   // 2 tagged fields:
      0x00, 0x02, 0x02, 'c',  //   tag 0 (cluster_id), 2 bytes, "c"
      0x01, 0x0d,             //   tag 1 (replica_state), 13 bytes:
      0x00, 0x00, 0x00, 0x03, //     replica_id 3
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, // replica_epoch 7
      0x00,                   //     (no tagged fields)
  };
  golden<FetchRequest>(b, 17, [](const FetchRequest& r) {
    CHECK(r.replica_id == -1); // v0-14 only: the default
    CHECK(r.replica_state.replica_id == 3);
    CHECK(r.replica_state.replica_epoch == 7);
    CHECK(r.cluster_id == std::optional<std::string>("c"));
    CHECK(r.topics.at(0).partitions.at(0).replica_directory_id.bytes[0] == 0xd0);
  });
  // A consumer's ReplicaState (-1, -1) is the default: not on the wire at all.
  FetchRequest consumer = decode_ok<FetchRequest>(b, 17);
  consumer.replica_state = {};
  consumer.cluster_id.reset();
  bytes_t plain = encode_ok(consumer, 17);
  CHECK(plain.size() == b.size() - 19);
  CHECK(plain.back() == 0x00); // no tagged fields
  CHECK(decode_ok<FetchRequest>(plain, 17).replica_state.replica_id == -1);
}

TEST_CASE("Fetch v13 response: topic id, UNKNOWN_TOPIC_ID", "[kafka][golden]") {
  bytes_t b = {
      0x00, 0x00, 0x00, 0x00, // throttle_time_ms 0
      0x00, 0x00,             // error_code 0
      0x00, 0x00, 0x00, 0x00, // session_id 0
      0x02,                   // responses: 1
      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, //   topic_id (v13+; no name)
      0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
      0x02,                   //   partitions: 1
      0x00, 0x00, 0x00, 0x00, //     partition_index 0
      0x00, 0x64,             //     error_code 100 UNKNOWN_TOPIC_ID
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // high_watermark -1
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // last_stable_offset -1
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // log_start_offset -1
      0x00,                   //     aborted_transactions: null
      0xff, 0xff, 0xff, 0xff, //     preferred_read_replica -1
      0x01,                   //     records: empty
      0x00,                   //     (no tagged fields)
      0x00,                   //   (no tagged fields)
      0x00,                   // (no tagged fields: no node_endpoints)
  };
  golden<FetchResponse>(b, 13, [](const FetchResponse& r) {
    REQUIRE(r.responses.size() == 1);
    CHECK(r.responses[0].topic.empty());
    CHECK(r.responses[0].topic_id.bytes[0] == 0x01);
    const auto& p = r.responses[0].partitions.at(0);
    CHECK(p.error_code == 100);
    CHECK_FALSE(p.aborted_transactions.has_value());
    CHECK(p.records.size == 0);
    CHECK_FALSE(p.records.is_null);
  });
}

// ---- Metadata, FindCoordinator, Heartbeat, JoinGroup -------------------------------

TEST_CASE("Metadata v1 request: null topics = all, null refused in v0", "[kafka][golden]") {
  bytes_t all = {0xff, 0xff, 0xff, 0xff}; // topics: int32 -1 = null
  golden<MetadataRequest>(all, 1, [](const MetadataRequest& r) { CHECK_FALSE(r.topics); });
  auto s = decode_error<MetadataRequest>(all, 0);
  CHECK(s.code() == errc::corrupt_message);
  CHECK(s.message() == "Metadata v0 topics: null in a version where the field is not nullable");
  MetadataRequest m;
  m.topics.reset();
  bytes_t out;
  writer w(out);
  CHECK(m.encode(w, 0).code() == errc::corrupt_message); // null cannot be written at v0
}

TEST_CASE("Metadata v9 request (flexible)", "[kafka][golden]") {
  bytes_t b = {
      0x02,                // topics: compact 1
      0x04, 'f', 'o', 'o', //   name "foo"
      0x00,                //   (no tagged fields)
      0x01,                // allow_auto_topic_creation true (v4+)
      0x00,                // include_cluster_authorized_operations false (v8-10)
      0x00,                // include_topic_authorized_operations false (v8+)
      0x00,                // (no tagged fields)
  };
  golden<MetadataRequest>(b, 9, [](const MetadataRequest& r) {
    REQUIRE(r.topics);
    CHECK(r.topics->at(0).name == std::optional<std::string>("foo"));
    CHECK(r.allow_auto_topic_creation);
  });
}

TEST_CASE("FindCoordinator v0 and v3 requests", "[kafka][golden]") {
  golden<FindCoordinatorRequest>({0x00, 0x03, 'g', 'r', 'p'}, 0, // key "grp"
                                 [](const FindCoordinatorRequest& r) { CHECK(r.key == "grp"); });
  bytes_t v3 = {
      0x04, 'g', 'r', 'p', // key: compact "grp"
      0x01,                // key_type 1 (transaction)
      0x00,                // (no tagged fields)
  };
  golden<FindCoordinatorRequest>(v3, 3, [](const FindCoordinatorRequest& r) {
    CHECK(r.key == "grp");
    CHECK(r.key_type == 1);
  });
}

TEST_CASE("Heartbeat v0 and v4 requests", "[kafka][golden]") {
  bytes_t v0 = {
      0x00, 0x01, 'g',        // group_id "g"
      0x00, 0x00, 0x00, 0x03, // generation_id 3
      0x00, 0x01, 'm',        // member_id "m"
  };
  golden<HeartbeatRequest>(v0, 0, [](const HeartbeatRequest& r) {
    CHECK(r.generation_id == 3);
    CHECK(r.member_id == "m");
  });
  bytes_t v4 = {
      0x02, 'g', 0x00, 0x00, 0x00, 0x03, 0x02, 'm', // group_id, generation_id, member_id
      0x00,                                         // group_instance_id: null (v3+)
      0x00,                                         // (no tagged fields)
  };
  golden<HeartbeatRequest>(v4, 4, [](const HeartbeatRequest& r) {
    CHECK_FALSE(r.group_instance_id.has_value());
  });
}

TEST_CASE("JoinGroup v0 request: protocol metadata is opaque bytes", "[kafka][golden]") {
  bytes_t b = {
      0x00, 0x01, 'g',        // group_id "g"
      0x00, 0x00, 0x27, 0x10, // session_timeout_ms 10000
      0x00, 0x00,             // member_id ""
      0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r', // protocol_type "consumer"
      0x00, 0x00, 0x00, 0x01, // protocols: 1
      0x00, 0x05, 'r', 'a', 'n', 'g', 'e', //   name "range"
      0x00, 0x00, 0x00, 0x02, 0x00, 0x01, //   metadata: int32 length 2
  };
  golden<JoinGroupRequest>(b, 0, [](const JoinGroupRequest& r) {
    CHECK(r.rebalance_timeout_ms == -1); // v1+ only
    CHECK(r.protocols.at(0).metadata == bytes_t{0x00, 0x01});
  });
}

// ---- errors ----------------------------------------------------------------------

TEST_CASE("errors name the message, version and field path", "[kafka][errors]") {
  // transactional_id "", acks 1, timeout_ms 0, topic_data: 1, name: compact
  // length varint 0x81 0x02 = 257, i.e. 256 bytes, of which 1 is there.
  auto s = decode_error<ProduceRequest>({0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0x81,
                                         0x02, 'f'},
                                        9);
  CHECK(s.code() == errc::corrupt_message);
  CHECK(s.message()
        == "Produce v9 topic_data[0].name: compact string length 256 exceeds 1 remaining bytes");
  auto t = decode_error<ProduceRequest>({0x00, 0x01, 0x00, 0x00}, 2);
  CHECK(t.message() == "Produce v2 timeout_ms: int32 needs 4 bytes, 2 remaining");
  CHECK(decode_error<ProduceRequest>({}, 12).code() == errc::unsupported_version);
}

TEST_CASE("a hostile array length is refused before allocating", "[kafka][errors]") {
  bytes_t b = {0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x7f, 0xff, 0xff, 0xff}; // 2^31-1 topics
  auto s = decode_error<ProduceRequest>(b, 2);
  CHECK(s.message() == "Produce v2 topic_data: array length 2147483647 exceeds 0 remaining bytes");
}

TEST_CASE("encode refuses a non-ignorable field the version cannot carry", "[kafka][errors]") {
  ProduceRequest r;
  r.transactional_id = "tx"; // v3+, not ignorable
  bytes_t out;
  writer w(out);
  auto s = r.encode(w, 2);
  CHECK(s.code() == errc::unsupported_version);
  CHECK(s.message()
        == "Produce v2 transactional_id: non-default value, but the field does not exist in v2");
  MetadataResponse m; // throttle_time_ms is ignorable: dropped silently at v0
  m.throttle_time_ms = 5;
  CHECK(m.encode(w, 0).is_ok());
}

// ---- OffsetFetch v8+: several groups ------------------------------------------------

TEST_CASE("OffsetFetch v8 request: two groups, one with null topics (all)", "[kafka][golden]") {
  bytes_t b = {
      0x03,                   // groups: 2
      0x03, 'g', '1',         //   group_id "g1"
      0x02,                   //   topics: 1
      0x02, 't',              //     name "t"
      0x03,                   //     partition_indexes: 2
      0x00, 0x00, 0x00, 0x00, //       0
      0x00, 0x00, 0x00, 0x01, //       1
      0x00,                   //     (no tagged fields)
      0x00,                   //   (no tagged fields)
      0x03, 'g', '2',         //   group_id "g2"
      0x00,                   //   topics: null (every committed partition)
      0x00,                   //   (no tagged fields)
      0x00,                   // require_stable false
      0x00,                   // (no tagged fields)
  };
  golden<OffsetFetchRequest>(b, 8, [](const OffsetFetchRequest& r) {
    REQUIRE(r.groups.size() == 2);
    CHECK(r.groups[0].group_id == "g1");
    REQUIRE(r.groups[0].topics.has_value());
    CHECK(r.groups[0].topics->at(0).partition_indexes == std::vector<int32_t>{0, 1});
    CHECK_FALSE(r.groups[1].topics.has_value());
    CHECK(r.groups[0].member_id == std::nullopt); // v9+
    CHECK(r.group_id.empty());                    // v0-7
  });
}

TEST_CASE("OffsetFetch v9 request: member id and epoch (KIP-848)", "[kafka][golden]") {
  bytes_t b = {
      0x02,                   // groups: 1
      0x03, 'g', '1',         //   group_id "g1"
      0x04, 'm', '-', '1',    //   member_id "m-1" (v9+)
      0x00, 0x00, 0x00, 0x05, //   member_epoch 5 (v9+)
      0x00,                   //   topics: null
      0x00,                   //   (no tagged fields)
      0x01,                   // require_stable true
      0x00,                   // (no tagged fields)
  };
  golden<OffsetFetchRequest>(b, 9, [](const OffsetFetchRequest& r) {
    REQUIRE(r.groups.size() == 1);
    CHECK(r.groups[0].member_id == std::optional<std::string>("m-1"));
    CHECK(r.groups[0].member_epoch == 5);
    CHECK(r.require_stable);
  });
}

TEST_CASE("OffsetFetch v8 response: an error code per group", "[kafka][golden]") {
  bytes_t b = {
      0x00, 0x00, 0x00, 0x00, // throttle_time_ms 0
      0x03,                   // groups: 2
      0x03, 'g', '1',         //   group_id "g1"
      0x02,                   //   topics: 1
      0x02, 't',              //     name "t"
      0x02,                   //     partitions: 1
      0x00, 0x00, 0x00, 0x00, //       partition_index 0
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, // committed_offset 42
      0xff, 0xff, 0xff, 0xff, //       committed_leader_epoch -1
      0x01,                   //       metadata ""
      0x00, 0x00,             //       error_code 0
      0x00,                   //       (no tagged fields)
      0x00,                   //     (no tagged fields)
      0x00, 0x00,             //   error_code 0
      0x00,                   //   (no tagged fields)
      0x03, 'g', '2',         //   group_id "g2"
      0x01,                   //   topics: empty
      0x00, 0x10,             //   error_code 16 NOT_COORDINATOR
      0x00,                   //   (no tagged fields)
      0x00,                   // (no tagged fields)
  };
  golden<OffsetFetchResponse>(b, 8, [](const OffsetFetchResponse& r) {
    REQUIRE(r.groups.size() == 2);
    CHECK(r.groups[0].error_code == 0);
    CHECK(r.groups[0].topics.at(0).partitions.at(0).committed_offset == 42);
    CHECK(r.groups[0].topics.at(0).partitions.at(0).metadata == std::optional<std::string>(""));
    CHECK(r.groups[1].error_code == 16);
    CHECK(r.groups[1].topics.empty());
    CHECK(r.topics.empty()); // v0-7
  });
}

// ---- the table -----------------------------------------------------------------

TEST_CASE("api table: one row per generated API, header versions", "[kafka][table]") {
  CHECK(api_table_size == 30);
  for (size_t i = 1; i < api_table_size; ++i)
    CHECK(api_table[i - 1].api_key < api_table[i].api_key);
  const api_info* fetch = find_api(1);
  REQUIRE(fetch != nullptr);
  CHECK(std::string(fetch->name) == "Fetch");
  CHECK(fetch->first_flexible_version == 12);
  CHECK(fetch->max_version == 17); // Kafka 3.9's newest: topic ids (v13+) are answered
  const api_info* offset_fetch = find_api(9);
  REQUIRE(offset_fetch != nullptr);
  CHECK(offset_fetch->max_version == 9); // several groups per request (v8+)
  CHECK(offset_fetch->max_defined_version == 9);
  CHECK(find_api(1000) == nullptr);
  auto f11 = dispatch(1, 11);
  CHECK(f11.request_header_version == 1);
  CHECK(f11.response_header_version == 0);
  auto f12 = dispatch(1, 12);
  CHECK(f12.request_header_version == 2);
  CHECK(f12.response_header_version == 1);
  auto av = dispatch(18, 99); // a future ApiVersions: unsupported, still parseable (KIP-511)
  CHECK(av.known);
  CHECK_FALSE(av.supported);
  CHECK(av.request_header_version == 2);
  CHECK(av.response_header_version == 0);
  CHECK_FALSE(dispatch(1000, 0).known);
}

// ---- every message, every version --------------------------------------------------

namespace {

template <class M>
void round_trip_all_versions() {
  for (int16_t v = M::min_version; v <= M::max_version; ++v) {
    INFO(M::label << " v" << v);
    M sample;
    fill_sample(sample, v);
    bytes_t b = encode_ok(sample, v);
    M back = decode_ok<M>(b, v);
    CHECK(back == sample);
    CHECK(encode_ok(back, v) == b);
    // Truncated by one byte, the same bytes never decode cleanly to the end.
    if (!b.empty()) {
      bytes_t cut(b.begin(), b.end() - 1);
      reader r(cut);
      M m;
      CHECK_FALSE(m.decode(r, v).is_ok());
    }
  }
}

} // namespace

TEST_CASE("every message round-trips at every version with every field set", "[kafka][roundtrip]") {
#define AL_ROUND_TRIP(M) round_trip_all_versions<M>();
  AL_KAFKA_FOR_EACH_MESSAGE(AL_ROUND_TRIP)
#undef AL_ROUND_TRIP
  round_trip_all_versions<RequestHeader>();
  round_trip_all_versions<ResponseHeader>();
}

// ---- real clients' requests (tests/data/kafka-requests/*.bin) ------------------------

#include <algorithm>
#include <filesystem>
#include <map>

namespace {

struct client_round_trip {
  status decode = status::ok();
  size_t left_over = 0; ///< bytes after header + body
  bytes_t encoded;      ///< header + body re-encoded
  status encode = status::ok();
};

template <class M>
client_round_trip round_trip_client_request(const bytes_t& b, int16_t header_version) {
  client_round_trip out;
  reader r(b);
  RequestHeader h;
  out.decode = h.decode(r, header_version);
  if (!out.decode.is_ok())
    return out;
  M m;
  out.decode = m.decode(r, h.request_api_version);
  if (!out.decode.is_ok())
    return out;
  out.left_over = r.remaining();
  writer w(out.encoded);
  out.encode = h.encode(w, header_version);
  if (out.encode.is_ok())
    out.encode = m.encode(w, h.request_api_version);
  return out;
}

#define AL_KAFKA_FOR_EACH_REQUEST(X)                                                     \
  X(ProduceRequest) X(FetchRequest) X(ListOffsetsRequest) X(MetadataRequest)            \
  X(OffsetCommitRequest) X(OffsetFetchRequest) X(FindCoordinatorRequest)                \
  X(JoinGroupRequest) X(HeartbeatRequest) X(LeaveGroupRequest) X(SyncGroupRequest)      \
  X(DescribeGroupsRequest) X(ListGroupsRequest) X(ApiVersionsRequest)                   \
  X(CreateTopicsRequest) X(DeleteTopicsRequest) X(InitProducerIdRequest)                \
  X(OffsetForLeaderEpochRequest) X(AddPartitionsToTxnRequest) X(AddOffsetsToTxnRequest) \
  X(EndTxnRequest) X(TxnOffsetCommitRequest) X(DescribeConfigsRequest)                  \
  X(AlterConfigsRequest) X(CreatePartitionsRequest) X(DeleteGroupsRequest)              \
  X(IncrementalAlterConfigsRequest) X(DescribeClusterRequest)                           \
  X(DescribeTransactionsRequest) X(ListTransactionsRequest)

/// false: no generated request type for `api_key`.
bool round_trip_client_request(int16_t api_key, const bytes_t& b, int16_t header_version,
                               client_round_trip& out) {
  switch (api_key) {
#define AL_CLIENT_CASE(T)                                   \
  case T::api_key:                                          \
    out = round_trip_client_request<T>(b, header_version); \
    return true;
    AL_KAFKA_FOR_EACH_REQUEST(AL_CLIENT_CASE)
#undef AL_CLIENT_CASE
  default:
    return false;
  }
}

} // namespace

TEST_CASE("every request captured from a real client decodes and re-encodes byte-identically",
          "[kafka][golden][clients]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(AL_TESTDATA_DIR) / "kafka-requests";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".bin")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());

  std::map<int16_t, int> per_api;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    INFO(name);
    bytes_t b = read_testdata(name);
    REQUIRE(b.size() >= 4);
    const int16_t api_key = int16_t(b[0] << 8 | b[1]);
    const int16_t api_version = int16_t(b[2] << 8 | b[3]);
    INFO("api_key " << api_key << " v" << api_version);
    auto d = dispatch(api_key, api_version);
    CHECK(d.known);
    client_round_trip rt;
    REQUIRE(round_trip_client_request(api_key, b, d.request_header_version, rt));
    INFO("decode: " << rt.decode.to_string());
    CHECK(rt.decode.is_ok());
    if (!rt.decode.is_ok())
      continue;
    CHECK(rt.left_over == 0);
    INFO("encode: " << rt.encode.to_string());
    CHECK(rt.encode.is_ok());
    size_t first_diff = 0;
    while (first_diff < b.size() && first_diff < rt.encoded.size() &&
           b[first_diff] == rt.encoded[first_diff])
      ++first_diff;
    INFO("first differing byte at offset " << first_diff << " (file " << b.size()
                                           << " bytes, re-encoded " << rt.encoded.size()
                                           << ")");
    CHECK(rt.encoded == b);
    ++per_api[api_key];
  }

  // Every API the Kafka listener answers (actors/kafka/kafka_connection_actor.cpp) has at
  // least one real client's request here, except:
  //  - OffsetForLeaderEpoch (23): only librdkafka >= 2.1 (KIP-320) sends it; librdkafka
  //    2.0.2 (kcat, confluent-kafka), kafka-python 2.0.2 and kafkajs 2.2.4 never do.
  //  - IncrementalAlterConfigs (44): none of the installed clients implements it
  //    (librdkafka >= 2.2 / confluent-kafka >= 2.2 do; kafkajs 2.2.4 and kafka-python
  //    2.0.2 have only AlterConfigs).
  //  - DescribeCluster (60): librdkafka >= 2.3 only; kafkajs' and kafka-python's
  //    describeCluster() send Metadata.
  const int16_t listener_apis[] = {0,  1,  2,  3,  8,  9,  10, 11, 12, 13, 14, 15,
                                   16, 18, 19, 20, 22, 32, 33, 37, 42};
  for (int16_t key : listener_apis) {
    INFO("api_key " << key << " (" << find_api(key)->name << ")");
    CHECK(per_api[key] >= 1);
  }
}

// ---- hand-built from the definitions: the installed clients never send these -----

TEST_CASE("OffsetForLeaderEpoch v4 request: replica id, current and requested epochs",
          "[kafka][golden]") {
  bytes_t b = {
      0xff, 0xff, 0xff, 0xff, // replica_id -1 (a consumer; v3+)
      0x02,                   // topics: compact 1
      0x07, 'o', 'r', 'd', 'e', 'r', 's', // topic "orders" (compact string)
      0x03,                   //   partitions: 2
      0x00, 0x00, 0x00, 0x00, //     partition 0
      0x00, 0x00, 0x00, 0x05, //     current_leader_epoch 5 (v2+)
      0x00, 0x00, 0x00, 0x03, //     leader_epoch 3
      0x00,                   //     (no tagged fields)
      0x00, 0x00, 0x00, 0x02, //     partition 2
      0xff, 0xff, 0xff, 0xff, //     current_leader_epoch -1
      0x00, 0x00, 0x00, 0x04, //     leader_epoch 4
      0x00,                   //     (no tagged fields)
      0x00,                   //   (no tagged fields)
      0x00,                   // (no tagged fields)
  };
  golden<OffsetForLeaderEpochRequest>(b, 4, [](const OffsetForLeaderEpochRequest& r) {
    CHECK(r.replica_id == -1);
    REQUIRE(r.topics.size() == 1);
    CHECK(r.topics[0].topic == "orders");
    REQUIRE(r.topics[0].partitions.size() == 2);
    CHECK(r.topics[0].partitions[0].current_leader_epoch == 5);
    CHECK(r.topics[0].partitions[0].leader_epoch == 3);
    CHECK(r.topics[0].partitions[1].partition == 2);
    CHECK(r.topics[0].partitions[1].current_leader_epoch == -1);
    CHECK(r.topics[0].partitions[1].leader_epoch == 4);
  });
}

TEST_CASE("IncrementalAlterConfigs v1 request: SET and DELETE (null value), validate only",
          "[kafka][golden]") {
  bytes_t b = {
      0x02,                   // resources: compact 1
      0x02,                   //   resource_type 2 (TOPIC)
      0x07, 'o', 'r', 'd', 'e', 'r', 's', // resource_name "orders"
      0x03,                   //   configs: 2
      0x0d, 'r', 'e', 't', 'e', 'n', 't', 'i', 'o', 'n', '.', 'm', 's', // "retention.ms"
      0x00,                   //     config_operation 0 (SET)
      0x09, '8', '6', '4', '0', '0', '0', '0', '0', // value "86400000"
      0x00,                   //     (no tagged fields)
      0x0f, 'c', 'l', 'e', 'a', 'n', 'u', 'p', '.', 'p', 'o', 'l', 'i', 'c', 'y', // "cleanup.policy"
      0x01,                   //     config_operation 1 (DELETE)
      0x00,                   //     value null (compact nullable string)
      0x00,                   //     (no tagged fields)
      0x00,                   //   (no tagged fields)
      0x01,                   // validate_only true
      0x00,                   // (no tagged fields)
  };
  golden<IncrementalAlterConfigsRequest>(b, 1, [](const IncrementalAlterConfigsRequest& r) {
    REQUIRE(r.resources.size() == 1);
    CHECK(r.resources[0].resource_type == 2);
    CHECK(r.resources[0].resource_name == "orders");
    REQUIRE(r.resources[0].configs.size() == 2);
    CHECK(r.resources[0].configs[0].name == "retention.ms");
    CHECK(r.resources[0].configs[0].value == std::optional<std::string>("86400000"));
    CHECK(r.resources[0].configs[1].config_operation == 1);
    CHECK_FALSE(r.resources[0].configs[1].value.has_value());
    CHECK(r.validate_only);
  });
}

TEST_CASE("DescribeCluster v0 and v1 requests", "[kafka][golden]") {
  golden<DescribeClusterRequest>({0x01, 0x00}, 0, [](const DescribeClusterRequest& r) {
    CHECK(r.include_cluster_authorized_operations);
  });
  golden<DescribeClusterRequest>({0x00, 0x01, 0x00}, 1, [](const DescribeClusterRequest& r) {
    CHECK_FALSE(r.include_cluster_authorized_operations);
    CHECK(r.endpoint_type == 1); // brokers (2: controllers, KIP-919)
  });
}
