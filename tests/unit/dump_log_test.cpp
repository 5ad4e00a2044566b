// `actorlog dump-log`: Kafka-style lines for sound files, and corrupt batches
// reported with file and byte position and a failing result.
#include "batch_test_support.hpp"

#include <filesystem>
#include <sstream>

#include "actors/partition/partition_txn_machine.hpp"
#include "runtime/cli/dump_log.hpp"

using namespace al;
using namespace al::test;

namespace {

struct dump_output {
  bool sound = false;
  std::vector<std::string> lines;
  std::string err;
};

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

dump_output dump(const bytes& data, bool print_data_log = false,
                 const std::string& name = "batches.bin") {
  std::istringstream in(std::string(data.begin(), data.end()));
  std::ostringstream out, err;
  dump_log_options opts;
  opts.print_data_log = print_data_log;
  dump_output d;
  d.sound = dump_log(in, name, opts, out, err);
  d.lines = split_lines(out.str());
  d.err = err.str();
  return d;
}

size_t count_prefix(const std::vector<std::string>& lines, const std::string& prefix) {
  size_t n = 0;
  for (const auto& l : lines)
    n += l.rfind(prefix, 0) == 0;
  return n;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

const char* const all_files[] = {"uncompressed-100.bin", "lz4-100.bin",      "zstd-100.bin",
                                 "gzip-100.bin",         "snappy-100.bin",   "headers-4.bin",
                                 "tombstone-2.bin",      "null-key-2.bin",   "idempotent-4.bin"};

} // namespace

TEST_CASE("dump-log prints one Kafka-style line per batch", "[dump_log]") {
  auto d = dump(testdata("uncompressed-100.bin"));
  CHECK(d.sound);
  CHECK(d.err.empty());
  REQUIRE(d.lines.size() == 2);
  CHECK(d.lines[0] == "Dumping batches.bin");
  CHECK(d.lines[1] ==
        "baseOffset: 0 lastOffset: 99 count: 100 baseSequence: -1 lastSequence: -1 "
        "producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false "
        "isControl: false position: 0 CreateTime: 1795811941284 size: 4847 magic: 2 "
        "compresscodec: none crc: 3527634184 isvalid: true");
}

TEST_CASE("dump-log --print-data-log prints every record", "[dump_log]") {
  auto d = dump(testdata("idempotent-4.bin"), true);
  CHECK(d.sound);
  REQUIRE(d.lines.size() == 6);
  CHECK(contains(d.lines[1], "baseSequence: 0 lastSequence: 3 producerId: 4242 producerEpoch: 0"));
  CHECK(d.lines[2] == "| offset: 0 CreateTime: 1795811941890 keySize: 4 valueSize: 38 "
                      "sequence: 0 headerKeys: [] key: AAPL "
                      "payload: BUY 100 @ 189.5 acct=ACC0001 venue=NSE");
  CHECK(contains(d.lines[5], "| offset: 3 "));
  CHECK(contains(d.lines[5], "sequence: 3 headerKeys: [] key: TCS payload: SELL 5 @ 3200"));

  auto h = dump(testdata("headers-4.bin"), true);
  CHECK(contains(h.lines[2], "headerKeys: [source,region] key: AAPL"));
  auto t = dump(testdata("tombstone-2.bin"), true);
  CHECK(contains(t.lines[2], "keySize: 4 valueSize: -1 "));
  CHECK(contains(t.lines[2], "key: AAPL payload: null"));
  auto n = dump(testdata("null-key-2.bin"), true);
  CHECK(contains(n.lines[2], "keySize: -1 valueSize: 11 "));
  CHECK(contains(n.lines[2], "key: null payload: no key here"));
  auto z = dump(testdata("zstd-100.bin"), true);
  CHECK(contains(z.lines[1], "compresscodec: zstd"));
  CHECK(count_prefix(z.lines, "| offset: ") == 100);
}

TEST_CASE("dump-log walks a concatenation of batches with running positions", "[dump_log]") {
  bytes all;
  std::vector<size_t> starts;
  for (auto f : all_files) {
    starts.push_back(all.size());
    auto b = testdata(f);
    all.insert(all.end(), b.begin(), b.end());
  }
  auto d = dump(all, true);
  CHECK(d.sound);
  CHECK(d.err.empty());
  CHECK(count_prefix(d.lines, "baseOffset: ") == std::size(all_files));
  CHECK(count_prefix(d.lines, "| offset: ") == 5 * 100 + 4 + 2 + 2 + 4);
  std::string joined;
  for (const auto& l : d.lines)
    joined += l + "\n";
  for (size_t s : starts)
    CHECK(contains(joined, " position: " + std::to_string(s) + " "));
}

TEST_CASE("dump-log reports a bad CRC with its position and goes on", "[dump_log]") {
  auto a = testdata("tombstone-2.bin");
  auto b = testdata("null-key-2.bin");
  auto c = testdata("headers-4.bin");
  bytes all = a;
  all.insert(all.end(), b.begin(), b.end());
  all.insert(all.end(), c.begin(), c.end());
  all[a.size() + b.size() / 2] ^= 0x01; // inside the second batch's records
  auto d = dump(all, true, "00000000000000000000.log");
  CHECK_FALSE(d.sound);
  CHECK(contains(d.err, "00000000000000000000.log position " + std::to_string(a.size()) +
                          ": CRC mismatch"));
  CHECK(d.lines[1] == "Log starting offset: 0");
  CHECK(count_prefix(d.lines, "baseOffset: ") == 3);
  CHECK(count_prefix(d.lines, "| offset: ") == 2 + 4); // the bad batch's records are not shown
  CHECK(contains(d.lines[5], "isvalid: false"));
}

TEST_CASE("dump-log stops at a length it cannot trust", "[dump_log]") {
  auto a = testdata("tombstone-2.bin");
  auto b = testdata("null-key-2.bin");
  SECTION("truncated last batch") {
    bytes all = a;
    all.insert(all.end(), b.begin(), b.end() - 5);
    auto d = dump(all);
    CHECK_FALSE(d.sound);
    CHECK(count_prefix(d.lines, "baseOffset: ") == 1);
    CHECK(contains(d.err, "batches.bin position " + std::to_string(a.size()) + ": batchLength"));
    CHECK(contains(d.err, "stopping"));
  }
  SECTION("bad magic") {
    bytes all = a;
    all.insert(all.end(), b.begin(), b.end());
    all.insert(all.end(), a.begin(), a.end());
    all[a.size() + batch_layout::magic] = 1;
    auto d = dump(all);
    CHECK_FALSE(d.sound);
    CHECK(count_prefix(d.lines, "baseOffset: ") == 1); // the third batch is not reached
    CHECK(contains(d.err, "position " + std::to_string(a.size()) + ": magic 1, expected 2"));
  }
  SECTION("a few stray bytes at the end") {
    bytes all = a;
    all.insert(all.end(), {0, 0, 0, 0, 0, 0, 0});
    auto d = dump(all);
    CHECK_FALSE(d.sound);
    CHECK(count_prefix(d.lines, "baseOffset: ") == 1);
    CHECK(contains(d.err, "7 trailing bytes"));
  }
  SECTION("batchLength shorter than a header") {
    bytes all = a;
    store_be<int32_t>(all.data() + batch_layout::batch_length, 10);
    auto d = dump(all);
    CHECK_FALSE(d.sound);
    CHECK(contains(d.err, "position 0: batchLength 10 does not fit"));
  }
  SECTION("CRC fine but records do not decode") {
    bytes bad = a;
    store_be<int32_t>(bad.data() + batch_layout::records_count, 1);
    store_be<int32_t>(bad.data() + batch_layout::last_offset_delta, 0);
    fix_crc(bad);
    bad.insert(bad.end(), b.begin(), b.end());
    auto d = dump(bad, true);
    CHECK_FALSE(d.sound);
    CHECK(contains(d.err, "CORRUPT_MESSAGE: batches.bin position 0"));
    CHECK(count_prefix(d.lines, "baseOffset: ") == 2); // goes on to the next batch
  }
}

TEST_CASE("dump-log on files: exit status and the command line", "[dump_log]") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("al_dump_log_test_" + std::to_string(test_seed()));
  fs::create_directories(dir);
  auto good = (dir / "00000000000000000100.log").string();
  {
    auto b = testdata("headers-4.bin");
    std::ofstream(good, std::ios::binary).write(reinterpret_cast<const char*>(b.data()),
                                                std::streamsize(b.size()));
  }
  std::ostringstream out, err;
  CHECK(dump_log_files({good}, {}, out, err) == 0);
  CHECK(contains(out.str(), "Log starting offset: 100\n"));
  CHECK(dump_log_files({good, (dir / "missing.log").string()}, {}, out, err) == 1);
  CHECK(contains(err.str(), "missing.log: cannot open"));

