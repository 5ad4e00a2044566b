// meta_store: idempotent producer state and the producer id allocator.
#include <fmt/format.h>

#include "storage/meta_store.hpp"

namespace al {

status meta_store::append_producer_batch(const producer_batch& b) {
  AL_ASSERT(b.producer_id >= 0 && b.producer_epoch >= 0, b.producer_id, b.producer_epoch);
  return write([&]() -> status {
    if (auto st = topic_exists(b.topic); !st)
      return st;
    auto epoch = db_->prepare("SELECT max(producer_epoch) FROM producer_batches "
                              "WHERE topic = ?1 AND partition_index = ?2 AND producer_id = ?3");
    if (!epoch)
      return epoch.error();
    auto row = epoch->bind(1, b.topic).bind(2, b.partition).bind(3, b.producer_id).step();
    if (!row)
      return row.error();
    AL_ASSERT(*row, "aggregate query returned no row");
    if (!epoch->column_is_null(0) && epoch->column_int64(0) > b.producer_epoch)
      return {errc::invalid_producer_epoch,
              fmt::format("{}: producer {} on {}-{} has epoch {}, batch has older epoch {}",
                          path(), b.producer_id, b.topic, b.partition, epoch->column_int64(0),
                          b.producer_epoch)};
    // Three statements, one transaction: drop older epochs, insert, keep the newest few.
    auto run = [&](const char* sql, auto&& bind_more) -> status {
      auto stmt = db_->prepare(sql);
      if (!stmt)
        return stmt.error();
      stmt->bind(1, b.topic).bind(2, b.partition).bind(3, b.producer_id);
      bind_more(*stmt);
      return stmt->run();
    };
    auto st = run("DELETE FROM producer_batches WHERE topic = ?1 AND partition_index = ?2 "
                  "AND producer_id = ?3 AND producer_epoch < ?4",
                  [&](sqlite_stmt& s) { s.bind(4, b.producer_epoch); });
    if (!st)
      return st;
    st = run("INSERT OR REPLACE INTO producer_batches (topic, partition_index, producer_id, "
             "producer_epoch, first_seq, last_seq, last_offset, timestamp_ms) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
             [&](sqlite_stmt& s) {
               s.bind(4, b.producer_epoch).bind(5, b.first_seq).bind(6, b.last_seq);
               s.bind(7, b.last_offset).bind(8, b.timestamp_ms);
             });
    if (!st)
      return st;
    return run("DELETE FROM producer_batches WHERE topic = ?1 AND partition_index = ?2 "
               "AND producer_id = ?3 AND last_offset NOT IN (SELECT last_offset "
               "FROM producer_batches WHERE topic = ?1 AND partition_index = ?2 "
               "AND producer_id = ?3 ORDER BY last_offset DESC LIMIT ?4)",
               [&](sqlite_stmt& s) { s.bind(4, max_producer_batches); });
  });
}

result<std::vector<producer_batch>> meta_store::load_producer_batches(const std::string& topic,
                                                                     std::int32_t partition) {
  auto stmt = db_->prepare("SELECT producer_id, producer_epoch, first_seq, last_seq, last_offset, "
                           "timestamp_ms FROM producer_batches "
                           "WHERE topic = ?1 AND partition_index = ?2 "
                           "ORDER BY producer_id, last_offset");
  if (!stmt)
    return stmt.error();
  stmt->bind(1, topic).bind(2, partition);
  std::vector<producer_batch> out;
  for (;;) {
    auto row = stmt->step();
    if (!row)
      return row.error();
    if (!*row)
      return out;
    producer_batch b;
    b.topic = topic;
    b.partition = partition;
    b.producer_id = stmt->column_int64(0);
    b.producer_epoch = static_cast<std::int16_t>(stmt->column_int32(1));
    b.first_seq = stmt->column_int32(2);
    b.last_seq = stmt->column_int32(3);
    b.last_offset = stmt->column_int64(4);
    b.timestamp_ms = stmt->column_int64(5);
    out.push_back(std::move(b));
  }
}

status meta_store::delete_producer(const std::string& topic, std::int32_t partition,
                                   std::int64_t producer_id) {
  return write([&]() -> status {
    auto stmt = db_->prepare("DELETE FROM producer_batches WHERE topic = ?1 "
                             "AND partition_index = ?2 AND producer_id = ?3");
    if (!stmt)
      return stmt.error();
    return stmt->bind(1, topic).bind(2, partition).bind(3, producer_id).run();
  });
}

status meta_store::truncate_producer_batches(const std::string& topic, std::int32_t partition,
                                             std::int64_t from_offset) {
  return write([&]() -> status {
    auto stmt = db_->prepare("DELETE FROM producer_batches WHERE topic = ?1 "
                             "AND partition_index = ?2 AND last_offset >= ?3");
    if (!stmt)
      return stmt.error();
    return stmt->bind(1, topic).bind(2, partition).bind(3, from_offset).run();
  });
}

result<std::int64_t> meta_store::next_producer_id() {
  return db_->query_int("SELECT next_producer_id FROM producer_id_allocator WHERE id = 0");
}

result<std::int64_t> meta_store::allocate_producer_ids(std::int64_t count) {
  AL_ASSERT(count > 0, count);
  std::int64_t first = -1;
  status st = write([&]() -> status {
    auto next = next_producer_id();
    if (!next)
      return next.error();
    first = *next;
    auto stmt = db_->prepare(
      "UPDATE producer_id_allocator SET next_producer_id = ?1 WHERE id = 0");
    if (!stmt)
      return stmt.error();
    return stmt->bind(1, first + count).run();
  });
  if (!st)
    return st;
  AL_ASSERT(first >= 0, first);
  return first;
}

} // namespace al
