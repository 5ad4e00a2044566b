// The aborted-transaction index (.txnindex, issue 16): entries written and
// read back, range queries for read_committed fetches, truncation, and
// damaged files.
#include "log_test_support.hpp"

#include "storage/log_filename.hpp"
#include "storage/txn_index.hpp"

using namespace al;
using namespace al::test;

TEST_CASE("txn index entries are Kafka's 34 bytes and read back after a reopen", "[txn][index]") {
  temp_dir dir("txnindex-basic");
  auto path = dir.file(txn_index_file_name(100));
  CHECK(txn_index_file_name(100) == "00000000000000000100.txnindex");
  {
    auto ix = ok(txn_index::open(path));
    CHECK(ix.entries().empty());
    ok(ix.append(aborted_txn{7, 100, 104, 100}));
    ok(ix.append(aborted_txn{8, 102, 110, 105}));
    auto bad = ix.append(aborted_txn{9, 90, 109, 90}); // ends before the last one
    CHECK(bad.code() == errc::invalid_request);
  }
  CHECK(file_bytes(path).size() == 2 * txn_index::entry_size);
  auto ix = ok(txn_index::open(path));
  REQUIRE(ix.entries().size() == 2);
  CHECK(ix.entries()[1] == aborted_txn{8, 102, 110, 105});
  CHECK(ix.overlapping(0, 100).empty());
  CHECK(ix.overlapping(0, 101).size() == 1);
  CHECK(ix.overlapping(105, 106).size() == 1); // inside the second only
  CHECK(ix.overlapping(111, 200).empty());
  ok(ix.truncate_to(110)); // the second's marker is cut
  CHECK(ix.entries().size() == 1);
  CHECK(file_bytes(path).size() == txn_index::entry_size);
}

TEST_CASE("a torn last txn index entry is cut on open, a damaged one is refused by name",
          "[txn][index]") {
  temp_dir dir("txnindex-damage");
  auto path = dir.file(txn_index_file_name(0));
  {
    auto ix = ok(txn_index::open(path));
    ok(ix.append(aborted_txn{1, 0, 3, 0}));
    ok(ix.append(aborted_txn{2, 4, 9, 4}));
  }
  auto data = file_bytes(path);
  SECTION("torn") {
    data.resize(data.size() - 5);
    write_file_bytes(path, data);
    size_t cut = 0;
    auto ix = ok(txn_index::open(path, &cut));
    CHECK(cut == txn_index::entry_size - 5);
    CHECK(ix.entries().size() == 1);
    CHECK(file_bytes(path).size() == txn_index::entry_size);
  }
  SECTION("an unknown version") {
    data[txn_index::entry_size + 1] = 3;
    write_file_bytes(path, data);
    auto ix = txn_index::open(path);
    REQUIRE_FALSE(ix);
    CHECK(ix.error().code() == errc::corrupt_message);
    CHECK(ix.error().message().find("entry 1 has version 3") != std::string::npos);
  }
  SECTION("offsets out of order") {
    data[txn_index::entry_size + 25] = 1; // the second's last offset, low byte: 9 -> 1
    write_file_bytes(path, data);
    auto ix = txn_index::open(path);
    REQUIRE_FALSE(ix);
    CHECK(ix.error().message().find("out of order") != std::string::npos);
  }
}
