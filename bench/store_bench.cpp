// Store benchmark: offmon's store against a plain one-row-per-sample SQLite table, on a
// realistic, seeded day of collector data, measured in one run so the ratios come from
// the same machine state. The data set: BENCH_SERIES series (default 1000) x BENCH_STEPS
// samples (default 8640, one day at 10 s), written in time order as a collector does.
// The mix, by series index i % 10: 0-3 process memory (page-granular RSS with a GC
// sawtooth and noise), 4-6 CPU percent with one decimal, 7 request counters, 8 byte
// counters, 9 hourly-changing participant counts.
//
//   bench_store [benchmark flags]                  run the benchmarks
//   bench_store --write-openmetrics FILE           write the same data set as OpenMetrics
//                                                  text (for promtool) and exit
//
// Environment: BENCH_SERIES, BENCH_STEPS (scale down for smoke runs), BENCH_DIR (where
// the stores go; default a fresh directory under $TMPDIR, removed at exit),
// BENCH_KEEP_DIR=1 (keep it). The benchmark reports; it never fails on speed.
#include <benchmark/benchmark.h>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <numbers>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "bench_context.h"
#include "offmon/common/series_key.h"
#include "offmon/common/time.h"
#include "offmon/store/buckets.h"
#include "offmon/store/options.h"
#include "offmon/store/selector.h"
#include "offmon/store/store.h"

namespace offmon::store {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kStartSeconds = 1'793'491'200;  // 2026-11-01T00:00:00Z, a day boundary
constexpr int64_t kGridSeconds = 10;
constexpr int64_t kDaySeconds = 86'400;
constexpr uint64_t kSeed = 0x0FF5'7023'2026'1101;
constexpr int64_t kPlainRowsPerTransaction = 10'000;
constexpr size_t kScanSeriesPerIteration = 50;
constexpr int64_t kTrendDays = 30;
constexpr int64_t kTrendGridSeconds = 60;
constexpr int64_t kTrendBatchSeconds = 3600;
constexpr size_t kMaxTrendSeries = 20;
constexpr double kPageBytes = 4096;

// ---------------------------------------------------------------- configuration

struct BenchConfig {
  size_t series = 1000;
  size_t steps = 8640;
  size_t trend_series = kMaxTrendSeries;
  fs::path dir;
  bool keep_dir = false;
};

std::optional<size_t> EnvSize(const char* name, size_t fallback, std::string* error) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  size_t value = 0;
  std::string_view view(text);
  auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (ec != std::errc() || end != view.data() + view.size() || value == 0) {
    *error = fmt::format("{}={} is not a positive integer", name, view);
    return std::nullopt;
  }
  return value;
}

std::optional<BenchConfig> ConfigFromEnv(std::string* error) {
  BenchConfig config;
  auto series = EnvSize("BENCH_SERIES", config.series, error);
  auto steps = EnvSize("BENCH_STEPS", config.steps, error);
  if (!series || !steps) return std::nullopt;
  config.series = *series;
  config.steps = *steps;
  // A tenth of the series, at most 20: the full run queries 20, a smoke run one or two.
  config.trend_series = std::clamp<size_t>(config.series / 10, 1, kMaxTrendSeries);
  if (const char* dir = std::getenv("BENCH_DIR"); dir != nullptr && *dir != '\0') {
    config.dir = dir;
    config.keep_dir = true;
  }
  if (const char* keep = std::getenv("BENCH_KEEP_DIR"); keep != nullptr && std::string_view(keep) == "1") {
    config.keep_dir = true;
  }
  return config;
}

// ---------------------------------------------------------------- data set

enum class Shape { kMemory, kCpu, kRequestCounter, kByteCounter, kParticipants };

Shape ShapeOf(size_t index) {
  switch (index % 10) {
    case 0: case 1: case 2: case 3: return Shape::kMemory;
    case 4: case 5: case 6: return Shape::kCpu;
    case 7: return Shape::kRequestCounter;
    case 8: return Shape::kByteCounter;
    default: return Shape::kParticipants;
  }
}

// OpenMetrics family name and type; counters' samples carry the `_total` suffix.
struct Family {
  const char* name;
  const char* type;
  const char* sample_suffix;
  const char* label;
};

Family FamilyOf(Shape shape) {
  switch (shape) {
    case Shape::kMemory: return {"process_memory_bytes", "gauge", "", "process"};
    case Shape::kCpu: return {"process_cpu_percent", "gauge", "", "process"};
    case Shape::kRequestCounter: return {"http_requests", "counter", "_total", "process"};
    case Shape::kByteCounter: return {"network_sent_bytes", "counter", "_total", "process"};
    case Shape::kParticipants: return {"participants", "gauge", "", "channel"};
  }
  return {"", "", "", ""};
}

