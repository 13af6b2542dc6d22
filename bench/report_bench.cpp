// Query benchmarks, the issue's two targets:
//  - `offmon report` on a store holding BENCH_DAYS (30) days of BENCH_PROCESSES (10) PM2
//    processes x 5 series and the system series at 30 s, the database series at 60 s,
//    and BENCH_CHANNELS (8) channels of hourly sealed epochs with their participant
//    sets, plus alert transitions, process status and log-tail events: building the
//    HealthReport and rendering it as plain text, the functions `offmon report` calls.
//    Target: under 100 ms. The dashboard's overview page over the same store (GET /):
//    under 100 ms and 200 KB; its charts fragment at 24h.
//  - `offmon trend` over BENCH_TREND_DAYS (365) days of one 30 s series (after the
//    daemon's retention: raw for 30 days, rollups beyond): the steps of the command's
//    FillView (its code is private to trend_command.cpp, so this repeats its calls):
//    select, time buckets from the rollups, the newest sample, the statistics, the
//    alert history and the terminal chart. Target: under 300 ms. Arg = step in hours
//    (168: the default 7-day step for a year; 24; 1).
//
//   bench_report [benchmark flags]
//
// Environment: BENCH_DAYS, BENCH_PROCESSES, BENCH_CHANNELS, BENCH_PARTICIPANTS,
// BENCH_TREND_DAYS scale the data sets (the ctest smoke run uses small ones). Seeded data;
// reports, never fails on speed. Only release-build figures count.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "bench_context.h"
#include "alert_history_impl.h"
#include "offmon/analyzer/alert.h"
#include "offmon/query/dashboard.h"
#include "offmon/query/health_report.h"
#include "offmon/query/report_render.h"
#include "offmon/store/buckets.h"
#include "offmon/store/store.h"
#include "terminal_chart_impl.h"
#include "trend_stats_impl.h"

namespace offmon {
namespace {

constexpr int64_t kGrid = 30;
constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86'400;
// Both data sets end here: 2026-11-02T00:00:00Z.
constexpr int64_t kEnd = 1'793'577'600;

size_t EnvSize(const char* name, size_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoul(text, nullptr, 10) : fallback;
}

TimePoint At(int64_t unix_seconds) { return FromMillis(unix_seconds * 1000); }

class TempStore {
 public:
  explicit TempStore(std::string_view name) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / fmt::format("offmon-bench-{}-XXXXXX", name)).string();
    dir_ = mkdtemp(pattern.data());
  }
  ~TempStore() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TempStore(const TempStore&) = delete;
  TempStore& operator=(const TempStore&) = delete;

  Status Open() {
    store::StoreOptions options;
    options.path = dir_ / "offmon.db";
    auto opened = store::Store::Open(options);
    if (!opened) return opened.error();
    store = std::move(*opened);
    return Status::Ok();
  }

  std::unique_ptr<store::Store> store;
  size_t samples = 0;

 private:
  std::filesystem::path dir_;
};

// The report's data set, written one hour-batch at a time as the daemon would.
struct ReportData : TempStore {
  size_t processes = EnvSize("BENCH_PROCESSES", 10);
  size_t channels = EnvSize("BENCH_CHANNELS", 8);
  size_t participants = EnvSize("BENCH_PARTICIPANTS", 2000);
  int64_t days = static_cast<int64_t>(EnvSize("BENCH_DAYS", 30));
  size_t epochs = 0, events = 0;

  ReportData() : TempStore("report") {}

