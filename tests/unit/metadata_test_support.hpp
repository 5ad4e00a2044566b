#pragma once
// A metadata image with every kind of field set (two brokers, one fenced;
// a topic with configs and three partitions; an empty topic), for the
// snapshot codec's tests.
#include "actors/controller/metadata_machine.hpp"

namespace al::test {

inline metadata_image sample_image() {
  metadata_image img;
  img.last_offset = 41;
  img.next_producer_id = 3000;
  img.brokers[1] = broker_description{1, "127.0.0.1", 9101, false, 9201, "kafka1", 9092};
  img.brokers[2] = broker_description{2, "10.0.0.2", 9102, true, 9202};
  img.broker_incarnations = {{1, 1700000000001}, {2, 1700000000002}};
  topic_description t;
  t.name = "orders";
  t.topic_id = "0123456789abcdef0123456789abcdef";
  t.configs = {{"retention.ms", "1000"}, {"cleanup.policy", "compact"}};
  for (int32_t p = 0; p < 3; ++p) {
    partition_description d;
    d.partition = p;
    d.leader = 1 + p % 2;
    d.leader_epoch = 7 + p;
    d.partition_epoch = 20 + p;
    d.replicas = {1 + p % 2, 2 - p % 2};
    d.isr = {1 + p % 2};
    t.partitions.push_back(d);
  }
  img.topics["orders"] = t;
  img.topics["empty"] = topic_description{"empty", "", {}, {}};
  return img;
}

} // namespace al::test
