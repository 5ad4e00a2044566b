#pragma once
// Cluster metadata changes as data. The active controller appends each
// command to the metadata log (`__cluster_metadata`); every node applies
// committed commands in log order (metadata_machine::apply). Command type
// ids are only ever appended, never reused: they are on disk.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "actors/protocol/admin_messages.hpp"
#include "storage/bytes.hpp"
#include "storage/status.hpp"

namespace al {

/// Type 11 carries the advertised Kafka listener; type 9 (before it) and
/// type 1 (before the peer listener was split off) are still read, with no
/// Kafka listener and peer_port = port respectively.
struct register_broker_cmd {
  static constexpr uint8_t type_id = 11;
  static constexpr uint8_t type_id_v2 = 9;
  static constexpr uint8_t type_id_v1 = 1;
  int32_t broker_id = -1;
  std::string host;
  uint16_t port = 0;       // the CAF client listener
  int64_t incarnation = 0; // changes on every process start
  uint16_t peer_port = 0;  // the peer listener (0: same as port)
  std::string kafka_host = {}; // the advertised Kafka listener
  uint16_t kafka_port = 0; // 0: none
};

struct fence_broker_cmd {
  static constexpr uint8_t type_id = 2;
  int32_t broker_id = -1;
  bool fenced = true; // false: unfence
};

struct create_topic_cmd {
  static constexpr uint8_t type_id = 3;
  std::string name;
  std::string topic_id;
  config_map configs;
  std::vector<std::vector<int32_t>> assignment; // replicas per partition; [0] is the preferred leader
};

struct create_partitions_cmd {
  static constexpr uint8_t type_id = 4;
  std::string name;
  std::vector<std::vector<int32_t>> new_assignment; // for partitions count..count+n-1
};

struct alter_configs_cmd {
  static constexpr uint8_t type_id = 5;
  std::string name;
  config_map set;
  std::vector<std::string> remove;
};

struct delete_topic_cmd {
  static constexpr uint8_t type_id = 6;
  std::string name;
};

/// Leader and ISR changes (leader election, ISR shrink/expand). Type 10
/// carries the incarnations it was planned against; type 7 (written before
/// that) is still read and applies as it did then, without the check.
struct change_partition_cmd {
  static constexpr uint8_t type_id = 10;
  static constexpr uint8_t type_id_v1 = 7;
  std::string topic;
  int32_t partition = 0;
  int32_t leader = -1;
  std::vector<int32_t> isr;
  bool bump_leader_epoch = false;
  /// Compare-and-set: applied only while the partition epoch is still this
  /// one (-1: unconditional). Planned changes race each other in the log
  /// (an ISR change and an election planned against the same image); only
  /// the first applies, the other is rejected with INVALID_UPDATE_VERSION.
  int32_t expected_partition_epoch = -1;
  /// KIP-903 at apply time: broker id -> the incarnation the planner saw
  /// live, for every member of `isr`. A member this change adds to the ISR
  /// must still be unfenced with that incarnation when the command applies
  /// (a fence or a re-registration may have been logged after planning),
  /// else the command is rejected with INELIGIBLE_REPLICA.
  std::map<int32_t, int64_t> broker_epochs = {};
  /// Decoded from type 7: applied without the check, as it was when logged
  /// (replay must give every node the image it had).
  bool legacy = false;
};

/// Reserves producer ids [first, first + count) for idempotent producers.
struct allocate_producer_ids_cmd {
  static constexpr uint8_t type_id = 8;
  int64_t first = 0;
  int32_t count = 0;
};

using metadata_command =
  std::variant<register_broker_cmd, fence_broker_cmd, create_topic_cmd, create_partitions_cmd,
               alter_configs_cmd, delete_topic_cmd, change_partition_cmd,
               allocate_producer_ids_cmd>;

/// Short human-readable form for logs: "create_topic orders (6 partitions)".
std::string describe(const metadata_command& cmd);

/// Binary encoding (stored as a record value in the metadata log):
/// u8 type id, then the fields big-endian, strings and lists length-prefixed (u32).
bytes encode_command(const metadata_command& cmd);
result<metadata_command> decode_command(byte_view in);

} // namespace al