  Status Fill() {
    OFFMON_RETURN_IF_ERROR(Open());
    std::mt19937_64 rng(0x0FF5'2E90'2026);
    std::normal_distribution<double> noise(0, 1);
    std::uniform_int_distribution<int> user(0, static_cast<int>(participants) * 3);
    const int64_t start = kEnd - days * kDay;
    for (int64_t hour = 0; hour < days * 24; ++hour) {
      const int64_t h0 = start + hour * kHour;
      auto appender = store->NewAppender("bench");
      for (size_t i = 0; i < processes; ++i) {
        Labels labels{{"process", i == 0 ? std::string("twzrd-aggregator") : fmt::format("cls-worker-{}", i)}};
        auto up = *appender->Ref(SeriesKey("process_up", labels));
        auto restarts = *appender->Ref(SeriesKey("process_restarts_total", labels));
        auto memory = *appender->Ref(SeriesKey("process_memory_bytes", labels));
        auto cpu = *appender->Ref(SeriesKey("process_cpu_percent", labels));
        auto uptime = *appender->Ref(SeriesKey("process_uptime_seconds", labels));
        for (int64_t s = 0; s < kHour; s += kGrid) {
          const int64_t t = h0 + s;
          appender->Add(up, At(t), 1);
          appender->Add(restarts, At(t), static_cast<double>((t - start) / kDay));  // one a day
          appender->Add(memory, At(t), 300e6 + 40e6 * std::sin(static_cast<double>(t) / 3000) + 2e6 * noise(rng));
          appender->Add(cpu, At(t), std::max(0.0, 8 + 3 * noise(rng)));
          appender->Add(uptime, At(t), static_cast<double>((t - start) % kDay));
          samples += 5;
        }
      }
      struct System {
        const char* key;
        double value;
      };
      const System kSystem[] = {{"system_memory_total_bytes", 16e9},
                                {"system_memory_available_bytes", 8e9},
                                {"system_load1", 0.45},
                                {"system_load5", 0.38},
                                {"system_load15", 0.32},
                                {"system_cpu_percent", 12},
                                {R"(disk_free_bytes{mount="/"})", 100e9},
                                {R"(disk_total_bytes{mount="/"})", 400e9}};
      for (const System& series : kSystem) {
        auto key = ParseSeriesKey(series.key);
        auto id = *appender->Ref(*key);
        for (int64_t s = 0; s < kHour; s += kGrid)
          appender->Add(id, At(h0 + s), series.value * (1 + 0.01 * noise(rng)));
        samples += kHour / kGrid;
      }
      const System kDb[] = {{"db_up", 1},
                            {"db_events_last_hour", 4500},
                            {"db_latest_epoch", static_cast<double>(h0)},
                            {"db_latest_epoch_age_seconds", 1250},
                            {"db_response_seconds", 0.012}};
      for (const System& series : kDb) {
        auto id = *appender->Ref(SeriesKey(series.key, {}));
        for (int64_t s = 0; s < kHour; s += 60) appender->Add(id, At(h0 + s), series.value);
        samples += kHour / 60;
      }
      for (size_t c = 0; c < channels; ++c) {
        const std::string channel = fmt::format("channel-{}", c);
        const int64_t sealed = h0 + 2730;
        auto count = *appender->Ref(SeriesKey("epoch_participants", {{"channel", channel}}));
        auto published = *appender->Ref(SeriesKey("epoch_published", {{"channel", channel}}));
        EpochObservation epoch{channel, h0, At(sealed), true, At(sealed + 300), fmt::format("{:064x}", h0 + c),
                               "",      "", {}};
        for (size_t u = 0; u < participants; ++u) epoch.participants.push_back(fmt::format("user-{}", user(rng)));
        appender->Add(count, At(sealed), static_cast<double>(participants));
        appender->Add(published, At(sealed), 1);
        appender->AddEpoch(std::move(epoch));
        samples += 2;
        ++epochs;
      }
      if (hour % 24 == 0) {
        for (size_t i = 0; i < processes; ++i) {
          appender->AttachEvent(EventKind::kProcessInfo, fmt::format(R"({{"process":"{}","status":"online"}})",
                                                                     i == 0 ? std::string("twzrd-aggregator")
                                                                            : fmt::format("cls-worker-{}", i)));
          ++events;
        }
      }
      OFFMON_RETURN_IF_ERROR(appender->Commit(At(h0 + kHour)));
      // A few alerts a day: a worker offline for 20 minutes every 6 hours, resolved.
      if (hour % 6 == 3) {
        Labels labels{{"process", fmt::format("cls-worker-{}",
                                              1 + hour % std::max<int64_t>(static_cast<int64_t>(processes) - 1, 1))}};
        for (analyzer::AlertState state : {analyzer::AlertState::kFiring, analyzer::AlertState::kResolved}) {
          const int64_t at = h0 + (state == analyzer::AlertState::kFiring ? 60 : 1260);
          analyzer::Transition t{
              At(at), "ProcessOffline", analyzer::Severity::kWarning, state, labels, "", "offline", At(h0), ""};
          auto seq = store->AppendEvent(EventKind::kAlertTransition, "bench", analyzer::EncodeTransition(t), At(at));
          if (!seq) return seq.error();
          ++events;
        }
      }
    }
    // One alert still firing, with its log tail.
    const int64_t fired = kEnd - 1200;
    analyzer::Transition t{At(fired),
                           "MemoryLeak",
                           analyzer::Severity::kCritical,
                           analyzer::AlertState::kFiring,
                           {{"process", "cls-worker-1"}},
                           "",
                           "growing",
                           At(fired - 600),
                           ""};
    auto seq = store->AppendEvent(EventKind::kAlertTransition, "bench", analyzer::EncodeTransition(t), At(fired));
    if (!seq) return seq.error();
    return store->ApplyRetention(At(kEnd));
  }
};

