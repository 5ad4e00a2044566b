// meta_store: committed consumer offsets.
#include <fmt/format.h>

#include "storage/meta_store.hpp"

namespace al {

status meta_store::commit_offsets(const std::string& group, std::int32_t generation_id,
                                  const std::vector<offset_commit>& commits) {
  // The coordinator never sends one; an error rather than an abort all the same,
  // since this store serves the whole node.
  if (group.empty())
    return {errc::invalid_group_id, "cannot store offsets for an empty group id"};
  return write([&]() -> status {
    for (const auto& c : commits) {
      auto stmt = db_->prepare(
        "INSERT INTO consumer_offsets (group_id, topic, partition_index, committed_offset, "
        "leader_epoch, metadata, generation_id, commit_time_ms) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT (group_id, topic, partition_index) DO UPDATE SET "
        "committed_offset = excluded.committed_offset, leader_epoch = excluded.leader_epoch, "
        "metadata = excluded.metadata, generation_id = excluded.generation_id, "
        "commit_time_ms = excluded.commit_time_ms");
      if (!stmt)
        return stmt.error();
      stmt->bind(1, group)
        .bind(2, c.topic)
        .bind(3, c.partition)
        .bind(4, c.offset)
        .bind(5, c.leader_epoch)
        .bind(6, c.metadata)
        .bind(7, generation_id)
        .bind(8, c.commit_time_ms);
      if (auto st = stmt->run(); !st)
        return {st.code(), fmt::format("commit of group '{}' offset {} for {}-{}: {}", group,
                                       c.offset, c.topic, c.partition, st.message())};
    }
    return status::ok();
  });
}

result<std::vector<committed_offset>>
meta_store::fetch_offsets(const std::string& group, const std::optional<std::string>& topic) {
  constexpr const char* all =
    "SELECT topic, partition_index, committed_offset, leader_epoch, metadata, generation_id, "
    "commit_time_ms FROM consumer_offsets WHERE group_id = ?1 ORDER BY topic, partition_index";
  constexpr const char* one_topic =
    "SELECT topic, partition_index, committed_offset, leader_epoch, metadata, generation_id, "
    "commit_time_ms FROM consumer_offsets WHERE group_id = ?1 AND topic = ?2 "
    "ORDER BY partition_index";
  auto stmt = db_->prepare(topic ? one_topic : all);
  if (!stmt)
    return stmt.error();
  stmt->bind(1, group);
  if (topic)
    stmt->bind(2, *topic);
  std::vector<committed_offset> out;
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return row.error();
    if (!*row)
      return out;
    committed_offset o;
    o.group = group;
    o.topic = stmt->column_text(0);
    o.partition = stmt->column_int32(1);
    o.offset = stmt->column_int64(2);
    o.leader_epoch = stmt->column_int32(3);
    o.metadata = stmt->column_text(4);
    o.generation_id = stmt->column_int32(5);
    o.commit_time_ms = stmt->column_int64(6);
    out.push_back(std::move(o));
  }
}

result<std::int64_t> meta_store::delete_group_offsets(const std::string& group) {
  std::int64_t deleted = 0;
  status st = write([&]() -> status {
    auto stmt = db_->prepare("DELETE FROM consumer_offsets WHERE group_id = ?1");
    if (!stmt)
      return stmt.error();
    if (auto run_st = stmt->bind(1, group).run(); !run_st)
      return run_st;
    deleted = db_->changes();
    return status::ok();
  });
  if (!st)
    return st;
  return deleted;
}

result<std::vector<std::string>> meta_store::list_groups() {
  auto stmt = db_->prepare("SELECT DISTINCT group_id FROM consumer_offsets ORDER BY group_id");
  if (!stmt)
    return stmt.error();
  std::vector<std::string> out;
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return row.error();
    if (!*row)
      return out;
    out.push_back(stmt->column_text(0));
  }
}

} // namespace al
