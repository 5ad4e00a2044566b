#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "runtime/config/config_loader.hpp"
#include "runtime/config/config_schema.hpp"
#include "runtime/config/node_config.hpp"

namespace fs = std::filesystem;
using namespace al::config;

namespace {

/// A fresh directory under the system temp dir, removed again at the end.
struct temp_dir {
  fs::path path;
  temp_dir() {
    static std::atomic<int> counter{0};
    path = fs::temp_directory_path()
           / ("actorlog-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    auto p = (path / name).string();
    std::ofstream out{p, std::ios::binary};
    out << text;
    return p;
  }
};

std::vector<std::string> errors_of(const al::result<node_config>& r) {
  std::vector<std::string> out;
  if (r)
    return out;
  CHECK(r.error().code() == al::errc::invalid_config);
  std::string msg = r.error().message();
  size_t start = 0;
  for (;;) {
    auto nl = msg.find('\n', start);
    out.push_back(msg.substr(start, nl - start));
    if (nl == std::string::npos)
      return out;
    start = nl + 1;
  }
}

/// Loads `text` from a temp file; returns the error lines with the file's
/// path replaced by "F", so expectations read like "F:3: [node] ...".
std::vector<std::string> load_errors(const std::string& text,
                                     const std::vector<std::string>& overrides = {}) {
  temp_dir dir;
  auto path = dir.write("node.ini", text);
  auto errs = errors_of(load_node_config(path, overrides));
  for (auto& e : errs)
    for (size_t pos; (pos = e.find(path)) != std::string::npos;)
      e.replace(pos, path.size(), "F");
  return errs;
}

// Line numbers:      1       2            3                  4
const std::string node_section = "[node]\nnode.id = 1\ndata.dir = data/x\ncaf.listener = 127.0.0.1:9101\n";
//                      5          6
// This node's voter entry is on the default peer.listener port (9093).
const std::string cluster_section = "[cluster]\ncontroller.quorum.voters = 1@127.0.0.1:9093\n";
// 1..6 valid, then [log] at line 7; extra lines start at line 8.
std::string valid_plus_log(const std::string& log_lines) {
  return node_section + cluster_section + "[log]\n" + log_lines;
}

fs::path repo_root() {
  // __FILE__ is <repo>/tests/unit/config_test.cpp
  return fs::path{__FILE__}.parent_path().parent_path().parent_path();
}

} // namespace

TEST_CASE("a valid file loads with its values and the defaults", "[config]") {
  temp_dir dir;
  auto path = dir.write("node.ini", R"(# comment
; another comment
[node]
node.id = 7
process.roles = broker
caf.listener = 10.0.0.1:9200
data.dir = /var/lib/actorlog
log.level = debug

[cluster]
controller.quorum.voters = 1@10.0.0.1:9101, 2@10.0.0.2:9101,3@[::1]:9103
broker.session.timeout.ms = 12000
unclean.leader.election.enable = true

[log]
retention.ms = -1
cleanup.policy = delete,compact
compression.type = zstd
log.flush.interval.messages = 10000
)");
  auto r = load_node_config(path, {});
  REQUIRE(r.has_value());
  auto& c = *r;
  CHECK(c.node_id == 7);
  CHECK(c.process_roles == std::vector<node_role>{node_role::broker});
  CHECK_FALSE(c.has_role(node_role::controller));
  CHECK(c.caf_listener.host == "10.0.0.1");
  CHECK(c.caf_listener.port == 9200);
  CHECK(c.data_dir == "/var/lib/actorlog");
  CHECK(c.log_level == severity::debug);
  REQUIRE(c.quorum_voters.size() == 3);
  CHECK(c.quorum_voters[1].id == 2);
  CHECK(c.quorum_voters[1].host == "10.0.0.2");
  CHECK(c.quorum_voters[1].port == 9101);
  CHECK(c.quorum_voters[2].host == "::1");
  CHECK(to_string(c.quorum_voters[2]) == "3@[::1]:9103");
  CHECK(c.broker_session_timeout_ms == 12000);
  CHECK(c.unclean_leader_election_enable);
  CHECK(c.log_defaults.retention_ms == -1);
  CHECK(c.log_defaults.cleanup_policy == cleanup::compact_delete);
  CHECK(c.log_defaults.compression_type == codec::zstd);
  CHECK(c.log_defaults.log_flush_interval_messages == 10000);
  // defaults
  CHECK(c.metrics_port == 0);
  CHECK(c.broker_heartbeat_interval_ms == 2000);
  CHECK(c.offsets_topic_num_partitions == 8);
  CHECK(c.group_initial_rebalance_delay_ms == 3000);
  CHECK(c.log_defaults.segment_bytes == 1073741824);
  CHECK(c.log_defaults.max_message_bytes == 1048588);
}

TEST_CASE("the schema: unique names, valid defaults equal to node_config{}", "[config]") {
  std::set<std::string_view> names;
  node_config defaults;
  for (auto& k : config_schema()) {
    INFO(k.name);
    CHECK(names.insert(k.name).second);
    CHECK(std::find(config_sections().begin(), config_sections().end(), k.section)
          != config_sections().end());
    CHECK_FALSE(k.help.empty());
    CHECK(find_config_key(k.name) == &k);
    if (k.required) {
      CHECK(k.default_text.empty());
      continue;
    }
    auto v = parse_value(k, k.default_text);
    REQUIRE(v.has_value());
    CHECK(format_value(k, *v) == k.default_text);
    // node_config's member initialisers hold the same defaults ...
    CHECK(format_value(k, k.load(defaults)) == k.default_text);
    // ... and store/load round-trip.
    node_config c;
    k.store(c, *v);
    CHECK(format_value(k, k.load(c)) == k.default_text);
  }
  CHECK(names.size() == 63);
}

TEST_CASE("help text (--help) lists every key with section, type and default", "[config]") {
  auto help = render_config_help();
  for (auto s : config_sections())
    CHECK(help.find("[" + std::string{s} + "]") != std::string::npos);
  for (auto& k : config_schema())
    CHECK(help.find("  " + std::string{k.name} + "  (") != std::string::npos);
  CHECK(help.find("  retention.ms  (duration ms, -1 or >= 0; default 604800000)\n")
        != std::string::npos);
  CHECK(help.find("  node.id  (int, >= 0; required)\n") != std::string::npos);
  CHECK(help.find("  log.level  (enum: trace|debug|info|warn|error; default info)\n")
        != std::string::npos);
}

TEST_CASE("to_ini dumps every key and loads back to the same config", "[config]") {
  temp_dir dir;
  auto r = load_node_config((repo_root() / "configs/cluster-3/node2.ini").string(),
                            {"cleanup.policy=compact", "log.level=warn"});
  REQUIRE(r.has_value());
  auto ini = to_ini(*r);
  for (auto& k : config_schema())
    CHECK(ini.find("\n" + std::string{k.name} + " = ") != std::string::npos);
  auto again = load_node_config(dir.write("dump.ini", ini), {});
  REQUIRE(again.has_value());
  CHECK(to_ini(*again) == ini);
  auto with_help = to_ini(*r, true);
  auto again2 = load_node_config(dir.write("dump2.ini", with_help), {});
  REQUIRE(again2.has_value());
  CHECK(to_ini(*again2) == ini);
}

TEST_CASE("unknown key", "[config]") {
  CHECK(load_errors(valid_plus_log("retention.mss = 5\nfoo = 1\n"))
        == std::vector<std::string>{
          "F:8: [log] retention.mss: unknown key (did you mean retention.ms?)",
          "F:9: [log] foo: unknown key",
        });
  // [node] id = 1 (the DESIGN.md spelling) points to node.id
  CHECK(load_errors(valid_plus_log("") + "[node]\nid = 1\n")
        == std::vector<std::string>{"F:9: [node] id: unknown key (did you mean node.id?)"});
}

TEST_CASE("unknown section: reported once at its header, its keys skipped", "[config]") {
  CHECK(load_errors(valid_plus_log("") + "[lgo]\nretention.ms = 1\nx = 2\n")
        == std::vector<std::string>{
          "F:8: [lgo]: unknown section (expected [node], [cluster] or [log]; did you mean [log]?)"});
  CHECK(load_errors(valid_plus_log("") + "[topics]\n")
        == std::vector<std::string>{"F:8: [topics]: unknown section (expected [node], [cluster] or [log])"});
}

TEST_CASE("key in the wrong section, or before any section", "[config]") {
  CHECK(load_errors(valid_plus_log("node.id = 2\n"))
        == std::vector<std::string>{"F:8: [log] node.id: key belongs in section [node]"});
  CHECK(load_errors("retention.ms = 5\n" + valid_plus_log(""))
        == std::vector<std::string>{
          "F:1: retention.ms: key before any [section] header (it belongs in [log])"});
}

TEST_CASE("bad integer, overflow, out of range", "[config]") {
  CHECK(load_errors(valid_plus_log("retention.ms = abc\n"))
        == std::vector<std::string>{
          R"(F:8: [log] retention.ms: "abc" is not an integer (expected milliseconds, -1 or >= 0))"});
  CHECK(load_errors(valid_plus_log("retention.ms = 1000 # one second\n"))
        == std::vector<std::string>{
          R"(F:8: [log] retention.ms: "1000 # one second" is not an integer (expected milliseconds, -1 or >= 0))"});
  CHECK(load_errors(valid_plus_log("num.partitions = 99999999999\n"))
        == std::vector<std::string>{
          R"(F:8: [log] num.partitions: "99999999999" is out of range (expected integer, >= 1))"});
  CHECK(load_errors(valid_plus_log("retention.bytes = 99999999999999999999\n"))
        == std::vector<std::string>{
          R"(F:8: [log] retention.bytes: "99999999999999999999" is out of range (expected integer, -1 or >= 0))"});
  CHECK(load_errors(valid_plus_log("retention.ms = -2\nsegment.bytes = 100\n"))
        == std::vector<std::string>{
          R"(F:8: [log] retention.ms: "-2" is out of range (expected milliseconds, -1 or >= 0))",
          R"(F:9: [log] segment.bytes: "100" is out of range (expected integer, >= 1024))"});
  CHECK(load_errors(valid_plus_log("num.partitions = 1.5\nsegment.ms =\n"))
        == std::vector<std::string>{
          R"(F:8: [log] num.partitions: "1.5" is not an integer (expected integer, >= 1))",
          R"(F:9: [log] segment.ms: empty value (expected milliseconds, >= 1))"});
  CHECK(load_errors(node_section + "metrics.port = 70000\n" + cluster_section)
        == std::vector<std::string>{
          R"(F:5: [node] metrics.port: "70000" is out of range (expected integer, 0..65535))"});
}

TEST_CASE("bad bool, enum, list, host:port, string", "[config]") {
  CHECK(load_errors(valid_plus_log("compression.type = brotli\ncleanup.policy = delete,purge\n"))
        == std::vector<std::string>{
          R"(F:8: [log] compression.type: "brotli" is not one of producer, none, gzip, snappy, lz4, zstd)",
          R"(F:9: [log] cleanup.policy: "delete,purge": "purge" is not one of compact, delete)"});
  CHECK(load_errors(node_section + "log.level = INFO\nprocess.roles = broker,broker\n" + cluster_section)
        == std::vector<std::string>{
          R"(F:5: [node] log.level: "INFO" is not one of trace, debug, info, warn, error)",
          R"(F:6: [node] process.roles: "broker,broker": "broker" appears twice)"});
  CHECK(load_errors(cluster_section + "unclean.leader.election.enable = yes\n" + node_section)
        == std::vector<std::string>{
          R"(F:3: [cluster] unclean.leader.election.enable: "yes" is not a boolean (expected true or false))"});
  CHECK(load_errors("[node]\nnode.id = 1\ndata.dir = \"data/x\"\ncaf.listener = localhost\n" + cluster_section)
        == std::vector<std::string>{
          R"(F:3: [node] data.dir: "\"data/x\"" is quoted; write the value without quotes)",
          R"(F:4: [node] caf.listener: "localhost" is not host:port (missing ":port"))"});
  CHECK(load_errors("[node]\nnode.id = 1\ndata.dir = d\ncaf.listener = 127.0.0.1:0\n" + cluster_section)
        == std::vector<std::string>{
          R"(F:4: [node] caf.listener: "127.0.0.1:0" is not host:port (port 0 is out of range 1..65535))"});
}

TEST_CASE("bad voters and duplicate voter id", "[config]") {
  CHECK(load_errors(node_section + "[cluster]\ncontroller.quorum.voters = 1@127.0.0.1\n")
        == std::vector<std::string>{
          R"(F:6: [cluster] controller.quorum.voters: voter "1@127.0.0.1" is not id@host:port (missing ":port"))"});
  CHECK(load_errors(node_section + "[cluster]\ncontroller.quorum.voters = 127.0.0.1:9101\n")
        == std::vector<std::string>{
          R"(F:6: [cluster] controller.quorum.voters: voter "127.0.0.1:9101" is not id@host:port (missing "id@"))"});
  CHECK(load_errors(node_section + "[cluster]\ncontroller.quorum.voters = x@h:1\n")
        == std::vector<std::string>{
          R"(F:6: [cluster] controller.quorum.voters: voter "x@h:1": id "x" is not an integer)"});
  CHECK(load_errors(node_section + "[cluster]\ncontroller.quorum.voters = 1@h:1,,2@h:2\n")
        == std::vector<std::string>{
          R"(F:6: [cluster] controller.quorum.voters: "1@h:1,,2@h:2" has an empty entry (expected id@host:port,id@host:port,...))"});
  CHECK(load_errors(node_section + "[cluster]\ncontroller.quorum.voters = 1@127.0.0.1:9101,1@127.0.0.1:9102\n")
        == std::vector<std::string>{
          R"(F:6: [cluster] controller.quorum.voters: voter id 1 appears twice ("1@127.0.0.1:9101" and "1@127.0.0.1:9102"))"});
  CHECK(load_errors(node_section + "[cluster]\ncontroller.quorum.voters = 1@127.0.0.1:9101,2@127.0.0.1:9101\n")
        == std::vector<std::string>{
          "F:6: [cluster] controller.quorum.voters: voters 1 and 2 have the same address 127.0.0.1:9101"});
}

TEST_CASE("missing required keys", "[config]") {
  CHECK(load_errors("[node]\ncaf.listener = 127.0.0.1:9101\n")
        == std::vector<std::string>{
          "F: [node] node.id: required key is missing (expected integer, >= 0)",
          "F: [node] data.dir: required key is missing (expected a non-empty string)",
          "F: [cluster] controller.quorum.voters: required key is missing (expected id@host:port,id@host:port,...)"});
  // a bad value is reported as bad, not also as missing
  CHECK(load_errors("[node]\nnode.id = -1\ndata.dir = d\n" + cluster_section)
        == std::vector<std::string>{
          R"(F:2: [node] node.id: "-1" is out of range (expected integer, >= 0))"});
}

TEST_CASE("a controller must be among the voters, on its listener port", "[config]") {
  CHECK(load_errors("[node]\nnode.id = 4\ndata.dir = d\n[cluster]\n"
                    "controller.quorum.voters = 1@h:9101,2@h:9102,3@h:9103\n")
        == std::vector<std::string>{
          "F:5: [cluster] controller.quorum.voters: node.id 4 is not among controller.quorum.voters "
          "(1, 2, 3) but process.roles includes controller"});
  // a broker-only node need not be a voter
  CHECK(load_errors("[node]\nnode.id = 4\nprocess.roles = broker\ndata.dir = d\n[cluster]\n"
                    "controller.quorum.voters = 1@h:9101,2@h:9102,3@h:9103\n")
        .empty());
  CHECK(load_errors("[cluster]\ncontroller.quorum.voters = 1@127.0.0.1:9211,2@127.0.0.1:9212\n"
                    "[node]\nnode.id = 2\ndata.dir = d\npeer.listener = 127.0.0.1:9211\n")
        == std::vector<std::string>{
          "F:6: [node] peer.listener: this node's entry in controller.quorum.voters, 2@127.0.0.1:9212, "
          "and peer.listener, 127.0.0.1:9211, differ in port"});
  // Clients and nodes use separate listeners.
  CHECK(load_errors("[cluster]\ncontroller.quorum.voters = 1@127.0.0.1:9211\n"
                    "[node]\nnode.id = 1\ndata.dir = d\npeer.listener = 127.0.0.1:9211\n"
                    "caf.listener = 127.0.0.1:9211\n")
        == std::vector<std::string>{
          "F:7: [node] caf.listener: caf.listener and peer.listener must differ in port (both 9211): "
          "clients and other nodes use separate listeners"});
}

TEST_CASE("rules across keys name the key set last", "[config]") {
  CHECK(load_errors(valid_plus_log("min.insync.replicas = 2\n"))
        == std::vector<std::string>{
          "F:8: [log] min.insync.replicas: min.insync.replicas (2) must not exceed "
          "default.replication.factor (1): acks=all writes to default topics would always fail"});
  CHECK(load_errors(valid_plus_log("min.insync.replicas = 2\n"), {"default.replication.factor=1"})
        == std::vector<std::string>{
          "--override:1: [log] default.replication.factor: min.insync.replicas (2) must not exceed "
          "default.replication.factor (1): acks=all writes to default topics would always fail"});
  CHECK(load_errors(node_section + cluster_section + "broker.heartbeat.interval.ms = 9000\n")
        == std::vector<std::string>{
          "F:7: [cluster] broker.heartbeat.interval.ms: broker.heartbeat.interval.ms (9000) must be "
          "less than broker.session.timeout.ms (9000)"});
  CHECK(load_errors(node_section + cluster_section + "middleman.connection.timeout.ms = 400\n")
        == std::vector<std::string>{
          "F:7: [cluster] middleman.connection.timeout.ms: middleman.heartbeat.interval.ms (500) must "
          "be less than middleman.connection.timeout.ms (400)"});
}

TEST_CASE("duplicate keys and syntax errors", "[config]") {
  CHECK(load_errors(valid_plus_log("retention.ms = 1\nretention.ms = 2\n"))
        == std::vector<std::string>{"F:9: [log] retention.ms: duplicate key (first set at F:8)"});
  CHECK(load_errors(valid_plus_log("retention.ms 1000\n[log\n= 5\n"))
        == std::vector<std::string>{
          R"(F:8: "retention.ms 1000" is not key=value or [section])",
          R"(F:9: section header "[log" lacks its closing "]")",
          R"(F:10: "= 5" has no key before "=")"});
  CHECK(load_errors(valid_plus_log("") + "[log] extra\n")
        == std::vector<std::string>{R"(F:8: [log]: unexpected text after "]": "extra")"});
  // indentation, CRLF, ':' separators, ';' comments and a BOM are fine
  CHECK(load_errors("\xEF\xBB\xBF[node]\r\n  node.id: 1\r\ndata.dir = d ; comment\r\ncaf.listener=127.0.0.1:9101\r\n"
                    + cluster_section)
        .empty());
}

TEST_CASE("long lines work, over-long lines are reported, not split", "[config]") {
  std::string voters = "1@127.0.0.1:9093";
  for (int i = 2; i <= 40; ++i)
    voters += "," + std::to_string(i) + "@node-" + std::to_string(i) + ".cluster.example.com:9092";
  REQUIRE(voters.size() > 1000);
  CHECK(load_errors(node_section + "[cluster]\ncontroller.quorum.voters = " + voters + "\n").empty());

  std::string long_dir(20000, 'd');
  CHECK(load_errors("[node]\nnode.id = 1\ndata.dir = " + long_dir + "\ncaf.listener = 127.0.0.1:9101\n"
                    + cluster_section)
        == std::vector<std::string>{
          "F:3: line is too long (20011 characters, at most 16382)",
          "F: [node] data.dir: required key is missing (expected a non-empty string)"});
}

TEST_CASE("all errors are reported, in file order", "[config]") {
  auto errs = load_errors(R"([node]
node.id = one
data.dir = d
log.level = loud
[cluster]
controller.quorum.voters = 1@127.0.0.1:9101,1@127.0.0.1:9102
bogus = 1
[log]
retention.ms = 1e6
segment.bytes = 99999999999
[extra]
)");
  CHECK(errs == std::vector<std::string>{
    R"(F:2: [node] node.id: "one" is not an integer (expected integer, >= 0))",
    R"(F:4: [node] log.level: "loud" is not one of trace, debug, info, warn, error)",
    R"(F:6: [cluster] controller.quorum.voters: voter id 1 appears twice ("1@127.0.0.1:9101" and "1@127.0.0.1:9102"))",
    R"(F:7: [cluster] bogus: unknown key)",
    R"(F:9: [log] retention.ms: "1e6" is not an integer (expected milliseconds, -1 or >= 0))",
    R"(F:10: [log] segment.bytes: "99999999999" is out of range (expected integer, >= 1024))",
    R"(F:11: [extra]: unknown section (expected [node], [cluster] or [log]))",
  });
}

TEST_CASE("overrides win over the file and are validated the same way", "[config]") {
  temp_dir dir;
  auto path = dir.write("node.ini", valid_plus_log("retention.ms = 1000\n"));
  auto r = load_node_config(path, {"retention.ms=2000", " log.level = trace ", "node.id=1",
                                   "controller.quorum.voters=1@127.0.0.1:9093,2@127.0.0.1:9102"});
  REQUIRE(r.has_value());
  CHECK(r->log_defaults.retention_ms == 2000);
  CHECK(r->log_level == severity::trace);
  CHECK(r->quorum_voters.size() == 2);

  auto errs = load_errors(valid_plus_log(""), {"retention.ms=abc", "nosuch.key=1", "oops",
                                               "log.level=info", "log.level=warn", "node.id=3"});
  CHECK(errs == std::vector<std::string>{
    R"(--override:1: [log] retention.ms: "abc" is not an integer (expected milliseconds, -1 or >= 0))",
    R"(--override:2: nosuch.key: unknown key)",
    R"(--override:3: "oops" is not key=value)",
    R"(--override:5: [node] log.level: overridden twice (first at --override:4))",
    R"(--override:6: [node] node.id: node.id 3 is not among controller.quorum.voters (1) but process.roles includes controller)",
  });
  // an override can supply a required key missing from the file
  auto r2 = load_node_config(dir.write("partial.ini", "[node]\nnode.id = 1\ncaf.listener = 127.0.0.1:9101\n" + cluster_section),
                             {"data.dir=data/o"});
  REQUIRE(r2.has_value());
  CHECK(r2->data_dir == "data/o");
}

TEST_CASE("unreadable files", "[config]") {
  temp_dir dir;
  auto missing = (dir.path / "nope.ini").string();
  auto r = load_node_config(missing, {});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message() == missing + ": cannot open config file: No such file or directory");
  auto r2 = load_node_config(dir.path.string(), {});
  REQUIRE_FALSE(r2.has_value());
  CHECK(r2.error().message() == dir.path.string() + ": cannot read config file: is a directory");
}

