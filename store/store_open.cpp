// Opening a store: probe the file, quick_check, migrate the schema, verify checksums and
// load the series catalogue; and the store_state table of small integers.
#include "sqlite_store_impl.h"

#include <algorithm>
#include <filesystem>
#include <unordered_map>

#include <fmt/format.h>

#include "migrations_impl.h"

namespace offmon::store {

namespace {

constexpr int kSchemaVersion = 5;
constexpr int64_t kApplicationId = 0x4F464D4E;  // "OFMN" in the SQLite header
// The writer connection's page cache (PRAGMA cache_size), KiB; see Open.
constexpr int kWriterCacheKiB = 512;

Status ProbeExisting(const std::string& path) {
  auto probe = Database::OpenReadOnly(path);
  if (!probe) {
    if (probe.error().code() == StatusCode::kNotAStore) {
      return Status::NotAStore(fmt::format("{} is not an offmon store (not an SQLite database)", path));
    }
    return probe.error().WithContext(path);
  }
  auto app_id = (*probe)->QueryInt("PRAGMA application_id");
  if (!app_id) return app_id.error().WithContext(path);
  if (*app_id != kApplicationId) {
    auto tables = (*probe)->QueryInt("SELECT count(*) FROM sqlite_master");
    if (!tables) return tables.error().WithContext(path);
    if (*tables > 0 || *app_id != 0) {
      return Status::NotAStore(fmt::format("{} is an SQLite database but not an offmon store", path));
    }
  }
  auto version = (*probe)->QueryInt("PRAGMA user_version");
  if (!version) return version.error().WithContext(path);
  if (*version > kSchemaVersion) {
    return Status::TooNew(fmt::format(
        "{} has schema version {}, newer than this offmon's {}: upgrade offmon to read it", path,
        *version, kSchemaVersion));
  }
  return Status::Ok();
}

// SQLite's quick_check: every b-tree page well-formed, without integrity_check's index
// cross-checks, so that it is cheap enough for every writer's open (measured in
// docs/store-schema.md). A writer must not build on a damaged file: it would spread the
// damage (rebuild, retention) or hide it under new writes. Payload damage inside a page
// is the chunk and rollup checksums' business, verified on every read.
Status QuickCheck(Database* db) {
  auto stmt = db->Prepare("PRAGMA quick_check(1)");
  if (!stmt) return stmt.error();
  Status status;
  std::string verdict = stmt->Step(&status) ? std::string(stmt->Text(0)) : std::string();
  if (status.ok() && verdict == "ok") return Status::Ok();
  if (!status.ok() && status.code() != StatusCode::kCorruption && status.code() != StatusCode::kNotAStore) {
    return status;
  }
  return Status::Corruption(fmt::format("the store is damaged ({}); offmon store check lists the damage",
                                        status.ok() ? verdict : status.message()));
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  auto store = std::make_unique<SqliteStore>(options);
  Status status = store->Init();
  if (!status.ok()) return status;
  return std::unique_ptr<Store>(std::move(store));
}

Status SqliteStore::Init() {
  const std::string path = options_.path.string();
  if (options_.chunk_window.count() <= 0 || kDayMs % window_ms() != 0 || window_ms() % 3'600'000 != 0) {
    return Status::InvalidArgument("chunk window must be a whole number of hours dividing a day");
  }
  std::error_code ec;
  bool exists = std::filesystem::exists(options_.path, ec);
  bool existing = false;  // a non-empty file: an existing store
  if (exists) {
    if (std::filesystem::is_directory(options_.path, ec)) {
      return Status::NotAStore(fmt::format("{} is a directory, not an offmon store", path));
    }
    existing = std::filesystem::file_size(options_.path, ec) > 0;
    if (existing) OFFMON_RETURN_IF_ERROR(ProbeExisting(path));
  } else if (options_.read_only || !options_.create_if_missing) {
    return Status::NotFound(fmt::format("no store at {} (offmon collect or offmon import creates one)", path));
  } else if (options_.path.has_parent_path()) {
    std::filesystem::create_directories(options_.path.parent_path(), ec);
    if (ec) return Status::IOError(fmt::format("cannot create {}: {}", options_.path.parent_path().string(), ec.message()));
  }

  auto db = options_.read_only ? Database::OpenReadOnly(path)
                               : Database::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return db.error();
  db_ = std::move(*db);
  OFFMON_RETURN_IF_ERROR(RegisterChecksumFunction(db_->raw()));
  sqlite3_busy_timeout(db_->raw(), static_cast<int>(options_.busy_timeout.count()));

  auto version = db_->QueryInt("PRAGMA user_version");
  if (!version) return version.error().WithContext(path);
  if (options_.read_only) {
    // Readers (report, trend) are short-lived and scan chunks: map the file and give
    // them a bigger cache. The daemon keeps SQLite's small default to stay lean.
    OFFMON_RETURN_IF_ERROR(db_->Exec("PRAGMA mmap_size=1073741824; PRAGMA cache_size=-16384"));
    if (*version < kSchemaVersion) {
      return Status::InvalidArgument(fmt::format(
          "{} has schema version {}; open it once for writing (offmon store migrate) to upgrade", path, *version));
    }
  } else {
    if (existing) OFFMON_RETURN_IF_ERROR(QuickCheck(db_.get()).WithContext(fmt::format("{}: nothing was written", path)));
    if (options_.max_page_count > 0) {
      OFFMON_RETURN_IF_ERROR(db_->Exec(fmt::format("PRAGMA max_page_count={}", options_.max_page_count)));
    }
    OFFMON_RETURN_IF_ERROR(db_->Exec("PRAGMA journal_mode=WAL").WithContext(path));
    OFFMON_RETURN_IF_ERROR(db_->Exec("PRAGMA synchronous=NORMAL"));
    // The writer (the daemon) keeps a page cache of 512 KiB, not SQLite's 2 MiB: it is
    // most of the daemon's heap once the store has grown (a backfill), and the pages it
    // re-reads (b-tree interior pages, the users index) are in the OS cache anyway.
    OFFMON_RETURN_IF_ERROR(db_->Exec(fmt::format("PRAGMA cache_size=-{}", kWriterCacheKiB)));
    if (*version < kSchemaVersion) OFFMON_RETURN_IF_ERROR(Migrate(static_cast<int>(*version)).WithContext(path));
  }
  OFFMON_RETURN_IF_ERROR(LoadSeriesCatalogue().WithContext(path));
  if (existing && !options_.read_only) {
    OFFMON_RETURN_IF_ERROR(VerifyChecksums().WithContext(fmt::format("{}: nothing was written", path)));
  }
  if (!options_.read_only) {
    auto sealed = GetState("sealed_through_ms", kMinTime);
    if (!sealed) return sealed.error();
    sealed_through_ms_ = *sealed;
    auto stmt = db_->Prepare("SELECT min(window_start_ms), max(max_time_ms) FROM events WHERE kind = ?");
    if (!stmt) return stmt.error();
    stmt->Bind(1, KindParam(EventKind::kSamples));
    Status status;
    if (stmt->Step(&status) && !stmt->IsNull(0)) {
      oldest_head_window_ = stmt->Int(0);
      newest_sample_ms_ = stmt->Int(1);
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  return Status::Ok();
}

Status SqliteStore::Migrate(int from_version) {
  Transaction txn(db_.get(), /*immediate=*/true);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  if (from_version == 0) {
    OFFMON_RETURN_IF_ERROR(db_->Exec(fmt::format("PRAGMA application_id={}", kApplicationId)));
  }
  for (const Migration& m : Migrations()) {
    if (m.version <= from_version) continue;
    OFFMON_RETURN_IF_ERROR(db_->Exec(m.sql).WithContext(fmt::format("migration {}", m.name)));
  }
  OFFMON_RETURN_IF_ERROR(db_->Exec(fmt::format("PRAGMA user_version={}", kSchemaVersion)));
  OFFMON_RETURN_IF_ERROR(txn.Commit());
  // An upgraded store gets its new projections built from its log.
  if (from_version >= 1) return Rebuild();
  return Status::Ok();
}

Status SqliteStore::LoadSeriesCatalogue() {
  auto next_user = db_->QueryInt("SELECT coalesce(max(id), 0) + 1 FROM users");
  if (!next_user) return next_user.error();
  next_user_id_ = *next_user;
  std::unordered_map<std::string, SeriesEntry> loaded;
  SeriesId next = next_series_id_;
  auto stmt = db_->Prepare("SELECT id, key FROM series");
  if (!stmt) return stmt.error();
  Status status;
  while (stmt->Step(&status)) {
    loaded.emplace(std::string(stmt->Text(1)), SeriesEntry{stmt->Int(0), /*defined=*/true});
    next = std::max(next, stmt->Int(0) + 1);
  }
  OFFMON_RETURN_IF_ERROR(status);
  // Reservations of pending batches survive a reload (Rebuild): their ids are in use.
  for (auto& [key, entry] : series_by_key_) {
    if (!entry.defined) loaded.emplace(key, entry);
  }
  series_by_key_.swap(loaded);
  next_series_id_ = next;
  return Status::Ok();
}

Result<int64_t> SqliteStore::GetState(std::string_view key, int64_t fallback) {
  auto stmt = db_->Cached("SELECT value FROM store_state WHERE key = ?");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, key);
  Status status;
  int64_t value = (*stmt)->Step(&status) ? (*stmt)->Int(0) : fallback;
  (*stmt)->Reset();
  if (!status.ok()) return status;
  return value;
}

Status SqliteStore::SetState(std::string_view key, int64_t value) {
  auto stmt = db_->Cached("INSERT INTO store_state(key, value) VALUES (?, ?)"
                          " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, key).Bind(2, value);
  return (*stmt)->Run();
}

Status SqliteStore::BumpHeadGeneration() {
  auto generation = GetState("head_generation", 0);
  if (!generation) return generation.error();
  return SetState("head_generation", *generation + 1);
}

}  // namespace offmon::store
