// meta_store: partitions (replica set, leader, leader epoch, ISR).
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h> // fmt::join

#include "storage/meta_store.hpp"

namespace al {

namespace {

/// Node id list as a JSON array, e.g. "[1,2,3]".
std::string encode_ids(const std::vector<std::int32_t>& ids) {
  return fmt::format("[{}]", fmt::join(ids, ","));
}

/// Parses what encode_ids wrote (spaces allowed, so hand edits still load).
bool decode_ids(const std::string& text, std::vector<std::int32_t>& out) {
  out.clear();
  const char* p = text.c_str();
  auto skip_spaces = [&p] {
    while (*p == ' ')
      ++p;
  };
  skip_spaces();
  if (*p++ != '[')
    return false;
  skip_spaces();
  if (*p == ']')
    return *++p == '\0';
  for (;;) {
    skip_spaces();
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(p, &end, 10);
    if (end == p || errno != 0 || v < std::numeric_limits<std::int32_t>::min()
        || v > std::numeric_limits<std::int32_t>::max())
      return false;
    out.push_back(static_cast<std::int32_t>(v));
    p = end;
    skip_spaces();
    if (*p == ']')
      break;
    if (*p++ != ',')
      return false;
  }
  ++p;
  skip_spaces();
  return *p == '\0';
}

constexpr const char* select_partition_columns =
  "SELECT topic, partition_index, replicas, leader, leader_epoch, isr, partition_epoch "
  "FROM partitions";

result<partition_record> read_partition(const sqlite_stmt& stmt, const std::string& path) {
  partition_record p;
  p.topic = stmt.column_text(0);
  p.partition = stmt.column_int32(1);
  p.leader = stmt.column_int32(3);
  p.leader_epoch = stmt.column_int32(4);
  p.partition_epoch = stmt.column_int32(6);
  for (auto [col, list, name] : {std::make_tuple(2, &p.replicas, "replicas"),
                                 std::make_tuple(5, &p.isr, "isr")}) {
    auto text = stmt.column_text(col);
    if (!decode_ids(text, *list))
      return status{errc::kafka_storage_error,
                    fmt::format("{}: partition {}-{} has a malformed {} list '{}'", path, p.topic,
                                p.partition, name, text)};
  }
  return p;
}

result<std::vector<partition_record>> read_partitions(sqlite_stmt& stmt, const std::string& path) {
  std::vector<partition_record> out;
  for (;;) {
    auto row = stmt.step();
    if (!row)
      return row.error();
    if (!*row)
      return out;
    auto p = read_partition(stmt, path);
    if (!p)
      return p.error();
    out.push_back(std::move(*p));
  }
}

} // namespace

status meta_store::upsert_partition(const partition_record& p) {
  AL_ASSERT(p.partition >= 0, p.topic, p.partition);
  return write([&]() -> status {
    auto topic = get_topic(p.topic);
    if (!topic)
      return topic.error();
    if (p.partition >= topic->partition_count)
      return not_found(p.topic, p.partition);
    auto stmt = db_->prepare(
      "INSERT INTO partitions (topic, partition_index, replicas, leader, leader_epoch, isr, "
      "partition_epoch) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
      "ON CONFLICT (topic, partition_index) DO UPDATE SET replicas = excluded.replicas, "
      "leader = excluded.leader, leader_epoch = excluded.leader_epoch, isr = excluded.isr, "
      "partition_epoch = excluded.partition_epoch");
    if (!stmt)
      return stmt.error();
    stmt->bind(1, p.topic)
      .bind(2, p.partition)
      .bind(3, encode_ids(p.replicas))
      .bind(4, p.leader)
      .bind(5, p.leader_epoch)
      .bind(6, encode_ids(p.isr))
      .bind(7, p.partition_epoch);
    return stmt->run();
  });
}

result<partition_record> meta_store::get_partition(const std::string& topic,
                                                   std::int32_t partition) {
  auto stmt = db_->prepare(std::string(select_partition_columns)
                           + " WHERE topic = ?1 AND partition_index = ?2");
  if (!stmt)
    return stmt.error();
  auto row = stmt->bind(1, topic).bind(2, partition).step();
  if (!row)
    return row.error();
  if (!*row)
    return not_found(topic, partition);
  return read_partition(*stmt, path());
}

result<std::vector<partition_record>> meta_store::get_partitions(const std::string& topic) {
  if (auto st = topic_exists(topic); !st)
    return st;
  auto stmt = db_->prepare(std::string(select_partition_columns)
                           + " WHERE topic = ?1 ORDER BY partition_index");
  if (!stmt)
    return stmt.error();
  stmt->bind(1, topic);
  return read_partitions(*stmt, path());
}

result<std::vector<partition_record>> meta_store::list_partitions() {
  auto stmt = db_->prepare(std::string(select_partition_columns)
                           + " ORDER BY topic, partition_index");
  if (!stmt)
    return stmt.error();
  return read_partitions(*stmt, path());
}

} // namespace al
