#include "storage/meta_store.hpp"

#include <fmt/format.h>

#include "storage/meta_schema.hpp"

namespace al {

result<meta_store> meta_store::open(const std::string& path, const sqlite_options& opts) {
  auto db = sqlite_db::open(path, opts);
  if (!db)
    return db.error();
  if (auto st = sqlite_migrate(**db, meta_migrations()); !st)
    return st;
  return meta_store(std::move(*db));
}

status meta_store::write(const std::function<status()>& body) {
  if (write_depth_ > 0) {
    // Joins the open transaction; a failure dooms it whatever the body does next.
    ++write_depth_;
    status st = body();
    --write_depth_;
    if (!st && write_failure_.is_ok())
      write_failure_ = st;
    return st;
  }
  auto txn = sqlite_transaction::begin(*db_);
  if (!txn)
    return txn.error();
  struct depth_guard {
    int& depth;
    ~depth_guard() { depth = 0; }
  } guard{write_depth_};
  write_depth_ = 1;
  write_failure_ = status::ok();
  status st = body();
  if (st.is_ok() && !write_failure_.is_ok())
    st = write_failure_;
  if (!st)
    return st; // txn rolls back on scope exit
  return txn->commit();
}

result<metadata_log_position> meta_store::applied_position() {
  auto stmt = db_->prepare(
    "SELECT applied_offset, applied_term FROM metadata_log_position WHERE id = 0");
  if (!stmt)
    return stmt.error();
  auto row = stmt->step();
  if (!row)
    return row.error();
  if (!*row)
    return status{errc::kafka_storage_error,
                  fmt::format("{}: table metadata_log_position has no row", path())};
  return metadata_log_position{stmt->column_int64(0), stmt->column_int64(1)};
}

result<bool> meta_store::apply(metadata_log_position pos, const std::function<status()>& body) {
  AL_ASSERT(write_depth_ == 0, "apply() inside write() on", path());
  AL_ASSERT(pos.offset >= 0 && pos.term >= 0, pos.offset, pos.term);
  bool applied = false;
  status st = write([&]() -> status {
    auto current = applied_position();
    if (!current)
      return current.error();
    if (pos.offset <= current->offset)
      return status::ok();
    if (pos.term < current->term)
      return {errc::invalid_request,
              fmt::format("{}: metadata log entry at offset {} has term {}, below the applied "
                          "term {} at offset {}",
                          path(), pos.offset, pos.term, current->term, current->offset)};
    if (auto body_st = body(); !body_st)
      return body_st;
    auto stmt = db_->prepare("UPDATE metadata_log_position SET applied_offset = ?1, "
                             "applied_term = ?2 WHERE id = 0");
    if (!stmt)
      return stmt.error();
    if (auto run_st = stmt->bind(1, pos.offset).bind(2, pos.term).run(); !run_st)
      return run_st;
    applied = true;
    return status::ok();
  });
  if (!st)
    return st;
  return applied;
}

status meta_store::set_node_meta(const std::string& key, const std::string& value) {
  return write([&]() -> status {
    auto stmt = db_->prepare("INSERT INTO node_meta (name, value) VALUES (?1, ?2) "
                             "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
    if (!stmt)
      return stmt.error();
    return stmt->bind(1, key).bind(2, value).run();
  });
}

result<std::optional<std::string>> meta_store::get_node_meta(const std::string& key) {
  auto stmt = db_->prepare("SELECT value FROM node_meta WHERE name = ?1");
  if (!stmt)
    return stmt.error();
  auto row = stmt->bind(1, key).step();
  if (!row)
    return row.error();
  if (!*row)
    return std::optional<std::string>{};
  return std::optional<std::string>{stmt->column_text(0)};
}

status meta_store::not_found(const std::string& topic) const {
  return {errc::unknown_topic_or_partition,
          fmt::format("topic '{}' does not exist in {}", topic, path())};
}

status meta_store::not_found(const std::string& topic, std::int32_t partition) const {
  return {errc::unknown_topic_or_partition,
          fmt::format("partition {}-{} does not exist in {}", topic, partition, path())};
}

status meta_store::topic_exists(const std::string& topic) {
  auto stmt = db_->prepare("SELECT 1 FROM topics WHERE name = ?1");
  if (!stmt)
    return stmt.error();
  auto row = stmt->bind(1, topic).step();
  if (!row)
    return row.error();
  return *row ? status::ok() : not_found(topic);
}

} // namespace al
