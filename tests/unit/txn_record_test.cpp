// __transaction_state records (issue 16): what txn_machine's entries become
// in the log and back, and damaged records refused with the field named.
#include <catch2/catch.hpp>

#include "actors/group/offsets_wire.hpp"
#include "actors/txn/txn_record.hpp"

using namespace al;

namespace {

txn_log_entry sample() {
  txn_log_entry e;
  e.transactional_id = "position-service-1";
  e.producer_id = 4000;
  e.producer_epoch = 7;
  e.previous_producer_id = 4000;
  e.previous_producer_epoch = 6;
  e.next_producer_id = -1;
  e.timeout_ms = 30000;
  e.state = txn_state::prepare_commit;
  e.partitions = {{"__consumer_offsets", 7}, {"orders", 0}, {"positions", 1}, {"positions", 2}};
  e.start_ms = 1700000000000;
  e.update_ms = 1700000000500;
  return e;
}

} // namespace

TEST_CASE("a transaction state record reads back as the entry written", "[txn][record]") {
  auto e = sample();
  auto key = encode_txn_key(e.transactional_id);
  auto value = encode_txn_value(e);
  REQUIRE(value);
  auto back = decode_txn_record(byte_view{key}, byte_view{*value});
  REQUIRE(back);
  CHECK(*back == e);
  // Every state survives.
  for (int s = 0; s <= int(txn_state::dead); ++s) {
    e.state = txn_state(s);
    auto v = encode_txn_value(e);
    auto b = decode_txn_record(byte_view{key}, byte_view{*v});
    REQUIRE(b);
    CHECK(b->state == e.state);
  }
}

TEST_CASE("a null value is a tombstone, and a tombstone is written as one", "[txn][record]") {
  auto e = sample();
  e.tombstone = true;
  CHECK_FALSE(encode_txn_value(e));
  auto key = encode_txn_key(e.transactional_id);
  auto back = decode_txn_record(byte_view{key}, std::nullopt);
  REQUIRE(back);
  CHECK(back->tombstone);
  CHECK(back->transactional_id == e.transactional_id);
}

TEST_CASE("Kafka's version 0 value decodes, without the fields actorlog adds", "[txn][record]") {
  using namespace offsets_wire;
  bytes v;
  put<int16_t>(v, 0);
  put<int64_t>(v, 12);
  put<int16_t>(v, 3);
  put<int32_t>(v, 60000);
  put<int8_t>(v, int8_t(txn_state::ongoing));
  put<int32_t>(v, 1);
  put_string(v, "orders");
  put<int32_t>(v, 2);
  put<int32_t>(v, 4);
  put<int32_t>(v, 1);
  put<int64_t>(v, 500);
  put<int64_t>(v, 400);
  auto key = encode_txn_key("t");
  auto e = decode_txn_record(byte_view{key}, byte_view{v});
  REQUIRE(e);
  CHECK(e->producer_id == 12);
  CHECK(e->producer_epoch == 3);
  CHECK(e->state == txn_state::ongoing);
  CHECK(e->partitions == std::vector<topic_partition>{{"orders", 1}, {"orders", 4}}); // sorted
  CHECK(e->previous_producer_id == -1);
  CHECK(e->next_producer_id == -1);
}

TEST_CASE("damaged transaction state records are refused, naming what is wrong",
          "[txn][record]") {
  auto e = sample();
  auto key = encode_txn_key(e.transactional_id);
  auto value = *encode_txn_value(e);
  SECTION("truncated anywhere") {
    for (size_t n = 0; n < value.size(); ++n) {
      bytes cut(value.begin(), value.begin() + long(n));
      auto r = decode_txn_record(byte_view{key}, byte_view{cut});
      REQUIRE_FALSE(r);
      CHECK(r.error().code() == errc::corrupt_message);
      CHECK(r.error().message().find("truncated at") != std::string::npos);
    }
  }
  SECTION("bytes after the record") {
    value.push_back(0);
    auto r = decode_txn_record(byte_view{key}, byte_view{value});
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("bytes after the record") != std::string::npos);
  }
  SECTION("an unknown status") {
    value[2 + 8 + 2 + 4] = 9;
    auto r = decode_txn_record(byte_view{key}, byte_view{value});
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("unknown transaction status 9") != std::string::npos);
  }
  SECTION("an unknown version") {
    value[1] = 5;
    auto r = decode_txn_record(byte_view{key}, byte_view{value});
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("unsupported version 5") != std::string::npos);
    bytes badkey = key;
    badkey[1] = 1;
    CHECK_FALSE(decode_txn_record(byte_view{badkey}, byte_view{value}));
  }
  SECTION("an array count larger than the record") {
    auto at = size_t(2 + 8 + 2 + 4 + 1);
    value[at] = 0x7f;
    auto r = decode_txn_record(byte_view{key}, byte_view{value});
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("partitions") != std::string::npos);
  }
}
