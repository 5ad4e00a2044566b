#include "storage/sqlite_db.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

namespace al {

namespace {

/// The statement's SQL shortened to one line for error messages.
std::string short_sql(std::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    bool ws = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (ws) {
      space = !out.empty();
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += c;
    if (out.size() >= 80) {
      out += "...";
      break;
    }
  }
  return out;
}

bool is_busy(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

int first_text_cb(void* out, int columns, char** values, char**) {
  if (columns > 0 && values[0] != nullptr)
    *static_cast<std::string*>(out) = values[0];
  return 0;
}

} // namespace

// --- sqlite_stmt -------------------------------------------------------------

sqlite_stmt::sqlite_stmt(sqlite_db& db, sqlite3_stmt* stmt, bool* in_use)
  : db_(&db), stmt_(stmt), in_use_(in_use) {
  AL_ASSERT(!*in_use_, "statement already in use:", sqlite3_sql(stmt));
  *in_use_ = true;
}

sqlite_stmt::sqlite_stmt(sqlite_stmt&& other) noexcept
  : db_(other.db_), stmt_(other.stmt_), in_use_(other.in_use_), bind_rc_(other.bind_rc_),
    bind_index_(other.bind_index_) {
  other.in_use_ = nullptr;
}

sqlite_stmt::~sqlite_stmt() {
  if (in_use_ == nullptr)
    return;
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

void sqlite_stmt::note_bind(int rc, int index) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_index_ = index;
  }
}

sqlite_stmt& sqlite_stmt::bind(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

sqlite_stmt& sqlite_stmt::bind(int index, std::string_view text) {
  note_bind(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                SQLITE_UTF8),
            index);
  return *this;
}

sqlite_stmt& sqlite_stmt::bind_blob(int index, const void* data, std::size_t size) {
  note_bind(sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT), index);
  return *this;
}

