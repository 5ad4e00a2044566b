// The CAF-free parts of the actorlog client commands: option values,
// stdin lines, partitioner, tables and output formats.
#include <catch2/catch.hpp>

#include <chrono>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "runtime/cli/cli_args.hpp"
#include "runtime/cli/line_reader.hpp"
#include "runtime/cli/output_format.hpp"
#include "runtime/cli/partitioner.hpp"
#include "runtime/cli/text_table.hpp"

using namespace al;
using namespace al::cli;

TEST_CASE("config key=value entries (--config)", "[cli]") {
  SECTION("plain entries") {
    auto m = parse_config_entries({"retention.ms=1000", "segment.bytes=1048576"});
    REQUIRE(m);
    CHECK(*m == config_map{{"retention.ms", "1000"}, {"segment.bytes", "1048576"}});
  }
  SECTION("no entries") {
    auto m = parse_config_entries({});
    REQUIRE(m);
    CHECK(m->empty());
  }
  SECTION("the value keeps further '=' and may be empty") {
    auto m = parse_config_entries({"a=b=c", "empty="});
    REQUIRE(m);
    CHECK(m->at("a") == "b=c");
    CHECK(m->at("empty") == "");
  }
  SECTION("pieces split at commas continue the previous value") {
    // What cxxopts makes of --config cleanup.policy=compact,delete,retention.ms=5
    auto m = parse_config_entries({"cleanup.policy=compact", "delete", "retention.ms=5"});
    REQUIRE(m);
    CHECK(*m == config_map{{"cleanup.policy", "compact,delete"}, {"retention.ms", "5"}});
  }
  SECTION("errors") {
    auto no_eq = parse_config_entries({"retention.ms"});
    REQUIRE_FALSE(no_eq);
    CHECK(no_eq.error().message() == "bad config \"retention.ms\" (expected key=value)");
    auto empty_key = parse_config_entries({"=5"});
    REQUIRE_FALSE(empty_key);
    CHECK(empty_key.error().message() == "bad config \"=5\" (empty key)");
    auto twice = parse_config_entries({"a=1", "a=2"});
    REQUIRE_FALSE(twice);
    CHECK(twice.error().message() == "config \"a\" given twice");
  }
}

TEST_CASE("delete-config names (--delete-config)", "[cli]") {
  auto ok = parse_config_names({"retention.ms", "cleanup.policy"});
  REQUIRE(ok);
  CHECK(ok->size() == 2);
  CHECK_FALSE(parse_config_names({"retention.ms=5"}));
  CHECK_FALSE(parse_config_names({""}));
  CHECK_FALSE(parse_config_names({"a", "a"}));
}

TEST_CASE("key separator splitting", "[cli]") {
  using kv = std::pair<std::string_view, std::string_view>;
  CHECK(split_key_value("user1:hello", ":") == kv{"user1", "hello"});
  CHECK(split_key_value("a:b:c", ":") == kv{"a", "b:c"}); // first separator wins
  CHECK(split_key_value(":value", ":") == kv{"", "value"});
  CHECK(split_key_value("key:", ":") == kv{"key", ""});
  CHECK(split_key_value("k=>v=>w", "=>") == kv{"k", "v=>w"});
  CHECK(split_key_value("k\tv", "\t") == kv{"k", "v"});
  CHECK_FALSE(split_key_value("no separator", ":"));
  CHECK_FALSE(split_key_value("", ":"));
  CHECK_FALSE(split_key_value("a:b", ""));
}