// One series' values on its grid. Each series has its own seeded engine, so a series'
// values do not depend on how many other series are generated, or in which order.
class SeriesGenerator {
 public:
  SeriesGenerator(Shape shape, uint64_t seed, int64_t grid_seconds, int64_t start_seconds)
      : shape_(shape), rng_(seed), grid_seconds_(grid_seconds), time_seconds_(start_seconds) {
    switch (shape_) {
      case Shape::kMemory: {
        // RSS is page-granular. A heap of 200 MB - 1.6 GB grows by allocation and drops
        // back when a GC runs (every 5 min to 1 h), plus a slow leak.
        base_pages_ = std::floor(Uniform(200e6, 1.6e9) / kPageBytes);
        amplitude_pages_ = base_pages_ * Uniform(0.05, 0.3);
        const double gc_steps = std::max(1.0, Uniform(300, 3600) / static_cast<double>(grid_seconds_));
        growth_pages_ = amplitude_pages_ / gc_steps;
        leak_pages_ = Uniform(0, 2) * static_cast<double>(grid_seconds_) / kGridSeconds;
        level_ = base_pages_ + Uniform(0, 1) * amplitude_pages_;
        break;
      }
      case Shape::kCpu:
        // Busy workers hover around 5-80 %, idle ones near zero; values in tenths.
        busy_ = Uniform(0, 1) < 0.6;
        target_ = busy_ ? Uniform(50, 800) : Uniform(0, 20);
        level_ = target_;
        break;
      case Shape::kRequestCounter:
      case Shape::kByteCounter:
        rate_ = Uniform(0.5, 50) * static_cast<double>(grid_seconds_) / kGridSeconds;
        level_ = std::floor(Uniform(0, shape_ == Shape::kByteCounter ? 1e9 : 1e6));
        bytes_per_request_ = Uniform(2000, 20000);
        break;
      case Shape::kParticipants:
        level_ = std::floor(Uniform(0, 400));
        break;
    }
  }

  // The value at the next grid point.
  double Next() {
    double value = 0;
    switch (shape_) {
      case Shape::kMemory: {
        level_ += growth_pages_ * Uniform(0.5, 1.5);
        base_pages_ += leak_pages_ * Uniform(0, 1);
        if (level_ >= base_pages_ + amplitude_pages_) {
          level_ = base_pages_ + std::fabs(Normal(0, amplitude_pages_ * 0.02));
        }
        std::uniform_int_distribution<int> noise(-3, 3);
        value = (std::round(level_) + noise(rng_)) * kPageBytes;
        break;
      }
      case Shape::kCpu: {
        level_ += 0.3 * (target_ - level_) + Normal(0, busy_ ? 40 : 3);
        level_ = std::clamp(level_, 0.0, 2000.0);
        value = std::round(level_) / 10.0;  // 12.3 as the double nearest to it
        break;
      }
      case Shape::kRequestCounter:
      case Shape::kByteCounter: {
        // Diurnal load: twice as busy at the peak as at the trough.
        const double phase = 2 * std::numbers::pi * static_cast<double>(time_seconds_ % kDaySeconds) / kDaySeconds;
        std::poisson_distribution<int64_t> requests(rate_ * (1 + 0.5 * std::sin(phase)));
        const auto n = static_cast<double>(requests(rng_));
        level_ += shape_ == Shape::kByteCounter ? std::round(n * bytes_per_request_ * Uniform(0.8, 1.2)) : n;
        value = level_;
        break;
      }
      case Shape::kParticipants:
        if (started_ && time_seconds_ % 3600 == 0) level_ = std::max(0.0, level_ + std::round(Normal(0, 8)));
        value = level_;
        break;
    }
    started_ = true;
    time_seconds_ += grid_seconds_;
    return value;
  }

 private:
  double Uniform(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  double Normal(double mean, double sd) { return std::normal_distribution<double>(mean, sd)(rng_); }

  Shape shape_;
  std::mt19937_64 rng_;
  int64_t grid_seconds_;
  int64_t time_seconds_;
  bool started_ = false;
  double level_ = 0;
  double base_pages_ = 0, amplitude_pages_ = 0, growth_pages_ = 0, leak_pages_ = 0;
  bool busy_ = false;
  double target_ = 0;
  double rate_ = 0, bytes_per_request_ = 0;
};

struct SeriesSpec {
  Shape shape;
  SeriesKey key;
  std::string text;  // key.ToString()
};

std::vector<SeriesSpec> MakeSeriesSpecs(size_t count) {
  std::vector<SeriesSpec> specs;
  std::map<Shape, size_t> ordinal;
  for (size_t i = 0; i < count; ++i) {
    const Shape shape = ShapeOf(i);
    const Family family = FamilyOf(shape);
    const size_t n = ordinal[shape]++;
    std::string value = fmt::format("{}{}", shape == Shape::kParticipants ? "c" : "w", n);
    SeriesKey key(fmt::format("{}{}", family.name, family.sample_suffix), {{family.label, std::move(value)}});
    std::string text = key.ToString();
    specs.push_back(SeriesSpec{shape, std::move(key), std::move(text)});
  }
  return specs;
}

// The day of data, time-major: values[step * series + i]. Generated up front so the
// timed loops only write.
struct Dataset {
  std::vector<SeriesSpec> series;
  size_t steps = 0;
  std::vector<double> values;

