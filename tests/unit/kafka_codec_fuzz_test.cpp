// Seeded fuzz of every generated Kafka request decoder (and the request
// header) at every version: valid encodings cut at every length, every
// 1/2/4/8-byte window set to extreme values (every length and count field is
// one of them), random damage, random garbage. A decode returns a value or an
// error; it never crashes, never reads outside its buffer (each input is
// its own exactly-sized vector, for ASan) and never makes an allocation
// larger than max_decode_allocation. AL_TEST_SEED=<n> explores other seeds.
#include "fuzz_test_support.hpp"

#include "kafka/protocol/generated/all.hpp"
#include "kafka/protocol/generated/samples.hpp"

using namespace al;
using namespace al::kafka;
using namespace al::test;

namespace {

template <class M>
void decode_any(const bytes& b, int16_t version) {
  reader r(b.data(), b.size());
  M m;
  reset_largest_allocation();
  auto s = m.decode(r, version);
  CHECK(largest_allocation <= max_decode_allocation);
  if (s.is_ok()) {
    CHECK(r.remaining() <= b.size());
    // Whatever decoded must encode again (the records views still point into b).
    bytes out;
    writer w(out);
    (void)m.encode(w, version);
  } else {
    CHECK(!s.message().empty());
    CHECK((s.code() == errc::corrupt_message || s.code() == errc::invalid_request));
  }
}

template <class M>
bytes sample_encoding(int16_t version) {
  M m;
  fill_sample(m, version);
  bytes out;
  writer w(out);
  REQUIRE(m.encode(w, version).is_ok());
  return out;
}

template <class M>
void fuzz_message() {
  for (int16_t v = M::min_version; v <= M::max_version; ++v) {
    INFO(M::label << " v" << v);
    const bytes valid = sample_encoding<M>(v);
    decode_any<M>(valid, v);
    for_each_cut_and_extension(valid, trailer::none, [&](const bytes& b) { decode_any<M>(b, v); });
    for_each_extreme_field(valid, trailer::none, [&](const bytes& b) { decode_any<M>(b, v); });
    fuzz_budget budget;
    budget.max_runs = 300;
    budget.max_time = std::chrono::milliseconds(200);
    fuzz_loop(budget, [&](std::mt19937& rng, size_t) {
      bytes b = valid;
      for (size_t n = 1 + rng() % 3; n > 0; --n)
        damage(b, rng, trailer::none);
      decode_any<M>(b, v);
      decode_any<M>(random_bytes(rng, 64), v);
    });
  }
}

} // namespace

// Requests only: the broker decodes what clients send.
#define AL_KAFKA_FUZZ_REQUEST(M)                                                                   \
  TEST_CASE(#M " decodes hostile bytes safely at every version", "[kafka][fuzz]") {               \
    fuzz_message<M>();                                                                             \
  }
AL_KAFKA_FUZZ_REQUEST(RequestHeader)
AL_KAFKA_FUZZ_REQUEST(ApiVersionsRequest)
AL_KAFKA_FUZZ_REQUEST(MetadataRequest)
AL_KAFKA_FUZZ_REQUEST(ProduceRequest)
AL_KAFKA_FUZZ_REQUEST(FetchRequest)
AL_KAFKA_FUZZ_REQUEST(ListOffsetsRequest)
AL_KAFKA_FUZZ_REQUEST(OffsetForLeaderEpochRequest)
AL_KAFKA_FUZZ_REQUEST(FindCoordinatorRequest)
AL_KAFKA_FUZZ_REQUEST(JoinGroupRequest)
AL_KAFKA_FUZZ_REQUEST(SyncGroupRequest)
AL_KAFKA_FUZZ_REQUEST(HeartbeatRequest)
AL_KAFKA_FUZZ_REQUEST(LeaveGroupRequest)
AL_KAFKA_FUZZ_REQUEST(OffsetCommitRequest)
AL_KAFKA_FUZZ_REQUEST(OffsetFetchRequest)
AL_KAFKA_FUZZ_REQUEST(DescribeGroupsRequest)
AL_KAFKA_FUZZ_REQUEST(ListGroupsRequest)
AL_KAFKA_FUZZ_REQUEST(DeleteGroupsRequest)
AL_KAFKA_FUZZ_REQUEST(CreateTopicsRequest)
AL_KAFKA_FUZZ_REQUEST(DeleteTopicsRequest)
AL_KAFKA_FUZZ_REQUEST(CreatePartitionsRequest)
AL_KAFKA_FUZZ_REQUEST(DescribeConfigsRequest)
AL_KAFKA_FUZZ_REQUEST(AlterConfigsRequest)
AL_KAFKA_FUZZ_REQUEST(IncrementalAlterConfigsRequest)
AL_KAFKA_FUZZ_REQUEST(DescribeClusterRequest)
AL_KAFKA_FUZZ_REQUEST(InitProducerIdRequest)
AL_KAFKA_FUZZ_REQUEST(AddPartitionsToTxnRequest)
AL_KAFKA_FUZZ_REQUEST(AddOffsetsToTxnRequest)
AL_KAFKA_FUZZ_REQUEST(EndTxnRequest)
AL_KAFKA_FUZZ_REQUEST(TxnOffsetCommitRequest)
AL_KAFKA_FUZZ_REQUEST(DescribeTransactionsRequest)
AL_KAFKA_FUZZ_REQUEST(ListTransactionsRequest)
#undef AL_KAFKA_FUZZ_REQUEST

TEST_CASE("every request API of the table is fuzzed above", "[kafka][fuzz]") {
  CHECK(api_table_size == 30); // add the new request to the list above
}
