// Controller snapshots without CAF: the metadata image codec (round trip,
// damage is a clear error) and raft_storage's snapshot files: the newest two
// kept, the log prefix below the older one deleted, recovery falling back
// from a damaged newest file, an install replacing local snapshots.
#include <catch2/catch.hpp>

#include "actors/controller/metadata_snapshot.hpp"
#include "metadata_test_support.hpp"
#include "actors/controller/raft_state_files.hpp"
#include "actors/controller/raft_store.hpp"
#include "log_test_support.hpp"
#include "storage/crc32c.hpp"

using namespace al;
using namespace al::test;

namespace {


bytes data_of(const std::string& s) { return bytes(s.begin(), s.end()); }

raft_entry entry(int64_t index, int64_t term) {
  return raft_entry{index, term, data_of("cmd" + std::to_string(index))};
}

/// Entries first..last of term `term`, persisted and synced.
void append(raft_storage& s, int64_t first, int64_t last, int64_t term) {
  raft_ready rd;
  rd.hard_state = raft_hard_state{term, 1, last};
  for (int64_t i = first; i <= last; ++i)
    rd.entries.push_back(entry(i, term));
  rd.must_sync = true;
  REQUIRE(s.save(rd, 1000));
}

std::vector<int64_t> snapshot_indexes(const std::string& dir) {
  auto metas = list_snapshots(dir);
  REQUIRE(metas);
  std::vector<int64_t> out;
  for (auto& m : *metas)
    out.push_back(m.index);
  return out;
}

} // namespace

TEST_CASE("metadata image snapshot: round trip", "[snapshot][codec]") {
  auto img = sample_image();
  auto encoded = encode_image(img);
  CHECK(encoded[0] == metadata_snapshot_version);
  auto back = decode_image(encoded);
  INFO((back ? std::string("ok") : back.error().to_string()));
  REQUIRE(back);
  CHECK(back->last_offset == 41);
  CHECK(back->next_producer_id == 3000);
  CHECK(back->brokers.size() == 2);
  CHECK(back->brokers[2].host == "10.0.0.2");
  CHECK(back->brokers[2].port == 9102);
  CHECK(back->brokers[2].peer_port == 9202);
  CHECK(back->brokers[2].fenced);
  CHECK(back->broker_incarnations == img.broker_incarnations);
  REQUIRE(back->topics.size() == 2);
  const auto& t = back->topics.at("orders");
  CHECK(t.topic_id == img.topics["orders"].topic_id);
  CHECK(t.configs == img.topics["orders"].configs);
  REQUIRE(t.partitions.size() == 3);
  CHECK(t.partitions[2].leader_epoch == 9);
  CHECK(t.partitions[2].partition_epoch == 22);
  CHECK(t.partitions[1].replicas == std::vector<int32_t>{2, 1});
  CHECK(t.partitions[1].isr == std::vector<int32_t>{2});
  CHECK(t.partitions[1].high_watermark == -1); // live values are not metadata
  CHECK(back->topics.at("empty").partitions.empty());
  CHECK(encode_image(*back) == encoded); // nothing lost

  auto empty = decode_image(encode_image(metadata_image{}));
  REQUIRE(empty);
  CHECK(empty->topics.empty());
  CHECK(empty->last_offset == -1);
}

TEST_CASE("metadata image snapshot: damage is a clear error", "[snapshot][codec]") {
  auto good = encode_image(sample_image());
  auto error_of = [](const bytes& b) {
    auto r = decode_image(b, "snap-file");
    REQUIRE(!r);
    CHECK(r.error().code() == errc::corrupt_message);
    CHECK(r.error().message().find("snap-file") != std::string::npos);
    return r.error().message();
  };
  SECTION("a flipped bit fails the CRC") {
    for (size_t at : {size_t(0), size_t(5), good.size() / 2, good.size() - 1}) {
      auto bad = good;
      bad[at] ^= 0x10;
      CHECK(error_of(bad).find("CRC") != std::string::npos);
    }
  }
  SECTION("truncated") {
    CHECK(error_of(bytes(good.begin(), good.begin() + 3)).find("too short") != std::string::npos);
    auto cut = bytes(good.begin(), good.end() - 10);
    CHECK(error_of(cut).find("CRC") != std::string::npos);
  }
  SECTION("an unknown version with a valid CRC") {
    auto v4 = good;
    v4[0] = 4;
    v4.resize(v4.size() - 4);
    auto crc = crc32c(v4.data(), v4.size());
    v4.resize(v4.size() + 4);
    store_be<uint32_t>(v4.data() + v4.size() - 4, crc);
    CHECK(error_of(v4).find("unknown snapshot version 4") != std::string::npos);
  }
}

