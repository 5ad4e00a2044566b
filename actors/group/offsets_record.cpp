#include "actors/group/offsets_record.hpp"

#include "storage/batch_header.hpp"
#include "storage/record_batch.hpp"

namespace al {

namespace {

template <class T>
void put(bytes& out, T value) {
  auto at = out.size();
  out.resize(at + sizeof(T));
  store_be<T>(out.data() + at, value);
}

void put_string(bytes& out, const std::string& s) {
  AL_ASSERT(s.size() <= size_t(INT16_MAX), s.size());
  put<int16_t>(out, int16_t(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

/// Bounds-checked reads; every failure names the field.
struct reader {
  byte_view in;
  size_t pos = 0;
  const char* what;

  status fail(const char* field) const {
    return {errc::corrupt_message, std::string(what) + ": truncated at " + field + " (byte " +
                                     std::to_string(pos) + " of " + std::to_string(in.size) +
                                     ")"};
  }
  template <class T>
  result<T> get(const char* field) {
    if (in.size - pos < sizeof(T))
      return fail(field);
    auto v = load_be<T>(in.data + pos);
    pos += sizeof(T);
    return v;
  }
  result<std::string> get_string(const char* field) {
    auto len = get<int16_t>(field);
    if (!len)
      return len.error();
    if (*len < 0 || in.size - pos < size_t(*len))
      return fail(field);
    std::string s(reinterpret_cast<const char*>(in.data + pos), size_t(*len));
    pos += size_t(*len);
    return s;
  }
};

} // namespace

bytes encode_offset_key(const offset_key& key) {
  bytes out;
  put<int16_t>(out, offset_key_version);
  put_string(out, key.group_id);
  put_string(out, key.tp.topic);
  put<int32_t>(out, key.tp.partition);
  return out;
}

bytes encode_offset_value(const group_offset& v) {
  bytes out;
  put<int16_t>(out, offset_value_version);
  put<int64_t>(out, v.offset);
  put<int32_t>(out, v.leader_epoch);
  put_string(out, v.metadata);
  put<int64_t>(out, v.commit_time_ms);
  put<int32_t>(out, v.generation_id);
  return out;
}

result<std::optional<offset_key>> decode_offset_key(byte_view data) {
  reader r{data, 0, "offsets key"};
  auto version = r.get<int16_t>("version");
  if (!version)
    return version.error();
  if (*version != 0 && *version != 1)
    return std::optional<offset_key>{}; // group metadata (2) or newer: not an offset
  auto group = r.get_string("group");
  if (!group)
    return group.error();
  auto topic = r.get_string("topic");
  if (!topic)
    return topic.error();
  auto partition = r.get<int32_t>("partition");
  if (!partition)
    return partition.error();
  return std::optional<offset_key>{offset_key{*group, topic_partition{*topic, *partition}}};
}

result<group_offset> decode_offset_value(byte_view data) {
  reader r{data, 0, "offsets value"};
  auto version = r.get<int16_t>("version");
  if (!version)
    return version.error();
  if (*version != offset_value_version)
    return status{errc::corrupt_message,
                  "offsets value: unsupported version " + std::to_string(*version)};
  group_offset v;
  auto offset = r.get<int64_t>("offset");
  auto epoch = offset ? r.get<int32_t>("leader_epoch") : result<int32_t>(offset.error());
  if (!epoch)
    return epoch.error();
  auto metadata = r.get_string("metadata");
  if (!metadata)
    return metadata.error();
  auto time = r.get<int64_t>("commit_timestamp");
  if (!time)
    return time.error();
  v.offset = *offset;
  v.leader_epoch = *epoch;
  v.metadata = std::move(*metadata);
  v.commit_time_ms = *time;
  if (r.pos == data.size)
    return v; // Kafka's v3 without actorlog's generation
  auto generation = r.get<int32_t>("generation_id");
  if (!generation)
    return generation.error();
  v.generation_id = *generation;
  return v;
}

bytes offset_commit_batch(const std::string& group_id, const group_offsets& offsets,
                          int64_t timestamp_ms) {
  AL_ASSERT(!offsets.empty(), group_id);
  batch_builder b;
  for (auto& [tp, v] : offsets) {
    auto key = encode_offset_key(offset_key{group_id, tp});
    auto value = encode_offset_value(v);
    b.append(timestamp_ms, byte_view{key}, byte_view{value});
  }
  return b.build();
}

bytes offset_tombstone_batch(const std::string& group_id,
                             const std::vector<topic_partition>& partitions,
                             int64_t timestamp_ms) {
  AL_ASSERT(!partitions.empty(), group_id);
  batch_builder b;
  for (auto& tp : partitions) {
    auto key = encode_offset_key(offset_key{group_id, tp});
    b.append(timestamp_ms, byte_view{key}, std::nullopt);
  }
  return b.build();
}

result<int64_t> offsets_loader::apply(byte_view data, int64_t from) {
  int64_t next = from;
  size_t pos = 0;
  while (data.size - pos >= batch_layout::log_overhead) {
    auto length = load_be<int32_t>(data.data + pos + batch_layout::batch_length);
    if (length < 0)
      return status{errc::corrupt_message, "offsets partition: negative batch length"};
    auto size = batch_layout::log_overhead + size_t(length);
    if (data.size - pos < size)
      break; // cut off at the end of the read
    auto batch = decode_batch(data.sub(pos, size), "offsets partition at " + std::to_string(next));
    if (!batch)
      return batch.error();
    pos += size;
    if (!batch->header.is_control()) {
      for (auto& rec : batch->records) {
        if (rec.offset < from)
          continue;
        if (!rec.key)
          return status{errc::corrupt_message,
                        "offsets partition: record " + std::to_string(rec.offset) + " has no key"};
        auto key = decode_offset_key(*rec.key);
        if (!key)
          return key.error();
        if (*key)
          apply_record(**key, rec.value);
      }
    }
    next = std::max(next, batch->header.next_offset());
  }
  return next;
}

void offsets_loader::apply_record(const offset_key& key, const std::optional<byte_view>& value) {
  ++records_;
  auto& g = groups_[key.group_id];
  if (!value) {
    g.offsets.erase(key.tp);
    return;
  }
  auto v = decode_offset_value(*value);
  if (!v) {
    ++unreadable_; // skipped: the next commit of the key replaces it
    return;
  }
  g.max_generation = std::max(g.max_generation, v->generation_id);
  g.offsets[key.tp] = std::move(*v);
}

std::map<std::string, offsets_loader::loaded_group> offsets_loader::groups() const {
  std::map<std::string, loaded_group> out;
  for (auto& [id, g] : groups_)
    if (!g.offsets.empty())
      out.emplace(id, g);
  return out;
}

std::vector<std::string> offsets_loader::deleted_groups() const {
  std::vector<std::string> out;
  for (auto& [id, g] : groups_)
    if (g.offsets.empty())
      out.push_back(id);
  return out;
}

} // namespace al
