// Binary encoding of metadata commands (see metadata_commands.hpp).
#include <sstream>

#include "actors/controller/metadata_codec_io.hpp"
#include "actors/controller/metadata_commands.hpp"

namespace al {
namespace {

using codec::reader;
using codec::writer;

void write_fields(writer& w, const register_broker_cmd& c) {
  w.fixed(c.broker_id);
  w.str(c.host);
  w.fixed(c.port);
  w.fixed(c.incarnation);
  w.fixed(c.peer_port);
  w.str(c.kafka_host);
  w.fixed(c.kafka_port);
}
void read_fields_v1(reader& r, register_broker_cmd& c) {
  c.broker_id = r.fixed<int32_t>();
  c.host = r.str();
  c.port = r.fixed<uint16_t>();
  c.incarnation = r.fixed<int64_t>();
  c.peer_port = c.port;
}
void read_fields_v2(reader& r, register_broker_cmd& c) {
  read_fields_v1(r, c);
  c.peer_port = r.fixed<uint16_t>();
}
void read_fields(reader& r, register_broker_cmd& c) {
  read_fields_v2(r, c);
  c.kafka_host = r.str();
  c.kafka_port = r.fixed<uint16_t>();
}
void write_fields(writer& w, const fence_broker_cmd& c) {
  w.fixed(c.broker_id);
  w.fixed<uint8_t>(c.fenced ? 1 : 0);
}
void read_fields(reader& r, fence_broker_cmd& c) {
  c.broker_id = r.fixed<int32_t>();
  c.fenced = r.fixed<uint8_t>() != 0;
}
void write_fields(writer& w, const create_topic_cmd& c) {
  w.str(c.name);
  w.str(c.topic_id);
  w.configs(c.configs);
  w.assignment(c.assignment);
}
void read_fields(reader& r, create_topic_cmd& c) {
  c.name = r.str();
  c.topic_id = r.str();
  c.configs = r.configs();
  c.assignment = r.assignment();
}
void write_fields(writer& w, const create_partitions_cmd& c) {
  w.str(c.name);
  w.assignment(c.new_assignment);
}
void read_fields(reader& r, create_partitions_cmd& c) {
  c.name = r.str();
  c.new_assignment = r.assignment();
}
void write_fields(writer& w, const alter_configs_cmd& c) {
  w.str(c.name);
  w.configs(c.set);
  w.strs(c.remove);
}
void read_fields(reader& r, alter_configs_cmd& c) {
  c.name = r.str();
  c.set = r.configs();
  c.remove = r.strs();
}
void write_fields(writer& w, const delete_topic_cmd& c) { w.str(c.name); }
void read_fields(reader& r, delete_topic_cmd& c) { c.name = r.str(); }
void write_fields_v1(writer& w, const change_partition_cmd& c) {
  w.str(c.topic);
  w.fixed(c.partition);
  w.fixed(c.leader);
  w.ids(c.isr);
  w.fixed<uint8_t>(c.bump_leader_epoch ? 1 : 0);
  w.fixed(c.expected_partition_epoch);
}
/// Type 10 = type 7's fields, then u32 count and (i32 broker, i64 incarnation) pairs.
void write_fields(writer& w, const change_partition_cmd& c) {
  write_fields_v1(w, c);
  w.fixed<uint32_t>(static_cast<uint32_t>(c.broker_epochs.size()));
  for (auto& [id, incarnation] : c.broker_epochs) {
    w.fixed(id);
    w.fixed(incarnation);
  }
}
void read_fields_v1(reader& r, change_partition_cmd& c) {
  c.topic = r.str();
  c.partition = r.fixed<int32_t>();
  c.leader = r.fixed<int32_t>();
  c.isr = r.ids();
  c.bump_leader_epoch = r.fixed<uint8_t>() != 0;
  c.expected_partition_epoch = r.fixed<int32_t>();
  c.legacy = true;
}
void read_fields(reader& r, change_partition_cmd& c) {
  read_fields_v1(r, c);
  c.legacy = false;
  auto n = r.count(sizeof(int32_t) + sizeof(int64_t));
  for (size_t i = 0; i < n; ++i) {
    auto id = r.fixed<int32_t>();
    c.broker_epochs[id] = r.fixed<int64_t>();
  }
}

void write_fields(writer& w, const allocate_producer_ids_cmd& c) {
  w.fixed(c.first);
  w.fixed(c.count);
}
void read_fields(reader& r, allocate_producer_ids_cmd& c) {
  c.first = r.fixed<int64_t>();
  c.count = r.fixed<int32_t>();
}

template <size_t I = 0>
bool decode_alternative(uint8_t type, reader& r, metadata_command& out) {
  if constexpr (I < std::variant_size_v<metadata_command>) {
    using T = std::variant_alternative_t<I, metadata_command>;
    if (T::type_id == type) {
      T cmd;
      read_fields(r, cmd);
      out = std::move(cmd);
      return true;
    }
    return decode_alternative<I + 1>(type, r, out);
  } else {
    return false;
  }
}

} // namespace

bytes encode_command(const metadata_command& cmd) {
  bytes out;
  out.reserve(64);
  writer w{out};
  std::visit(
    [&](const auto& c) {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, change_partition_cmd>)
        if (c.legacy) { // a replayed type 7 command keeps its encoding
          w.fixed<uint8_t>(T::type_id_v1);
          write_fields_v1(w, c);
          return;
        }
      w.fixed<uint8_t>(T::type_id);
      write_fields(w, c);
    },
    cmd);
  return out;
}

