#include <catch2/catch.hpp>

#include <set>

#include "actors/controller/metadata_machine.hpp"

using namespace al;

namespace {

metadata_machine with_brokers(int n) {
  metadata_machine m;
  for (int i = 1; i <= n; ++i)
    REQUIRE(m.apply(register_broker_cmd{i, "127.0.0.1", uint16_t(9100 + i), 7}, i - 1));
  return m;
}

create_topic_request topic(std::string name, int32_t partitions, int32_t rf) {
  create_topic_request r;
  r.name = std::move(name);
  r.partitions = partitions;
  r.replication_factor = rf;
  return r;
}

} // namespace

TEST_CASE("topic names follow Kafka's rules", "[metadata]") {
  CHECK(validate_topic_name("orders"));
  CHECK(validate_topic_name("a.b_c-D9"));
  CHECK(validate_topic_name("").code() == errc::invalid_topic_exception);
  CHECK(validate_topic_name("..").code() == errc::invalid_topic_exception);
  CHECK(validate_topic_name("a b").code() == errc::invalid_topic_exception);
  CHECK(validate_topic_name(std::string(250, 'x')).code() == errc::invalid_topic_exception);
  CHECK(validate_topic_name(std::string(249, 'x')));
}

TEST_CASE("create topic spreads leaders and validates input", "[metadata]") {
  auto m = with_brokers(3);
  auto cmd = m.plan_create_topic(topic("orders", 6, 3), {}, "id-1");
  REQUIRE(cmd);
  REQUIRE(cmd->assignment.size() == 6);
  std::map<int32_t, int> leaders;
  for (auto& r : cmd->assignment) {
    CHECK(r.size() == 3);
    CHECK(std::set<int32_t>(r.begin(), r.end()).size() == 3);
    ++leaders[r.front()];
  }
  CHECK(leaders.size() == 3);
  for (auto& [id, n] : leaders)
    CHECK(n == 2);
  REQUIRE(m.apply(*cmd, 10));
  CHECK(m.find_topic("orders")->partitions.size() == 6);
  CHECK(m.plan_create_topic(topic("orders", 1, 1), {}, "x").error().code() ==
        errc::topic_already_exists);
  CHECK(m.plan_create_topic(topic("neg", -3, 1), {}, "x").error().code() ==
        errc::invalid_partitions);
  CHECK(m.plan_create_topic(topic("zero", 0, 1), {}, "x").error().code() ==
        errc::invalid_partitions);
  CHECK(m.plan_create_topic(topic("big", 1, 4), {}, "x").error().code() ==
        errc::invalid_replication_factor);
  auto bad_cfg = topic("cfg", 1, 1);
  bad_cfg.configs["retention.ms"] = "abc";
  auto err = m.plan_create_topic(bad_cfg, {}, "x");
  REQUIRE(!err);
  CHECK(err.error().code() == errc::invalid_config);
  CHECK(err.error().message().find("retention.ms") != std::string::npos);
  bad_cfg.configs = {{"no.such.key", "1"}};
  CHECK(m.plan_create_topic(bad_cfg, {}, "x").error().code() == errc::invalid_config);
}

TEST_CASE("defaults apply when partitions or replication factor are -1", "[metadata]") {
  auto m = with_brokers(2);
  auto cmd = m.plan_create_topic(topic("t", -1, -1), topic_defaults{4, 2}, "id");
  REQUIRE(cmd);
  CHECK(cmd->assignment.size() == 4);
  CHECK(cmd->assignment[0].size() == 2);
}

TEST_CASE("partitions only grow", "[metadata]") {
  auto m = with_brokers(1);
  REQUIRE(m.apply(*m.plan_create_topic(topic("t", 3, 1), {}, "id"), 5));
  CHECK(m.plan_create_partitions("t", 2, topic_defaults{}).error().code() == errc::invalid_partitions);
  CHECK(m.plan_create_partitions("t", 3, topic_defaults{}).error().code() == errc::invalid_partitions);
  CHECK(m.plan_create_partitions("nope", 5, topic_defaults{}).error().code() == errc::unknown_topic_or_partition);
  auto grow = m.plan_create_partitions("t", 5, topic_defaults{});
  REQUIRE(grow);
  REQUIRE(m.apply(*grow, 6));
  auto t = m.find_topic("t");
  REQUIRE(t->partitions.size() == 5);
  CHECK(t->partitions[4].partition == 4);
}

TEST_CASE("apply is idempotent by offset and rejects raced commands", "[metadata]") {
  auto m = with_brokers(1);
  auto cmd = *m.plan_create_topic(topic("t", 1, 1), {}, "id");
  REQUIRE(m.apply(cmd, 5));
  CHECK(m.apply(cmd, 5)); // replay of the same offset: skipped
  auto again = m.apply(cmd, 6); // a second create raced into the log
  CHECK(again.code() == errc::topic_already_exists);
  CHECK(m.last_applied_offset() == 6);
  REQUIRE(m.apply(delete_topic_cmd{"t"}, 7));
  CHECK(m.find_topic("t") == nullptr);
}

