// Loading leader-epoch-checkpoint against the log it describes
// (replica_checkpoint_files.cpp). The file is rewritten in place without
// fsync, so after an OS crash it may be any older version or a mix of two;
// a load must use it only when it agrees with the batches' epochs, else
// rebuild from them.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "actors/partition/replica_checkpoint_files.hpp"
#include "storage/batch_header.hpp"
#include "storage/record_batch.hpp"
#include "log_test_support.hpp"

using namespace al;

namespace {

struct log_dir {
  al::test::temp_dir dir{"epoch-load"};
  std::string path = dir.path() + "/orders-0";
  std::unique_ptr<partition_log> log = al::test::ok(partition_log::open(path, log_config{}, 0));
  /// One single-record batch of leader epoch `epoch`.
  void append(int32_t epoch) {
    batch_builder b;
    b.append(1700000000000, std::nullopt, byte_view{std::string_view{"v"}});
    auto batch = b.build();
    stamp_partition_leader_epoch(batch.data(), epoch);
    REQUIRE(log->append(batch, 0));
  }
  void write_checkpoint(std::vector<epoch_entry> entries) {
    REQUIRE(save_epoch_checkpoint(path, leader_epoch_cache{std::move(entries)}));
  }
  std::vector<epoch_entry> load(std::string& note) {
    auto c = load_epoch_cache(*log, &note);
    REQUIRE(c);
    return c->entries();
  }
};

bool rebuilt(const std::string& note) { return note.find("rebuilt") != std::string::npos; }

} // namespace

TEST_CASE("a leader-epoch-checkpoint that agrees with the log is used", "[replication]") {
  log_dir d;
  for (int32_t e : {0, 0, 0, 1, 1, 3})
    d.append(e);
  std::vector<epoch_entry> truth{{0, 0}, {1, 3}, {3, 5}};
  d.write_checkpoint(truth);
  std::string note;
  CHECK(d.load(note) == truth);
  CHECK_FALSE(rebuilt(note));
  // A leader's new epoch at the log end (no record yet) is cut, not a mismatch.
  d.write_checkpoint({{0, 0}, {1, 3}, {3, 5}, {4, 6}});
  CHECK(d.load(note) == truth);
  CHECK_FALSE(rebuilt(note));
}

TEST_CASE("a leader-epoch-checkpoint older than the log is rebuilt from the batches",
          "[replication]") {
  log_dir d;
  for (int32_t e : {0, 0, 0, 1, 1, 3})
    d.append(e);
  std::vector<epoch_entry> truth{{0, 0}, {1, 3}, {3, 5}};
  std::string note;
  SECTION("the newest epoch missing") { d.write_checkpoint({{0, 0}, {1, 3}}); }
  SECTION("an epoch in the middle missing") { d.write_checkpoint({{0, 0}, {3, 5}}); }
  SECTION("the first epoch missing") { d.write_checkpoint({{1, 3}, {3, 5}}); }
  SECTION("an entry starting late") { d.write_checkpoint({{0, 0}, {1, 4}, {3, 5}}); }
  SECTION("an entry starting early") { d.write_checkpoint({{0, 0}, {1, 2}, {3, 5}}); }
  SECTION("a wrong epoch") { d.write_checkpoint({{0, 0}, {2, 3}, {3, 5}}); }
  SECTION("empty, the log has epochs") { d.write_checkpoint({}); }
  CHECK(d.load(note) == truth);
  CHECK(rebuilt(note));
}

TEST_CASE("a leader-epoch-checkpoint from before a truncation is rebuilt", "[replication]") {
  // The follower had epoch 1 from offset 3, truncated to 3 and took epoch 2
  // from the new leader; the file still has the entry from before.
  log_dir d;
  for (int32_t e : {0, 0, 0, 1, 1})
    d.append(e);
  d.write_checkpoint({{0, 0}, {1, 3}});
  REQUIRE(d.log->truncate_to(3));
  d.append(2);
  d.append(2);
  std::string note;
  CHECK(d.load(note) == std::vector<epoch_entry>{{0, 0}, {2, 3}});
  CHECK(rebuilt(note));
}

TEST_CASE("a leader-epoch-checkpoint is rewritten in place, a torn rewrite is rebuilt",
          "[replication]") {
  log_dir d;
  for (int32_t e : {0, 0, 1, 1, 3})
    d.append(e);
  auto file = d.path + "/" + epoch_checkpoint_name;
  d.write_checkpoint({{0, 0}, {1, 2}, {3, 4}});
  struct stat before {};
  REQUIRE(::stat(file.c_str(), &before) == 0);
  // Shorter: the old tail is cut, and the file keeps its inode (no new
  // file per rewrite: issue 15).
  d.write_checkpoint({{0, 0}});
  struct stat after {};
  REQUIRE(::stat(file.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
  CHECK(after.st_size == off_t(format_epoch_checkpoint(leader_epoch_cache{{{0, 0}}}).size()));
  std::vector<epoch_entry> truth{{0, 0}, {1, 2}, {3, 4}};
  std::string note;
  auto torn = [&](const std::string& text) {
    REQUIRE(overwrite_file(file, byte_view{std::string_view{text}}));
  };
  // What a crash in the middle of a rewrite may leave.
  SECTION("the new head over the old tail (cut not reached)") { torn("0\n1\n0 0\n2 4\n3 4\n"); }
  SECTION("half a line") { torn("0\n3\n0 0\n1 2\n3"); }
  SECTION("the old count, new entries") { torn("0\n3\n0 0\n1 2\n"); }
  SECTION("zeros") { torn(std::string(12, '\0')); }
  SECTION("empty") { torn(""); }
  CHECK(d.load(note) == truth);
  CHECK(rebuilt(note));
}