result<metadata_command> decode_command(byte_view in) {
  reader r{in};
  auto type = r.fixed<uint8_t>();
  metadata_command cmd;
  if (!r.ok())
    return status{errc::corrupt_message, "metadata command: empty record"};
  if (type == register_broker_cmd::type_id_v1) {
    register_broker_cmd legacy;
    read_fields_v1(r, legacy);
    cmd = std::move(legacy);
  } else if (type == register_broker_cmd::type_id_v2) {
    register_broker_cmd legacy;
    read_fields_v2(r, legacy);
    cmd = std::move(legacy);
  } else if (type == change_partition_cmd::type_id_v1) {
    change_partition_cmd legacy;
    read_fields_v1(r, legacy);
    cmd = std::move(legacy);
  } else if (!decode_alternative(type, r, cmd))
    return status{errc::corrupt_message,
                  "metadata command: unknown type id " + std::to_string(type)};
  if (!r.ok() || !r.at_end())
    return status{errc::corrupt_message, "metadata command type " + std::to_string(type) +
                                           ": " + (r.ok() ? "trailing bytes" : "truncated")};
  return cmd;
}

std::string describe(const metadata_command& cmd) {
  std::ostringstream os;
  std::visit(
    [&](const auto& c) {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, register_broker_cmd>)
        os << "register_broker " << c.broker_id << " at " << c.host << ':' << c.port
           << " (peers :" << c.peer_port << ", Kafka " << c.kafka_host << ':' << c.kafka_port
           << ")";
      else if constexpr (std::is_same_v<T, fence_broker_cmd>)
        os << (c.fenced ? "fence_broker " : "unfence_broker ") << c.broker_id;
      else if constexpr (std::is_same_v<T, create_topic_cmd>)
        os << "create_topic " << c.name << " (" << c.assignment.size() << " partitions)";
      else if constexpr (std::is_same_v<T, create_partitions_cmd>)
        os << "create_partitions " << c.name << " (+" << c.new_assignment.size() << ")";
      else if constexpr (std::is_same_v<T, alter_configs_cmd>)
        os << "alter_configs " << c.name;
      else if constexpr (std::is_same_v<T, delete_topic_cmd>)
        os << "delete_topic " << c.name;
      else if constexpr (std::is_same_v<T, change_partition_cmd>)
        os << "change_partition " << c.topic << '-' << c.partition << " leader " << c.leader;
      else if (c.count > 0 && c.first <= INT64_MAX - (c.count - 1))
        os << "allocate_producer_ids " << c.first << ".." << (c.first + c.count - 1);
      else // a range that cannot be: the last id would overflow (never printed wrapped)
        os << "allocate_producer_ids " << c.first << " count " << c.count;
    },
    cmd);
  return os.str();
}

} // namespace al