TEST_CASE("every file in configs/ loads", "[config]") {
  auto configs = repo_root() / "configs";
  int n = 0;
  for (auto& e : fs::recursive_directory_iterator(configs)) {
    if (e.path().extension() != ".ini")
      continue;
    INFO(e.path().string());
    auto r = load_node_config(e.path().string(), {});
    if (!r)
      FAIL(r.error().message());
    ++n;
  }
  CHECK(n >= 4);

  auto single = load_node_config((configs / "single/node.ini").string(), {});
  REQUIRE(single.has_value());
  CHECK(single->node_id == 1);
  CHECK(single->caf_listener.port == 9101);
  CHECK(single->metrics_port == 9180);
  CHECK(single->data_dir == "data/single/node1");
  for (int i = 1; i <= 3; ++i) {
    auto r = load_node_config((configs / ("cluster-3/node" + std::to_string(i) + ".ini")).string(), {});
    REQUIRE(r.has_value());
    CHECK(r->node_id == i);
    CHECK(r->caf_listener.port == 9110 + i);
    CHECK(r->metrics_port == 9180 + i);
    CHECK(r->data_dir == "data/cluster-3/node" + std::to_string(i));
    CHECK(r->quorum_voters.size() == 3);
    CHECK(r->log_defaults.default_replication_factor == 3);
    CHECK(r->log_defaults.min_insync_replicas == 2);
  }
}