TEST_CASE("bootstrap addresses", "[cli]") {
  auto ep = parse_endpoint("127.0.0.1:9101");
  REQUIRE(ep);
  CHECK(ep->host == "127.0.0.1");
  CHECK(ep->port == 9101);
  CHECK(to_string(*ep) == "127.0.0.1:9101");
  auto v6 = parse_endpoint("[::1]:9092");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(to_string(*v6) == "[::1]:9092");
  CHECK(parse_endpoint("localhost:1"));
  CHECK_FALSE(parse_endpoint("localhost"));
  CHECK_FALSE(parse_endpoint(":9092"));
  CHECK_FALSE(parse_endpoint("host:0"));
  CHECK_FALSE(parse_endpoint("host:65536"));
  CHECK_FALSE(parse_endpoint("host:9x"));
  CHECK_FALSE(parse_endpoint("::1:9092"));
  CHECK_FALSE(parse_endpoint("[::1]9092"));
  auto list = parse_bootstrap("h1:1,h2:2");
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[1].host == "h2");
  CHECK(parse_bootstrap(default_bootstrap));
  CHECK_FALSE(parse_bootstrap(""));
  CHECK_FALSE(parse_bootstrap("h1:1,h2"));
}

TEST_CASE("acks, separators and start offsets", "[cli]") {
  CHECK(*parse_acks("all") == acks_mode::all);
  CHECK(*parse_acks("-1") == acks_mode::all);
  CHECK(*parse_acks("1") == acks_mode::leader);
  CHECK(*parse_acks("0") == acks_mode::none);
  CHECK_FALSE(parse_acks("2"));
  CHECK(unescape("\\t") == "\t");
  CHECK(unescape("a\\nb\\\\c") == "a\nb\\c");
  CHECK(unescape("\\x:") == "\\x:");
  CHECK(unescape("\\") == "\\");
  CHECK(parse_start_position("earliest")->kind == start_position::earliest);
  CHECK(parse_start_position("latest")->kind == start_position::latest);
  auto at = parse_start_position("42");
  REQUIRE(at);
  CHECK(at->kind == start_position::offset);
  CHECK(at->value == 42);
  CHECK_FALSE(parse_start_position("-1"));
  CHECK_FALSE(parse_start_position("4x"));
}

TEST_CASE("choose_partition is Kafka's default partitioner", "[cli]") {
  // Golden values: (murmur2(key) & 0x7fffffff) % count, as Kafka computes them.
  CHECK(choose_partition("", 6) == 3);
  CHECK(choose_partition("a", 6) == 4);
  CHECK(choose_partition("orders-1", 6) == 3);
  CHECK(choose_partition("key", 100) == 81);
  CHECK(choose_partition("user-1", 6) == 2);
  CHECK(choose_partition("anything", 1) == 0);
  std::set<int32_t> seen;
  for (int i = 0; i < 1000; ++i) {
    auto key = "user-" + std::to_string(i);
    auto p = choose_partition(key, 7);
    REQUIRE(p >= 0);
    REQUIRE(p < 7);
    CHECK(choose_partition(key, 7) == p);
    seen.insert(p);
  }
  CHECK(seen.size() == 7); // keys spread over every partition
}

TEST_CASE("text tables are aligned like Kafka's tools", "[cli]") {
  text_table t{{"ID", "HOST", "PORT", "STATUS"}};
  t.add_row({"1", "127.0.0.1", "9101", "alive"});
  t.add_row({"12", "localhost", "9", "fenced"});
  CHECK(t.rows() == 2);
  CHECK(t.render() == "ID HOST      PORT STATUS\n"
                      "1  127.0.0.1 9101 alive\n"
                      "12 localhost 9    fenced\n");
  text_table empty{{"A", "LONGER"}};
  CHECK(empty.render() == "A LONGER\n");
  text_table trailing{{"A", "B"}};
  trailing.add_row({"xyz", ""});
  CHECK(trailing.render() == "A   B\nxyz\n");
}