namespace {

/// The current snapshot written as an older version: version 2 has no Kafka
/// listener per broker (str + u16 after peer_port), version 1 no peer_port
/// either (u16 after fenced).
bytes older_snapshot(const bytes& current, uint8_t version) {
  bytes out{version};
  size_t at = 1 + 8 + 8;
  auto brokers = load_be<uint32_t>(current.data() + at);
  out.insert(out.end(), current.begin() + 1, current.begin() + long(at + 4));
  at += 4;
  for (uint32_t i = 0; i < brokers; ++i) {
    auto host_len = load_be<uint32_t>(current.data() + at + 4);
    size_t fields = 4 + 4 + host_len + 2 + 1; // id, host, port, fenced
    if (version == 2)
      fields += 2; // peer_port
    out.insert(out.end(), current.begin() + long(at), current.begin() + long(at + fields));
    size_t peer_end = at + 4 + 4 + host_len + 2 + 1 + 2;
    auto kafka_host_len = load_be<uint32_t>(current.data() + peer_end);
    at = peer_end + 4 + kafka_host_len + 2; // skip the Kafka listener
  }
  out.insert(out.end(), current.begin() + long(at), current.end() - 4);
  bytes crc(4);
  store_be<uint32_t>(crc.data(), crc32c(out.data(), out.size()));
  out.insert(out.end(), crc.begin(), crc.end());
  return out;
}

} // namespace

TEST_CASE("metadata image snapshot: versions 1 (before peer listeners) and 2 (before the Kafka "
          "listener) still load", "[snapshot][codec]") {
  auto current = encode_image(sample_image());
  REQUIRE(current[0] == 3);
  auto back = decode_image(current);
  REQUIRE(back);
  CHECK(back->brokers.at(1).kafka_host == "kafka1");
  CHECK(back->brokers.at(1).kafka_port == 9092);
  auto v2 = decode_image(older_snapshot(current, 2));
  INFO((v2 ? std::string("ok") : v2.error().to_string()));
  REQUIRE(v2);
  CHECK(v2->brokers.at(1).peer_port == 9201);
  CHECK(v2->brokers.at(1).kafka_port == 0); // no Kafka listener known
  CHECK(v2->topics.size() == 2);
  auto v1 = decode_image(older_snapshot(current, 1));
  INFO((v1 ? std::string("ok") : v1.error().to_string()));
  REQUIRE(v1);
  CHECK(v1->brokers.at(2).port == 9102);
  CHECK(v1->brokers.at(2).peer_port == 9102); // the one listener of version 1
  CHECK(v1->topics.size() == 2);
}

TEST_CASE("snapshot file names sort by index and parse back", "[snapshot][storage]") {
  auto name = snapshot_file_name({1000, 3});
  CHECK(name == "00000000000000001000-0000000003.snapshot");
  auto meta = parse_snapshot_file_name(name);
  REQUIRE(meta);
  CHECK(meta->index == 1000);
  CHECK(meta->term == 3);
  CHECK_FALSE(parse_snapshot_file_name(name + ".tmp"));
  CHECK_FALSE(parse_snapshot_file_name("00000000000000000000.log"));
  CHECK_FALSE(parse_snapshot_file_name("raft.snapshot"));
}

