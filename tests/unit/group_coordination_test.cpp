// Coordinator placement (Kafka's partitionFor) and the __consumer_offsets
// record format: encode/decode, golden bytes (offsets and group metadata),
// replay with tombstones and generations, and records no coordinator writes
// (skipped on load, refused by meta.db).
#include <unistd.h>

#include <filesystem>

#include <catch2/catch.hpp>

#include "actors/group/group_metadata_record.hpp"
#include "actors/group/group_placement.hpp"
#include "actors/group/offsets_record.hpp"
#include "storage/meta_store.hpp"
#include "storage/record_batch.hpp"

using namespace al;

TEST_CASE("java_string_hash matches Java's String.hashCode", "[group][placement]") {
  // Values printed by `java` on this machine (OpenJDK 17): "x".hashCode().
  CHECK(java_string_hash("") == 0);
  CHECK(java_string_hash("a") == 97);
  CHECK(java_string_hash("hello") == 99162322);
  CHECK(java_string_hash("payments") == 1382682413);
  CHECK(java_string_hash("console-consumer-12345") == 158455506);
  CHECK(java_string_hash("risk-service") == -312879689);
  // The famous one whose hash is Integer.MIN_VALUE: Kafka's Utils.abs gives 0.
  CHECK(java_string_hash("polygenelubricants") == INT32_MIN);
  CHECK(offsets_partition_for("polygenelubricants", 50) == 0);
  // Non-ASCII: UTF-16 code units, a supplementary character as two surrogates.
  CHECK(java_string_hash("\xC3\xA9") == 0xE9);                   // "é"
  CHECK(java_string_hash("\xF0\x9F\x98\x80") == 1772899); // U+1F600 = 0xD83D 0xDE00
  CHECK(java_string_hash("\xFF") == 0xFFFD);                     // invalid byte
}

TEST_CASE("groups land on abs(hashCode) % partitions like Kafka", "[group][placement]") {
  // Partitions Kafka's formula gives in Java (same program as above).
  CHECK(offsets_partition_for("hello", 50) == 22);
  CHECK(offsets_partition_for("payments", 8) == 5);
  CHECK(offsets_partition_for("console-consumer-12345", 50) == 6);
  CHECK(offsets_partition_for("risk-service", 50) == 39); // negative hash
  CHECK(offsets_partition_for("risk-service", 8) == 1);
  for (int32_t n : {1, 3, 8, 50})
    for (auto g : {"a", "orders-risk", "audit", "x-y-z"}) {
      auto p = offsets_partition_for(g, n);
      CHECK(p >= 0);
      CHECK(p < n);
    }
}

TEST_CASE("offset key and value have Kafka's layout (golden bytes)", "[group][offsets]") {
  auto key = encode_offset_key(offset_key{"g", topic_partition{"t", 2}});
  CHECK(key == bytes{0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 2});
  group_offset v{258, "m", 7, 1700000000000, 5};
  auto value = encode_offset_value(v);
  bytes expected{0, 3,                                   // version 3
                 0, 0, 0, 0, 0, 0, 1, 2,                 // offset 258
                 0, 0, 0, 5,                             // leader epoch
                 0, 1, 'm',                              // metadata
                 0, 0, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00, // commit time 1700000000000
                 0, 0, 0, 7};                            // generation
  CHECK(value == expected);
  auto k = decode_offset_key(byte_view{key});
  REQUIRE(k);
  REQUIRE(k->has_value());
  CHECK((*k)->group_id == "g");
  CHECK((*k)->tp == topic_partition{"t", 2});
  auto d = decode_offset_value(byte_view{value});
  REQUIRE(d);
  CHECK(d->offset == 258);
  CHECK(d->metadata == "m");
  CHECK(d->generation_id == 7);
  CHECK(d->commit_time_ms == 1700000000000);
  CHECK(d->leader_epoch == 5);
  // Kafka's own v3 value (no generation) reads with generation -1.
  bytes kafka_v3(value.begin(), value.end() - 4);
  auto d3 = decode_offset_value(byte_view{kafka_v3});
  REQUIRE(d3);
  CHECK(d3->generation_id == -1);
}

TEST_CASE("offset records: other key versions are skipped, damage is an error",
          "[group][offsets]") {
  bytes group_metadata_key{0, 2, 0, 1, 'g'};
  auto k = decode_offset_key(byte_view{group_metadata_key});
  REQUIRE(k);
  CHECK_FALSE(k->has_value());
  bytes cut{0, 1, 0, 5, 'g'};
  auto bad = decode_offset_key(byte_view{cut});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code() == errc::corrupt_message);
  CHECK(bad.error().message().find("group") != std::string::npos);
  bytes v9{0, 9};
  CHECK_FALSE(decode_offset_value(byte_view{v9}));
}

