#pragma once
// al::consumer: the consumer as plain C++ (Kafka's KafkaConsumer). Not
// thread-safe, like Kafka's: one thread polls. Fetching runs in the
// background in the consumer actor, so poll() usually returns buffered
// records at once.
//
//   auto c = al::consumer::create(sys, {{"bootstrap.servers", "127.0.0.1:9101"},
//                                       {"auto.offset.reset", "earliest"}});
//   (*c)->assign({{"orders", 0}});
//   for (auto& r : (*c)->poll(std::chrono::milliseconds(500))) ...
#include <chrono>
#include <memory>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/client/client_config.hpp"
#include "actors/client/consumer_record.hpp"

namespace al {

class consumer {
public:
  static result<std::unique_ptr<consumer>> create(caf::actor_system& sys, const properties& props,
                                                  caf::actor direct_broker = {});
  ~consumer();

  /// Manual assignment (no group): replaces the assigned partitions.
  status assign(const std::vector<topic_partition>& partitions);
  const std::vector<topic_partition>& assignment() const { return assignment_; }

  /// Up to max.poll.records records; waits up to `timeout` when none are buffered.
  std::vector<consumer_record> poll(std::chrono::milliseconds timeout);

  void seek(const topic_partition& tp, int64_t offset);
  void seek_to_beginning(const std::vector<topic_partition>& tps);
  void seek_to_end(const std::vector<topic_partition>& tps);
  /// The offset of the next record poll() will return for tp.
  result<int64_t> position(const topic_partition& tp);
  void pause(const std::vector<topic_partition>& tps);
  void resume(const std::vector<topic_partition>& tps);

  void close();
  caf::actor handle() const { return actor_; }
  const consumer_config& config() const { return cfg_; }

private:
  consumer(caf::actor_system& sys, consumer_config cfg) : sys_(sys), cfg_(std::move(cfg)) {}

  caf::actor_system& sys_;
  consumer_config cfg_;
  caf::actor actor_;
  std::vector<topic_partition> assignment_;
  bool closed_ = false;
};

} // namespace al