TEST_CASE("configs alter and leader changes bump epochs", "[metadata]") {
  auto m = with_brokers(3);
  REQUIRE(m.apply(*m.plan_create_topic(topic("t", 1, 3), {}, "id"), 5));
  alter_topic_request alter;
  alter.name = "t";
  alter.set_configs = {{"retention.ms", "1000"}};
  REQUIRE(m.apply(*m.plan_alter_configs(alter), 6));
  CHECK(m.find_topic("t")->configs.at("retention.ms") == "1000");
  auto p = m.find_topic("t")->partitions[0];
  auto other = p.replicas[1];
  REQUIRE(m.apply(change_partition_cmd{"t", 0, other, {other, p.replicas[2]}, false}, 7));
  auto q = m.find_topic("t")->partitions[0];
  CHECK(q.leader == other);
  CHECK(q.leader_epoch == p.leader_epoch + 1);
  CHECK(q.isr.size() == 2);
}

TEST_CASE("partition counts are bounded per request and per broker", "[metadata]") {
  auto m = with_brokers(2);
  topic_defaults limits;
  limits.max_broker_partitions = 10;
  // 100 000 partitions in one request: refused before any is placed.
  auto huge = m.plan_create_topic(topic("big", 100000, 1), limits, "id");
  REQUIRE_FALSE(huge);
  CHECK(huge.error().code() == errc::policy_violation);
  CHECK(huge.error().message().find("per request") != std::string::npos);
  // 2 brokers x 10: 20 replicas fit, 21 do not, and the message names the node.
  auto fits = m.plan_create_topic(topic("a", 10, 2), limits, "id");
  REQUIRE(fits);
  REQUIRE(m.apply(*fits, 2));
  auto over = m.plan_create_topic(topic("b", 1, 1), limits, "id");
  REQUIRE_FALSE(over);
  CHECK(over.error().code() == errc::policy_violation);
  CHECK(over.error().message().find("max.broker.partitions is 10") != std::string::npos);
  auto grow = m.plan_create_partitions("a", 11, limits);
  REQUIRE_FALSE(grow);
  CHECK(grow.error().code() == errc::policy_violation);
  CHECK(m.plan_create_partitions("a", 1000000, limits).error().code() == errc::policy_violation);
}

TEST_CASE("names that collide in metrics and unknown configs to delete are refused", "[metadata]") {
  auto m = with_brokers(1);
  auto cmd = m.plan_create_topic(topic("a.b", 1, 1), {}, "id");
  REQUIRE(m.apply(*cmd, 1));
  auto clash = m.plan_create_topic(topic("a_b", 1, 1), {}, "id");
  REQUIRE_FALSE(clash);
  CHECK(clash.error().code() == errc::invalid_topic_exception);
  alter_topic_request alter;
  alter.name = "a.b";
  alter.delete_configs = {"no.such.key"};
  CHECK(m.plan_alter_configs(alter).error().code() == errc::invalid_config);
  alter.delete_configs = {"retention.ms"};
  CHECK(m.plan_alter_configs(alter));
}

TEST_CASE("metadata commands round-trip through the binary codec", "[metadata]") {
  std::vector<metadata_command> cmds = {
    register_broker_cmd{3, "10.0.0.1", 9092, 123456789, 9093},
    fence_broker_cmd{3, true},
    create_topic_cmd{"orders", "uuid", {{"cleanup.policy", "compact"}}, {{1, 2}, {2, 1}}},
    create_partitions_cmd{"orders", {{1, 2}}},
    alter_configs_cmd{"orders", {{"retention.ms", "5"}}, {"segment.ms"}},
    delete_topic_cmd{"orders"},
    change_partition_cmd{"orders", 1, 2, {2}, true, 4},
    allocate_producer_ids_cmd{1000, 1},
  };
  for (auto& cmd : cmds) {
    auto enc = encode_command(cmd);
    auto dec = decode_command(enc);
    REQUIRE(dec);
    CHECK(encode_command(*dec) == enc);
    CHECK(describe(*dec) == describe(cmd));
    // Every truncation is an error, never a crash.
    for (size_t n = 0; n < enc.size(); ++n)
      CHECK_FALSE(decode_command(byte_view{enc.data(), n}));
  }
  bytes unknown{99};
  CHECK(decode_command(unknown).error().code() == errc::corrupt_message);
  // Type 1, written before listeners were split: one port for both.
  auto v2 = encode_command(register_broker_cmd{3, "10.0.0.1", 9092, 123456789, 9093});
  bytes v1(v2.begin(), v2.end() - 2);
  v1[0] = register_broker_cmd::type_id_v1;
  auto legacy = decode_command(v1);
  REQUIRE(legacy);
  auto& reg = std::get<register_broker_cmd>(*legacy);
  CHECK(reg.port == 9092);
  CHECK(reg.peer_port == 9092);
  CHECK(reg.incarnation == 123456789);
  bytes huge_list = encode_command(create_topic_cmd{"t", "i", {}, {}});
  huge_list[huge_list.size() - 1] = 0xff; // assignment count far beyond the bytes
  CHECK_FALSE(decode_command(huge_list));
}
