#pragma once
// A thin RAII wrapper over one SQLite connection: open with the node's pragmas
// (WAL, synchronous, foreign keys, busy timeout), cached prepared statements
// and a BEGIN IMMEDIATE transaction guard. Every failure is an al::status with
// code KAFKA_STORAGE_ERROR whose message names the database file and carries
// SQLite's own message, e.g.
//   "sqlite database /data/meta.db: open failed: file is not a database (sqlite error 26)".
//
// One connection belongs to one thread (it is opened with SQLITE_OPEN_NOMUTEX).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "storage/status.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace al {

enum class sqlite_synchronous { full, normal };

struct sqlite_options {
  /// FULL fsyncs the WAL on every commit (a committed transaction survives power
  /// loss); NORMAL fsyncs only at checkpoints (survives a process crash only).
  sqlite_synchronous synchronous = sqlite_synchronous::full;
  /// How long a statement waits for another connection's lock before SQLITE_BUSY.
  int busy_timeout_ms = 5000;
};

class sqlite_db;

/// A borrowed, prepared statement from the connection's cache. Bind, step, read
/// columns; on destruction it is reset and its bindings cleared so the next
/// user of the same SQL text starts fresh. Bind indexes and column indexes are
/// SQLite's: parameters count from 1, columns from 0.
class sqlite_stmt {
public:
  sqlite_stmt(sqlite_stmt&& other) noexcept;
  sqlite_stmt& operator=(sqlite_stmt&&) = delete;
  sqlite_stmt(const sqlite_stmt&) = delete;
  sqlite_stmt& operator=(const sqlite_stmt&) = delete;
  ~sqlite_stmt();

  // A failed bind is remembered and returned by the next step() or run().
  sqlite_stmt& bind(int index, std::int64_t value);
  sqlite_stmt& bind(int index, std::string_view text);
  sqlite_stmt& bind_blob(int index, const void* data, std::size_t size);
  sqlite_stmt& bind_null(int index);

  /// true: a row is ready to read; false: the statement has finished.
  result<bool> step();
  /// Steps until the statement has finished, ignoring any rows.
  status run();

  bool column_is_null(int col) const;
  std::int64_t column_int64(int col) const;
  std::int32_t column_int32(int col) const;
  std::string column_text(int col) const;
  std::vector<std::uint8_t> column_blob(int col) const;

private:
  friend class sqlite_db;
  sqlite_stmt(sqlite_db& db, sqlite3_stmt* stmt, bool* in_use);
  void note_bind(int rc, int index);

  sqlite_db* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_; // the cache slot's flag; null once moved from
  int bind_rc_ = 0;
  int bind_index_ = 0;
};

class sqlite_db {
public:
  /// Opens (creating if missing) the database at `path` and applies `opts`.
  /// Fails on a file that is not a database, or when another connection holds
  /// a lock for longer than the busy timeout while journal mode is switched.
  static result<std::unique_ptr<sqlite_db>> open(const std::string& path,
                                                 const sqlite_options& opts = {});
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;
  ~sqlite_db();

  const std::string& path() const { return path_; }
  const sqlite_options& options() const { return opts_; }

  /// The cached statement for `sql`, prepared on first use. Statements with
  /// the same text cannot be in use twice at once (asserted).
  result<sqlite_stmt> prepare(std::string_view sql);
  /// Runs one or more statements without results (schema scripts, pragmas).
  status exec(const std::string& sql);
  /// Runs a query whose first row's first column is an integer.
  result<std::int64_t> query_int(std::string_view sql);

  /// Rows changed by the most recent INSERT, UPDATE or DELETE.
  std::int64_t changes() const;
  /// Whether a transaction is open on this connection.
  bool in_transaction() const;
  /// "journal_mode" as SQLite reports it ("wal" once open succeeded on a file).
  result<std::string> journal_mode();

  /// The status for SQLite result code `rc` of the step `what`, naming the file.
  status error(std::string_view what, int rc) const;

private:
  struct cached_stmt {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  sqlite_db(std::string path, sqlite_options opts, sqlite3* handle);
  status configure();

  std::string path_;
  sqlite_options opts_;
  sqlite3* handle_;
  // Keyed by SQL text. unordered_map nodes are stable, so sqlite_stmt may keep
  // a pointer to its slot's in_use flag across later insertions.
  std::unordered_map<std::string, cached_stmt> cache_;
};

/// BEGIN IMMEDIATE now; ROLLBACK on scope exit unless commit() succeeded.
/// IMMEDIATE takes the write lock up front, so a busy database fails here
/// (after the busy timeout) rather than half way through the writes.
class sqlite_transaction {
public:
  static result<sqlite_transaction> begin(sqlite_db& db);
  sqlite_transaction(sqlite_transaction&& other) noexcept;
  sqlite_transaction& operator=(sqlite_transaction&&) = delete;
  sqlite_transaction(const sqlite_transaction&) = delete;
  sqlite_transaction& operator=(const sqlite_transaction&) = delete;
  ~sqlite_transaction();

  status commit();
  status rollback();

private:
  explicit sqlite_transaction(sqlite_db& db) : db_(&db) {}
  sqlite_db* db_; // null once committed, rolled back or moved from
};

} // namespace al
