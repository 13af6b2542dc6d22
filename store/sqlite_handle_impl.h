// Thin RAII wrappers over the SQLite C API, with SQLite result codes mapped to Status.
// Thread safety: a Database and its Statements are used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "offmon/common/result.h"

namespace offmon::store {

// Maps an SQLite result code and message to the Status class a caller can act on.
Status SqliteStatus(int rc, std::string_view what, sqlite3* db);

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  ~Statement();

  // Binds are 1-based, like SQLite's.
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, std::string_view text);
  Statement& BindBlob(int index, std::string_view bytes);
  Statement& BindNull(int index);

  // Steps once: true with a row, false when done; errors go to `status`.
  bool Step(Status* status);
  // Runs to completion, for statements that return no rows.
  Status Run();
  void Reset();

  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  double Double(int column) const { return sqlite3_column_double(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string_view Text(int column) const;
  std::string_view Blob(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// How long a new connection waits on another's lock before SQLITE_BUSY, until its owner
// sets its own timeout: StoreOptions::busy_timeout's default.
inline constexpr int kOpenBusyTimeoutMs = 5000;

class Database {
 public:
  // flags: SQLITE_OPEN_READONLY or SQLITE_OPEN_READWRITE [| SQLITE_OPEN_CREATE].
  static Result<std::unique_ptr<Database>> Open(const std::string& path, int flags);
  // Opens an existing database for reading only, also for a user who cannot write the
  // file's directory (see OpenReadOnly in sqlite_handle.cpp); reads PRAGMA user_version
  // to find out, so errors of the first read (NotAStore, Corruption) surface here.
  static Result<std::unique_ptr<Database>> OpenReadOnly(const std::string& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Status Exec(std::string_view sql);
  // Prepares once and reuses: statements are cached by their SQL text.
  Result<Statement*> Cached(std::string_view sql);
  Result<Statement> Prepare(std::string_view sql);
  // Runs a single-value query such as "PRAGMA user_version".
  Result<int64_t> QueryInt(std::string_view sql);
  sqlite3* raw() const { return db_; }

 private:
  explicit Database(sqlite3* db);
  struct Cache;
  sqlite3* db_;
  std::unique_ptr<Cache> cache_;
};

// Begins a transaction on construction; rolls back on destruction unless committed.
class Transaction {
 public:
  // immediate: take the write lock now (writers), else a deferred read snapshot.
  Transaction(Database* db, bool immediate);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  const Status& begin_status() const { return begin_status_; }
  Status Commit();

 private:
  Database* db_;
  Status begin_status_;
  bool open_ = false;
};

}  // namespace offmon::store
