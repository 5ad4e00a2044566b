// The node's replication-offset-checkpoint (hw_checkpoint_files.hpp): Kafka's
// text format, what a cut file loads as, partitions attached to it, and
// writes only when something changed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "actors/partition/hw_checkpoint_files.hpp"
#include "log_test_support.hpp"

using namespace al;

namespace {

/// A temp folder holding the table's file.
struct table_dir : al::test::temp_dir {
  table_dir() : temp_dir("hw-table") {}
  std::string file() const { return temp_dir::file(hw_table_name); }
  std::string read() const {
    std::ifstream in{file()};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write(const std::string& text) const { std::ofstream{file()} << text; }
};

} // namespace

TEST_CASE("the HW table is Kafka's replication-offset-checkpoint text", "[hw_table]") {
  std::map<topic_partition, int64_t> hw{{{"orders", 0}, 42}, {{"orders", 11}, 7}, {{"a.b-c_d", 3}, 0}};
  auto text = format_hw_table(hw);
  CHECK(text == "0\n3\na.b-c_d 3 0\norders 0 42\norders 11 7\n");
  size_t bad = 99;
  CHECK(parse_hw_table(text, &bad) == hw);
  CHECK(bad == 0);
  CHECK(format_hw_table({}) == "0\n0\n");
}

TEST_CASE("a cut or damaged HW table loads what it can, never a higher value", "[hw_table]") {
  const std::string full = "0\n3\norders 0 4200\norders 1 17\norders 2 99\n";
  // Every prefix (an OS crash during the unsynced write): each entry loads
  // with its value or a smaller one, or not at all.
  for (size_t cut = 0; cut <= full.size(); ++cut) {
    size_t bad = 0;
    auto got = parse_hw_table(std::string_view{full}.substr(0, cut), &bad);
    auto want = parse_hw_table(full, nullptr);
    for (auto& [tp, v] : got) {
      INFO("cut at " << cut << ": " << to_string(tp));
      REQUIRE(want.count(tp) == 1);
      CHECK(v <= want[tp]);
    }
  }
  size_t bad = 0;
  auto got = parse_hw_table("0\n3\norders 0 4200\norders x 17\norders 2\n\0\0\0", &bad);
  CHECK(got.size() == 1);
  CHECK(got.at({"orders", 0}) == 4200);
  CHECK(bad == 2);
  CHECK(parse_hw_table("1\n1\norders 0 5\n", &bad).empty()); // unknown version
  CHECK(parse_hw_table("garbage", &bad).empty());
  CHECK(parse_hw_table("0\n1\norders -1 5\n", &bad).empty());
  CHECK(parse_hw_table("0\n1\norders 0 -5\n", &bad).empty());
  CHECK(parse_hw_table("0\n1\n 0 5\n", &bad).empty()); // no topic
}

TEST_CASE("attached partitions are read live, erased ones go, writes only on change",
          "[hw_table]") {
  table_dir d;
  d.write("0\n2\norders 0 10\nold 0 5\n");
  hw_checkpoint_table t{d.path()};
  std::string note;
  REQUIRE(t.load(&note));
  CHECK(note.empty());
  CHECK(t.get({"orders", 0}) == 10);
  CHECK(t.get({"orders", 1}) == std::nullopt);
  // A partition attaches with the HW it starts from and stores new ones.
  auto cell = t.attach({"orders", 0}, 10);
  cell->store(25);
  CHECK(t.get({"orders", 0}) == 25);
  t.erase({"old", 0}); // a deleted topic
  REQUIRE(t.write(false));
  CHECK(d.read() == "0\n1\norders 0 25\n");
  // Nothing changed: nothing written (the file removed stays removed).
  std::filesystem::remove(d.file());
  REQUIRE(t.write(false));
  CHECK_FALSE(std::filesystem::exists(d.file()));
  // A durable write differs from the last durable one (the load): written.
  REQUIRE(t.write(true));
  CHECK(d.read() == "0\n1\norders 0 25\n");
  cell->store(30);
  {
    hw_checkpoint_table::cell keep = cell;
    (void)keep;
  }
  REQUIRE(t.write(false));
  CHECK(d.read() == "0\n1\norders 0 30\n");
}

TEST_CASE("the HW table writes itself durably when its last owner lets go", "[hw_table]") {
  table_dir d;
  {
    auto t = std::make_shared<hw_checkpoint_table>(d.path());
    REQUIRE(t->load());
    auto cell = t->attach({"orders", 3}, 0);
    cell->store(77);
  }
  CHECK(d.read() == "0\n1\norders 3 77\n");
  hw_checkpoint_table again{d.path()};
  REQUIRE(again.load());
  CHECK(again.get({"orders", 3}) == 77);
  // A cut tail is named in the note.
  d.write("0\n2\norders 3 77\norders 4");
  hw_checkpoint_table cut{d.path()};
  std::string note;
  REQUIRE(cut.load(&note));
  CHECK(note.find("1 line(s) skipped") != std::string::npos);
  CHECK(cut.get({"orders", 3}) == 77);
}

TEST_CASE("a durable write after a periodic one writes the values even when they equal the "
          "last durable write",
          "[hw_table]") {
  table_dir dir;
  hw_checkpoint_table table{dir.path()};
  auto cell = table.attach({"orders", 0}, 1000);
  REQUIRE(table.write(true)); // the start: 1000, durably
  cell->store(0);             // a reopened log counts as unflushed
  REQUIRE(table.write(false)); // the periodic write: 0 in the file
  CHECK(dir.read().find("orders 0 0") != std::string::npos);
  cell->store(1000);          // the clean stop flushed it again
  REQUIRE(table.write(true));
  CHECK(dir.read().find("orders 0 1000") != std::string::npos);
  // Nothing changed since: no write at all (the file stays as it is).
  std::filesystem::remove(dir.file());
  REQUIRE(table.write(true));
  REQUIRE(table.write(false));
  CHECK_FALSE(std::filesystem::exists(dir.file()));
}
