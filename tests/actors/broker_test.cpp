// Broker, controller and partition actors under the deterministic scheduler.
#include <catch2/catch.hpp>

#include "node_fixture.hpp"

using namespace al;
using namespace al::test;

TEST_CASE_METHOD(node_fixture, "produce then fetch returns the records in order", "[broker]") {
  REQUIRE(create_topic("orders", 2));
  auto p1 = produce("orders", 1, batch_of({{"AAPL", "BUY 1"}, {"AAPL", "SELL 2"}}));
  REQUIRE(p1);
  CHECK(p1.value->base_offset == 0);
  CHECK(p1.value->record_count == 2);
  auto p2 = produce("orders", 1, batch_of({{"TCS", "BUY 3"}}));
  REQUIRE(p2);
  CHECK(p2.value->base_offset == 2);
  auto f = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 1, 0));
  REQUIRE(f);
  CHECK(f.value->high_watermark == 3);
  CHECK(values(*f.value) == std::vector<std::string>{"BUY 1", "SELL 2", "BUY 3"});
  // Mid-batch start: the whole batch comes back, the reader skips.
  auto g = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 1, 1));
  REQUIRE(g);
  CHECK(values(*g.value, 1) == std::vector<std::string>{"SELL 2", "BUY 3"});
  // The other partition is empty.
  auto e = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 0, 0));
  REQUIRE(e);
  CHECK(e.value->records.empty());
}

TEST_CASE_METHOD(node_fixture, "a long-poll fetch is answered when data arrives", "[broker]") {
  REQUIRE(create_topic("orders", 1));
  reply<fetch_response> out;
  auto rh = self->request(broker, caf::infinite, fetch_atom::value,
                          fetch_req("orders", 0, 0, 60000));
  sched.run();
  // Parked: no reply yet, and no timer has fired.
  CHECK(self->mailbox().empty());
  REQUIRE(produce("orders", 0, batch_of({{"k", "v1"}})));
  sched.run();
  collect(rh, out);
  REQUIRE(out);
  CHECK(values(*out.value) == std::vector<std::string>{"v1"});
}

TEST_CASE_METHOD(node_fixture, "a long-poll fetch times out empty at fetch.max.wait.ms",
                 "[broker]") {
  REQUIRE(create_topic("orders", 1));
  reply<fetch_response> out;
  auto rh = self->request(broker, caf::infinite, fetch_atom::value,
                          fetch_req("orders", 0, 0, 500));
  sched.run();
  CHECK(self->mailbox().empty());
  sched.advance_time(std::chrono::milliseconds(499));
  sched.run();
  CHECK(self->mailbox().empty());
  sched.advance_time(std::chrono::milliseconds(1));
  sched.run();
  collect(rh, out);
  REQUIRE(out);
  CHECK(out.value->records.empty());
}

TEST_CASE_METHOD(node_fixture, "data requests for unknown partitions fail clearly", "[broker]") {
  REQUIRE(create_topic("orders", 2));
  auto a = produce("nope", 0, batch_of({{"k", "v"}}));
  CHECK(a.code() == errc::unknown_topic_or_partition);
  auto b = produce("orders", 2, batch_of({{"k", "v"}}));
  CHECK(b.code() == errc::unknown_topic_or_partition);
  auto c = produce("orders", -1, batch_of({{"k", "v"}}));
  CHECK(c.code() == errc::unknown_topic_or_partition);
  auto f = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 0, 5));
  CHECK(f.code() == errc::offset_out_of_range);
}

TEST_CASE_METHOD(node_fixture, "malformed batches are rejected and leave the log unchanged",
                 "[broker]") {
  REQUIRE(create_topic("orders", 1));
  auto good = batch_of({{"k", "v"}});
  auto flipped = good;
  flipped[flipped.size() - 2] ^= 0x40;
  CHECK(produce("orders", 0, flipped).code() == errc::corrupt_message);
  CHECK(produce("orders", 0, bytes{1, 2, 3}).code() == errc::corrupt_message);
  auto bad_magic = good;
  bad_magic[batch_layout::magic] = 1;
  CHECK(produce("orders", 0, bad_magic).code() == errc::corrupt_message);
  auto ok = produce("orders", 0, good);
  REQUIRE(ok);
  CHECK(ok.value->base_offset == 0);
}

TEST_CASE_METHOD(node_fixture, "admin errors use Kafka's codes", "[broker]") {
  CHECK(create_topic("bad name", 1).code() == errc::invalid_topic_exception);
  CHECK(create_topic("neg", -4).code() == errc::invalid_partitions);
  CHECK(create_topic("cfg", 1, {{"retention.ms", "soon"}}).code() == errc::invalid_config);
  REQUIRE(create_topic("orders", 3));
  CHECK(create_topic("orders", 3).code() == errc::topic_already_exists);
  auto del = ask<bool>(broker, delete_topic_atom::value, std::string{"ghost"});
  CHECK(del.code() == errc::unknown_topic_or_partition);
}

TEST_CASE_METHOD(node_fixture, "partitions only grow, and new ones are usable", "[broker]") {
  REQUIRE(create_topic("orders", 2));
  alter_topic_request shrink;
  shrink.name = "orders";
  shrink.partitions = 1;
  CHECK(ask<topic_description>(broker, alter_topic_atom::value, shrink).code() ==
        errc::invalid_partitions);
  alter_topic_request grow = shrink;
  grow.partitions = 4;
  auto grown = ask<topic_description>(broker, alter_topic_atom::value, grow);
  REQUIRE(grown);
  CHECK(grown.value->partitions.size() == 4);
  auto p = produce("orders", 3, batch_of({{"k", "v"}}));
  REQUIRE(p);
  CHECK(p.value->base_offset == 0);
}