  auto run = [&](std::vector<std::string> args, std::string& stdout_text) {
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    std::ostringstream o, e;
    int rc = dump_log_command(int(argv.size()), argv.data(), o, e);
    stdout_text = o.str() + e.str();
    return rc;
  };
  std::string text;
  CHECK(run({"dump-log", "--help"}, text) == 0);
  CHECK(contains(text, "--print-data-log"));
  CHECK(run({"dump-log"}, text) == 2);
  CHECK(run({"dump-log", "--no-such-option"}, text) == 2);
  CHECK(run({"dump-log", "--files", good, "--print-data-log"}, text) == 0);
  CHECK(contains(text, "headerKeys: [source,region]"));
  CHECK(run({"dump-log", "--files", good, good}, text) == 0); // several after --files
  CHECK(count_prefix(split_lines(text), "baseOffset: ") == 2);
  fs::remove_all(dir);
}

TEST_CASE("dump-log prints a transaction marker as Kafka does", "[dump_log][txn]") {
  auto commit = build_txn_marker_batch(4242, 3, txn_marker{true, 7}, 1795811941890);
  auto abort = build_txn_marker_batch(4242, 4, txn_marker{false, 7}, 1795811941891);
  bytes all = commit;
  all.insert(all.end(), abort.begin(), abort.end());
  auto d = dump(all, true);
  CHECK(d.sound);
  REQUIRE(d.lines.size() == 5);
  CHECK(contains(d.lines[1], "producerId: 4242 producerEpoch: 3"));
  CHECK(contains(d.lines[1], "isTransactional: true isControl: true"));
  CHECK(contains(d.lines[2], "endTxnMarker: COMMIT coordinatorEpoch: 7"));
  CHECK_FALSE(contains(d.lines[2], "payload:"));
  CHECK(contains(d.lines[4], "endTxnMarker: ABORT coordinatorEpoch: 7"));
}
