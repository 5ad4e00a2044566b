#pragma once
// Versioned schema migrations kept in `PRAGMA user_version`. A schema is an
// ordered, append-only list: migration i (counting from 1) takes the database
// from version i-1 to version i. An applied migration is never edited; a change
// is a new migration at the end of the list.
#include <vector>

#include "storage/sqlite_db.hpp"

namespace al {

struct sqlite_migration {
  int version;             // 1, 2, 3, ... in list order (asserted)
  const char* description; // one line, for error messages
  const char* sql;         // one or more statements
};

/// The database's `PRAGMA user_version`.
result<int> sqlite_schema_version(sqlite_db& db);

/// Brings `db` from its version up to migrations.back().version, each migration
/// in its own BEGIN IMMEDIATE transaction together with its user_version bump.
/// Fails, naming the file and both versions, when the database is newer than
/// the list. Even an up-to-date database takes the write lock once, so a
/// database locked by another connection fails here with a clear error.
status sqlite_migrate(sqlite_db& db, const std::vector<sqlite_migration>& migrations);

} // namespace al