TEST_CASE_METHOD(node_fixture, "describe reports offsets; delete removes data", "[broker]") {
  REQUIRE(create_topic("orders", 1, {{"retention.ms", "1000"}}));
  REQUIRE(produce("orders", 0, batch_of({{"a", "1"}, {"b", "2"}})));
  auto d = ask<std::vector<topic_description>>(broker, describe_topics_atom::value,
                                               std::vector<std::string>{"orders"});
  REQUIRE(d);
  REQUIRE(d.value->size() == 1);
  auto& t = d.value->front();
  CHECK(t.configs.at("retention.ms") == "1000");
  CHECK(t.partitions[0].log_end_offset == 2);
  CHECK(t.partitions[0].leader == 1);
  CHECK(std::filesystem::exists(dir + "/orders-0"));
  auto del = ask<bool>(broker, delete_topic_atom::value, std::string{"orders"});
  REQUIRE(del);
  sched.run();
  CHECK_FALSE(std::filesystem::exists(dir + "/orders-0"));
  CHECK(produce("orders", 0, batch_of({{"a", "1"}})).code() ==
        errc::unknown_topic_or_partition);
}

TEST_CASE_METHOD(node_fixture, "list offsets: earliest, latest, by timestamp", "[broker]") {
  REQUIRE(create_topic("orders", 1));
  batch_builder b;
  b.append(1000, std::nullopt, byte_view{std::string_view{"x"}});
  b.append(2000, std::nullopt, byte_view{std::string_view{"y"}});
  REQUIRE(produce("orders", 0, b.build()));
  auto ask_ts = [&](int64_t ts) {
    return ask<list_offsets_response>(broker, list_offsets_atom::value,
                                      list_offsets_request{"orders", 0, ts});
  };
  CHECK(ask_ts(earliest_timestamp).value->offset == 0);
  CHECK(ask_ts(latest_timestamp).value->offset == 2);
  CHECK(ask_ts(1500).value->offset == 1);
  CHECK(ask_ts(5000).value->offset == -1);
}

namespace {
bytes idempotent(int64_t pid, int32_t seq, std::vector<std::string> values) {
  batch_options o;
  o.producer_id = pid;
  o.producer_epoch = 0;
  o.base_sequence = seq;
  batch_builder b{o};
  for (auto& v : values)
    b.append(1700000000000, std::nullopt, byte_view{std::string_view{v}});
  return b.build();
}
} // namespace

TEST_CASE_METHOD(node_fixture, "idempotent producer: a retried batch is not written twice",
                 "[broker][idempotence]") {
  REQUIRE(create_topic("orders", 1));
  auto pid = ask<producer_id_response>(broker, init_pid_atom::value);
  REQUIRE(pid);
  auto first = idempotent(pid.value->producer_id, 0, {"a", "b"});
  auto p1 = produce("orders", 0, first);
  REQUIRE(p1);
  // The reply was "lost": the producer sends the same batch again.
  auto p1_again = produce("orders", 0, first);
  REQUIRE(p1_again);
  CHECK(p1_again.value->base_offset == p1.value->base_offset);
  auto p2 = produce("orders", 0, idempotent(pid.value->producer_id, 2, {"c"}));
  REQUIRE(p2);
  CHECK(p2.value->base_offset == 2);
  // A gap in the sequence is refused.
  auto gap = produce("orders", 0, idempotent(pid.value->producer_id, 9, {"z"}));
  CHECK(gap.code() == errc::out_of_order_sequence_number);
  auto f = ask<fetch_response>(broker, fetch_atom::value, fetch_req("orders", 0, 0));
  REQUIRE(f);
  CHECK(values(*f.value) == std::vector<std::string>{"a", "b", "c"});
  // Producer ids are unique.
  auto pid2 = ask<producer_id_response>(broker, init_pid_atom::value);
  REQUIRE(pid2);
  CHECK(pid2.value->producer_id != pid.value->producer_id);
}

TEST_CASE_METHOD(node_fixture, "the partition's timer applies retention to closed segments",
                 "[broker][retention]") {
  // Tiny segments and a 1-byte size limit: every closed segment is over it.
  REQUIRE(create_topic("ticks", 1, {{"segment.bytes", "1024"}, {"retention.bytes", "1"}}));
  for (int i = 0; i < 40; ++i)
    REQUIRE(produce("ticks", 0, batch_of({{"k", std::string(100, char('a' + i % 26))}})));
  auto before = ask<partition_description>(broker, stats_atom::value, topic_partition{"ticks", 0});
  REQUIRE(before);
  CHECK(before.value->log_start_offset == 0);
  CHECK(before.value->log_end_offset == 40);
  sched.advance_time(std::chrono::milliseconds(1000)); // housekeeping tick
  sched.run();
  auto after = ask<partition_description>(broker, stats_atom::value, topic_partition{"ticks", 0});
  REQUIRE(after);
  CHECK(after.value->log_start_offset > 0);  // closed segments deleted
  CHECK(after.value->log_end_offset == 40);  // the active segment stays
  auto old = ask<fetch_response>(broker, fetch_atom::value, fetch_req("ticks", 0, 0));
  CHECK(old.code() == errc::offset_out_of_range);
}
