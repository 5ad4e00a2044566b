// `actorlog groups` and `consume --group` helpers without CAF: --to-datetime
// parsing and kafka-consumer-groups' tables.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "runtime/cli/cli_args.hpp"
#include "runtime/cli/output_format.hpp"

using namespace al;
using namespace al::cli;

TEST_CASE("to-datetime (--to-datetime) accepts Kafka's format, zones and epoch millis", "[cli][group]") {
  CHECK(*parse_datetime_ms("2023-11-14T22:13:20.000Z") == 1700000000000);
  CHECK(*parse_datetime_ms("2023-11-14T22:13:20Z") == 1700000000000);
  CHECK(*parse_datetime_ms("2023-11-14T23:13:20.250+01:00") == 1700000000250);
  CHECK(*parse_datetime_ms("2023-11-14T16:43:20-0530") == 1700000000000);
  CHECK(*parse_datetime_ms("1700000000000") == 1700000000000);
  CHECK(*parse_datetime_ms("1970-01-01T00:00:00Z") == 0);
  CHECK(*parse_datetime_ms("2024-02-29T00:00:00Z") == 1709164800000); // leap day
  // Without a zone: local time, as Kafka. Pin the zone for the test.
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  CHECK(*parse_datetime_ms("2023-11-14T22:13:20.000") == 1700000000000);
  for (auto bad : {"", "2023-11-14", "2023-13-01T00:00:00Z", "2023-11-14 22:13:20Z",
                   "2023-11-14T22:13:20.5Z", "2023-11-14T22:13:20Q", "2023-11-14T25:00:00Z",
                   "12ab"}) {
    INFO(bad);
    auto r = parse_datetime_ms(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message().find("YYYY-MM-DD") != std::string::npos);
  }
}

namespace {

group_description sample_group() {
  group_description g;
  g.group_id = "risk";
  g.state = group_state::stable;
  g.protocol_type = "consumer";
  g.protocol_name = "range";
  g.generation_id = 4;
  g.members = {
    member_description{"c1-abc-1", "c1", "host-a", 45000, 300000, {"orders"},
                       {{"orders", 0}, {"orders", 1}}},
    member_description{"c2-abc-2", "c2", "host-b", 45000, 300000, {"orders"}, {}},
  };
  g.offsets[{"orders", 0}] = group_offset{90, "", 4, 1, -1};
  g.offsets[{"orders", 2}] = group_offset{10, "", 3, 1, -1};
  return g;
}

} // namespace

TEST_CASE("groups describe has kafka-consumer-groups' columns and lag", "[cli][group]") {
  auto g = sample_group();
  std::map<topic_partition, int64_t> ends{{{"orders", 0}, 100}, {{"orders", 1}, 7}};
  CHECK(format_group_offsets(g, ends) ==
        "GROUP TOPIC  PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST   CLIENT-ID\n"
        "risk  orders 0         90             100            10  c1-abc-1    host-a c1\n"
        "risk  orders 1         -              7              -   c1-abc-1    host-a c1\n"
        "risk  orders 2         10             -              -   -           -      -\n"
        "risk  -      -         -              -              -   c2-abc-2    host-b c2\n");
  CHECK(format_group_state(g, "127.0.0.1:9101 (1)") ==
        "GROUP COORDINATOR (ID)   ASSIGNMENT-STRATEGY STATE  #MEMBERS\n"
        "risk  127.0.0.1:9101 (1) range               Stable 2\n");
}

TEST_CASE("groups list --state and reset-offsets plans", "[cli][group]") {
  CHECK(format_group_listing({{"b", group_state::empty, "", 0},
                              {"a", group_state::stable, "consumer", 2}}) ==
        "GROUP STATE\n"
        "a     Stable\n"
        "b     Empty\n");
  CHECK(format_offset_plan("risk", {{{"orders", 1}, 5}, {{"orders", 0}, 0}}) ==
        "GROUP TOPIC  PARTITION NEW-OFFSET\n"
        "risk  orders 0         0\n"
        "risk  orders 1         5\n");
}