  size_t samples() const { return series.size() * steps; }
  double Value(size_t step, size_t i) const { return values[step * series.size() + i]; }
  static int64_t Seconds(size_t step) { return kStartSeconds + static_cast<int64_t>(step) * kGridSeconds; }
  static TimePoint Time(size_t step) { return FromMillis(Seconds(step) * 1000); }
};

Dataset MakeDataset(size_t series, size_t steps) {
  Dataset data;
  data.series = MakeSeriesSpecs(series);
  data.steps = steps;
  data.values.resize(series * steps);
  for (size_t i = 0; i < series; ++i) {
    SeriesGenerator gen(data.series[i].shape, kSeed + i, kGridSeconds, kStartSeconds);
    for (size_t s = 0; s < steps; ++s) data.values[s * series + i] = gen.Next();
  }
  return data;
}

// Shortest text that parses back to the same double (Prometheus uses ParseFloat).
std::string_view FormatValue(double v, char (&buf)[64]) {
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string_view(buf, static_cast<size_t>(end - buf)) : std::string_view("NaN");
}

// OpenMetrics requires each family's samples together, so families are written one
// after the other, each series' samples in time order; timestamps in seconds.
Status WriteOpenMetrics(const Dataset& data, const fs::path& path) {
  std::FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) return Status::IOError(fmt::format("cannot write {}", path.string()));
  std::string buffer;
  buffer.reserve(1 << 20);
  char value_buf[64];
  for (Shape shape : {Shape::kMemory, Shape::kCpu, Shape::kRequestCounter, Shape::kByteCounter,
                      Shape::kParticipants}) {
    const Family family = FamilyOf(shape);
    bool header = false;
    for (size_t i = 0; i < data.series.size(); ++i) {
      if (data.series[i].shape != shape) continue;
      if (!header) {
        buffer += fmt::format("# TYPE {} {}\n", family.name, family.type);
        header = true;
      }
      const std::string& key = data.series[i].text;
      for (size_t s = 0; s < data.steps; ++s) {
        buffer += key;
        buffer += ' ';
        buffer += FormatValue(data.Value(s, i), value_buf);
        buffer += ' ';
        buffer += std::to_string(Dataset::Seconds(s));
        buffer += '\n';
        if (buffer.size() > (1 << 20) - 512) {
          std::fwrite(buffer.data(), 1, buffer.size(), out);
          buffer.clear();
        }
      }
    }
  }
  buffer += "# EOF\n";
  std::fwrite(buffer.data(), 1, buffer.size(), out);
  const bool failed = std::ferror(out) != 0;
  if (std::fclose(out) != 0 || failed) return Status::IOError(fmt::format("writing {} failed", path.string()));
  return Status::Ok();
}

// ---------------------------------------------------------------- plain SQLite

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqlDb = std::unique_ptr<sqlite3, SqliteCloser>;
using SqlStmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Status SqlError(sqlite3* db, std::string_view what) {
  return Status::IOError(fmt::format("{}: {}", what, db ? sqlite3_errmsg(db) : "out of memory"));
}

Result<SqlDb> OpenSql(const fs::path& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqlDb db(raw);
  if (rc != SQLITE_OK) return SqlError(raw, fmt::format("open {}", path.string()));
  sqlite3_busy_timeout(raw, 5000);
  return db;
}

Status Exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK ? Status::Ok() : SqlError(db, sql);
}

Result<SqlStmt> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr) != SQLITE_OK) {
    return SqlError(db, sql);
  }
  return SqlStmt(raw);
}

// One integer from a one-row query; -1 when there is no row or it fails.
int64_t QueryInt(sqlite3* db, const char* sql) {
  auto stmt = Prepare(db, sql);
  if (!stmt || sqlite3_step(stmt->get()) != SQLITE_ROW) return -1;
  return sqlite3_column_int64(stmt->get(), 0);
}

int64_t FileBytes(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(size);
}

// The database file plus its WAL: what the data costs on disk right now.
int64_t DbBytes(const fs::path& path) { return FileBytes(path) + FileBytes(fs::path(path.string() + "-wal")); }

void RemoveDb(const fs::path& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(fs::path(path.string() + suffix), ec);
}

// Folds the WAL into the database and truncates it, through a connection of its own as
// an operator's `sqlite3 file 'PRAGMA wal_checkpoint(TRUNCATE)'` would.
Status CheckpointTruncate(const fs::path& path) {
  auto db = OpenSql(path, SQLITE_OPEN_READWRITE);
  if (!db) return db.error();
  auto stmt = Prepare(db->get(), "PRAGMA wal_checkpoint(TRUNCATE)");
  if (!stmt) return stmt.error();
  if (sqlite3_step(stmt->get()) != SQLITE_ROW) return SqlError(db->get(), "wal_checkpoint");
  if (sqlite3_column_int(stmt->get(), 0) != 0) return Status::Busy("wal_checkpoint(TRUNCATE) was blocked");
  return Status::Ok();
}

// The reference: one row per sample, keyed (series_id, ts), written as a collector
// writes, all series of one time step before the next step.
Result<SqlDb> AppendPlain(const Dataset& data, const fs::path& path) {
  auto db = OpenSql(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return db.error();
  sqlite3* raw = db->get();
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                          "CREATE TABLE samples(series_id INTEGER, ts INTEGER, value REAL,"
                          " PRIMARY KEY(series_id, ts)) WITHOUT ROWID"}) {
    OFFMON_RETURN_IF_ERROR(Exec(raw, sql));
  }
  auto insert = Prepare(raw, "INSERT INTO samples(series_id, ts, value) VALUES (?, ?, ?)");
  if (!insert) return insert.error();
  OFFMON_RETURN_IF_ERROR(Exec(raw, "BEGIN"));
  int64_t in_transaction = 0;
  for (size_t s = 0; s < data.steps; ++s) {
    const int64_t ts = ToMillis(Dataset::Time(s));
    for (size_t i = 0; i < data.series.size(); ++i) {
      sqlite3_stmt* stmt = insert->get();
      sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(i) + 1);
      sqlite3_bind_int64(stmt, 2, ts);
      sqlite3_bind_double(stmt, 3, data.Value(s, i));
      if (sqlite3_step(stmt) != SQLITE_DONE) return SqlError(raw, "insert");
      sqlite3_reset(stmt);
      if (++in_transaction == kPlainRowsPerTransaction) {
        OFFMON_RETURN_IF_ERROR(Exec(raw, "COMMIT"));
        OFFMON_RETURN_IF_ERROR(Exec(raw, "BEGIN"));
        in_transaction = 0;
      }
    }
  }
  OFFMON_RETURN_IF_ERROR(Exec(raw, "COMMIT"));
  return db;
}

