#include <catch2/catch.hpp>

#include <set>

#include "actors/controller/metadata_machine.hpp"
#include "actors/controller/partition_election_machine.hpp"

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
    change_partition_cmd{"orders", 1, 2, {2, 3}, false, 5, {{2, 11}, {3, -1}}},
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
  // Type 9, written before the Kafka listener: no Kafka port.
  auto v3 = encode_command(register_broker_cmd{3, "10.0.0.1", 9092, 123456789, 9093, "k", 9094});
  REQUIRE(v3[0] == register_broker_cmd::type_id);
  bytes v2(v3.begin(), v3.end() - (4 + 1 + 2));
  v2[0] = register_broker_cmd::type_id_v2;
  auto before_kafka = decode_command(v2);
  REQUIRE(before_kafka);
  CHECK(std::get<register_broker_cmd>(*before_kafka).peer_port == 9093);
  CHECK(std::get<register_broker_cmd>(*before_kafka).kafka_port == 0);
  auto now = decode_command(v3);
  REQUIRE(now);
  CHECK(std::get<register_broker_cmd>(*now).kafka_host == "k");
  CHECK(std::get<register_broker_cmd>(*now).kafka_port == 9094);
  // Type 1, written before listeners were split: one port for both.
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

// ---- KIP-903 at apply time (issue 12, item 8) -------------------------------

namespace {

/// Topic "t" (RF 3) on brokers 1-3 (incarnation 7), its third replica
/// shrunk out of the ISR; returns that replica.
int32_t shrunk_topic(metadata_machine& m) {
  REQUIRE(m.apply(*m.plan_create_topic(topic("t", 1, 3), {}, "id"), 5));
  auto p = m.find_topic("t")->partitions[0];
  auto out = p.replicas[2];
  std::vector<int32_t> isr{p.replicas[0], p.replicas[1]};
  REQUIRE(m.apply(change_partition_cmd{"t", 0, p.leader, isr, false, p.partition_epoch}, 6));
  return out;
}

/// The leader's AlterPartition adding `back` (seen fetching as incarnation
/// 7), planned against the current image and passed through the log's codec.
metadata_command planned_expansion(const metadata_machine& m, int32_t back) {
  auto p = m.find_topic("t")->partitions[0];
  alter_isr_request req;
  req.tp = {"t", 0};
  req.leader_id = p.leader;
  req.leader_epoch = p.leader_epoch;
  req.partition_epoch = p.partition_epoch;
  req.new_isr = p.replicas; // all three, in replicas order
  req.broker_epochs = {{back, 7}};
  auto d = plan_alter_isr(m.image(), p.partition_epoch, req);
  REQUIRE(d.error == alter_isr_error::none);
  auto logged = decode_command(encode_command(d.cmd));
  REQUIRE(logged);
  return *logged;
}

} // namespace

TEST_CASE("an ISR expansion planned before a logged fence or re-registration is refused "
          "when applied (KIP-903)",
          "[metadata][isr]") {
  auto m = with_brokers(3);
  auto back = shrunk_topic(m);
  auto cmd = planned_expansion(m, back);
  auto isr_before = m.find_topic("t")->partitions[0].isr;
  SECTION("the broker restarted in between: fenced, then registered with a new incarnation") {
    // What the controller logs for a restart (ensure_registered); the broker
    // was not in the ISR, so no change_partition moved the partition epoch.
    REQUIRE(m.apply(fence_broker_cmd{back, true}, 7));
    REQUIRE(m.apply(register_broker_cmd{back, "127.0.0.1", uint16_t(9100 + back), 8}, 8));
    auto st = m.apply(cmd, 9);
    CHECK(st.code() == errc::ineligible_replica);
    CHECK(m.find_topic("t")->partitions[0].isr == isr_before);
  }
  SECTION("the broker was fenced in between") {
    REQUIRE(m.apply(fence_broker_cmd{back, true}, 7));
    auto st = m.apply(cmd, 8);
    CHECK(st.code() == errc::ineligible_replica);
    CHECK(m.find_topic("t")->partitions[0].isr == isr_before);
  }
  SECTION("nothing in between: the broker joins the ISR") {
    REQUIRE(m.apply(cmd, 7));
    CHECK(m.find_topic("t")->partitions[0].isr.size() == 3);
  }
  SECTION("a type 7 command, logged before the check existed, replays as it applied then") {
    auto& change = std::get<change_partition_cmd>(cmd);
    CHECK(change.broker_epochs.at(back) == 7); // what the planner checked, in the log
    auto v2 = encode_command(cmd);
    CHECK(v2[0] == change_partition_cmd::type_id);
    // Type 7 = type 10 without the trailing incarnations (u32 count + 12 bytes each).
    bytes v1(v2.begin(), v2.end() - long(4 + 12 * change.broker_epochs.size()));
    v1[0] = change_partition_cmd::type_id_v1;
    auto old = decode_command(v1);
    REQUIRE(old);
    CHECK(std::get<change_partition_cmd>(*old).legacy);
    CHECK(encode_command(*old) == v1); // re-encoded as it was logged
    REQUIRE(m.apply(fence_broker_cmd{back, true}, 7));
    REQUIRE(m.apply(*old, 8));
    CHECK(m.find_topic("t")->partitions[0].isr.size() == 3);
  }
}

