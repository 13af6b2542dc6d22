// The SQLite implementation of Store and Appender. Format: docs/store-schema.md.
#include <roaring/roaring.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "checksum_impl.h"
#include "migrations_impl.h"
#include "offmon/store/chunk_codec.h"
#include "offmon/store/store.h"
#include "rollup_codec_impl.h"
#include "sample_batch_codec_impl.h"
#include "sqlite_handle_impl.h"

namespace offmon::store {

namespace {

constexpr int kSchemaVersion = 4;
constexpr int64_t kApplicationId = 0x4F464D4E;  // "OFMN" in the SQLite header
// The writer connection's page cache (PRAGMA cache_size), KiB; see Open.
constexpr int kWriterCacheKiB = 512;
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();

// An event kind as an SQL parameter: kinds are bound, never written into SQL as numbers.
constexpr int64_t KindParam(EventKind kind) { return static_cast<int64_t>(kind); }

// Rollup rows hold 24 buckets: 2 h of 5-minute buckets, a day of 1-hour buckets.
struct RollupLayout {
  int64_t step_ms;
  int64_t row_ms;
};
constexpr RollupLayout kLayouts[] = {{300'000, 7'200'000}, {3'600'000, kDayMs}};

const RollupLayout& LayoutFor(RollupStep step) { return kLayouts[step == RollupStep::k5m ? 0 : 1]; }

// The columns every chunk read selects, in this order (ChunkRow::Read).
constexpr std::string_view kChunkColumns = "series_id, window_start_ms, min_time_ms, max_time_ms, sample_count, data, crc";

// One row of `chunks`, as read; `data` points into the statement's current row.
struct ChunkRow {
  SeriesId series = 0;
  int64_t window_start = 0, min_time = 0, max_time = 0, count = 0, crc = 0;
  std::string_view data;

  static ChunkRow Read(const Statement& stmt, int first) {
    return ChunkRow{stmt.Int(first), stmt.Int(first + 1), stmt.Int(first + 2), stmt.Int(first + 3),
                    stmt.Int(first + 4), stmt.Int(first + 6), stmt.Blob(first + 5)};
  }
  static int64_t Checksum(SeriesId series, int64_t window_start, int64_t min_time, int64_t max_time, int64_t count,
                          std::string_view data) {
    return RowChecksum({series, window_start, min_time, max_time, count}, data);
  }
  bool intact() const { return Checksum(series, window_start, min_time, max_time, count, data) == crc; }
};

int64_t RollupChecksum(SeriesId series, int64_t step_s, int64_t window_start, std::string_view data) {
  return RowChecksum({series, step_s, window_start}, data);
}

// What a rollup row of step_s (a `step_s` column value) covers, for error messages.
int64_t RollupRowMs(int64_t step_s) { return step_s * 1000 == kLayouts[0].step_ms ? kLayouts[0].row_ms : kLayouts[1].row_ms; }
std::string RollupWhat(int64_t step_s) { return step_s * 1000 == kLayouts[0].step_ms ? "the 5m rollup" : "the 1h rollup"; }

// Sorts by time, keeping the last-written sample of each timestamp. Input is in write
// order, so a stable sort leaves later writes after earlier ones.
void SortAndDedupe(std::vector<Sample>* samples) {
  auto by_time = [](const Sample& a, const Sample& b) { return a.time < b.time; };
  if (!std::is_sorted(samples->begin(), samples->end(), by_time)) {
    std::stable_sort(samples->begin(), samples->end(), by_time);
  }
  size_t out = 0;
  for (size_t i = 0; i < samples->size(); ++i) {
    if (i + 1 < samples->size() && (*samples)[i + 1].time == (*samples)[i].time) continue;
    (*samples)[out++] = (*samples)[i];
  }
  samples->resize(out);
}

class SqliteStore;

class SqliteAppender final : public Appender {
 public:
  SqliteAppender(SqliteStore* store, std::string source) : store_(store), source_(std::move(source)) {}
  Result<SeriesId> Ref(const SeriesKey& key) override;
  void Add(SeriesId series, TimePoint time, double value) override {
    samples_.push_back(SeriesSample{series, Sample{time, value}});
  }
  Status Commit(TimePoint at) override;
  void Rollback() override;
  size_t pending_samples() const override { return samples_.size(); }
  void AttachEvent(EventKind kind, std::string payload) override { attached_.emplace_back(kind, std::move(payload)); }
  void AddEpoch(EpochObservation epoch) override { epochs_.push_back(std::move(epoch)); }

 private:
  SqliteStore* store_;
  std::string source_;
  // Series this batch uses that were not yet defined in the store when Ref'd, in Ref
  // order; Commit defines those still undefined then.
  std::vector<std::pair<SeriesId, std::string>> new_series_;
  std::unordered_set<SeriesId> new_ids_;
  std::vector<SeriesSample> samples_;
  std::vector<std::pair<EventKind, std::string>> attached_;
  std::vector<EpochObservation> epochs_;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(StoreOptions options) : options_(std::move(options)) {}

  Status Init();

  std::unique_ptr<Appender> NewAppender(std::string source) override {
    return std::make_unique<SqliteAppender>(this, std::move(source));
  }
  Result<int64_t> AppendEvent(EventKind kind, std::string_view source, std::string_view payload,
                              TimePoint at) override;
  Status Checkpoint() override;
  Status ApplyRetention(TimePoint now) override;
  Status Rebuild() override;
  Result<std::vector<SeriesInfo>> Select(const Selector& selector) override;
  Result<std::vector<Sample>> ReadRange(SeriesId series, TimePoint from, TimePoint to) override;
  Result<std::vector<LatestSample>> ReadLatest(TimePoint since) override;
  Result<std::vector<RollupBucket>> ReadRollup(SeriesId series, RollupStep step, TimePoint from,
                                               TimePoint to) override;
  Result<std::vector<Event>> ReadEvents(int64_t after_seq, std::optional<EventKind> kind,
                                        size_t limit) override;
  Result<std::vector<EpochRecord>> ReadEpochs(TimePoint from, TimePoint to) override;
  Result<StoreInfo> Info() override;
  Result<std::vector<std::string>> Check() override;

 private:
  friend class SqliteAppender;

  int64_t window_ms() const { return options_.chunk_window.count(); }
  Status Migrate(int from_version);
  Result<int64_t> InsertEvent(EventKind kind, std::string_view source, std::string_view payload,
                              int64_t at_ms);
  Result<int64_t> InsertSamplesEvent(std::string_view source, int64_t at_ms, int64_t window_start,
                                     std::span<const SeriesSample> samples);
  Result<int64_t> GetState(std::string_view key, int64_t fallback);
  Status SetState(std::string_view key, int64_t value);
  Status BumpHeadGeneration();
  Status LoadSeriesCatalogue();
  // Rewrites the rollup buckets of `series` that start in [from, to) from `samples`
  // (time-sorted, within that range), merging with rows that exist.
  Status WriteRollups(SeriesId series, std::span<const Sample> samples, int64_t from, int64_t to);
  Status ReadChunks(SeriesId series, int64_t from, int64_t to, std::vector<Sample>* out);
  // Appends a chunk's samples to `out` after checking its checksum: Corruption naming
  // the series and window when it disagrees or the bytes do not decode.
  Status DecodeVerifiedChunk(const ChunkRow& chunk, std::vector<Sample>* out) const;
  // The same for a rollup row of `step_s` starting at window_start.
  Status VerifiedRollup(SeriesId series, int64_t step_s, int64_t window_start, std::string_view data, int64_t crc,
                        std::vector<RollupBucket>* out) const;
  Status ChecksumMismatch(std::string_view what, SeriesId series, int64_t from_ms, int64_t to_ms) const;
  // Verifies the checksum of every chunk and rollup row; the first mismatch as Corruption.
  // Writers call it on open, after QuickCheck: reading every row's bytes costs about as
  // much again as quick_check's walk over the pages (docs/store-schema.md#checksums).
  Status VerifyChecksums();
  // Brings the in-memory head cache up to date with the log; call inside a transaction.
  Status RefreshHead();
  // Reads raw samples; call inside a transaction after RefreshHead().
  Status ReadRangeLocked(SeriesId series, int64_t from, int64_t to, std::vector<Sample>* out);
  Status MaybeCheckpoint();
  // Maps participants to user ids (registering new ones), writes one epoch_sealed event
  // per epoch and updates the epochs projection. Returns the next free user id, which
  // the caller adopts once the transaction commits.
  Result<int64_t> WriteEpochs(const std::vector<EpochObservation>& epochs, std::string_view source, int64_t at_ms);
  Status ProjectEpoch(const EpochRecord& epoch);
  Status RebuildEpochs();

  StoreOptions options_;
  std::unique_ptr<Database> db_;
  // Every key ever given an id by this Store: the catalogue (defined) plus keys Ref'd by
  // a batch not yet committed (reserved). A key's id never changes and next_series_id_
  // never goes back, so no two keys share an id however batches fail, retry or roll
  // back; a reservation whose batch is dropped is kept, and the id reused for the same
  // key only (the catalogue may have gaps). Only a committed transaction sets `defined`.
  struct SeriesEntry {
    SeriesId id = 0;
    bool defined = false;
  };
  std::unordered_map<std::string, SeriesEntry> series_by_key_;
  SeriesId next_series_id_ = 1;
  int64_t next_user_id_ = 1;

  // The head (sample events not yet sealed) by series, in write order. Rebuilt when a
  // checkpoint, retention or rebuild changes the head generation, else extended with
  // events past max_seq: the log is append-only between those.
  struct HeadCache {
    int64_t generation = -1;
    int64_t max_seq = 0;
    std::unordered_map<SeriesId, std::vector<Sample>> samples;
    std::vector<int64_t> windows;  // distinct window starts present in the head
  } head_;

  // Writer-side view of the head, to decide cheaply after a commit whether to seal.
  std::optional<int64_t> oldest_head_window_;
  int64_t newest_sample_ms_ = kMinTime;
  int64_t sealed_through_ms_ = kMinTime;
};

// ---------------------------------------------------------------- opening

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

// ---------------------------------------------------------------- writing

Result<int64_t> SqliteStore::InsertEvent(EventKind kind, std::string_view source, std::string_view payload,
                                         int64_t at_ms) {
  auto stmt = db_->Cached("INSERT INTO events(time_ms, source, kind, payload) VALUES (?, ?, ?, ?)");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, at_ms).Bind(2, source).Bind(3, static_cast<int64_t>(kind)).BindBlob(4, payload);
  OFFMON_RETURN_IF_ERROR((*stmt)->Run());
  return sqlite3_last_insert_rowid(db_->raw());
}

Result<int64_t> SqliteStore::InsertSamplesEvent(std::string_view source, int64_t at_ms, int64_t window_start,
                                                std::span<const SeriesSample> samples) {
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = kMinTime;
  for (const SeriesSample& s : samples) {
    lo = std::min(lo, ToMillis(s.sample.time));
    hi = std::max(hi, ToMillis(s.sample.time));
  }
  auto stmt = db_->Cached(
      "INSERT INTO events(time_ms, source, kind, window_start_ms, min_time_ms, max_time_ms, sample_count, payload)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, at_ms).Bind(2, source).Bind(3, KindParam(EventKind::kSamples)).Bind(4, window_start)
      .Bind(5, lo).Bind(6, hi).Bind(7, static_cast<int64_t>(samples.size()))
      .BindBlob(8, EncodeSampleBatch(samples, window_start));
  OFFMON_RETURN_IF_ERROR((*stmt)->Run());
  return hi;
}

Result<int64_t> SqliteStore::AppendEvent(EventKind kind, std::string_view source, std::string_view payload,
                                         TimePoint at) {
  return InsertEvent(kind, source, payload, ToMillis(at));
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

Result<SeriesId> SqliteAppender::Ref(const SeriesKey& key) {
  std::string text = key.ToString();
  auto [it, fresh] = store_->series_by_key_.try_emplace(text);
  SqliteStore::SeriesEntry& entry = it->second;
  if (fresh) entry.id = store_->next_series_id_++;
  if (!entry.defined && new_ids_.insert(entry.id).second) new_series_.emplace_back(entry.id, std::move(text));
  return entry.id;
}

void SqliteAppender::Rollback() {
  // The reservations stay: another batch may use them, and a retry gets the same ids.
  new_series_.clear();
  new_ids_.clear();
  samples_.clear();
  attached_.clear();
  epochs_.clear();
}

Status SqliteAppender::Commit(TimePoint at) {
  Database* db = store_->db_.get();
  const int64_t at_ms = ToMillis(at);
  const int64_t window = store_->window_ms();
  int64_t newest = kMinTime;
  std::optional<int64_t> oldest_window;
  {
    Transaction txn(db, /*immediate=*/true);
    OFFMON_RETURN_IF_ERROR(txn.begin_status());
    for (const auto& [id, key] : new_series_) {
      if (auto it = store_->series_by_key_.find(key); it != store_->series_by_key_.end() && it->second.defined) {
        continue;  // defined by another batch since Ref
      }
      auto seq = store_->InsertEvent(EventKind::kSeriesDefined, source_,
                                     nlohmann::json{{"id", id}, {"series", key}}.dump(), at_ms);
      if (!seq) return seq.error();
      auto stmt = db->Cached("INSERT INTO series(id, key) VALUES (?, ?)");
      if (!stmt) return stmt.error();
      (*stmt)->Bind(1, id).Bind(2, key);
      OFFMON_RETURN_IF_ERROR((*stmt)->Run());
    }
    // One event per chunk window, so a checkpoint seals whole events. A collection
    // cycle is one window; an import may span many.
    auto window_of = [&](const SeriesSample& s) { return FloorTo(ToMillis(s.sample.time), window); };
    bool one_window = std::all_of(samples_.begin(), samples_.end(), [&](const SeriesSample& s) {
      return window_of(s) == window_of(samples_.front());
    });
    std::vector<SeriesSample> sorted;
    std::span<const SeriesSample> all(samples_);
    if (!one_window) {
      sorted = samples_;
      std::stable_sort(sorted.begin(), sorted.end(),
                       [&](const SeriesSample& a, const SeriesSample& b) { return window_of(a) < window_of(b); });
      all = sorted;
    }
    for (size_t i = 0; i < all.size();) {
      size_t j = i;
      int64_t w = window_of(all[i]);
      while (j < all.size() && window_of(all[j]) == w) ++j;
      auto hi = store_->InsertSamplesEvent(source_, at_ms, w, all.subspan(i, j - i));
      if (!hi) return hi.error();
      newest = std::max(newest, *hi);
      oldest_window = std::min(oldest_window.value_or(w), w);
      i = j;
    }
    for (const auto& [kind, payload] : attached_) {
      auto seq = store_->InsertEvent(kind, source_, payload, at_ms);
      if (!seq) return seq.error();
    }
    auto next_user = store_->WriteEpochs(epochs_, source_, at_ms);
    if (!next_user) return next_user.error();
    OFFMON_RETURN_IF_ERROR(txn.Commit());
    store_->next_user_id_ = *next_user;
  }
  for (const auto& [id, key] : new_series_) {
    SqliteStore::SeriesEntry& entry = store_->series_by_key_[key];
    if (!entry.defined) entry = SqliteStore::SeriesEntry{id, /*defined=*/true};
  }
  new_series_.clear();
  new_ids_.clear();
  samples_.clear();
  attached_.clear();
  epochs_.clear();
  if (oldest_window) {
    store_->oldest_head_window_ = std::min(store_->oldest_head_window_.value_or(*oldest_window), *oldest_window);
    store_->newest_sample_ms_ = std::max(store_->newest_sample_ms_, newest);
  }
  // The batch is durable; a failed checkpoint only delays sealing and is retried on
  // the next commit, so it does not fail the batch.
  (void)store_->MaybeCheckpoint().ok();
  return Status::Ok();
}

Status SqliteStore::MaybeCheckpoint() {
  if (!oldest_head_window_) return Status::Ok();
  int64_t cutoff = std::max(FloorTo(newest_sample_ms_ - options_.seal_lag.count(), window_ms()), sealed_through_ms_);
  if (*oldest_head_window_ + window_ms() > cutoff) return Status::Ok();
  return Checkpoint();
}

Status SqliteStore::Checkpoint() {
  if (options_.read_only) return Status::ReadOnly("store opened read-only");
  const int64_t window = window_ms();
  Transaction txn(db_.get(), /*immediate=*/true);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  auto sealed = GetState("sealed_through_ms", kMinTime);
  if (!sealed) return sealed.error();
  auto newest_stmt = db_->Prepare("SELECT max(max_time_ms) FROM events WHERE kind = ?");
  if (!newest_stmt) return newest_stmt.error();
  newest_stmt->Bind(1, KindParam(EventKind::kSamples));
  Status status;
  if (!newest_stmt->Step(&status) || newest_stmt->IsNull(0)) return status;
  const int64_t cutoff = std::max(FloorTo(newest_stmt->Int(0) - options_.seal_lag.count(), window), *sealed);
  auto horizon = GetState("raw_horizon_ms", kMinTime);
  if (!horizon) return horizon.error();

  auto events = db_->Prepare(
      "SELECT seq, window_start_ms, payload FROM events WHERE kind = ? AND window_start_ms <= ?"
      " ORDER BY window_start_ms, seq");
  if (!events) return events.error();
  events->Bind(1, KindParam(EventKind::kSamples)).Bind(2, cutoff - window);
  int64_t windows = 0, sealed_samples = 0, dropped = 0, event_count = 0;
  std::unordered_map<SeriesId, std::vector<Sample>> by_series;
  std::optional<int64_t> current;
  auto seal_window = [&](int64_t w) -> Status {
    ++windows;
    if (w + window <= *horizon) {  // late data for a time retention already dropped
      for (auto& [id, samples] : by_series) dropped += static_cast<int64_t>(samples.size());
      by_series.clear();
      return Status::Ok();
    }
    std::vector<SeriesId> ids;
    for (const auto& entry : by_series) ids.push_back(entry.first);
    std::sort(ids.begin(), ids.end());  // deterministic order of chunk rows
    for (SeriesId id : ids) {
      std::vector<Sample> merged;
      OFFMON_RETURN_IF_ERROR(ReadChunks(id, w, w + window, &merged));
      auto& fresh = by_series[id];
      merged.insert(merged.end(), fresh.begin(), fresh.end());
      SortAndDedupe(&merged);
      auto upsert = db_->Cached(
          "INSERT INTO chunks(series_id, window_start_ms, min_time_ms, max_time_ms, sample_count, data, crc)"
          " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(series_id, window_start_ms) DO UPDATE SET"
          " min_time_ms = excluded.min_time_ms, max_time_ms = excluded.max_time_ms,"
          " sample_count = excluded.sample_count, data = excluded.data, crc = excluded.crc");
      if (!upsert) return upsert.error();
      const int64_t lo = ToMillis(merged.front().time), hi = ToMillis(merged.back().time);
      const auto count = static_cast<int64_t>(merged.size());
      const std::string data = EncodeChunk(merged);
      (*upsert)->Bind(1, id).Bind(2, w).Bind(3, lo).Bind(4, hi).Bind(5, count).BindBlob(6, data)
          .Bind(7, ChunkRow::Checksum(id, w, lo, hi, count, data));
      OFFMON_RETURN_IF_ERROR((*upsert)->Run());
      OFFMON_RETURN_IF_ERROR(WriteRollups(id, merged, w, w + window));
      sealed_samples += static_cast<int64_t>(fresh.size());
    }
    by_series.clear();
    return Status::Ok();
  };
  while (events->Step(&status)) {
    int64_t w = events->Int(1);
    if (current && *current != w) OFFMON_RETURN_IF_ERROR(seal_window(*current));
    current = w;
    ++event_count;
    OFFMON_RETURN_IF_ERROR(DecodeSampleBatch(events->Blob(2), w, [&](int64_t id, Sample s) {
      by_series[id].push_back(s);
    }).WithContext(fmt::format("event {}", events->Int(0))));
  }
  OFFMON_RETURN_IF_ERROR(status);
  if (!current) return txn.Commit();
  OFFMON_RETURN_IF_ERROR(seal_window(*current));

  auto del = db_->Prepare("DELETE FROM events WHERE kind = ? AND window_start_ms <= ?");
  if (!del) return del.error();
  del->Bind(1, KindParam(EventKind::kSamples)).Bind(2, cutoff - window);
  OFFMON_RETURN_IF_ERROR(del->Run());
  auto seq = InsertEvent(EventKind::kCheckpoint, "store",
                         nlohmann::json{{"windows", windows}, {"events", event_count}, {"samples", sealed_samples},
                                        {"dropped_expired", dropped}, {"through_ms", cutoff}}.dump(),
                         newest_sample_ms_ == kMinTime ? cutoff : newest_sample_ms_);
  if (!seq) return seq.error();
  OFFMON_RETURN_IF_ERROR(SetState("sealed_through_ms", cutoff));
  OFFMON_RETURN_IF_ERROR(BumpHeadGeneration());
  OFFMON_RETURN_IF_ERROR(txn.Commit());

  sealed_through_ms_ = cutoff;
  auto rest = db_->Prepare("SELECT min(window_start_ms), max(max_time_ms) FROM events WHERE kind = ?");
  if (!rest) return rest.error();
  rest->Bind(1, KindParam(EventKind::kSamples));
  oldest_head_window_.reset();
  if (rest->Step(&status) && !rest->IsNull(0)) {
    oldest_head_window_ = rest->Int(0);
    newest_sample_ms_ = std::max(newest_sample_ms_, rest->Int(1));
  }
  return status;
}

Status SqliteStore::WriteRollups(SeriesId series, std::span<const Sample> samples, int64_t from, int64_t to) {
  for (const RollupLayout& layout : kLayouts) {
    std::vector<RollupBucket> fresh = ComputeBuckets(samples, layout.step_ms);
    for (int64_t row = FloorTo(from, layout.row_ms); row < to; row += layout.row_ms) {
      const int64_t step_s = layout.step_ms / 1000;
      auto get = db_->Cached("SELECT data, crc FROM rollups WHERE series_id = ? AND step_s = ? AND window_start_ms = ?");
      if (!get) return get.error();
      (*get)->Bind(1, series).Bind(2, step_s).Bind(3, row);
      std::vector<RollupBucket> buckets;
      Status status;
      if ((*get)->Step(&status)) {
        status = VerifiedRollup(series, step_s, row, (*get)->Blob(0), (*get)->Int(1), &buckets);
      }
      (*get)->Reset();
      OFFMON_RETURN_IF_ERROR(status);
      // Keep buckets outside the rewritten range, take the fresh ones inside it.
      const int64_t lo = std::max(from, row), hi = std::min(to, row + layout.row_ms);
      std::erase_if(buckets, [&](const RollupBucket& b) {
        return ToMillis(b.start) >= lo && ToMillis(b.start) < hi;
      });
      for (const RollupBucket& b : fresh) {
        if (ToMillis(b.start) >= lo && ToMillis(b.start) < hi) buckets.push_back(b);
      }
      std::sort(buckets.begin(), buckets.end(),
                [](const RollupBucket& a, const RollupBucket& b) { return a.start < b.start; });
      if (buckets.empty()) continue;
      auto put = db_->Cached(
          "INSERT INTO rollups(series_id, step_s, window_start_ms, data, crc) VALUES (?, ?, ?, ?, ?)"
          " ON CONFLICT(series_id, step_s, window_start_ms) DO UPDATE SET data = excluded.data, crc = excluded.crc");
      if (!put) return put.error();
      const std::string data = EncodeRollups(buckets);
      (*put)->Bind(1, series).Bind(2, step_s).Bind(3, row).BindBlob(4, data)
          .Bind(5, RollupChecksum(series, step_s, row, data));
      OFFMON_RETURN_IF_ERROR((*put)->Run());
    }
  }
  return Status::Ok();
}

Status SqliteStore::ApplyRetention(TimePoint now) {
  if (options_.read_only) return Status::ReadOnly("store opened read-only");
  // Horizons fall on day boundaries so no chunk or rollup row straddles one.
  const int64_t now_ms = ToMillis(now);
  const int64_t raw = FloorTo(now_ms - options_.retention.raw.count(), kDayMs);
  const int64_t r5 = FloorTo(now_ms - options_.retention.rollup_5m.count(), kDayMs);
  const int64_t r1 = FloorTo(now_ms - options_.retention.rollup_1h.count(), kDayMs);
  Transaction txn(db_.get(), /*immediate=*/true);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  auto old_horizon = GetState("raw_horizon_ms", kMinTime);
  if (!old_horizon) return old_horizon.error();
  const int64_t horizon = std::max(*old_horizon, raw);
  int64_t deleted = 0;
  // Runs one DELETE with `params` bound in order and counts the rows it removed.
  auto delete_rows = [&](std::string_view sql, std::initializer_list<int64_t> params) -> Status {
    auto stmt = db_->Prepare(sql);
    if (!stmt) return stmt.error();
    int index = 0;
    for (int64_t param : params) stmt->Bind(++index, param);
    OFFMON_RETURN_IF_ERROR(stmt->Run());
    deleted += sqlite3_changes(db_->raw());
    return Status::Ok();
  };
  // Chunk windows wholly before the horizon: sealed chunks and the head's sample events.
  OFFMON_RETURN_IF_ERROR(delete_rows("DELETE FROM chunks WHERE window_start_ms + ? <= ?", {window_ms(), horizon}));
  OFFMON_RETURN_IF_ERROR(delete_rows("DELETE FROM events WHERE kind = ? AND window_start_ms + ? <= ?",
                                     {KindParam(EventKind::kSamples), window_ms(), horizon}));
  for (const RollupLayout& layout : kLayouts) {
    OFFMON_RETURN_IF_ERROR(delete_rows("DELETE FROM rollups WHERE step_s = ? AND window_start_ms + ? <= ?",
                                       {layout.step_ms / 1000, layout.row_ms, layout.step_ms == 300'000 ? r5 : r1}));
  }
  auto seq = InsertEvent(EventKind::kRetention, "store",
                         nlohmann::json{{"raw_before_ms", horizon}, {"rollup_5m_before_ms", r5},
                                        {"rollup_1h_before_ms", r1}, {"rows_deleted", deleted}}.dump(),
                         now_ms);
  if (!seq) return seq.error();
  OFFMON_RETURN_IF_ERROR(SetState("raw_horizon_ms", horizon));
  OFFMON_RETURN_IF_ERROR(BumpHeadGeneration());
  return txn.Commit();
}

Status SqliteStore::Rebuild() {
  if (options_.read_only) return Status::ReadOnly("store opened read-only");
  Transaction txn(db_.get(), /*immediate=*/true);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  // The catalogue, from the SeriesDefined events.
  OFFMON_RETURN_IF_ERROR(db_->Exec("DELETE FROM series"));
  {
    auto events = db_->Prepare("SELECT seq, payload FROM events WHERE kind = ? ORDER BY seq");
    if (!events) return events.error();
    events->Bind(1, KindParam(EventKind::kSeriesDefined));
    auto insert = db_->Prepare("INSERT INTO series(id, key) VALUES (?, ?)");
    if (!insert) return insert.error();
    Status status;
    while (events->Step(&status)) {
      auto payload = nlohmann::json::parse(events->Blob(1), nullptr, /*allow_exceptions=*/false);
      if (!payload.is_object() || !payload["id"].is_number_integer() || !payload["series"].is_string()) {
        return Status::Corruption(fmt::format("event {}: bad series definition", events->Int(0)));
      }
      insert->Bind(1, payload["id"].get<int64_t>()).Bind(2, payload["series"].get<std::string>());
      OFFMON_RETURN_IF_ERROR(insert->Run());
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  // Rollups, from sealed chunks. Rows wholly before the raw horizon have no raw data
  // left to rebuild them from: they are the durable record of that time and stay.
  auto horizon = GetState("raw_horizon_ms", kMinTime);
  if (!horizon) return horizon.error();
  for (const RollupLayout& layout : kLayouts) {
    auto del = db_->Prepare("DELETE FROM rollups WHERE step_s = ? AND window_start_ms + ? > ?");
    if (!del) return del.error();
    del->Bind(1, layout.step_ms / 1000).Bind(2, layout.row_ms).Bind(3, *horizon);
    OFFMON_RETURN_IF_ERROR(del->Run());
  }
  auto chunks = db_->Prepare(fmt::format("SELECT {} FROM chunks ORDER BY series_id, window_start_ms", kChunkColumns));
  if (!chunks) return chunks.error();
  Status status;
  OFFMON_RETURN_IF_ERROR(RebuildEpochs());
  // Per series, consecutive chunks are rolled up a day at a time (one write per row).
  std::vector<Sample> day;
  SeriesId day_series = -1;
  int64_t day_start = 0;
  auto flush = [&]() -> Status {
    if (day.empty()) return Status::Ok();
    Status s = WriteRollups(day_series, day, day_start, day_start + kDayMs);
    day.clear();
    return s;
  };
  while (chunks->Step(&status)) {
    const ChunkRow chunk = ChunkRow::Read(*chunks, 0);
    int64_t d = FloorTo(chunk.window_start, kDayMs);
    if (chunk.series != day_series || d != day_start) {
      OFFMON_RETURN_IF_ERROR(flush());
      day_series = chunk.series;
      day_start = d;
    }
    OFFMON_RETURN_IF_ERROR(DecodeVerifiedChunk(chunk, &day));
  }
  OFFMON_RETURN_IF_ERROR(status);
  OFFMON_RETURN_IF_ERROR(flush());
  OFFMON_RETURN_IF_ERROR(BumpHeadGeneration());
  OFFMON_RETURN_IF_ERROR(txn.Commit());
  return LoadSeriesCatalogue();
}

// ---------------------------------------------------------------- epochs

std::string EncodeEpochPayload(const EpochObservation& e, const std::string& bitmap) {
  nlohmann::json header{{"channel", e.channel},
                        {"epoch", e.epoch},
                        {"sealed_at_ms", ToMillis(e.sealed_at)},
                        {"published", e.published},
                        {"published_at_ms", e.published_at ? nlohmann::json(ToMillis(*e.published_at)) : nlohmann::json()},
                        {"root", e.root},
                        {"token_group", e.token_group},
                        {"category", e.category},
                        {"participants", e.count()}};
  std::string json = header.dump();
  std::string out;
  PutVarint(&out, json.size());
  out += json;
  out += bitmap;
  return out;
}

Result<int64_t> SqliteStore::WriteEpochs(const std::vector<EpochObservation>& epochs, std::string_view source,
                                         int64_t at_ms) {
  if (epochs.empty()) return next_user_id_;
  int64_t next_user = next_user_id_;
  // Registered in this batch; views of the hashes in `epochs`, which outlive this call.
  std::unordered_map<std::string_view, int64_t> fresh;
  std::vector<std::string_view> fresh_in_order;
  std::vector<std::string> bitmaps;
  for (const EpochObservation& e : epochs) {
    if (!e.has_participant_set) {  // count only: no bytes after the header
      bitmaps.emplace_back();
      continue;
    }
    roaring_bitmap_t* set = roaring_bitmap_create();
    for (const std::string& hash : e.participants) {
      int64_t id = 0;
      if (auto it = fresh.find(hash); it != fresh.end()) {
        id = it->second;
      } else {
        auto lookup = db_->Cached("SELECT id FROM users WHERE hash = ?");
        if (!lookup) {
          roaring_bitmap_free(set);
          return lookup.error();
        }
        (*lookup)->Bind(1, hash);
        Status status;
        if ((*lookup)->Step(&status)) {
          id = (*lookup)->Int(0);
        } else if (status.ok()) {
          id = next_user++;
          fresh.emplace(hash, id);
          fresh_in_order.push_back(hash);
        }
        (*lookup)->Reset();
        if (!status.ok()) {
          roaring_bitmap_free(set);
          return status;
        }
      }
      roaring_bitmap_add(set, static_cast<uint32_t>(id));
    }
    roaring_bitmap_run_optimize(set);
    std::string bytes(roaring_bitmap_portable_size_in_bytes(set), '\0');
    roaring_bitmap_portable_serialize(set, bytes.data());
    roaring_bitmap_free(set);
    bitmaps.push_back(std::move(bytes));
  }
  if (next_user > int64_t{1} << 32) return Status::InvalidArgument("more than 2^32 distinct users");
  if (!fresh_in_order.empty()) {
    std::string payload;
    {
      nlohmann::json hashes = nlohmann::json::array();
      hashes.get_ref<nlohmann::json::array_t&>().reserve(fresh_in_order.size());
      for (std::string_view hash : fresh_in_order) hashes.emplace_back(hash);
      payload = nlohmann::json{{"first_id", next_user_id_}, {"hashes", std::move(hashes)}}.dump();
    }
    auto seq = InsertEvent(EventKind::kUsersRegistered, source, payload, at_ms);
    if (!seq) return seq.error();
    auto insert = db_->Cached("INSERT INTO users(id, hash) VALUES (?, ?)");
    if (!insert) return insert.error();
    for (std::string_view hash : fresh_in_order) {
      (*insert)->Bind(1, fresh[hash]).Bind(2, hash);
      OFFMON_RETURN_IF_ERROR((*insert)->Run());
    }
  }
  for (size_t i = 0; i < epochs.size(); ++i) {
    Event event{0, FromMillis(at_ms), std::string(source), EventKind::kEpochSealed,
                EncodeEpochPayload(epochs[i], bitmaps[i])};
    auto seq = InsertEvent(event.kind, source, event.payload, at_ms);
    if (!seq) return seq.error();
    event.seq = *seq;
    auto record = DecodeEpochEvent(event);
    if (!record) return record.error();
    OFFMON_RETURN_IF_ERROR(ProjectEpoch(*record));
  }
  return next_user;
}

Status SqliteStore::ProjectEpoch(const EpochRecord& e) {
  auto stmt = db_->Cached(
      "INSERT INTO epochs(channel, epoch, sealed_at_ms, published, published_at_ms, root, token_group,"
      " category, participants, bitmap, seq, observed_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
      " ON CONFLICT(channel, epoch) DO UPDATE SET sealed_at_ms = excluded.sealed_at_ms,"
      " published = excluded.published, published_at_ms = excluded.published_at_ms, root = excluded.root,"
      " token_group = excluded.token_group, category = excluded.category, participants = excluded.participants,"
      // A count-only observation keeps the set seen before under the same root.
      " bitmap = CASE WHEN length(excluded.bitmap) = 0 AND root = excluded.root THEN bitmap"
      " ELSE excluded.bitmap END, seq = excluded.seq, observed_at_ms = excluded.observed_at_ms");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, e.channel).Bind(2, e.epoch).Bind(3, ToMillis(e.sealed_at)).Bind(4, int64_t{e.published});
  if (e.published_at) {
    (*stmt)->Bind(5, ToMillis(*e.published_at));
  } else {
    (*stmt)->BindNull(5);
  }
  (*stmt)->Bind(6, e.root).Bind(7, e.token_group).Bind(8, e.category).Bind(9, e.participants).BindBlob(10, e.bitmap)
      .Bind(11, e.seq).Bind(12, ToMillis(e.observed_at));
  return (*stmt)->Run();
}

Status SqliteStore::RebuildEpochs() {
  OFFMON_RETURN_IF_ERROR(db_->Exec("DELETE FROM users; DELETE FROM epochs;"));
  auto users = db_->Prepare("SELECT seq, payload FROM events WHERE kind = ? ORDER BY seq");
  if (!users) return users.error();
  users->Bind(1, KindParam(EventKind::kUsersRegistered));
  auto insert = db_->Prepare("INSERT INTO users(id, hash) VALUES (?, ?)");
  if (!insert) return insert.error();
  Status status;
  while (users->Step(&status)) {
    auto payload = nlohmann::json::parse(users->Blob(1), nullptr, false);
    if (!payload.is_object() || !payload["first_id"].is_number_integer() || !payload["hashes"].is_array()) {
      return Status::Corruption(fmt::format("event {}: bad users_registered payload", users->Int(0)));
    }
    int64_t id = payload["first_id"].get<int64_t>();
    for (const auto& hash : payload["hashes"]) {
      if (!hash.is_string()) return Status::Corruption(fmt::format("event {}: bad user hash", users->Int(0)));
      insert->Bind(1, id++).Bind(2, hash.get<std::string>());
      OFFMON_RETURN_IF_ERROR(insert->Run());
    }
  }
  OFFMON_RETURN_IF_ERROR(status);
  auto epochs = db_->Prepare("SELECT seq, time_ms, source, payload FROM events WHERE kind = ? ORDER BY seq");
  if (!epochs) return epochs.error();
  epochs->Bind(1, KindParam(EventKind::kEpochSealed));
  while (epochs->Step(&status)) {
    Event event{epochs->Int(0), FromMillis(epochs->Int(1)), std::string(epochs->Text(2)), EventKind::kEpochSealed,
                std::string(epochs->Blob(3))};
    auto record = DecodeEpochEvent(event);
    if (!record) return record.error();
    OFFMON_RETURN_IF_ERROR(ProjectEpoch(*record));
  }
  return status;
}

Result<std::vector<EpochRecord>> SqliteStore::ReadEpochs(TimePoint from, TimePoint to) {
  auto stmt = db_->Prepare(
      "SELECT channel, epoch, sealed_at_ms, published, published_at_ms, root, token_group, category, participants,"
      " bitmap, seq, observed_at_ms FROM epochs WHERE sealed_at_ms >= ? AND sealed_at_ms < ?"
      " ORDER BY sealed_at_ms, channel");
  if (!stmt) return stmt.error();
  stmt->Bind(1, ToMillis(from)).Bind(2, ToMillis(to));
  std::vector<EpochRecord> out;
  Status status;
  while (stmt->Step(&status)) {
    EpochRecord e;
    e.channel = stmt->Text(0);
    e.epoch = stmt->Int(1);
    e.sealed_at = FromMillis(stmt->Int(2));
    e.published = stmt->Int(3) != 0;
    if (!stmt->IsNull(4)) e.published_at = FromMillis(stmt->Int(4));
    e.root = stmt->Text(5);
    e.token_group = stmt->Text(6);
    e.category = stmt->Text(7);
    e.participants = stmt->Int(8);
    e.bitmap = stmt->Blob(9);
    e.seq = stmt->Int(10);
    e.observed_at = FromMillis(stmt->Int(11));
    out.push_back(std::move(e));
  }
  OFFMON_RETURN_IF_ERROR(status);
  return out;
}

// ---------------------------------------------------------------- reading

Result<std::vector<SeriesInfo>> SqliteStore::Select(const Selector& selector) {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  auto stmt = db_->Prepare("SELECT id, key FROM series ORDER BY key");
  if (!stmt) return stmt.error();
  std::vector<SeriesInfo> out;
  Status status;
  while (stmt->Step(&status)) {
    auto key = ParseSeriesKey(stmt->Text(1));
    if (!key) return Status::Corruption(fmt::format("series {}: {}", stmt->Int(0), key.error().message()));
    if (selector.Matches(*key)) out.push_back(SeriesInfo{stmt->Int(0), std::move(*key)});
  }
  OFFMON_RETURN_IF_ERROR(status);
  return out;
}

Status SqliteStore::ChecksumMismatch(std::string_view what, SeriesId series, int64_t from_ms, int64_t to_ms) const {
  // The catalogue maps key to id; a reverse walk is fine on this error path.
  std::string name = fmt::format("series id {}", series);
  for (const auto& [key, entry] : series_by_key_) {
    if (entry.id == series) name = key;
  }
  return Status::Corruption(fmt::format(
      "{} of {} for {} .. {} is damaged (checksum mismatch); offmon store check lists every damaged row", what, name,
      FormatRfc3339(FromMillis(from_ms)), FormatRfc3339(FromMillis(to_ms))));
}

Status SqliteStore::DecodeVerifiedChunk(const ChunkRow& chunk, std::vector<Sample>* out) const {
  const int64_t end = chunk.window_start + window_ms();
  if (!chunk.intact()) return ChecksumMismatch("the chunk", chunk.series, chunk.window_start, end);
  return DecodeChunk(chunk.data, out).WithContext(fmt::format("chunk of series {} at {}", chunk.series,
                                                              FormatRfc3339(FromMillis(chunk.window_start))));
}

Status SqliteStore::VerifiedRollup(SeriesId series, int64_t step_s, int64_t window_start, std::string_view data,
                                   int64_t crc, std::vector<RollupBucket>* out) const {
  const std::string what = RollupWhat(step_s);
  if (RollupChecksum(series, step_s, window_start, data) != crc) {
    return ChecksumMismatch(what, series, window_start, window_start + RollupRowMs(step_s));
  }
  return DecodeRollups(data, out).WithContext(fmt::format("{} of series {} at {}", what, series,
                                                          FormatRfc3339(FromMillis(window_start))));
}

Status SqliteStore::VerifyChecksums() {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  Status status;
  auto chunks = db_->Prepare(fmt::format("SELECT {} FROM chunks", kChunkColumns));
  if (!chunks) return chunks.error();
  while (chunks->Step(&status)) {
    const ChunkRow chunk = ChunkRow::Read(*chunks, 0);
    if (!chunk.intact()) {
      return ChecksumMismatch("the chunk", chunk.series, chunk.window_start, chunk.window_start + window_ms());
    }
  }
  OFFMON_RETURN_IF_ERROR(status);
  auto rollups = db_->Prepare("SELECT series_id, step_s, window_start_ms, data, crc FROM rollups");
  if (!rollups) return rollups.error();
  while (rollups->Step(&status)) {
    const int64_t step_s = rollups->Int(1), start = rollups->Int(2);
    if (RollupChecksum(rollups->Int(0), step_s, start, rollups->Blob(3)) != rollups->Int(4)) {
      return ChecksumMismatch(RollupWhat(step_s), rollups->Int(0), start, start + RollupRowMs(step_s));
    }
  }
  return status;
}

Status SqliteStore::ReadChunks(SeriesId series, int64_t from, int64_t to, std::vector<Sample>* out) {
  auto stmt = db_->Cached(fmt::format(
      "SELECT {} FROM chunks WHERE series_id = ? AND window_start_ms >= ? AND window_start_ms < ?"
      " ORDER BY window_start_ms", kChunkColumns));
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, series).Bind(2, FloorTo(from, window_ms())).Bind(3, to);
  Status status;
  while ((*stmt)->Step(&status)) {
    size_t before = out->size();
    const ChunkRow chunk = ChunkRow::Read(**stmt, 0);
    Status decoded = DecodeVerifiedChunk(chunk, out);
    if (!decoded.ok()) {
      (*stmt)->Reset();
      return decoded;
    }
    if (chunk.min_time < from || chunk.max_time >= to) {
      auto first = std::lower_bound(out->begin() + static_cast<ptrdiff_t>(before), out->end(), FromMillis(from),
                                    [](const Sample& s, TimePoint t) { return s.time < t; });
      out->erase(out->begin() + static_cast<ptrdiff_t>(before), first);
      auto last = std::lower_bound(out->begin() + static_cast<ptrdiff_t>(before), out->end(), FromMillis(to),
                                   [](const Sample& s, TimePoint t) { return s.time < t; });
      out->erase(last, out->end());
    }
  }
  (*stmt)->Reset();
  return status;
}

Status SqliteStore::RefreshHead() {
  // Two indexed lookups decide whether anything changed; most reads stop here.
  auto generation = GetState("head_generation", 0);
  if (!generation) return generation.error();
  auto last_seq = db_->Cached("SELECT coalesce(max(seq), 0) FROM events");
  if (!last_seq) return last_seq.error();
  Status status;
  const int64_t newest = (*last_seq)->Step(&status) ? (*last_seq)->Int(0) : 0;
  (*last_seq)->Reset();
  OFFMON_RETURN_IF_ERROR(status);
  if (*generation == head_.generation && newest == head_.max_seq) return Status::Ok();
  if (*generation != head_.generation) {
    head_ = HeadCache{};
    head_.generation = *generation;
  }
  // `+kind` keeps SQLite on the primary key: only events past max_seq are visited.
  auto stmt = db_->Cached("SELECT seq, window_start_ms, payload FROM events WHERE seq > ? AND +kind = ? ORDER BY seq");
  if (!stmt) return stmt.error();
  (*stmt)->Bind(1, head_.max_seq).Bind(2, KindParam(EventKind::kSamples));
  while ((*stmt)->Step(&status)) {
    int64_t w = (*stmt)->Int(1);
    if (std::find(head_.windows.begin(), head_.windows.end(), w) == head_.windows.end()) head_.windows.push_back(w);
    Status decoded = DecodeSampleBatch((*stmt)->Blob(2), w, [&](int64_t id, Sample s) {
      head_.samples[id].push_back(s);
    });
    if (!decoded.ok()) {
      int64_t seq = (*stmt)->Int(0);
      (*stmt)->Reset();
      head_ = HeadCache{};
      return decoded.WithContext(fmt::format("event {}", seq));
    }
  }
  (*stmt)->Reset();
  OFFMON_RETURN_IF_ERROR(status);
  head_.max_seq = newest;
  return Status::Ok();
}

Status SqliteStore::ReadRangeLocked(SeriesId series, int64_t from, int64_t to, std::vector<Sample>* out) {
  OFFMON_RETURN_IF_ERROR(ReadChunks(series, from, to, out));
  auto it = head_.samples.find(series);
  if (it == head_.samples.end()) return Status::Ok();
  std::vector<Sample> fresh;
  for (const Sample& s : it->second) {
    if (ToMillis(s.time) >= from && ToMillis(s.time) < to) fresh.push_back(s);
  }
  if (fresh.empty()) return Status::Ok();
  if (out->empty() || fresh.front().time > out->back().time) {
    SortAndDedupe(&fresh);
    if (out->empty() || fresh.front().time > out->back().time) {
      out->insert(out->end(), fresh.begin(), fresh.end());
      return Status::Ok();
    }
  }
  // Late samples overlapping sealed data: head samples were written later, so they win.
  out->insert(out->end(), fresh.begin(), fresh.end());
  SortAndDedupe(out);
  return Status::Ok();
}

Result<std::vector<Sample>> SqliteStore::ReadRange(SeriesId series, TimePoint from, TimePoint to) {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  OFFMON_RETURN_IF_ERROR(RefreshHead());
  std::vector<Sample> out;
  OFFMON_RETURN_IF_ERROR(ReadRangeLocked(series, ToMillis(from), ToMillis(to), &out));
  return out;
}

Result<std::vector<LatestSample>> SqliteStore::ReadLatest(TimePoint since) {
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  OFFMON_RETURN_IF_ERROR(RefreshHead());
  const int64_t since_ms = ToMillis(since);
  auto series = db_->Prepare("SELECT id, key FROM series ORDER BY key");
  if (!series) return series.error();
  // The newest chunk of a series that can hold a sample at or after `since`.
  auto newest_chunk = db_->Cached(fmt::format(
      "SELECT {} FROM chunks WHERE series_id = ? AND window_start_ms >= ? ORDER BY window_start_ms DESC LIMIT 1",
      kChunkColumns));
  if (!newest_chunk) return newest_chunk.error();
  std::vector<LatestSample> out;
  std::vector<Sample> decoded;
  Status status;
  while (series->Step(&status)) {
    const SeriesId id = series->Int(0);
    std::optional<Sample> newest;
    if (auto it = head_.samples.find(id); it != head_.samples.end()) {
      // Write order: a later sample with the same time replaces an earlier one.
      for (const Sample& s : it->second) {
        if (!newest || s.time >= newest->time) newest = s;
      }
    }
    (*newest_chunk)->Bind(1, id).Bind(2, FloorTo(since_ms, window_ms()));
    Status chunk_status;
    if ((*newest_chunk)->Step(&chunk_status) && (!newest || (*newest_chunk)->Int(3) > ToMillis(newest->time))) {
      decoded.clear();
      Status ok = DecodeVerifiedChunk(ChunkRow::Read(**newest_chunk, 0), &decoded);
      if (!ok.ok()) {
        (*newest_chunk)->Reset();
        return ok;
      }
      if (!decoded.empty()) newest = decoded.back();
    }
    (*newest_chunk)->Reset();
    OFFMON_RETURN_IF_ERROR(chunk_status);
    if (!newest || newest->time < since) continue;
    auto key = ParseSeriesKey(series->Text(1));
    if (!key) return Status::Corruption(fmt::format("series {}: {}", id, key.error().message()));
    out.push_back(LatestSample{id, std::move(*key), *newest});
  }
  OFFMON_RETURN_IF_ERROR(status);
  return out;
}

Result<std::vector<RollupBucket>> SqliteStore::ReadRollup(SeriesId series, RollupStep step, TimePoint from,
                                                          TimePoint to) {
  const RollupLayout& layout = LayoutFor(step);
  const int64_t lo = ToMillis(from), hi = ToMillis(to);
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  OFFMON_RETURN_IF_ERROR(RefreshHead());
  std::vector<RollupBucket> out;
  auto stmt = db_->Cached(
      "SELECT window_start_ms, data, crc FROM rollups WHERE series_id = ? AND step_s = ? AND window_start_ms >= ?"
      " AND window_start_ms < ? ORDER BY window_start_ms");
  if (!stmt) return stmt.error();
  const int64_t step_s = layout.step_ms / 1000;
  (*stmt)->Bind(1, series).Bind(2, step_s).Bind(3, FloorTo(lo, layout.row_ms)).Bind(4, hi);
  Status status;
  while ((*stmt)->Step(&status)) {
    Status decoded = VerifiedRollup(series, step_s, (*stmt)->Int(0), (*stmt)->Blob(1), (*stmt)->Int(2), &out);
    if (!decoded.ok()) {
      (*stmt)->Reset();
      return decoded;
    }
  }
  (*stmt)->Reset();
  OFFMON_RETURN_IF_ERROR(status);
  std::erase_if(out, [&](const RollupBucket& b) { return ToMillis(b.start) < lo || ToMillis(b.start) >= hi; });
  // Windows still in the head are rolled up from raw samples, which include what
  // was sealed there before (late data) and what was not.
  if (head_.samples.contains(series)) {
    for (int64_t w : head_.windows) {
      const int64_t wlo = std::max(w, FloorTo(lo, layout.step_ms)), whi = std::min(w + window_ms(), hi);
      if (wlo >= whi) continue;
      std::vector<Sample> raw;
      OFFMON_RETURN_IF_ERROR(ReadRangeLocked(series, w, w + window_ms(), &raw));
      std::erase_if(out, [&](const RollupBucket& b) { return ToMillis(b.start) >= w && ToMillis(b.start) < w + window_ms(); });
      for (const RollupBucket& b : ComputeBuckets(raw, layout.step_ms)) {
        if (ToMillis(b.start) >= lo && ToMillis(b.start) < hi) out.push_back(b);
      }
    }
    std::sort(out.begin(), out.end(), [](const RollupBucket& a, const RollupBucket& b) { return a.start < b.start; });
  }
  return out;
}

Result<std::vector<Event>> SqliteStore::ReadEvents(int64_t after_seq, std::optional<EventKind> kind, size_t limit) {
  auto stmt = db_->Prepare(
      "SELECT seq, time_ms, source, kind, payload FROM events WHERE seq > ? AND (? IS NULL OR kind = ?)"
      " ORDER BY seq LIMIT ?");
  if (!stmt) return stmt.error();
  stmt->Bind(1, after_seq).Bind(4, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
  if (kind) {
    stmt->Bind(2, static_cast<int64_t>(*kind)).Bind(3, static_cast<int64_t>(*kind));
  } else {
    stmt->BindNull(2).BindNull(3);
  }
  std::vector<Event> out;
  Status status;
  while (stmt->Step(&status)) {
    out.push_back(Event{stmt->Int(0), FromMillis(stmt->Int(1)), std::string(stmt->Text(2)),
                        static_cast<EventKind>(stmt->Int(3)), std::string(stmt->Blob(4))});
  }
  OFFMON_RETURN_IF_ERROR(status);
  return out;
}

Result<StoreInfo> SqliteStore::Info() {
  StoreInfo info;
  info.path = options_.path.string();
  std::error_code ec;
  for (const char* suffix : {"", "-wal"}) {
    auto size = std::filesystem::file_size(options_.path.string() + suffix, ec);
    if (!ec) info.file_bytes += static_cast<int64_t>(size);
  }
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  auto version = db_->QueryInt("PRAGMA user_version");
  if (!version) return version.error();
  info.schema_version = static_cast<int>(*version);
  auto stmt = db_->Prepare(
      "SELECT (SELECT count(*) FROM series),"
      " (SELECT count(*) FROM chunks), (SELECT coalesce(sum(sample_count), 0) FROM chunks),"
      " (SELECT min(min_time_ms) FROM chunks), (SELECT max(max_time_ms) FROM chunks),"
      " (SELECT coalesce(sum(sample_count), 0) FROM events WHERE kind = ?1),"
      " (SELECT min(min_time_ms) FROM events WHERE kind = ?1), (SELECT max(max_time_ms) FROM events WHERE kind = ?1),"
      " (SELECT count(*) FROM events), (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'events')");
  if (!stmt) return stmt.error();
  stmt->Bind(1, KindParam(EventKind::kSamples));  // ?1: the sample events' kind
  Status status;
  if (!stmt->Step(&status)) return status.ok() ? Status::Corruption("store info: no row") : status;
  info.series = stmt->Int(0);
  info.chunks = stmt->Int(1);
  info.head_samples = stmt->Int(5);
  info.samples = stmt->Int(2) + info.head_samples;
  for (int col : {3, 6}) {
    if (!stmt->IsNull(col)) info.first_sample = std::min(info.first_sample.value_or(TimePoint::max()), FromMillis(stmt->Int(col)));
  }
  for (int col : {4, 7}) {
    if (!stmt->IsNull(col)) info.last_sample = std::max(info.last_sample.value_or(TimePoint::min()), FromMillis(stmt->Int(col)));
  }
  info.events = stmt->Int(8);
  info.last_event_seq = stmt->Int(9);
  auto kinds = db_->Prepare("SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind");
  if (!kinds) return kinds.error();
  while (kinds->Step(&status)) {
    info.events_by_kind.emplace_back(std::string(EventKindName(static_cast<EventKind>(kinds->Int(0)))), kinds->Int(1));
  }
  OFFMON_RETURN_IF_ERROR(status);
  return info;
}

Result<std::vector<std::string>> SqliteStore::Check() {
  std::vector<std::string> problems;
  Transaction txn(db_.get(), /*immediate=*/false);
  OFFMON_RETURN_IF_ERROR(txn.begin_status());
  Status status;
  {
    auto stmt = db_->Prepare("PRAGMA integrity_check(20)");
    if (!stmt) return stmt.error();
    while (stmt->Step(&status)) {
      if (stmt->Text(0) != "ok") problems.push_back(fmt::format("sqlite: {}", stmt->Text(0)));
    }
    if (!status.ok()) {
      problems.push_back(status.message());
      return problems;
    }
  }
  std::unordered_map<SeriesId, std::string> defined;
  {
    auto stmt = db_->Prepare("SELECT seq, payload FROM events WHERE kind = ?");
    if (!stmt) return stmt.error();
    stmt->Bind(1, KindParam(EventKind::kSeriesDefined));
    while (stmt->Step(&status)) {
      auto payload = nlohmann::json::parse(stmt->Blob(1), nullptr, false);
      if (!payload.is_object() || !payload["id"].is_number_integer() || !payload["series"].is_string()) {
        problems.push_back(fmt::format("event {}: bad series definition", stmt->Int(0)));
        continue;
      }
      defined[payload["id"].get<int64_t>()] = payload["series"].get<std::string>();
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  {
    auto stmt = db_->Prepare("SELECT id, key FROM series");
    if (!stmt) return stmt.error();
    size_t rows = 0;
    while (stmt->Step(&status)) {
      ++rows;
      auto it = defined.find(stmt->Int(0));
      if (it == defined.end() || it->second != stmt->Text(1)) {
        problems.push_back(fmt::format("series {}: catalogue disagrees with the event log (run store rebuild)", stmt->Int(0)));
      }
    }
    OFFMON_RETURN_IF_ERROR(status);
    if (rows != defined.size()) problems.push_back("series catalogue is missing series defined in the log (run store rebuild)");
  }
  {
    auto stmt = db_->Prepare(fmt::format("SELECT id, {} FROM chunks", kChunkColumns));
    if (!stmt) return stmt.error();
    std::vector<Sample> samples;
    while (stmt->Step(&status)) {
      samples.clear();
      const ChunkRow chunk = ChunkRow::Read(*stmt, 1);
      std::string where = fmt::format("chunk {} (series {})", stmt->Int(0), stmt->Int(1));
      if (!chunk.intact()) {
        problems.push_back(fmt::format("{}: {}", where, ChecksumMismatch("the chunk", chunk.series, chunk.window_start,
                                                                        chunk.window_start + window_ms()).message()));
        continue;
      }
      Status decoded = DecodeChunk(chunk.data, &samples);
      if (!decoded.ok()) {
        problems.push_back(fmt::format("{}: {}", where, decoded.message()));
      } else if (static_cast<int64_t>(samples.size()) != stmt->Int(5) || samples.empty() ||
                 ToMillis(samples.front().time) != stmt->Int(3) || ToMillis(samples.back().time) != stmt->Int(4) ||
                 FloorTo(stmt->Int(3), window_ms()) != stmt->Int(2) || FloorTo(stmt->Int(4), window_ms()) != stmt->Int(2)) {
        problems.push_back(fmt::format("{}: header disagrees with its data", where));
      }
      if (!defined.contains(stmt->Int(1))) problems.push_back(fmt::format("{}: series not defined", where));
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  {
    auto stmt = db_->Prepare("SELECT seq, window_start_ms, sample_count, payload FROM events WHERE kind = ?");
    if (!stmt) return stmt.error();
    stmt->Bind(1, KindParam(EventKind::kSamples));
    while (stmt->Step(&status)) {
      int64_t count = 0;
      bool undefined = false, outside = false;
      int64_t w = stmt->Int(1);
      Status decoded = DecodeSampleBatch(stmt->Blob(3), w, [&](int64_t id, Sample s) {
        ++count;
        undefined |= !defined.contains(id);
        outside |= FloorTo(ToMillis(s.time), window_ms()) != w;
      });
      std::string where = fmt::format("event {}", stmt->Int(0));
      if (!decoded.ok()) problems.push_back(fmt::format("{}: {}", where, decoded.message()));
      else if (count != stmt->Int(2) || outside) problems.push_back(fmt::format("{}: header disagrees with its samples", where));
      if (undefined) problems.push_back(fmt::format("{}: sample of an undefined series", where));
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  {
    auto stmt = db_->Prepare("SELECT seq, time_ms, payload FROM events WHERE kind = ?");
    if (!stmt) return stmt.error();
    stmt->Bind(1, KindParam(EventKind::kEpochSealed));
    while (stmt->Step(&status)) {
      auto record = DecodeEpochEvent(Event{stmt->Int(0), FromMillis(stmt->Int(1)), "", EventKind::kEpochSealed,
                                           std::string(stmt->Blob(2))});
      if (!record) problems.push_back(record.error().message());
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  {
    auto stmt = db_->Prepare("SELECT id, series_id, step_s, window_start_ms, data, crc FROM rollups");
    if (!stmt) return stmt.error();
    std::vector<RollupBucket> buckets;
    while (stmt->Step(&status)) {
      buckets.clear();
      Status decoded = VerifiedRollup(stmt->Int(1), stmt->Int(2), stmt->Int(3), stmt->Blob(4), stmt->Int(5), &buckets);
      if (!decoded.ok()) problems.push_back(fmt::format("rollup row {}: {}", stmt->Int(0), decoded.message()));
    }
    OFFMON_RETURN_IF_ERROR(status);
  }
  return problems;
}

}  // namespace

Duration StepDuration(RollupStep step) { return Duration(LayoutFor(step).step_ms); }

Result<EpochRecord> DecodeEpochEvent(const Event& event) {
  auto bad = [&](std::string_view why) {
    return Status::Corruption(fmt::format("event {}: epoch_sealed payload {}", event.seq, why));
  };
  ByteReader in(event.payload);
  uint64_t json_size;
  std::string_view json;
  if (!in.Varint(&json_size) || !in.Bytes(json_size, &json)) return bad("is truncated");
  auto header = nlohmann::json::parse(json, nullptr, false);
  auto is_int = [&](const char* key) { return header.contains(key) && header[key].is_number_integer(); };
  auto is_str = [&](const char* key) { return header.contains(key) && header[key].is_string(); };
  if (!header.is_object() || !is_str("channel") || !is_int("epoch") || !is_int("sealed_at_ms") ||
      !header.contains("published") || !header["published"].is_boolean() || !is_str("root") ||
      !is_str("token_group") || !is_str("category") || !is_int("participants")) {
    return bad("has a bad header");
  }
  const size_t header_end = static_cast<size_t>(json.data() + json.size() - event.payload.data());
  std::string_view bitmap = std::string_view(event.payload).substr(header_end);
  uint64_t cardinality = 0;  // no bytes: a count-only observation
  if (!bitmap.empty()) {
    roaring_bitmap_t* set = roaring_bitmap_portable_deserialize_safe(bitmap.data(), bitmap.size());
    if (set == nullptr) return bad("has a bitmap that does not decode");
    cardinality = roaring_bitmap_get_cardinality(set);
    roaring_bitmap_free(set);
  }
  EpochRecord e;
  e.participants = header["participants"].get<int64_t>();
  if (cardinality > static_cast<uint64_t>(e.participants)) return bad("has more ids than participants");
  e.channel = header["channel"].get<std::string>();
  e.epoch = header["epoch"].get<int64_t>();
  e.sealed_at = FromMillis(header["sealed_at_ms"].get<int64_t>());
  e.published = header["published"].get<bool>();
  if (header.contains("published_at_ms") && header["published_at_ms"].is_number_integer()) {
    e.published_at = FromMillis(header["published_at_ms"].get<int64_t>());
  }
  e.root = header["root"].get<std::string>();
  e.token_group = header["token_group"].get<std::string>();
  e.category = header["category"].get<std::string>();
  e.bitmap = std::string(bitmap);
  e.seq = event.seq;
  e.observed_at = event.time;
  return e;
}

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  auto store = std::make_unique<SqliteStore>(options);
  Status status = store->Init();
  if (!status.ok()) return status;
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace offmon::store