sqlite_stmt& sqlite_stmt::bind_null(int index) {
  note_bind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

result<bool> sqlite_stmt::step() {
  AL_ASSERT(in_use_ != nullptr, "step on a moved-from statement");
  if (bind_rc_ != SQLITE_OK)
    return db_->error(fmt::format("binding parameter {} of \"{}\"", bind_index_,
                                  short_sql(sqlite3_sql(stmt_))),
                      bind_rc_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW)
    return true;
  if (rc == SQLITE_DONE)
    return false;
  return db_->error(fmt::format("executing \"{}\"", short_sql(sqlite3_sql(stmt_))), rc);
}

status sqlite_stmt::run() {
  for (;;) {
    auto row = step();
    if (!row)
      return row.error();
    if (!*row)
      return status::ok();
  }
}

bool sqlite_stmt::column_is_null(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

std::int64_t sqlite_stmt::column_int64(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

std::int32_t sqlite_stmt::column_int32(int col) const {
  return sqlite3_column_int(stmt_, col);
}

std::string sqlite_stmt::column_text(int col) const {
  auto* text = sqlite3_column_text(stmt_, col);
  int size = sqlite3_column_bytes(stmt_, col); // after column_text: size of the text form
  if (text == nullptr)
    return {};
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> sqlite_stmt::column_blob(int col) const {
  auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
  int size = sqlite3_column_bytes(stmt_, col);
  if (data == nullptr)
    return {};
  return std::vector<std::uint8_t>(data, data + size);
}

// --- sqlite_db ---------------------------------------------------------------

sqlite_db::sqlite_db(std::string path, sqlite_options opts, sqlite3* handle)
  : path_(std::move(path)), opts_(opts), handle_(handle) {}

sqlite_db::~sqlite_db() {
  for (auto& [sql, entry] : cache_) {
    AL_ASSERT(!entry.in_use, "statement still in use when closing", path_, sql);
    sqlite3_finalize(entry.stmt);
  }
  // close_v2 never fails on a connection whose statements are finalized.
  sqlite3_close_v2(handle_);
}

result<std::unique_ptr<sqlite_db>> sqlite_db::open(const std::string& path,
                                                   const sqlite_options& opts) {
  AL_ASSERT(opts.busy_timeout_ms >= 0, opts.busy_timeout_ms);
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &handle,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  // Even a failed open hands back a handle (except out of memory): the
  // destructor closes it, and error() reads its message first.
  std::unique_ptr<sqlite_db> db(new sqlite_db(path, opts, handle));
  if (rc != SQLITE_OK)
    return db->error("open", rc);
  if (auto st = db->configure(); !st)
    return st;
  return result<std::unique_ptr<sqlite_db>>(std::move(db));
}

status sqlite_db::configure() {
  sqlite3_extended_result_codes(handle_, 1);
  sqlite3_busy_timeout(handle_, opts_.busy_timeout_ms);
  // Switching to WAL is the first statement that reads the file header, so a
  // file that is not a database fails here ("file is not a database").
  std::string mode;
  int rc = sqlite3_exec(handle_, "PRAGMA journal_mode=WAL", first_text_cb, &mode, nullptr);
  if (rc != SQLITE_OK)
    return error("open (setting journal_mode=WAL)", rc);
  bool in_memory = path_.empty() || path_ == ":memory:";
  if (mode != "wal" && !in_memory)
    return {errc::kafka_storage_error,
            fmt::format("sqlite database {}: open failed: journal_mode is '{}', not 'wal'", path_,
                        mode)};
  const char* sync = opts_.synchronous == sqlite_synchronous::full ? "PRAGMA synchronous=FULL"
                                                                   : "PRAGMA synchronous=NORMAL";
  for (const char* pragma : {sync, "PRAGMA foreign_keys=ON"}) {
    rc = sqlite3_exec(handle_, pragma, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
      return error(fmt::format("open ({})", pragma), rc);
  }
  return status::ok();
}

status sqlite_db::error(std::string_view what, int rc) const {
  // The connection's message is more specific than the code's generic text
  // ("no such table: x" rather than "SQL logic error"), when it is about rc.
  const char* text = sqlite3_errstr(rc);
  if (handle_ != nullptr && sqlite3_extended_errcode(handle_) == rc)
    text = sqlite3_errmsg(handle_);
  std::string msg = fmt::format("sqlite database {}: {} failed: {} (sqlite error {})", path_, what,
                                text, rc);
  if (is_busy(rc))
    msg += fmt::format("; another connection or process holds a lock on it (gave up after "
                       "busy timeout of {} ms)",
                       opts_.busy_timeout_ms);
  return {errc::kafka_storage_error, std::move(msg)};
}

result<sqlite_stmt> sqlite_db::prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK)
      return error(fmt::format("preparing \"{}\"", short_sql(sql)), rc);
    AL_ASSERT(stmt != nullptr, "empty SQL statement:", sql);
    it = cache_.emplace(std::string(sql), cached_stmt{stmt, false}).first;
  }
  return sqlite_stmt(*this, it->second.stmt, &it->second.in_use);
}

status sqlite_db::exec(const std::string& sql) {
  char* msg = nullptr;
  int rc = sqlite3_exec(handle_, sql.c_str(), nullptr, nullptr, &msg);
  std::string text = msg != nullptr ? msg : "";
  sqlite3_free(msg);
  if (rc == SQLITE_OK)
    return status::ok();
  auto st = error(fmt::format("executing \"{}\"", short_sql(sql)), rc);
  if (!text.empty() && st.message().find(text) == std::string::npos)
    return {st.code(), st.message() + ": " + text};
  return st;
}

result<std::int64_t> sqlite_db::query_int(std::string_view sql) {
  auto stmt = prepare(sql);
  if (!stmt)
    return stmt.error();
  auto row = stmt->step();
  if (!row)
    return row.error();
  if (!*row)
    return status{errc::kafka_storage_error,
                  fmt::format("sqlite database {}: \"{}\" returned no row", path_, short_sql(sql))};
  return stmt->column_int64(0);
}

std::int64_t sqlite_db::changes() const {
  return sqlite3_changes64(handle_);
}

bool sqlite_db::in_transaction() const {
  return sqlite3_get_autocommit(handle_) == 0;
}

result<std::string> sqlite_db::journal_mode() {
  auto stmt = prepare("PRAGMA journal_mode");
  if (!stmt)
    return stmt.error();
  auto row = stmt->step();
  if (!row)
    return row.error();
  return *row ? stmt->column_text(0) : std::string{};
}

// --- sqlite_transaction ------------------------------------------------------

result<sqlite_transaction> sqlite_transaction::begin(sqlite_db& db) {
  AL_ASSERT(!db.in_transaction(), "nested transaction on", db.path());
  auto stmt = db.prepare("BEGIN IMMEDIATE");
  if (!stmt)
    return stmt.error();
  if (auto st = stmt->run(); !st)
    return st;
  return sqlite_transaction(db);
}

sqlite_transaction::sqlite_transaction(sqlite_transaction&& other) noexcept : db_(other.db_) {
  other.db_ = nullptr;
}

sqlite_transaction::~sqlite_transaction() {
  if (db_ != nullptr)
    (void) rollback(); // nothing better to do with a failed rollback on scope exit
}

status sqlite_transaction::commit() {
  AL_ASSERT(db_ != nullptr, "commit on a finished transaction");
  auto stmt = db_->prepare("COMMIT");
  status st = stmt ? stmt->run() : stmt.error();
  // A failed COMMIT may leave the transaction open: then the destructor rolls back.
  if (st || !db_->in_transaction())
    db_ = nullptr;
  return st;
}

status sqlite_transaction::rollback() {
  AL_ASSERT(db_ != nullptr, "rollback on a finished transaction");
  sqlite_db* db = db_;
  db_ = nullptr;
  // Some errors (disk full, I/O) make SQLite roll back by itself.
  if (!db->in_transaction())
    return status::ok();
  auto stmt = db->prepare("ROLLBACK");
  return stmt ? stmt->run() : stmt.error();
}

} // namespace al