// One 30 s series over a year, ending at kEnd, with the daemon's retention applied.
struct TrendData : TempStore {
  int64_t days = static_cast<int64_t>(EnvSize("BENCH_TREND_DAYS", 365));

  TrendData() : TempStore("trend") {}

  Status Fill() {
    OFFMON_RETURN_IF_ERROR(Open());
    std::mt19937_64 rng(0x7E4D'2026);
    std::normal_distribution<double> noise(0, 1);
    const int64_t start = kEnd - days * kDay;
    for (int64_t h0 = start; h0 < kEnd; h0 += kHour) {
      auto appender = store->NewAppender("bench");
      auto id = *appender->Ref(SeriesKey("process_memory_bytes", {{"process", "twzrd-aggregator"}}));
      for (int64_t s = 0; s < kHour; s += kGrid) {
        const double t = static_cast<double>(h0 + s - start);
        appender->Add(id, At(h0 + s), 500e6 + 100 * t + 50e6 * std::sin(t / kDay * 6.283) + 5e6 * noise(rng));
        ++samples;
      }
      OFFMON_RETURN_IF_ERROR(appender->Commit(At(h0 + kHour)));
    }
    return store->ApplyRetention(At(kEnd));
  }
};

ReportData* g_report = nullptr;
TrendData* g_trend = nullptr;

void BM_Report(benchmark::State& state) {
  Config config;
  size_t bytes = 0, alerts = 0;
  for (auto _ : state) {
    auto report = query::BuildHealthReport(*g_report->store, config, At(kEnd));
    if (!report) {
      state.SkipWithError(report.error().ToString().c_str());
      return;
    }
    const std::string text = query::RenderReportText(*report, query::RenderOptions{false});
    bytes = text.size();
    alerts = report->alerts.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["report_bytes"] = static_cast<double>(bytes);
  state.counters["active_alerts"] = static_cast<double>(alerts);
}

// The dashboard over the same store: `target` "/" is the overview page (the report plus
// each process's hour of memory and CPU for the sparklines, rendered as the whole HTML
// page; target under 100 ms like the text report, page_bytes under 200 KB);
// "/api/charts?range=24h" the charts fragment a page left open re-reads each refresh.
void BM_Dashboard(benchmark::State& state, const char* target) {
  size_t bytes = 0;
  for (auto _ : state) {
    auto page = query::ServeDashboard(*g_report->store, Config{}, At(kEnd), target);
    if (!page) {
      state.SkipWithError(page.error().ToString().c_str());
      return;
    }
    bytes = page->body.size();
    benchmark::DoNotOptimize(page->body.data());
  }
  state.counters["page_bytes"] = static_cast<double>(bytes);
}

// `offmon trend 'process_memory_bytes{process="twzrd-aggregator"}' --since 365d
// [--step Nh]`, as FillView does it.
void BM_Trend(benchmark::State& state) {
  const Duration step = std::chrono::hours(state.range(0));
  const TimePoint to = At(kEnd) + Duration(1);
  const TimePoint from = to - std::chrono::days(g_trend->days);
  size_t buckets = 0;
  for (auto _ : state) {
    auto selector = store::Selector::Parse(R"(process_memory_bytes{process="twzrd-aggregator"})");
    auto series = g_trend->store->Select(*selector);
    auto transitions = analyzer::ReadTransitions(*g_trend->store, At(kEnd));
    if (!series || series->empty() || !transitions) {
      state.SkipWithError("no series");
      return;
    }
    query::TrendView view;
    view.selector = R"(process_memory_bytes{process="twzrd-aggregator"})";
    view.since = fmt::format("{}d", g_trend->days);
    view.until = At(kEnd);
    view.source = "1h rollups";
    view.grid.step = step;
    view.grid.start = from - (from.time_since_epoch() % step + step) % step;
    view.grid.slots = static_cast<size_t>((to - view.grid.start + step - Duration(1)) / step);
    view.grid.end = view.grid.start + step * static_cast<int64_t>(view.grid.slots);
    const std::vector<query::AlertEpisode> episodes = query::BuildEpisodes(*transitions);
    for (const store::SeriesInfo& info : *series) {
      query::SeriesTrend s;
      s.key = info.key;
      s.unit = query::UnitOfMetric(info.key.name);
      auto read = store::ReadBuckets(*g_trend->store, info.id, view.grid.start, to, step);
      if (!read) {
        state.SkipWithError(read.error().ToString().c_str());
        return;
      }
      s.buckets = std::move(*read);
      if (s.buckets.empty()) continue;
      auto tail = g_trend->store->ReadRange(info.id, s.buckets.back().start, to);
      s.stats = query::ComputeTrendStats(s.buckets, std::nullopt, tail->empty() ? Sample{} : tail->back());
      for (const query::AlertEpisode& e : episodes) {
        if (query::BelongsTo(e, s.key) && e.Overlaps(view.grid.start, to)) s.alerts.push_back(e);
      }
      buckets = s.buckets.size();
      view.series.push_back(std::move(s));
    }
    std::ostringstream out;
    query::RenderTerminal(out, view, 100);
    benchmark::DoNotOptimize(out.str().data());
  }
  state.counters["buckets"] = static_cast<double>(buckets);
}

}  // namespace
}  // namespace offmon

