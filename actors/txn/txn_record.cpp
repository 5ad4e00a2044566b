#include "actors/txn/txn_record.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "actors/group/offsets_wire.hpp"
#include "storage/batch_walk.hpp"
#include "storage/record_batch.hpp"

namespace al {

namespace {

using offsets_wire::put;
using offsets_wire::put_string;
using offsets_wire::reader;

status bad(const char* what, const std::string& why) {
  return {errc::corrupt_message, std::string(what) + ": " + why};
}

} // namespace

bytes encode_txn_key(const std::string& transactional_id) {
  bytes out;
  put<int16_t>(out, txn_key_version);
  put_string(out, transactional_id);
  return out;
}

std::optional<bytes> encode_txn_value(const txn_log_entry& e) {
  if (e.tombstone)
    return std::nullopt;
  bytes out;
  put<int16_t>(out, txn_value_version);
  put<int64_t>(out, e.producer_id);
  put<int16_t>(out, e.producer_epoch);
  put<int32_t>(out, e.timeout_ms);
  put<int8_t>(out, int8_t(e.state));
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const auto& tp : e.partitions)
    by_topic[tp.topic].push_back(tp.partition);
  put<int32_t>(out, int32_t(by_topic.size()));
  for (const auto& [topic, parts] : by_topic) {
    put_string(out, topic);
    put<int32_t>(out, int32_t(parts.size()));
    for (auto p : parts)
      put<int32_t>(out, p);
  }
  put<int64_t>(out, e.update_ms);
  put<int64_t>(out, e.start_ms);
  put<int64_t>(out, e.previous_producer_id);
  put<int16_t>(out, e.previous_producer_epoch);
  put<int64_t>(out, e.next_producer_id);
  return out;
}

result<txn_log_entry> decode_txn_record(byte_view key, std::optional<byte_view> value) {
  reader k{key, 0, "transaction state key"};
  auto kv = k.get<int16_t>("version");
  if (!kv)
    return kv.error();
  if (*kv != txn_key_version)
    return bad("transaction state key", "unsupported version " + std::to_string(*kv));
  auto id = k.get_string("transactional_id");
  if (!id)
    return id.error();
  txn_log_entry e;
  e.transactional_id = std::move(*id);
  if (!value) {
    e.tombstone = true;
    return e;
  }
  reader v{*value, 0, "transaction state value"};
  auto version = v.get<int16_t>("version");
  if (!version)
    return version.error();
  if (*version != 0 && *version != txn_value_version)
    return bad("transaction state value", "unsupported version " + std::to_string(*version));
  auto pid = v.get<int64_t>("producer_id");
  auto epoch = pid ? v.get<int16_t>("producer_epoch") : result<int16_t>(pid.error());
  auto timeout = epoch ? v.get<int32_t>("transaction_timeout_ms") : result<int32_t>(epoch.error());
  auto state = timeout ? v.get<int8_t>("transaction_status") : result<int8_t>(timeout.error());
  if (!state)
    return state.error();
  if (*state < int8_t(txn_state::empty) || *state > int8_t(txn_state::dead))
    return bad("transaction state value", "unknown transaction status " + std::to_string(*state));
  e.producer_id = *pid;
  e.producer_epoch = *epoch;
  e.timeout_ms = *timeout;
  e.state = txn_state(*state);
  auto topics = v.get_count("partitions", 6);
  if (!topics)
    return topics.error();
  for (size_t i = 0; i < *topics; ++i) {
    auto topic = v.get_string("topic");
    if (!topic)
      return topic.error();
    auto n = v.get_count("partition_ids", 4);
    if (!n)
      return n.error();
    for (size_t j = 0; j < *n; ++j) {
      auto p = v.get<int32_t>("partition_id");
      if (!p)
        return p.error();
      e.partitions.push_back(topic_partition{*topic, *p});
    }
  }
  std::sort(e.partitions.begin(), e.partitions.end());
  auto update = v.get<int64_t>("last_update_ms");
  auto start = update ? v.get<int64_t>("start_ms") : result<int64_t>(update.error());
  if (!start)
    return start.error();
  e.update_ms = *update;
  e.start_ms = *start;
  if (*version == txn_value_version) {
    auto prev = v.get<int64_t>("previous_producer_id");
    auto prev_epoch =
      prev ? v.get<int16_t>("previous_producer_epoch") : result<int16_t>(prev.error());
    auto next = prev_epoch ? v.get<int64_t>("next_producer_id") : result<int64_t>(prev_epoch.error());
    if (!next)
      return next.error();
    e.previous_producer_id = *prev;
    e.previous_producer_epoch = *prev_epoch;
    e.next_producer_id = *next;
  }
  if (v.left() != 0)
    return bad("transaction state value", std::to_string(v.left()) + " bytes after the record");
  return e;
}

bytes txn_entry_batch(const txn_log_entry& entry, int64_t timestamp_ms) {
  batch_builder b;
  auto key = encode_txn_key(entry.transactional_id);
  auto value = encode_txn_value(entry);
  b.append(timestamp_ms, byte_view{key},
           value ? std::optional<byte_view>{byte_view{*value}} : std::nullopt);
  return b.build();
}

result<int64_t> txn_log_reader::apply(byte_view data, int64_t from) {
  return walk_batches(data, from, "transaction log", [&](byte_view, const decoded_batch& batch) {
    if (batch.header.is_control())
      return;
    for (auto& rec : batch.records) {
      if (rec.offset < from)
        continue;
      auto e = rec.key ? decode_txn_record(*rec.key, rec.value)
                       : result<txn_log_entry>{status{errc::corrupt_message, "no key"}};
      if (e) {
        entries.push_back(std::move(*e));
      } else {
        ++skipped;
        if (first_skipped.empty())
          first_skipped = "record " + std::to_string(rec.offset) + ": " + e.error().to_string();
      }
    }
  });
}

} // namespace al
