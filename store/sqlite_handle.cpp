#include "sqlite_handle_impl.h"

#include <filesystem>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

namespace offmon::store {

Status SqliteStatus(int rc, std::string_view what, sqlite3* db) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return Status::Ok();
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string msg = fmt::format("{}: {}", what, detail);
  switch (rc & 0xff) {
    case SQLITE_FULL: return Status::DiskFull(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN: return rc == SQLITE_CANTOPEN ? Status::IOError(msg) : Status::ReadOnly(msg);
    case SQLITE_NOTADB: return Status::NotAStore(fmt::format("{}: not an SQLite database", what));
    case SQLITE_CORRUPT: return Status::Corruption(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::Busy(msg);
    case SQLITE_IOERR: return Status::IOError(msg);
    default: return Status::IOError(msg);
  }
}

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}
Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindBlob(int index, std::string_view bytes) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const char kEmpty = 0;
  sqlite3_bind_blob(stmt_, index, bytes.empty() ? &kEmpty : bytes.data(),
                    static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::Step(Status* status) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) *status = SqliteStatus(rc, "sqlite", db_);
  return false;
}

Status Statement::Run() {
  Status status;
  while (Step(&status)) {
  }
  Reset();
  return status;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view Statement::Text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string_view();
}

std::string_view Statement::Blob(int column) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))) : std::string_view();
}

struct Database::Cache {
  std::unordered_map<std::string, Statement> statements;
};

Database::Database(sqlite3* db) : db_(db), cache_(std::make_unique<Cache>()) {}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqliteStatus(rc, "open " + path, db);
    sqlite3_close(db);
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  // From the first statement on: a reader that opens while a writer recovers the WAL after
  // a crash (or a daemon that starts while a reader holds a lock) waits instead of
  // failing with "database is locked". Store::Open then sets StoreOptions::busy_timeout.
  sqlite3_busy_timeout(db, kOpenBusyTimeoutMs);
  return std::unique_ptr<Database>(new Database(db));
}

namespace {

// An SQLite URI for path: "file:" and the path with '%', '?' and '#' percent-encoded.
std::string FileUri(const std::string& path, std::string_view query) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      uri += c;
    }
  }
  if (!query.empty()) uri += fmt::format("?{}", query);
  return uri;
}

}  // namespace

// A WAL-mode database needs its WAL index (-shm) even to read. While a writer has it
// open, or after one was killed, the -wal and -shm files exist and a reader without
// write access uses them read-only. After the last writer closed cleanly they are gone,
// and such a reader cannot create them: SQLite refuses with "attempt to write a readonly
// database". Then, and only then, nothing is in a WAL to miss, so the file is opened
// with immutable=1, which reads the database file alone. A writer that starts while
// such a reader runs is not seen by it (the reader is short-lived: report, trend).
Result<std::unique_ptr<Database>> Database::OpenReadOnly(const std::string& path) {
  auto db = Open(FileUri(path, ""), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
  if (!db) return db.error();
  auto version = (*db)->QueryInt("PRAGMA user_version");
  if (version || version.error().code() != StatusCode::kReadOnly) {
    if (!version) return version.error();
    return db;
  }
  std::error_code ec;
  const auto wal_bytes = std::filesystem::file_size(path + "-wal", ec);
  if (!ec && wal_bytes > 0) return version.error().WithContext(path);
  db = Open(FileUri(path, "immutable=1"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
  if (!db) return db.error();
  version = (*db)->QueryInt("PRAGMA user_version");
  if (!version) return version.error();
  return db;
}

Database::~Database() {
  cache_.reset();  // statements must be finalized before the connection closes
  sqlite3_close(db_);
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    Status status = SqliteStatus(rc, "sqlite", db_);
    sqlite3_free(error);
    return status;
  }
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "prepare", db_);
  return Statement(db_, stmt);
}

Result<Statement*> Database::Cached(std::string_view sql) {
  auto it = cache_->statements.find(std::string(sql));
  if (it == cache_->statements.end()) {
    auto prepared = Prepare(sql);
    if (!prepared) return prepared.error();
    it = cache_->statements.emplace(std::string(sql), std::move(*prepared)).first;
  }
  it->second.Reset();
  return &it->second;
}

Result<int64_t> Database::QueryInt(std::string_view sql) {
  auto stmt = Prepare(sql);
  if (!stmt) return stmt.error();
  Status status;
  if (!stmt->Step(&status)) {
    if (!status.ok()) return status;
    return Status::NotFound(fmt::format("no row from {}", sql));
  }
  return stmt->Int(0);
}

Transaction::Transaction(Database* db, bool immediate) : db_(db) {
  begin_status_ = db_->Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
  open_ = begin_status_.ok();
}

Transaction::~Transaction() {
  if (open_) (void)db_->Exec("ROLLBACK").ok();
}

Status Transaction::Commit() {
  Status status = db_->Exec("COMMIT");
  if (status.ok()) {
    open_ = false;
  }
  return status;
}

}  // namespace offmon::store