int main(int argc, char** argv) {
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i > 0 ? " " : "") + std::string(argv[i]);
  benchmark::Initialize(&argc, argv);
  offmon::ReportData report;
  offmon::TrendData trend;
  for (offmon::Status status : {report.Fill(), trend.Fill()}) {
    if (!status.ok()) {
      std::fprintf(stderr, "bench_report: %s\n", status.ToString().c_str());
      return 1;
    }
  }
  offmon::g_report = &report;
  offmon::g_trend = &trend;
  benchmark::AddCustomContext("cpu_model", offmon::CpuModel());
  benchmark::AddCustomContext("nproc", std::to_string(std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("command_line", command_line);
  benchmark::AddCustomContext("date_utc", offmon::FormatRfc3339(offmon::SystemClock().Now()));
  benchmark::AddCustomContext(
      "dataset_report",
      fmt::format("{} d: {} processes x 5 series + 8 system at 30 s, 5 db at 60 s, {} channels x {} epochs of {} "
                  "participants; {} samples, {} other events; retention applied",
                  report.days, report.processes, report.channels, report.days * 24, report.participants, report.samples,
                  report.events));
  benchmark::AddCustomContext("dataset_trend", fmt::format("1 series at 30 s over {} d = {} samples; retention applied",
                                                           trend.days, trend.samples));
  benchmark::RegisterBenchmark("BM_Report/build_and_render_plain", offmon::BM_Report)->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Dashboard/overview_page", offmon::BM_Dashboard, "/")->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Dashboard/charts_24h", offmon::BM_Dashboard, "/api/charts?range=24h")
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_Trend1y/step_hours", offmon::BM_Trend)
      ->Arg(168)
      ->Arg(24)
      ->Arg(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
