#pragma once
// What the demo asks the cluster besides producing and consuming, done the
// way the CLI does it: topic creation through a broker's admin interface
// (create_topic_atom, forwarded to the active controller), log end offsets
// and group offsets through ordinary consumers (Kafka's endOffsets,
// committed and an OffsetCommit as `groups reset-offsets` sends it).
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/broker/client_api.hpp"
#include "storage/status.hpp"

namespace trading {

/// partition -> offset
using offset_map = std::map<int32_t, int64_t>;

struct topic_spec {
  std::string name;
  int32_t partitions = 6;
  int32_t replication_factor = 1;
};

class cluster_admin {
public:
  /// Connects to the first broker of `bootstrap` ("host:port,...") that answers.
  static al::result<std::unique_ptr<cluster_admin>> connect(caf::actor_system& sys,
                                                            const std::string& bootstrap);

  /// Creates the topic unless it exists, waits until every partition has a
  /// leader, and returns the partition ids. `created` says which happened.
  al::result<std::vector<int32_t>> ensure_topic(const topic_spec& spec, bool& created);

  /// The log end offset (high watermark) of each partition.
  al::result<offset_map> end_offsets(const std::string& topic,
                                     const std::vector<int32_t>& partitions);

  /// The group's committed offsets (-1 where it has none).
  al::result<offset_map> committed(const std::string& group, const std::string& topic,
                                   const std::vector<int32_t>& partitions);

  /// Sets the group's committed offsets (the group must have no members;
  /// retried while the coordinator starts or an old member times out).
  al::status reset_group(const std::string& group, const std::string& topic,
                         const offset_map& offsets);

  const std::string& bootstrap() const { return bootstrap_; }

private:
  cluster_admin(caf::actor_system& sys, std::string bootstrap, al::client_api broker)
    : sys_(sys), bootstrap_(std::move(bootstrap)), broker_(std::move(broker)) {}

  caf::actor_system& sys_;
  std::string bootstrap_;
  al::client_api broker_;
};

} // namespace trading
