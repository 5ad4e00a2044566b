#include "actors/group/offsets_record.hpp"

#include "actors/group/group_limits.hpp"
#include "actors/group/group_metadata_record.hpp"
#include "actors/group/offsets_wire.hpp"
#include "actors/partition/partition_txn_machine.hpp"
#include "storage/batch_header.hpp"
#include "storage/batch_walk.hpp"
#include "storage/record_batch.hpp"

namespace al {

using offsets_wire::put;
using offsets_wire::put_string;
using offsets_wire::reader;

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
  return walk_batches(data, from, "offsets partition", [&](byte_view raw, const decoded_batch& batch) {
    const auto& h = batch.header;
    if (h.is_transactional() && h.has_producer_id()) {
      // TxnOffsetCommit (issue 16): applied at its producer's COMMIT marker.
      if (!h.is_control()) {
        stash_txn_records(batch, from);
      } else if (h.base_offset >= from) {
        if (auto m = decode_txn_marker(raw)) // one that does not decode is no marker
          end_txn(h.producer_id, m->commit);
      }
    } else if (!h.is_control()) {
      for (auto& rec : batch.records)
        if (rec.offset >= from)
          apply_record(rec.offset, rec.key, rec.value);
    }
  });
}

void offsets_loader::skip(int64_t& counter, int64_t offset, std::string why) {
  ++counter;
  if (first_skipped_.empty())
    first_skipped_ = "record " + std::to_string(offset) + ": " + std::move(why);
}

void offsets_loader::apply_record(int64_t offset, const std::optional<byte_view>& key_bytes,
                                  const std::optional<byte_view>& value) {
  // Nothing a record holds may stop the load: what no coordinator writes
  // is skipped and counted (a client could produce it, A2 in the audit).
  if (!key_bytes)
    return skip(skipped_.bad_key, offset, "no key");
  if (key_bytes->size >= 2 && load_be<int16_t>(key_bytes->data) == group_metadata_key_version)
    return apply_group_metadata(offset, *key_bytes, value);
  auto decoded = decode_offset_key(*key_bytes);
  if (!decoded)
    return skip(skipped_.bad_key, offset, decoded.error().message());
  if (!*decoded)
    return; // a key version of a kind this loader does not know: not ours to read
  auto& key = **decoded;
  if (key.group_id.empty() || key.tp.topic.empty() || key.tp.partition < 0)
    return skip(skipped_.bad_key, offset,
                "a key with an empty group id or topic, or a negative partition");
  ++records_;
  plain_at_[{key.group_id, key.tp}] = offset;
  if (!value) { // the group is listed as deleted even if its commits were compacted away
    groups_[key.group_id].offsets.erase(key.tp);
    return;
  }
  auto v = decode_offset_value(*value);
  if (!v)
    return count_unreadable(offset, v.error()); // the next commit of the key replaces it
  if (v->generation_id > max_loaded_generation_id)
    return skip(skipped_.absurd_generation, offset,
                "generation " + std::to_string(v->generation_id));
  auto& g = groups_[key.group_id];
  g.max_generation = std::max(g.max_generation, v->generation_id);
  g.offsets[key.tp] = std::move(*v);
}

void offsets_loader::apply_group_metadata(int64_t offset, byte_view key_bytes,
                                          const std::optional<byte_view>& value) {
  auto group_id = decode_group_metadata_key(key_bytes);
  if (!group_id)
    return skip(skipped_.bad_key, offset, group_id.error().message());
  if (group_id->empty())
    return skip(skipped_.bad_key, offset, "a group metadata key with an empty group id");
  ++records_;
  if (!value) { // DeleteGroups
    groups_[*group_id].has_metadata = false;
    return;
  }
  auto v = decode_group_metadata_value(*value);
  if (!v)
    return count_unreadable(offset, v.error());
  if (v->generation_id > max_loaded_generation_id)
    return skip(skipped_.absurd_generation, offset,
                "generation " + std::to_string(v->generation_id));
  // Only the generation is used, so that a group's generations keep
  // growing: members are not restored, they rejoin (their heartbeats get
  // UNKNOWN_MEMBER_ID from the new coordinator).
  auto& g = groups_[*group_id];
  g.max_generation = std::max(g.max_generation, v->generation_id);
  g.has_metadata = true;
}

void offsets_loader::count_unreadable(int64_t offset, const status& why) {
  ++unreadable_;
  if (first_skipped_.empty())
    first_skipped_ = "record " + std::to_string(offset) + ": " + why.message();
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
    if (g.offsets.empty() && !g.has_metadata)
      out.push_back(id);
  return out;
}

void offsets_loader::stash_txn_records(const decoded_batch& batch, int64_t from) {
  auto& list = pending_[batch.header.producer_id];
  for (auto& rec : batch.records) {
    if (rec.offset < from)
      continue;
    if (!rec.key || !rec.value) {
      skip(skipped_.bad_key, rec.offset, "a transactional offset commit without key or value");
      continue;
    }
    auto key = decode_offset_key(*rec.key);
    if (!key || !*key || (*key)->group_id.empty() || (*key)->tp.topic.empty()) {
      skip(skipped_.bad_key, rec.offset, "a transactional record that is not an offset commit");
      continue;
    }
    auto v = decode_offset_value(*rec.value);
    if (!v) {
      count_unreadable(rec.offset, v.error());
      continue;
    }
    auto& k = **key;
    if (list.empty() || list.back().group_id != k.group_id ||
        list.back().record_offset != batch.header.base_offset)
      list.push_back({k.group_id, {}, batch.header.base_offset});
    list.back().offsets[k.tp] = std::move(*v);
  }
}

void offsets_loader::end_txn(int64_t producer_id, bool commit) {
  auto p = pending_.find(producer_id);
  if (p == pending_.end())
    return;
  if (commit)
    for (auto& c : p->second)
      for (auto& [tp, v] : c.offsets) {
        if (plain_commit_offset(c.group_id, tp) > c.record_offset)
          continue; // a plain commit written after it wins (as Kafka)
        ++records_;
        auto& g = groups_[c.group_id];
        g.max_generation = std::max(g.max_generation, std::max(v.generation_id, 0));
        g.offsets[tp] = v;
      }
  pending_.erase(p);
}

int64_t offsets_loader::plain_commit_offset(const std::string& group_id,
                                            const topic_partition& tp) const {
  auto i = plain_at_.find({group_id, tp});
  return i == plain_at_.end() ? -1 : i->second;
}

} // namespace al
