#include "storage/meta_schema.hpp"

namespace al {

namespace {

// Version 1: the initial schema. Node ids, partition indexes and epochs are
// INTEGER; replica and ISR lists are JSON arrays of node ids ("[1,2,3]") so
// tools can query them with json_each().
const char* const schema_v1 = R"sql(
CREATE TABLE topics (
  name               TEXT    NOT NULL PRIMARY KEY,
  topic_id           BLOB    NOT NULL UNIQUE CHECK (length(topic_id) = 16),
  partition_count    INTEGER NOT NULL CHECK (partition_count > 0),
  replication_factor INTEGER NOT NULL CHECK (replication_factor > 0),
  created_at_ms      INTEGER NOT NULL
);
CREATE TABLE topic_configs (
  topic TEXT NOT NULL REFERENCES topics (name) ON DELETE CASCADE,
  name  TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (topic, name)
);
CREATE TABLE partitions (
  topic           TEXT    NOT NULL REFERENCES topics (name) ON DELETE CASCADE,
  partition_index INTEGER NOT NULL CHECK (partition_index >= 0),
  replicas        TEXT    NOT NULL,
  leader          INTEGER NOT NULL,
  leader_epoch    INTEGER NOT NULL CHECK (leader_epoch >= 0),
  isr             TEXT    NOT NULL,
  partition_epoch INTEGER NOT NULL CHECK (partition_epoch >= 0),
  PRIMARY KEY (topic, partition_index)
);
CREATE TABLE consumer_offsets (
  group_id         TEXT    NOT NULL,
  topic            TEXT    NOT NULL,
  partition_index  INTEGER NOT NULL CHECK (partition_index >= 0),
  committed_offset INTEGER NOT NULL CHECK (committed_offset >= 0),
  leader_epoch     INTEGER NOT NULL,
  metadata         TEXT    NOT NULL,
  generation_id    INTEGER NOT NULL,
  commit_time_ms   INTEGER NOT NULL,
  PRIMARY KEY (group_id, topic, partition_index)
);
CREATE TABLE producer_batches (
  topic           TEXT    NOT NULL REFERENCES topics (name) ON DELETE CASCADE,
  partition_index INTEGER NOT NULL CHECK (partition_index >= 0),
  producer_id     INTEGER NOT NULL CHECK (producer_id >= 0),
  producer_epoch  INTEGER NOT NULL CHECK (producer_epoch >= 0),
  first_seq       INTEGER NOT NULL CHECK (first_seq >= 0),
  last_seq        INTEGER NOT NULL CHECK (last_seq >= 0),
  last_offset     INTEGER NOT NULL CHECK (last_offset >= 0),
  timestamp_ms    INTEGER NOT NULL,
  PRIMARY KEY (topic, partition_index, producer_id, last_offset)
);
CREATE TABLE producer_id_allocator (
  id               INTEGER NOT NULL PRIMARY KEY CHECK (id = 0),
  next_producer_id INTEGER NOT NULL CHECK (next_producer_id >= 0)
);
INSERT INTO producer_id_allocator (id, next_producer_id) VALUES (0, 0);
CREATE TABLE metadata_log_position (
  id             INTEGER NOT NULL PRIMARY KEY CHECK (id = 0),
  applied_offset INTEGER NOT NULL,
  applied_term   INTEGER NOT NULL
);
INSERT INTO metadata_log_position (id, applied_offset, applied_term) VALUES (0, -1, -1);
CREATE TABLE node_meta (
  name  TEXT NOT NULL PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

} // namespace

const std::vector<sqlite_migration>& meta_migrations() {
  static const std::vector<sqlite_migration> list = {
    {1, "initial schema", schema_v1},
  };
  return list;
}

int meta_schema_version() {
  return static_cast<int>(meta_migrations().size());
}

} // namespace al
