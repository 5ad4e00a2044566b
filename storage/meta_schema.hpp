#pragma once
// The schema of meta.db as an append-only list of migrations
// (docs/formats/sqlite-schema.md). Never edit an applied migration: add one.
#include <vector>

#include "storage/sqlite_migrate.hpp"

namespace al {

const std::vector<sqlite_migration>& meta_migrations();

/// The schema version this binary writes: the last migration's version.
int meta_schema_version();

} // namespace al
