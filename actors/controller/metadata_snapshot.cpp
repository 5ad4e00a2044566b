// Snapshot encoding of the metadata image (format in metadata_snapshot.hpp).
#include "actors/controller/metadata_snapshot.hpp"

#include "actors/controller/metadata_codec_io.hpp"
#include "storage/assert.hpp"
#include "storage/crc32c.hpp"

namespace al {

namespace {

using codec::reader;
using codec::writer;

constexpr size_t crc_size = 4;

status corrupt(const std::string& where, const std::string& what) {
  return status{errc::corrupt_message, where + ": " + what};
}

void write_topic(writer& w, const topic_description& t) {
  w.str(t.name);
  w.str(t.topic_id);
  w.configs(t.configs);
  w.fixed<uint32_t>(uint32_t(t.partitions.size()));
  for (const partition_description& p : t.partitions) {
    w.fixed(p.partition);
    w.fixed(p.leader);
    w.fixed(p.leader_epoch);
    w.fixed(p.partition_epoch);
    w.ids(p.replicas);
    w.ids(p.isr);
  }
}

topic_description read_topic(reader& r) {
  topic_description t;
  t.name = r.str();
  t.topic_id = r.str();
  t.configs = r.configs();
  t.partitions.resize(r.count(4 + 4 + 4 + 4 + 4 + 4));
  for (partition_description& p : t.partitions) {
    p.partition = r.fixed<int32_t>();
    p.leader = r.fixed<int32_t>();
    p.leader_epoch = r.fixed<int32_t>();
    p.partition_epoch = r.fixed<int32_t>();
    p.replicas = r.ids();
    p.isr = r.ids();
  }
  return t;
}

} // namespace

bytes encode_image(const metadata_image& image) {
  bytes out;
  out.reserve(256 + image.topics.size() * 128);
  writer w{out};
  w.fixed<uint8_t>(metadata_snapshot_version);
  w.fixed(image.last_offset);
  w.fixed(image.next_producer_id);
  w.fixed<uint32_t>(uint32_t(image.brokers.size()));
  for (const auto& [id, b] : image.brokers) {
    AL_ASSERT(id == b.id, id, b.id);
    w.fixed(b.id);
    w.str(b.host);
    w.fixed(b.port);
    w.fixed<uint8_t>(b.fenced ? 1 : 0);
    w.fixed(b.peer_port);
    w.str(b.kafka_host);
    w.fixed(b.kafka_port);
  }
  w.fixed<uint32_t>(uint32_t(image.broker_incarnations.size()));
  for (const auto& [id, incarnation] : image.broker_incarnations) {
    w.fixed(id);
    w.fixed(incarnation);
  }
  w.fixed<uint32_t>(uint32_t(image.topics.size()));
  for (const auto& [name, t] : image.topics) {
    AL_ASSERT(name == t.name, name, t.name);
    write_topic(w, t);
  }
  w.fixed<uint32_t>(crc32c(out.data(), out.size()));
  return out;
}

result<metadata_image> decode_image(byte_view in, const std::string& where) {
  if (in.size < 1 + crc_size)
    return corrupt(where, std::to_string(in.size) + " bytes is too short for a snapshot");
  uint32_t stored = load_be<uint32_t>(in.data + in.size - crc_size);
  if (stored != crc32c(in.data, in.size - crc_size))
    return corrupt(where, "CRC mismatch");
  auto version = in.data[0];
  if (version != metadata_snapshot_version && version != 2 && version != 1)
    return corrupt(where, "unknown snapshot version " + std::to_string(version));
  reader r{in.sub(1, in.size - 1 - crc_size)};
  metadata_image image;
  image.last_offset = r.fixed<int64_t>();
  image.next_producer_id = r.fixed<int64_t>();
  auto brokers = r.count(4 + 4 + 2 + 1 + (version == 1 ? 0 : 2) + (version >= 3 ? 4 + 2 : 0));
  for (size_t i = 0; i < brokers && r.ok(); ++i) {
    broker_description b;
    b.id = r.fixed<int32_t>();
    b.host = r.str();
    b.port = r.fixed<uint16_t>();
    b.fenced = r.fixed<uint8_t>() != 0;
    b.peer_port = version == 1 ? b.port : r.fixed<uint16_t>();
    if (version >= 3) {
      b.kafka_host = r.str();
      b.kafka_port = r.fixed<uint16_t>();
    }
    if (!image.brokers.emplace(b.id, b).second)
      return corrupt(where, "broker " + std::to_string(b.id) + " appears twice");
  }
  auto incarnations = r.count(4 + 8);
  for (size_t i = 0; i < incarnations && r.ok(); ++i) {
    auto id = r.fixed<int32_t>();
    image.broker_incarnations[id] = r.fixed<int64_t>();
  }
  auto topics = r.count(4 + 4 + 4 + 4);
  for (size_t i = 0; i < topics && r.ok(); ++i) {
    auto t = read_topic(r);
    if (!r.ok())
      break;
    auto name = t.name;
    if (!image.topics.emplace(name, std::move(t)).second)
      return corrupt(where, "topic " + name + " appears twice");
  }
  if (!r.ok())
    return corrupt(where, "truncated");
  if (!r.at_end())
    return corrupt(where, "trailing bytes after the topics");
  return image;
}

} // namespace al