TEST_CASE("topic description in kafka-topics --describe shape", "[cli]") {
  topic_description t;
  t.name = "orders";
  t.topic_id = "Xy12";
  t.configs = {{"retention.ms", "1000"}, {"cleanup.policy", "compact"}};
  partition_description p1;
  p1.partition = 1;
  p1.leader = -1;
  p1.replicas = {2, 3};
  p1.isr = {};
  partition_description p0;
  p0.partition = 0;
  p0.leader = 1;
  p0.replicas = {1, 2};
  p0.isr = {1, 2};
  p0.log_start_offset = 0;
  p0.log_end_offset = 42;
  t.partitions = {p1, p0};
  CHECK(format_topic_description(t)
        == "Topic: orders\tTopicId: Xy12\tPartitionCount: 2\tReplicationFactor: 2\t"
           "Configs: cleanup.policy=compact,retention.ms=1000\n"
           "\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1,2\tIsr: 1,2\t"
           "LogStartOffset: 0\tLogEndOffset: 42\n"
           "\tTopic: orders\tPartition: 1\tLeader: none\tReplicas: 2,3\tIsr: \t"
           "LogStartOffset: -\tLogEndOffset: -\n");
  topic_description bare;
  bare.name = "t";
  CHECK(format_topic_description(bare)
        == "Topic: t\tTopicId: \tPartitionCount: 0\tReplicationFactor: 0\tConfigs: \n");
}

TEST_CASE("cluster description tables", "[cli]") {
  cluster_description c;
  c.cluster_id = "abc";
  c.controller_id = 2;
  c.metadata_offset = 17;
  c.brokers = {{3, "10.0.0.3", 9103, true}, {1, "10.0.0.1", 9101, false}};
  c.quorum = {{2, "leader", 4, 17}, {1, "follower", 4, 16}};
  CHECK(format_cluster_description(c) == "ClusterId: abc\n"
                                         "ControllerId: 2\n"
                                         "MetadataOffset: 17\n"
                                         "\n"
                                         "Brokers:\n"
                                         "ID HOST     PORT STATUS\n"
                                         "1  10.0.0.1 9101 alive\n"
                                         "3  10.0.0.3 9103 fenced\n"
                                         "\n"
                                         "Quorum:\n"
                                         "ID ROLE     TERM COMMIT-INDEX\n"
                                         "1  follower 4    16\n"
                                         "2  leader   4    17\n");
}

TEST_CASE("consumed records in kafka-console-consumer shape", "[cli]") {
  record_print_options opts;
  std::string out;
  append_record_line(out, opts, 3, 42, std::string_view{"k"}, std::string_view{"v"});
  CHECK(out == "v\n");
  opts.print_key = true;
  out.clear();
  append_record_line(out, opts, 3, 42, std::nullopt, std::string_view{"v"});
  CHECK(out == "null\tv\n");
  opts.print_offset = true;
  opts.print_partition = true;
  opts.separator = ":";
  out.clear();
  append_record_line(out, opts, 3, 42, std::string_view{"k"}, std::nullopt);
  CHECK(out == "Partition:3:Offset:42:k:null\n");
}

TEST_CASE("line_reader: lines, CRLF, last line, timeout", "[cli]") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  line_reader in{fds[0]};
  std::string line;
  // Nothing written yet: a timeout, not a line.
  auto t0 = std::chrono::steady_clock::now();
  CHECK(in.next(line, 50) == line_reader::outcome::timeout);
  CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(40));
  std::string text = "one\r\n\nthree:3\nlast";
  REQUIRE(::write(fds[1], text.data(), text.size()) == ssize_t(text.size()));
  REQUIRE(in.next(line, 1000) == line_reader::outcome::line);
  CHECK(line == "one");
  REQUIRE(in.next(line, 1000) == line_reader::outcome::line);
  CHECK(line == "");
  REQUIRE(in.next(line, -1) == line_reader::outcome::line);
  CHECK(line == "three:3");
  // "last" has no newline yet: it waits.
  CHECK(in.next(line, 20) == line_reader::outcome::timeout);
  ::close(fds[1]);
  REQUIRE(in.next(line, 1000) == line_reader::outcome::line);
  CHECK(line == "last");
  CHECK(in.line_number() == 4);
  CHECK(in.next(line, 1000) == line_reader::outcome::eof);
  CHECK(in.next(line, 1000) == line_reader::outcome::eof);
  ::close(fds[0]);
}