// ---------------------------------------------------------------- offmon

// Where the offmon append spends its time: commits that sealed a window (checkpoint
// included) against the rest, measured per Commit call.
struct AppendProfile {
  double add_seconds = 0;
  double commit_seconds = 0;  // commits that sealed nothing
  double seal_seconds = 0;    // commits whose checkpoint sealed a window
  double max_seal_ms = 0;
  double max_commit_ms = 0;
  int seals = 0;
};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The window end a checkpoint can seal through once the newest sample is at `t_ms`
// (Store::Checkpoint's rule: a window is sealed once the newest sample is seal_lag past
// its end).
int64_t SealableThrough(int64_t t_ms, const StoreOptions& options) {
  const int64_t window = options.chunk_window.count();
  return FloorDiv(t_ms - options.seal_lag.count(), window) * window;
}

Result<std::unique_ptr<Store>> OpenStore(const fs::path& path, bool read_only) {
  StoreOptions options;
  options.path = path;
  options.read_only = read_only;
  return Store::Open(options);
}

// One Appender batch per time step, as the collector writes: Ref once per series in the
// first batch, cached ids afterwards, Commit per step (which also seals windows).
Result<std::unique_ptr<Store>> AppendOffmon(const Dataset& data, const fs::path& path, AppendProfile* profile) {
  auto store = OpenStore(path, /*read_only=*/false);
  if (!store) return store.error();
  const StoreOptions defaults;
  std::vector<SeriesId> ids(data.series.size());
  auto appender = (*store)->NewAppender("bench");
  int64_t sealable = std::numeric_limits<int64_t>::min();
  for (size_t s = 0; s < data.steps; ++s) {
    const TimePoint t = Dataset::Time(s);
    const auto add_start = SteadyClock::now();
    for (size_t i = 0; i < data.series.size(); ++i) {
      if (s == 0) {
        auto id = appender->Ref(data.series[i].key);
        if (!id) return id.error();
        ids[i] = *id;
      }
      appender->Add(ids[i], t, data.Value(s, i));
    }
    const auto commit_start = SteadyClock::now();
    OFFMON_RETURN_IF_ERROR(appender->Commit(t));
    const auto commit_end = SteadyClock::now();
    const double commit_s = std::chrono::duration<double>(commit_end - commit_start).count();
    profile->add_seconds += std::chrono::duration<double>(commit_start - add_start).count();
    const int64_t now_sealable = SealableThrough(ToMillis(t), defaults);
    const bool sealed = s > 0 && now_sealable > sealable && now_sealable > kStartSeconds * 1000;
    sealable = now_sealable;
    if (sealed) {
      ++profile->seals;
      profile->seal_seconds += commit_s;
      profile->max_seal_ms = std::max(profile->max_seal_ms, commit_s * 1e3);
    } else {
      profile->commit_seconds += commit_s;
      profile->max_commit_ms = std::max(profile->max_commit_ms, commit_s * 1e3);
    }
  }
  return store;
}

Result<std::map<std::string, SeriesId>> IdsByKey(Store& store) {
  auto selector = Selector::Parse(R"({__name__=~".+"})");
  if (!selector) return selector.error();
  auto all = store.Select(*selector);
  if (!all) return all.error();
  std::map<std::string, SeriesId> ids;
  for (const SeriesInfo& info : *all) ids.emplace(info.key.ToString(), info.id);
  return ids;
}

// ---------------------------------------------------------------- shared state

// Owns the data set and the stores the benchmarks share. Append builds them while
// measuring; the read benchmarks build whatever a --benchmark_filter skipped, untimed.
class BenchEnv {
 public:
  explicit BenchEnv(BenchConfig config) : config_(std::move(config)) {}
  ~BenchEnv() {
    if (!config_.keep_dir && !config_.dir.empty()) {
      std::error_code ec;
      fs::remove_all(config_.dir, ec);
    }
  }
  BenchEnv(const BenchEnv&) = delete;
  BenchEnv& operator=(const BenchEnv&) = delete;

  Status Init() {
    std::error_code ec;
    if (config_.dir.empty()) {
      std::string pattern = (fs::temp_directory_path(ec) / "offmon-bench-XXXXXX").string();
      if (mkdtemp(pattern.data()) == nullptr) return Status::IOError("cannot create a temp dir for the stores");
      config_.dir = pattern;
    } else {
      fs::create_directories(config_.dir, ec);
      if (ec) return Status::IOError(fmt::format("cannot create {}: {}", config_.dir.string(), ec.message()));
    }
    return Status::Ok();
  }