TEST_CASE("every planned partition change carries its ISR members' incarnations",
          "[metadata][isr]") {
  auto m = with_brokers(3);
  REQUIRE(m.apply(register_broker_cmd{2, "127.0.0.1", 9102, 9}, 3)); // broker 2 restarted once
  REQUIRE(m.apply(*m.plan_create_topic(topic("t", 1, 3), {}, "id"), 5));
  REQUIRE(m.apply(fence_broker_cmd{1, true}, 6));
  auto planned = plan_broker_fenced(m.image(), 1, {});
  REQUIRE(planned.size() == 1);
  std::map<int32_t, int64_t> expected;
  for (auto id : planned[0].isr)
    expected[id] = id == 2 ? 9 : 7;
  CHECK(planned[0].broker_epochs == expected);
  auto logged = decode_command(encode_command(planned[0]));
  REQUIRE(logged);
  CHECK(std::get<change_partition_cmd>(*logged).broker_epochs == expected);
  REQUIRE(m.apply(*logged, 7)); // an election adds nobody: nothing to re-check
}

TEST_CASE("take_delta: the whole image first, then only the topics changed since, deletions by "
          "name, whole again after a restore or mark_full",
          "[metadata]") {
  auto m = with_brokers(3);
  for (auto name : {"orders", "fills", "audit"}) {
    auto cmd = m.plan_create_topic(topic(name, 2, 3), {}, std::string("id-") + name);
    REQUIRE(cmd);
    REQUIRE(m.apply(*cmd, m.last_applied_offset() + 1));
  }
  auto first = m.take_delta();
  CHECK(first.full);
  CHECK(first.topics.size() == 3);
  CHECK(first.brokers.size() == 3);
  CHECK(first.last_offset == m.last_applied_offset());

  auto empty = m.take_delta(); // nothing applied since
  CHECK_FALSE(empty.full);
  CHECK(empty.topics.empty());
  CHECK(empty.deleted.empty());
  CHECK(empty.brokers.size() == 3); // the small parts always whole

  auto p = m.find_topic("orders")->partitions[1];
  REQUIRE(m.apply(change_partition_cmd{"orders", 1, p.replicas[1], {p.replicas[1]}, true},
                  m.last_applied_offset() + 1));
  auto del = m.plan_delete_topic("audit");
  REQUIRE(del);
  REQUIRE(m.apply(*del, m.last_applied_offset() + 1));
  // Rejected (no such topic): nothing to send.
  CHECK_FALSE(m.apply(change_partition_cmd{"ghost", 0, 1, {1}, true},
                      m.last_applied_offset() + 1));
  alter_topic_request alter;
  alter.name = "fills";
  alter.set_configs = {{"retention.ms", "1000"}};
  auto configs = m.plan_alter_configs(alter);
  REQUIRE(configs);
  REQUIRE(m.apply(*configs, m.last_applied_offset() + 1));
  auto d = m.take_delta();
  CHECK_FALSE(d.full);
  // The election alone, not its topic; the altered topic whole.
  REQUIRE(d.partitions.size() == 1);
  REQUIRE(d.partitions.at("orders").size() == 1);
  auto& elected = d.partitions.at("orders").front();
  CHECK(elected.partition == 1);
  CHECK(elected.leader == p.replicas[1]);
  CHECK(elected.leader_epoch == p.leader_epoch + 1);
  REQUIRE(d.topics.size() == 1);
  CHECK(d.topics.at("fills").configs.at("retention.ms") == "1000");
  CHECK(d.deleted == std::vector<std::string>{"audit"});
  CHECK(d.last_offset == m.last_applied_offset());

  // Merged into the first delta's topics, the deltas give the image.
  auto merged = first.topics;
  for (auto& [name, t] : d.topics)
    merged[name] = t;
  for (auto& [name, parts] : d.partitions)
    for (auto& part : parts)
      merged[name].partitions[size_t(part.partition)] = part;
  for (auto& name : d.deleted)
    merged.erase(name);
  auto same = [](const std::map<std::string, topic_description>& a,
                 const std::map<std::string, topic_description>& b) {
    if (a.size() != b.size())
      return false;
    for (auto& [name, t] : a) {
      auto o = b.find(name);
      if (o == b.end() || o->second.partitions.size() != t.partitions.size())
        return false;
      for (size_t i = 0; i < t.partitions.size(); ++i) {
        auto &x = t.partitions[i], &y = o->second.partitions[i];
        if (x.leader != y.leader || x.leader_epoch != y.leader_epoch || x.isr != y.isr ||
            x.replicas != y.replicas || x.partition_epoch != y.partition_epoch)
          return false;
      }
    }
    return true;
  };
  CHECK(same(merged, m.image().topics));

  m.mark_full();
  CHECK(m.take_delta().topics.size() == 2);
  m.restore(m.image());
  auto after_restore = m.take_delta();
  CHECK(after_restore.full);
  CHECK(same(after_restore.topics, m.image().topics));
}
