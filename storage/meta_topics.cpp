// meta_store: topics and topic configs.
#include <fmt/format.h>

#include "storage/meta_store.hpp"

namespace al {

namespace {

constexpr const char* select_topic_columns =
  "SELECT name, topic_id, partition_count, replication_factor, created_at_ms FROM topics";

result<topic_record> read_topic(const sqlite_stmt& stmt, const std::string& path) {
  topic_record t;
  t.name = stmt.column_text(0);
  auto id = stmt.column_blob(1);
  if (id.size() != t.topic_id.size())
    return status{errc::kafka_storage_error,
                  fmt::format("{}: topic '{}' has a topic_id of {} bytes, expected 16", path,
                              t.name, id.size())};
  std::copy(id.begin(), id.end(), t.topic_id.begin());
  t.partition_count = stmt.column_int32(2);
  t.replication_factor = static_cast<std::int16_t>(stmt.column_int32(3));
  t.created_at_ms = stmt.column_int64(4);
  return t;
}

} // namespace

status meta_store::create_topic(const topic_record& topic, const topic_configs& configs) {
  AL_ASSERT(!topic.name.empty());
  return write([&]() -> status {
    if (auto exists = topic_exists(topic.name); exists)
      return {errc::topic_already_exists,
              fmt::format("topic '{}' already exists in {}", topic.name, path())};
    else if (exists.code() != errc::unknown_topic_or_partition)
      return exists;
    auto stmt = db_->prepare("INSERT INTO topics (name, topic_id, partition_count, "
                             "replication_factor, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!stmt)
      return stmt.error();
    stmt->bind(1, topic.name)
      .bind_blob(2, topic.topic_id.data(), topic.topic_id.size())
      .bind(3, topic.partition_count)
      .bind(4, topic.replication_factor)
      .bind(5, topic.created_at_ms);
    if (auto st = stmt->run(); !st)
      return st;
    return alter_topic_configs(topic.name, configs);
  });
}

status meta_store::set_partition_count(const std::string& topic, std::int32_t partition_count) {
  return write([&]() -> status {
    auto current = get_topic(topic);
    if (!current)
      return current.error();
    if (partition_count < current->partition_count)
      return {errc::invalid_partitions,
              fmt::format("topic '{}' in {} has {} partitions; partitions can only grow, not to {}",
                          topic, path(), current->partition_count, partition_count)};
    auto stmt = db_->prepare("UPDATE topics SET partition_count = ?2 WHERE name = ?1");
    if (!stmt)
      return stmt.error();
    return stmt->bind(1, topic).bind(2, partition_count).run();
  });
}

status meta_store::delete_topic(const std::string& topic) {
  return write([&]() -> status {
    if (auto st = topic_exists(topic); !st)
      return st;
    // Children first, explicitly: the ON DELETE CASCADE foreign keys are a backstop.
    for (const char* sql : {"DELETE FROM topic_configs WHERE topic = ?1",
                            "DELETE FROM partitions WHERE topic = ?1",
                            "DELETE FROM producer_batches WHERE topic = ?1",
                            "DELETE FROM topics WHERE name = ?1"}) {
      auto stmt = db_->prepare(sql);
      if (!stmt)
        return stmt.error();
      if (auto st = stmt->bind(1, topic).run(); !st)
        return st;
    }
    return status::ok();
  });
}

result<topic_record> meta_store::get_topic(const std::string& topic) {
  auto stmt = db_->prepare(std::string(select_topic_columns) + " WHERE name = ?1");
  if (!stmt)
    return stmt.error();
  auto row = stmt->bind(1, topic).step();
  if (!row)
    return row.error();
  if (!*row)
    return not_found(topic);
  return read_topic(*stmt, path());
}

result<std::vector<topic_record>> meta_store::list_topics() {
  auto stmt = db_->prepare(std::string(select_topic_columns) + " ORDER BY name");
  if (!stmt)
    return stmt.error();
  std::vector<topic_record> out;
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return row.error();
    if (!*row)
      return out;
    auto t = read_topic(*stmt, path());
    if (!t)
      return t.error();
    out.push_back(std::move(*t));
  }
}

status meta_store::alter_topic_configs(const std::string& topic, const topic_configs& set,
                                       const std::vector<std::string>& remove) {
  return write([&]() -> status {
    if (auto st = topic_exists(topic); !st)
      return st;
    for (const auto& [name, value] : set) {
      auto stmt = db_->prepare("INSERT INTO topic_configs (topic, name, value) VALUES (?1, ?2, ?3) "
                               "ON CONFLICT (topic, name) DO UPDATE SET value = excluded.value");
      if (!stmt)
        return stmt.error();
      if (auto st = stmt->bind(1, topic).bind(2, name).bind(3, value).run(); !st)
        return st;
    }
    for (const auto& name : remove) {
      auto stmt = db_->prepare("DELETE FROM topic_configs WHERE topic = ?1 AND name = ?2");
      if (!stmt)
        return stmt.error();
      if (auto st = stmt->bind(1, topic).bind(2, name).run(); !st)
        return st;
    }
    return status::ok();
  });
}

status meta_store::replace_topic_configs(const std::string& topic, const topic_configs& configs) {
  return write([&]() -> status {
    if (auto st = topic_exists(topic); !st)
      return st;
    auto stmt = db_->prepare("DELETE FROM topic_configs WHERE topic = ?1");
    if (!stmt)
      return stmt.error();
    if (auto st = stmt->bind(1, topic).run(); !st)
      return st;
    return alter_topic_configs(topic, configs);
  });
}

result<topic_configs> meta_store::get_topic_configs(const std::string& topic) {
  if (auto st = topic_exists(topic); !st)
    return st;
  auto stmt = db_->prepare("SELECT name, value FROM topic_configs WHERE topic = ?1 ORDER BY name");
  if (!stmt)
    return stmt.error();
  stmt->bind(1, topic);
  topic_configs out;
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return row.error();
    if (!*row)
      return out;
    out.emplace(stmt->column_text(0), stmt->column_text(1));
  }
}

} // namespace al