  const BenchConfig& config() const { return config_; }
  fs::path offmon_path() const { return config_.dir / "offmon.db"; }
  fs::path plain_path() const { return config_.dir / "plain.db"; }
  fs::path trend_path() const { return config_.dir / "trend.db"; }

  const Dataset& data() {
    if (!data_) data_ = MakeDataset(config_.series, config_.steps);
    return *data_;
  }

  void set_offmon_built(bool built) { offmon_built_ = built; }
  void set_plain_built(bool built) { plain_built_ = built; }

  Status EnsureOffmon() {
    if (offmon_built_) return Status::Ok();
    RemoveDb(offmon_path());
    AppendProfile profile;
    auto store = AppendOffmon(data(), offmon_path(), &profile);
    if (!store) return store.error();
    offmon_built_ = true;
    return Status::Ok();
  }

  Status EnsurePlain() {
    if (plain_built_) return Status::Ok();
    RemoveDb(plain_path());
    auto db = AppendPlain(data(), plain_path());
    if (!db) return db.error();
    plain_built_ = true;
    return Status::Ok();
  }

  // 30 days of the first series' shapes at 60 s, imported one hour per batch. Returns
  // the import rate, so the Trend benchmark can report it.
  Result<double> EnsureTrend() {
    if (trend_import_rate_) return *trend_import_rate_;
    RemoveDb(trend_path());
    auto store = OpenStore(trend_path(), /*read_only=*/false);
    if (!store) return store.error();
    const std::vector<SeriesSpec> specs = MakeSeriesSpecs(config_.trend_series);
    std::vector<SeriesGenerator> gens;
    std::vector<SeriesId> ids;
    auto appender = (*store)->NewAppender("import");
    for (size_t i = 0; i < specs.size(); ++i) {
      gens.emplace_back(specs[i].shape, kSeed ^ (0x7E4D0000 + i), kTrendGridSeconds, kStartSeconds);
      auto id = appender->Ref(specs[i].key);
      if (!id) return id.error();
      ids.push_back(*id);
    }
    const int64_t end = kStartSeconds + kTrendDays * kDaySeconds;
    const auto start = SteadyClock::now();
    int64_t samples = 0;
    for (int64_t batch = kStartSeconds; batch < end; batch += kTrendBatchSeconds) {
      int64_t t = batch;
      for (; t < batch + kTrendBatchSeconds; t += kTrendGridSeconds) {
        for (size_t i = 0; i < specs.size(); ++i) appender->Add(ids[i], FromMillis(t * 1000), gens[i].Next());
      }
      samples += static_cast<int64_t>(appender->pending_samples());
      OFFMON_RETURN_IF_ERROR(appender->Commit(FromMillis((t - kTrendGridSeconds) * 1000)));
    }
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    trend_import_rate_ = static_cast<double>(samples) / seconds;
    trend_ids_ = ids;
    return *trend_import_rate_;
  }
  const std::vector<SeriesId>& trend_ids() const { return trend_ids_; }

  // Lines printed after the benchmark table: per-table size breakdowns.
  void AddNote(std::string note) { notes_.push_back(std::move(note)); }
  void PrintNotes() const {
    for (const std::string& note : notes_) std::printf("%s\n", note.c_str());
    std::fflush(stdout);
  }

 private:
  BenchConfig config_;
  std::optional<Dataset> data_;
  bool offmon_built_ = false;
  bool plain_built_ = false;
  std::optional<double> trend_import_rate_;
  std::vector<SeriesId> trend_ids_;
  std::vector<std::string> notes_;
};

void Fail(benchmark::State& state, const Status& status) { state.SkipWithError(status.ToString().c_str()); }

// Page bytes per table and index (SQLite's dbstat), and the free list, so a bytes per
// sample figure can be traced to what holds it.
std::string SizeBreakdown(const fs::path& path, std::string_view title, int64_t samples) {
  auto db = OpenSql(path, SQLITE_OPEN_READONLY);
  if (!db) return fmt::format("{}: {}", title, db.error().ToString());
  std::string out = fmt::format("\n{} ({}): page bytes by table, bytes/sample over {} samples\n", title,
                                path.filename().string(), samples);
  auto stmt = Prepare(db->get(), "SELECT name, sum(pgsize), sum(unused) FROM dbstat GROUP BY name ORDER BY 2 DESC");
  if (!stmt) return out + stmt.error().ToString();
  const double n = static_cast<double>(std::max<int64_t>(samples, 1));
  while (sqlite3_step(stmt->get()) == SQLITE_ROW) {
    const auto bytes = sqlite3_column_int64(stmt->get(), 1);
    const auto unused = sqlite3_column_int64(stmt->get(), 2);
    out += fmt::format("  {:<26} {:>12} B  {:>7.3f} B/sample  ({:.0f}% of its pages unused)\n",
                       reinterpret_cast<const char*>(sqlite3_column_text(stmt->get(), 0)), bytes,
                       static_cast<double>(bytes) / n,
                       bytes ? 100.0 * static_cast<double>(unused) / static_cast<double>(bytes) : 0.0);
  }
  const int64_t free_bytes = QueryInt(db->get(), "PRAGMA freelist_count") * QueryInt(db->get(), "PRAGMA page_size");
  out += fmt::format("  {:<26} {:>12} B  {:>7.3f} B/sample\n", "(free pages)", free_bytes,
                     static_cast<double>(free_bytes) / n);
  return out;
}