TEST_CASE("listeners takes Kafka's PLAINTEXT://host:port, advertised.listeners defaults to it",
          "[config][kafka]") {
  auto kafka = [](const std::string& lines) {
    return node_section + lines + cluster_section;
  };
  temp_dir dir;
  auto ok = load_node_config(dir.write("k.ini", kafka("listeners = PLAINTEXT://10.0.0.1:9192\n")), {});
  REQUIRE(ok.has_value());
  CHECK(ok->kafka_listener.host == "10.0.0.1");
  CHECK(ok->kafka_listener.port == 9192);
  CHECK(ok->advertised_listener.host.empty()); // unset: the node advertises listeners
  auto adv = load_node_config(dir.write("a.ini", kafka("listeners = PLAINTEXT://0.0.0.0:9192\n"
                                                       "advertised.listeners = PLAINTEXT://kafka1:9192\n")),
                              {});
  REQUIRE(adv.has_value());
  CHECK(adv->advertised_listener.host == "kafka1");
  auto any = load_node_config(dir.write("z.ini", kafka("listeners = PLAINTEXT://127.0.0.1:0\n")), {});
  REQUIRE(any.has_value());
  CHECK(any->kafka_listener.port == 0); // any free port

  CHECK(load_errors(kafka("listeners = 127.0.0.1:9192\n")) ==
        std::vector<std::string>{"F:5: [node] listeners: \"127.0.0.1:9192\" is not "
                                 "PLAINTEXT://host:port (missing \"PLAINTEXT://\")"});
  CHECK(load_errors(kafka("listeners = SSL://127.0.0.1:9192\n")) ==
        std::vector<std::string>{"F:5: [node] listeners: \"SSL://127.0.0.1:9192\": listener "
                                 "\"SSL\" is not supported (only PLAINTEXT; SSL and SASL are not "
                                 "implemented)"});
  CHECK(load_errors(kafka("listeners = PLAINTEXT://a:1,PLAINTEXT://b:2\n")).size() == 1);
  auto clash = load_errors(kafka("listeners = PLAINTEXT://127.0.0.1:9101\n"));
  REQUIRE(clash.size() == 1);
  CHECK(clash[0].find("listeners and caf.listener must differ in port (both 9101)") !=
        std::string::npos);
  auto wildcard = load_errors(kafka("listeners = PLAINTEXT://0.0.0.0:9192\n"));
  REQUIRE(wildcard.size() == 1);
  CHECK(wildcard[0].find("set advertised.listeners") != std::string::npos);
}