namespace {

/// Stamps base offsets like the partition log would and concatenates.
bytes as_log(std::vector<bytes> batches) {
  bytes out;
  int64_t next = 0;
  for (auto& b : batches) {
    store_be<int64_t>(b.data(), next);
    auto d = decode_batch(byte_view{b});
    REQUIRE(d);
    next = d->header.next_offset();
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

} // namespace

TEST_CASE("offsets_loader replays commits and tombstones", "[group][offsets]") {
  topic_partition t0{"orders", 0}, t1{"orders", 1};
  auto log = as_log({
    offset_commit_batch("g1", {{t0, {10, "", 1, 100, -1}}, {t1, {20, "", 1, 100, -1}}}, 100),
    offset_commit_batch("g2", {{t0, {5, "x", 4, 101, -1}}}, 101),
    offset_commit_batch("g1", {{t0, {15, "", 3, 102, -1}}}, 102),
    offset_tombstone_batch("g2", {t0}, 103),
  });
  offsets_loader loader;
  auto next = loader.apply(byte_view{log}, 0);
  REQUIRE(next);
  CHECK(*next == 5);
  CHECK(loader.records() == 5);
  auto groups = loader.groups();
  REQUIRE(groups.size() == 1);
  auto& g1 = groups.at("g1");
  CHECK(g1.offsets.at(t0).offset == 15);
  CHECK(g1.offsets.at(t1).offset == 20);
  CHECK(g1.max_generation == 3);
  CHECK(loader.deleted_groups() == std::vector<std::string>{"g2"});

  // Reading on from the middle (a fetch that starts mid-batch) skips what was applied.
  offsets_loader partial;
  REQUIRE(partial.apply(byte_view{log}, 3));
  CHECK(partial.records() == 2);
  CHECK(partial.groups().at("g1").offsets.at(t0).offset == 15);

  // A cut-off batch at the end is left for the next read.
  offsets_loader cut;
  auto n = cut.apply(byte_view{log}.sub(0, log.size() - 3), 0);
  REQUIRE(n);
  CHECK(*n == 4);
}

TEST_CASE("offsets_loader skips records no coordinator writes, and counts them",
          "[group][offsets]") {
  // What a client could produce into __consumer_offsets: none of it may stop
  // (or abort) a coordinator's load.
  topic_partition t0{"orders", 0};
  auto key = [&](const std::string& group) { return encode_offset_key(offset_key{group, t0}); };
  auto good = encode_offset_value(group_offset{7, "", 2, 100, -1});
  auto absurd = encode_offset_value(group_offset{9, "", INT32_MAX, 100, -1});
  bytes short_key{0}, bad_value{0, 9};
  auto empty_group = key(""), g = key("g"), g2 = key("g2"), g3 = key("g3");
  bytes negative_partition = encode_offset_key(offset_key{"g", {"orders", -1}});
  batch_builder b;
  b.append(100, byte_view{empty_group}, byte_view{good});
  b.append(100, byte_view{short_key}, byte_view{good});
  b.append(100, std::nullopt, byte_view{good});
  b.append(100, byte_view{negative_partition}, byte_view{good});
  b.append(100, byte_view{g2}, byte_view{absurd});
  b.append(100, byte_view{g}, byte_view{good});
  b.append(100, byte_view{g3}, byte_view{bad_value});
  auto log = as_log({b.build()});
  offsets_loader loader;
  auto next = loader.apply(byte_view{log}, 0);
  REQUIRE(next);
  CHECK(*next == 7);
  CHECK(loader.skipped().bad_key == 4);
  CHECK(loader.skipped().absurd_generation == 1);
  CHECK(loader.unreadable() == 1);
  CHECK(loader.first_skipped().rfind("record 0: ", 0) == 0);
  auto groups = loader.groups();
  REQUIRE(groups.size() == 1);
  CHECK(groups.at("g").offsets.at(t0).offset == 7);
  CHECK(groups.at("g").max_generation == 2);
  CHECK(loader.deleted_groups().empty()); // g3's unreadable value deletes nothing
}

namespace {

group_metadata one_member_generation(int32_t generation) {
  group_member_metadata m{"m1", "c", "h", 30000, 10000, member_subscription{{"t"}, {}, -1},
                          {topic_partition{"t", 0}, topic_partition{"t", 2}}};
  return group_metadata{"consumer", generation, "range", "m1", 1700000000000, {m}};
}

} // namespace

TEST_CASE("group metadata records have Kafka's layout (golden bytes)", "[group][offsets]") {
  CHECK(encode_group_metadata_key("g") == bytes{0, 2, 0, 1, 'g'});
  auto value = encode_group_metadata_value(one_member_generation(7));
  bytes expected{0, 3,                                        // GroupMetadataValue v3
                 0, 8, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r', // protocol type
                 0, 0, 0, 7,                                  // generation
                 0, 5, 'r', 'a', 'n', 'g', 'e',               // protocol
                 0, 2, 'm', '1',                              // leader
                 0, 0, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00,    // current state timestamp
                 0, 0, 0, 1,                                  // one member:
                 0, 2, 'm', '1',                              //   member id
                 0xFF, 0xFF,                                  //   group instance id: null
                 0, 1, 'c', 0, 1, 'h',                        //   client id, host
                 0, 0, 0x75, 0x30, 0, 0, 0x27, 0x10,          //   rebalance, session timeout
                 0, 0, 0, 21,                                 //   subscription (v2):
                 0, 2, 0, 0, 0, 1, 0, 1, 't',                 //     topics [t]
                 0xFF, 0xFF, 0xFF, 0xFF,                      //     user data: null
                 0, 0, 0, 0,                                  //     owned partitions: none
                 0xFF, 0xFF, 0xFF, 0xFF,                      //     generation -1
                 0, 0, 0, 25,                                 //   assignment (v0):
                 0, 0, 0, 0, 0, 1, 0, 1, 't',                 //     [t:
                 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,          //      0, 2]
                 0xFF, 0xFF, 0xFF, 0xFF};                     //     user data: null
  CHECK(value == expected);
  auto d = decode_group_metadata_value(byte_view{value});
  REQUIRE(d);
  CHECK(*d == one_member_generation(7));
  auto k = decode_group_metadata_key(byte_view{encode_group_metadata_key("g")});
  REQUIRE(k);
  CHECK(*k == "g");
  // The offsets key decoder (and so a loader that predates these records)
  // skips them: the format only grew.
  auto as_offset = decode_offset_key(byte_view{encode_group_metadata_key("g")});
  REQUIRE(as_offset);
  CHECK_FALSE(as_offset->has_value());
}

TEST_CASE("group metadata values of Kafka's older versions decode", "[group][offsets]") {
  // v0: no current_state_timestamp, rebalance timeout or group instance id.
  bytes v0{0, 0, 0, 8, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r', 0, 0, 0, 4,
           0xFF, 0xFF, 0xFF, 0xFF, // protocol and leader: null (an Empty group)
           0, 0, 0, 0};
  auto d = decode_group_metadata_value(byte_view{v0});
  REQUIRE(d);
  CHECK(d->generation_id == 4);
  CHECK(d->protocol_name.empty());
  CHECK(d->state_time_ms == -1);
  CHECK(d->members.empty());
  bytes v9{0, 9};
  auto bad = decode_group_metadata_value(byte_view{v9});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message().find("unsupported version 9") != std::string::npos);
}

TEST_CASE("offsets_loader continues generations from group metadata records",
          "[group][offsets]") {
  topic_partition t0{"orders", 0};
  auto log = as_log({
    offset_commit_batch("g1", {{t0, {10, "", 2, 100, -1}}}, 100),
    group_metadata_batch("g1", one_member_generation(5), 101),
    group_metadata_batch("g2", one_member_generation(3), 102), // never committed
    group_metadata_batch("g3", one_member_generation(1), 103),
    group_tombstone_batch("g3", {}, 104),
    offset_commit_batch("g4", {{t0, {1, "", 1, 105, -1}}}, 105),
    group_tombstone_batch("g4", {t0}, 106),
  });
  offsets_loader loader;
  auto next = loader.apply(byte_view{log}, 0);
  REQUIRE(next);
  CHECK(*next == 8);
  CHECK(loader.records() == 8);
  auto groups = loader.groups();
  REQUIRE(groups.size() == 1); // g2: a generation but nothing to remember
  CHECK(groups.at("g1").max_generation == 5);
  CHECK(groups.at("g1").offsets.at(t0).offset == 10);
  CHECK(loader.deleted_groups() == std::vector<std::string>{"g3", "g4"});
  CHECK(loader.skipped().total() == 0);

  // An unreadable or absurd metadata value is counted and changes nothing.
  batch_builder b;
  auto key = encode_group_metadata_key("g5");
  bytes cut{0, 3, 0, 8, 'c'};
  auto absurd = encode_group_metadata_value(one_member_generation(INT32_MAX));
  b.append(100, byte_view{key}, byte_view{cut});
  b.append(100, byte_view{key}, byte_view{absurd});
  offsets_loader damaged;
  REQUIRE(damaged.apply(byte_view{as_log({b.build()})}, 0));
  CHECK(damaged.unreadable() == 1);
  CHECK(damaged.skipped().absurd_generation == 1);
  CHECK(damaged.groups().empty());
  CHECK(damaged.deleted_groups().empty());
}

TEST_CASE("meta.db refuses offsets of an empty group id with an error, not an abort",
          "[group][offsets]") {
  auto dir = std::filesystem::temp_directory_path() /
             ("al-group-coordination-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    auto store = meta_store::open((dir / "meta.db").string());
    REQUIRE(store);
    auto st = store->commit_offsets("", 1, {offset_commit{"orders", 0, 5, -1, "", 100}});
    CHECK(st.code() == errc::invalid_group_id);
    CHECK(store->commit_offsets("g", 1, {offset_commit{"orders", 0, 5, -1, "", 100}}));
  }
  std::filesystem::remove_all(dir);
}
