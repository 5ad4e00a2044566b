#pragma once
// The node's metadata store (<data-dir>/meta.db): applied cluster metadata
// (topics, configs, partitions), committed consumer offsets, idempotent
// producer state, the applied metadata log position and node identity. A
// materialised view: the controller's replicated metadata log is the source of
// truth; this store makes restarts fast and lets tools query state.
// Tables and columns: docs/formats/sqlite-schema.md.
//
// Every write runs in one transaction. Writes made inside write() or apply()
// join that transaction instead, and if any of them fails the whole
// transaction is rolled back, even if the body ignores the error.
//
// Blocking (fsync on commit): call from a detached actor, never a scheduled one.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/meta_types.hpp"
#include "storage/sqlite_db.hpp"

namespace al {

class meta_store {
public:
  /// Opens or creates the store and migrates its schema to meta_schema_version().
  static result<meta_store> open(const std::string& path, const sqlite_options& opts = {});
  meta_store(meta_store&&) noexcept = default;
  meta_store& operator=(meta_store&&) noexcept = default;

  const std::string& path() const { return db_->path(); }
  /// The connection, for tools and tests; writes through it bypass the checks here.
  sqlite_db& db() { return *db_; }

  // --- transactions ----------------------------------------------------------

  /// Runs `body` in one transaction: all of its writes land, or none do.
  status write(const std::function<status()>& body);
  /// Applies the metadata log entry at `pos`: runs `body` and records `pos` as
  /// applied in one transaction. An entry at or below the applied offset was
  /// applied before and is skipped (returns false), which makes replay after a
  /// crash idempotent. Offsets must grow, terms must not shrink.
  result<bool> apply(metadata_log_position pos, const std::function<status()>& body);
  result<metadata_log_position> applied_position();

  // --- topics and topic configs (meta_topics.cpp) ----------------------------

  /// Fails with TOPIC_ALREADY_EXISTS if a topic of that name exists.
  status create_topic(const topic_record& topic, const topic_configs& configs = {});
  /// Partitions only grow: a smaller count fails with INVALID_PARTITIONS.
  status set_partition_count(const std::string& topic, std::int32_t partition_count);
  /// Removes the topic with its configs, partitions and producer state.
  status delete_topic(const std::string& topic);
  result<topic_record> get_topic(const std::string& topic);
  result<std::vector<topic_record>> list_topics(); // by name
  /// Sets the keys in `set` and removes the keys in `remove` (Kafka's
  /// IncrementalAlterConfigs); replace_topic_configs replaces all of them.
  status alter_topic_configs(const std::string& topic, const topic_configs& set,
                             const std::vector<std::string>& remove = {});
  status replace_topic_configs(const std::string& topic, const topic_configs& configs);
  result<topic_configs> get_topic_configs(const std::string& topic);

  // --- partitions (meta_partitions.cpp) --------------------------------------

  /// Inserts or replaces the partition; its topic must exist and the partition
  /// index must be below the topic's partition count.
  status upsert_partition(const partition_record& partition);
  result<partition_record> get_partition(const std::string& topic, std::int32_t partition);
  result<std::vector<partition_record>> get_partitions(const std::string& topic); // by index
  result<std::vector<partition_record>> list_partitions(); // every topic's, by topic and index

  // --- committed consumer offsets (meta_offsets.cpp) -------------------------

  /// Stores every commit (one row per group, topic and partition; a later
  /// commit replaces an earlier one) in one transaction.
  status commit_offsets(const std::string& group, std::int32_t generation_id,
                        const std::vector<offset_commit>& commits);
  /// The group's committed offsets, by topic and partition; only `topic`'s if given.
  result<std::vector<committed_offset>>
  fetch_offsets(const std::string& group, const std::optional<std::string>& topic = std::nullopt);
  /// Returns how many offsets were deleted.
  result<std::int64_t> delete_group_offsets(const std::string& group);
  result<std::vector<std::string>> list_groups(); // groups with committed offsets, by name

  // --- idempotent producer state (meta_producers.cpp) ------------------------

  /// Records a batch appended by an idempotent producer and keeps only the
  /// producer's newest max_producer_batches on that partition. A newer
  /// producer epoch drops the batches of older epochs; an older epoch than the
  /// stored one fails with INVALID_PRODUCER_EPOCH.
  status append_producer_batch(const producer_batch& batch);
  /// The partition's kept batches, by producer id then offset.
  result<std::vector<producer_batch>> load_producer_batches(const std::string& topic,
                                                           std::int32_t partition);
  /// Forgets an expired producer on one partition.
  status delete_producer(const std::string& topic, std::int32_t partition,
                         std::int64_t producer_id);
  /// Drops batches whose last offset is >= from_offset (log truncation).
  status truncate_producer_batches(const std::string& topic, std::int32_t partition,
                                   std::int64_t from_offset);
  /// Reserves `count` producer ids and returns the first; the next call starts after them.
  result<std::int64_t> allocate_producer_ids(std::int64_t count);
  /// The id the next allocation would return.
  result<std::int64_t> next_producer_id();

  // --- node identity (node_meta_key::...) ------------------------------------

  status set_node_meta(const std::string& key, const std::string& value);
  /// nullopt when the key was never set.
  result<std::optional<std::string>> get_node_meta(const std::string& key);

private:
  explicit meta_store(std::unique_ptr<sqlite_db> db) : db_(std::move(db)) {}
  status not_found(const std::string& topic) const;
  status not_found(const std::string& topic, std::int32_t partition) const;
  status topic_exists(const std::string& topic); // ok, or UNKNOWN_TOPIC_OR_PARTITION

  std::unique_ptr<sqlite_db> db_;
  int write_depth_ = 0;  // > 0 while inside write()
  status write_failure_; // first failed write inside the open write()
};

} // namespace al