// ---------------------------------------------------------------- benchmarks

void BM_AppendOffmon(benchmark::State& state, BenchEnv& env) {
  const Dataset& data = env.data();
  env.set_offmon_built(false);
  RemoveDb(env.offmon_path());
  std::unique_ptr<Store> store;
  AppendProfile profile;
  for (auto _ : state) {
    auto written = AppendOffmon(data, env.offmon_path(), &profile);
    if (!written) return Fail(state, written.error());
    store = std::move(*written);
  }
  env.set_offmon_built(true);
  const auto n = static_cast<double>(data.samples());
  const int64_t as_written = DbBytes(env.offmon_path());
  auto info = store->Info();
  if (!info) return Fail(state, info.error());
  if (info->samples != static_cast<int64_t>(data.samples())) {
    return Fail(state, Status::Corruption(fmt::format("store holds {} samples, wrote {}", info->samples, data.samples())));
  }
  if (Status s = CheckpointTruncate(env.offmon_path()); !s.ok()) return Fail(state, s);
  const int64_t checkpointed = DbBytes(env.offmon_path());
  state.counters["samples_per_s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["bytes_per_sample"] = static_cast<double>(checkpointed) / n;
  state.counters["bytes_per_sample_as_written"] = static_cast<double>(as_written) / n;
  state.counters["head_fraction"] = static_cast<double>(info->head_samples) / n;
  state.counters["add_s"] = profile.add_seconds;
  state.counters["commit_s"] = profile.commit_seconds;
  state.counters["seal_s"] = profile.seal_seconds;
  state.counters["seals"] = profile.seals;
  state.counters["max_commit_ms"] = profile.max_commit_ms;
  state.counters["max_seal_ms"] = profile.max_seal_ms;
  // Chunk payload per sealed sample: the codec's share, without SQLite's page overhead.
  if (auto db = OpenSql(env.offmon_path(), SQLITE_OPEN_READONLY); db) {
    const int64_t chunk_bytes = QueryInt(db->get(), "SELECT coalesce(sum(length(data)), 0) FROM chunks");
    const int64_t sealed = info->samples - info->head_samples;
    if (sealed > 0) state.counters["chunk_payload_bytes_per_sealed_sample"] = static_cast<double>(chunk_bytes) / static_cast<double>(sealed);
  }
  env.AddNote(SizeBreakdown(env.offmon_path(), "offmon store after wal_checkpoint(TRUNCATE)", info->samples));
}

void BM_AppendPlain(benchmark::State& state, BenchEnv& env) {
  const Dataset& data = env.data();
  env.set_plain_built(false);
  RemoveDb(env.plain_path());
  SqlDb db;
  for (auto _ : state) {
    auto written = AppendPlain(data, env.plain_path());
    if (!written) return Fail(state, written.error());
    db = std::move(*written);
  }
  env.set_plain_built(true);
  const auto n = static_cast<double>(data.samples());
  const int64_t as_written = DbBytes(env.plain_path());
  if (Status s = CheckpointTruncate(env.plain_path()); !s.ok()) return Fail(state, s);
  state.counters["samples_per_s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
  state.counters["bytes_per_sample"] = static_cast<double>(DbBytes(env.plain_path())) / n;
  state.counters["bytes_per_sample_as_written"] = static_cast<double>(as_written) / n;
  env.AddNote(SizeBreakdown(env.plain_path(), "plain table after wal_checkpoint(TRUNCATE)", data.samples()));
}

// Which series the one-series scans read: spread over the index range, so every shape
// is represented.
std::vector<size_t> ScanSample(size_t series) {
  std::vector<size_t> picks;
  const size_t n = std::min(kScanSeriesPerIteration, series);
  for (size_t k = 0; k < n; ++k) picks.push_back(k * series / n);
  return picks;
}

TimePoint DayEnd(const Dataset& data) { return Dataset::Time(data.steps); }

// Opens the store as a reader process would and returns it with its ids by dataset
// index. Checks one series against the data set, so the scans measure real reads.
Result<std::unique_ptr<Store>> OpenOffmonForScan(BenchEnv& env, std::vector<SeriesId>* ids, double* first_read_ms) {
  OFFMON_RETURN_IF_ERROR(env.EnsureOffmon());
  const Dataset& data = env.data();
  const auto start = SteadyClock::now();
  auto store = OpenStore(env.offmon_path(), /*read_only=*/true);
  if (!store) return store.error();
  auto by_key = IdsByKey(**store);
  if (!by_key) return by_key.error();
  ids->clear();
  for (const SeriesSpec& spec : data.series) {
    auto it = by_key->find(spec.text);
    if (it == by_key->end()) return Status::NotFound(fmt::format("series {} not in the store", spec.text));
    ids->push_back(it->second);
  }
  // The first read of a fresh Store decodes the head (the unsealed window) into memory.
  auto first = (*store)->ReadRange(ids->front(), Dataset::Time(0), DayEnd(data));
  if (!first) return first.error();
  *first_read_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
  if (first->size() != data.steps) {
    return Status::Corruption(fmt::format("read {} samples of series 0, wrote {}", first->size(), data.steps));
  }
  for (size_t s = 0; s < data.steps; ++s) {
    if ((*first)[s].time != Dataset::Time(s) || (*first)[s].value != data.Value(s, 0)) {
      return Status::Corruption(fmt::format("series 0 sample {} differs from what was written", s));
    }
  }
  return store;
}

void BM_ScanOneSeriesOffmon(benchmark::State& state, BenchEnv& env) {
  std::vector<SeriesId> ids;
  double first_read_ms = 0;
  auto store = OpenOffmonForScan(env, &ids, &first_read_ms);
  if (!store) return Fail(state, store.error());
  const Dataset& data = env.data();
  const std::vector<size_t> picks = ScanSample(data.series.size());
  int64_t rows = 0;
  for (auto _ : state) {
    double sum = 0;
    for (size_t i : picks) {
      auto samples = (*store)->ReadRange(ids[i], Dataset::Time(0), DayEnd(data));
      if (!samples) return Fail(state, samples.error());
      for (const Sample& s : *samples) sum += s.value;
      rows += static_cast<int64_t>(samples->size());
    }
    benchmark::DoNotOptimize(sum);
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["series_per_iter"] = static_cast<double>(picks.size());
  state.counters["open_and_first_read_ms"] = first_read_ms;
}

Result<SqlDb> OpenPlainForScan(BenchEnv& env) {
  OFFMON_RETURN_IF_ERROR(env.EnsurePlain());
  return OpenSql(env.plain_path(), SQLITE_OPEN_READONLY);
}

void BM_ScanOneSeriesPlain(benchmark::State& state, BenchEnv& env) {
  auto db = OpenPlainForScan(env);
  if (!db) return Fail(state, db.error());
  auto stmt = Prepare(db->get(), "SELECT ts, value FROM samples WHERE series_id = ? ORDER BY ts");
  if (!stmt) return Fail(state, stmt.error());
  const std::vector<size_t> picks = ScanSample(env.data().series.size());
  int64_t rows = 0;
  for (auto _ : state) {
    double sum = 0;
    int64_t ts_sum = 0;
    for (size_t i : picks) {
      sqlite3_stmt* raw = stmt->get();
      sqlite3_bind_int64(raw, 1, static_cast<int64_t>(i) + 1);
      while (sqlite3_step(raw) == SQLITE_ROW) {
        ts_sum += sqlite3_column_int64(raw, 0);
        sum += sqlite3_column_double(raw, 1);
        ++rows;
      }
      sqlite3_reset(raw);
    }
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(ts_sum);
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["series_per_iter"] = static_cast<double>(picks.size());
}

void BM_ScanAllSeriesOffmon(benchmark::State& state, BenchEnv& env) {
  std::vector<SeriesId> ids;
  double first_read_ms = 0;
  auto store = OpenOffmonForScan(env, &ids, &first_read_ms);
  if (!store) return Fail(state, store.error());
  const Dataset& data = env.data();
  int64_t rows = 0;
  for (auto _ : state) {
    double sum = 0;
    for (SeriesId id : ids) {
      auto samples = (*store)->ReadRange(id, Dataset::Time(0), DayEnd(data));
      if (!samples) return Fail(state, samples.error());
      for (const Sample& s : *samples) sum += s.value;
      rows += static_cast<int64_t>(samples->size());
    }
    benchmark::DoNotOptimize(sum);
  }
  if (rows != static_cast<int64_t>(data.samples()) * state.iterations()) {
    return Fail(state, Status::Corruption(fmt::format("scanned {} samples, wrote {}", rows, data.samples())));
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

void BM_ScanAllSeriesPlain(benchmark::State& state, BenchEnv& env) {
  auto db = OpenPlainForScan(env);
  if (!db) return Fail(state, db.error());
  auto stmt = Prepare(db->get(), "SELECT series_id, ts, value FROM samples");
  if (!stmt) return Fail(state, stmt.error());
  int64_t rows = 0;
  for (auto _ : state) {
    double sum = 0;
    int64_t key_sum = 0;
    sqlite3_stmt* raw = stmt->get();
    while (sqlite3_step(raw) == SQLITE_ROW) {
      key_sum += sqlite3_column_int64(raw, 0) + sqlite3_column_int64(raw, 1);
      sum += sqlite3_column_double(raw, 2);
      ++rows;
    }
    sqlite3_reset(raw);
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(key_sum);
  }
  if (rows != static_cast<int64_t>(env.data().samples()) * state.iterations()) {
    return Fail(state, Status::Corruption(fmt::format("scanned {} rows, wrote {}", rows, env.data().samples())));
  }
  state.counters["samples_per_s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

// A 30-day, 1-hour-step trend of one series (the analyzer's monthly view): 720 buckets
// from the 1-hour rollups, the unsealed last window computed from raw samples.
void BM_Trend30d(benchmark::State& state, BenchEnv& env) {
  auto import_rate = env.EnsureTrend();
  if (!import_rate) return Fail(state, import_rate.error());
  const TimePoint now = FromMillis((kStartSeconds + kTrendDays * kDaySeconds) * 1000);
  const TimePoint from = now - std::chrono::days(kTrendDays);
  const auto cold_start = SteadyClock::now();
  auto store = OpenStore(env.trend_path(), /*read_only=*/true);
  if (!store) return Fail(state, store.error());
  const std::vector<SeriesId>& ids = env.trend_ids();
  auto first = ReadBuckets(**store, ids.front(), from, now, std::chrono::hours(1));
  if (!first) return Fail(state, first.error());
  const double cold_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - cold_start).count();
  size_t next = 0;
  int64_t buckets = 0;
  for (auto _ : state) {
    auto trend = ReadBuckets(**store, ids[next], from, now, std::chrono::hours(1));
    if (!trend) return Fail(state, trend.error());
    buckets += static_cast<int64_t>(trend->size());
    benchmark::DoNotOptimize(trend->data());
    next = (next + 1) % ids.size();
  }
  state.counters["buckets"] = benchmark::Counter(static_cast<double>(buckets), benchmark::Counter::kAvgIterations);
  state.counters["open_and_first_query_ms"] = cold_ms;
  state.counters["import_samples_per_s"] = *import_rate;
}

// ---------------------------------------------------------------- context, main

void AddContext(const BenchConfig& config, const std::string& command_line) {
  benchmark::AddCustomContext("nproc", std::to_string(std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("cpu_model", CpuModel());
  benchmark::AddCustomContext("sqlite_version", sqlite3_libversion());
  benchmark::AddCustomContext("command_line", command_line);
  benchmark::AddCustomContext("date_utc", FormatRfc3339(SystemClock().Now()));
  benchmark::AddCustomContext(
      "dataset", fmt::format("{} series x {} steps at {} s = {} samples from {}", config.series, config.steps,
                             kGridSeconds, config.series * config.steps, FormatRfc3339(Dataset::Time(0))));
  benchmark::AddCustomContext(
      "trend_dataset", fmt::format("{} series x {} d at {} s, one batch per hour", config.trend_series,
                                   kTrendDays, kTrendGridSeconds));
  benchmark::AddCustomContext("store_dir", config.dir.string());
}

void RegisterAll(BenchEnv& env) {
  auto whole = [](benchmark::internal::Benchmark* b) {
    b->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
  };
  whole(benchmark::RegisterBenchmark("BM_Append/offmon", [&env](benchmark::State& s) { BM_AppendOffmon(s, env); }));
  whole(benchmark::RegisterBenchmark("BM_Append/plain_sqlite", [&env](benchmark::State& s) { BM_AppendPlain(s, env); }));
  benchmark::RegisterBenchmark("BM_ScanOneSeries/offmon", [&env](benchmark::State& s) { BM_ScanOneSeriesOffmon(s, env); })
      ->Unit(benchmark::kMillisecond)->UseRealTime();
  benchmark::RegisterBenchmark("BM_ScanOneSeries/plain_sqlite", [&env](benchmark::State& s) { BM_ScanOneSeriesPlain(s, env); })
      ->Unit(benchmark::kMillisecond)->UseRealTime();
  whole(benchmark::RegisterBenchmark("BM_ScanAllSeries/offmon", [&env](benchmark::State& s) { BM_ScanAllSeriesOffmon(s, env); }));
  whole(benchmark::RegisterBenchmark("BM_ScanAllSeries/plain_sqlite", [&env](benchmark::State& s) { BM_ScanAllSeriesPlain(s, env); }));
  benchmark::RegisterBenchmark("BM_Trend30d/offmon", [&env](benchmark::State& s) { BM_Trend30d(s, env); })
      ->Unit(benchmark::kMillisecond)->UseRealTime();
}

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [benchmark flags]\n"
               "       %s --write-openmetrics FILE\n"
               "environment: BENCH_SERIES, BENCH_STEPS, BENCH_DIR, BENCH_KEEP_DIR=1\n",
               argv0, argv0);
  return 2;
}

}  // namespace
}  // namespace offmon::store

int main(int argc, char** argv) {
  using namespace offmon::store;
  std::string command_line;
  for (int i = 0; i < argc; ++i) {
    if (i > 0) command_line += ' ';
    command_line += argv[i];
  }
  benchmark::Initialize(&argc, argv);
  std::optional<std::string> openmetrics_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--write-openmetrics" && i + 1 < argc) {
      openmetrics_path = argv[++i];
    } else if (arg.starts_with("--write-openmetrics=")) {
      openmetrics_path = std::string(arg.substr(arg.find('=') + 1));
    } else {
      std::fprintf(stderr, "bench_store: unknown argument %s\n", argv[i]);
      return Usage(argv[0]);
    }
  }
  std::string error;
  auto config = ConfigFromEnv(&error);
  if (!config) {
    std::fprintf(stderr, "bench_store: %s\n", error.c_str());
    return 2;
  }
  if (openmetrics_path) {
    const Dataset data = MakeDataset(config->series, config->steps);
    offmon::Status status = WriteOpenMetrics(data, *openmetrics_path);
    if (!status.ok()) {
      std::fprintf(stderr, "bench_store: %s\n", status.ToString().c_str());
      return 1;
    }
    std::printf("wrote %zu samples of %zu series to %s\n", data.samples(), data.series.size(),
                openmetrics_path->c_str());
    return 0;
  }
  BenchEnv env(*config);
  if (offmon::Status status = env.Init(); !status.ok()) {
    std::fprintf(stderr, "bench_store: %s\n", status.ToString().c_str());
    return 1;
  }
  AddContext(env.config(), command_line);
  RegisterAll(env);
  benchmark::RunSpecifiedBenchmarks();
  env.PrintNotes();
  benchmark::Shutdown();
  return 0;
}