TEST_CASE("raft_storage: local snapshots keep two files and the log from the older one",
          "[snapshot][storage]") {
  test::temp_dir dir("raft-local-snap");
  auto s = std::move(*raft_storage::open(dir.path(), 1000));
  append(*s, 1, 10, 1);
  REQUIRE(s->save_snapshot(raft_snapshot{{5, 1}, data_of("img@5")}, 1000));
  CHECK(s->log().log_start_offset() == 0); // one snapshot: the whole log stays
  append(*s, 11, 20, 1);
  REQUIRE(s->save_snapshot(raft_snapshot{{15, 1}, data_of("img@15")}, 1000));
  // Older kept snapshot: index 5 (offset 4), inside the segment [0, 10)
  // that the first snapshot closed: kept.
  CHECK(s->log().log_start_offset() == 0);
  append(*s, 21, 30, 1);
  REQUIRE(s->save_snapshot(raft_snapshot{{25, 1}, data_of("img@25")}, 1000));
  CHECK(snapshot_indexes(dir.path()) == std::vector<int64_t>{25, 15});
  // Older kept snapshot: index 15 (offset 14); the segment [0, 10) is gone.
  CHECK(s->log().log_start_offset() == 10);
  CHECK(!path_exists(join_path(dir.path(), snapshot_file_name({5, 1}))));

  SECTION("a restart starts from the newest snapshot") {
    s.reset();
    auto r = std::move(*raft_storage::open(dir.path(), 1000));
    std::vector<std::string> warnings;
    auto p = r->recover(1000, &warnings);
    REQUIRE(p);
    CHECK(warnings.empty());
    REQUIRE(p->snapshot);
    CHECK(p->snapshot->meta.index == 25);
    CHECK(p->snapshot->data == data_of("img@25"));
    CHECK(p->applied == 25);
    REQUIRE(p->entries.size() == 5);
    CHECK(p->entries.front() == entry(26, 1));
  }
  SECTION("a damaged newest snapshot: a warning naming it, then the older one") {
    auto path = join_path(dir.path(), snapshot_file_name({25, 1}));
    auto b = test::file_bytes(path);
    b[b.size() / 2] ^= 1;
    test::write_file_bytes(path, b);
    s.reset();
    auto r = std::move(*raft_storage::open(dir.path(), 1000));
    std::vector<std::string> warnings;
    auto p = r->recover(1000, &warnings);
    REQUIRE(p);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find(snapshot_file_name({25, 1})) != std::string::npos);
    CHECK(warnings[0].find("CRC") != std::string::npos);
    REQUIRE(p->snapshot);
    CHECK(p->snapshot->meta.index == 15);
    REQUIRE(p->entries.size() == 15); // 16..30
    CHECK(p->entries.front().index == 16);
    CHECK(path_exists(path + ".corrupt"));
    CHECK(snapshot_indexes(dir.path()) == std::vector<int64_t>{15});
  }
  SECTION("a snapshot the caller's check refuses is skipped the same way") {
    s.reset();
    auto r = std::move(*raft_storage::open(dir.path(), 1000));
    std::vector<std::string> warnings;
    auto p = r->recover(1000, &warnings, [](const raft_snapshot& snap) {
      return snap.data == data_of("img@25") ? status{errc::corrupt_message, "does not decode"}
                                            : status::ok();
    });
    REQUIRE(p);
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("does not decode") != std::string::npos);
    CHECK(p->snapshot->meta.index == 15);
  }
  SECTION("both damaged: an error, not a silent empty state") {
    for (int64_t i : {15, 25}) {
      auto path = join_path(dir.path(), snapshot_file_name({i, 1}));
      test::write_file_bytes(path, data_of("garbage"));
    }
    s.reset();
    auto r = std::move(*raft_storage::open(dir.path(), 1000));
    std::vector<std::string> warnings;
    auto p = r->recover(1000, &warnings);
    REQUIRE(!p); // the log starts at index 11: it cannot be replayed from 1
    CHECK(warnings.size() == 2);
  }
}

TEST_CASE("raft_storage: an installed snapshot replaces the local ones", "[snapshot][storage]") {
  test::temp_dir dir("raft-install-snap");
  auto s = std::move(*raft_storage::open(dir.path(), 1000));
  append(*s, 1, 10, 1);
  REQUIRE(s->save_snapshot(raft_snapshot{{5, 1}, data_of("img@5")}, 1000));
  raft_ready rd;
  rd.hard_state = raft_hard_state{4, raft_no_node, 100};
  rd.snapshot = std::make_shared<raft_snapshot>(raft_snapshot{{100, 4}, data_of("img@100")});
  rd.must_sync = true;
  REQUIRE(s->save(rd, 1001));
  CHECK(snapshot_indexes(dir.path()) == std::vector<int64_t>{100});
  append(*s, 101, 103, 4);
  s.reset();
  auto r = std::move(*raft_storage::open(dir.path(), 1000));
  auto p = r->recover(1002);
  REQUIRE(p);
  CHECK(p->snapshot->meta.index == 100);
  CHECK(p->entries.size() == 3);
  CHECK(p->hard_state.commit == 103);
  CHECK(p->applied == 100);
}
