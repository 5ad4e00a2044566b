#include "storage/sqlite_migrate.hpp"

#include <fmt/format.h>

namespace al {

result<int> sqlite_schema_version(sqlite_db& db) {
  auto v = db.query_int("PRAGMA user_version");
  if (!v)
    return v.error();
  return static_cast<int>(*v);
}

status sqlite_migrate(sqlite_db& db, const std::vector<sqlite_migration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i)
    AL_ASSERT(migrations[i].version == static_cast<int>(i) + 1, "migration list out of order at",
              i, migrations[i].version);
  const int known = static_cast<int>(migrations.size());
  for (;;) {
    // The version is read inside the write transaction: two processes opening
    // the same file cannot both apply the same migration.
    auto txn = sqlite_transaction::begin(db);
    if (!txn)
      return txn.error();
    auto version = sqlite_schema_version(db);
    if (!version)
      return version.error();
    if (*version > known)
      return {errc::kafka_storage_error,
              fmt::format("sqlite database {} has schema version {}, newer than version {} known "
                          "to this binary; it was written by a newer actorlog",
                          db.path(), *version, known)};
    if (*version < 0)
      return {errc::kafka_storage_error,
              fmt::format("sqlite database {} has invalid schema version {}", db.path(), *version)};
    if (*version == known)
      return txn->commit();
    const sqlite_migration& m = migrations[static_cast<std::size_t>(*version)];
    if (auto st = db.exec(m.sql); !st)
      return {st.code(),
              fmt::format("migration {} ({}): {}", m.version, m.description, st.message())};
    if (auto st = db.exec(fmt::format("PRAGMA user_version = {}", m.version)); !st)
      return st;
    if (auto st = txn->commit(); !st)
      return st;
  }
}

} // namespace al
