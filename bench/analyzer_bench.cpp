// Analyzer benchmark: a 30-day backtest of every rule over BENCH_PROCESSES x 5 process
// series (default 40 x 5 = 200) at 30 s, about 17M samples, plus 8 channels of hourly
// epochs, on one core — next to the floor in the same run: reading every one of those
// samples out of the store and nothing else. The issue's target is under 2 s.
//
//   bench_analyzer [benchmark flags]
//
// Environment: BENCH_PROCESSES, BENCH_DAYS (scale down for smoke runs). The data set is
// seeded; a tenth of the processes leak memory. The benchmark reports; it never fails on
// speed.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "bench_context.h"
#include "offmon/analyzer/analyzer.h"
#include "offmon/store/store.h"

namespace offmon {
namespace {

constexpr int64_t kStart = 1'793'491'200;  // 2026-11-01T00:00:00Z
constexpr int64_t kGrid = 30;
constexpr int64_t kDay = 86'400;

size_t EnvSize(const char* name, size_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoul(text, nullptr, 10) : fallback;
}

struct Env {
  size_t processes = EnvSize("BENCH_PROCESSES", 40);
  int64_t days = static_cast<int64_t>(EnvSize("BENCH_DAYS", 30));
  std::filesystem::path dir;
  std::unique_ptr<store::Store> store;
  size_t samples = 0;

  Env() {
    std::string pattern = (std::filesystem::temp_directory_path() / "offmon-bench-analyzer-XXXXXX").string();
    dir = mkdtemp(pattern.data());
  }
  ~Env() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  // Writes the history one hour-batch at a time, as the daemon would.
  Status Fill() {
    store::StoreOptions options;
    options.path = dir / "offmon.db";
    auto opened = store::Store::Open(options);
    if (!opened) return opened.error();
    store = std::move(*opened);
    std::mt19937_64 rng(0x0FF5'A7A1'2026);
    std::normal_distribution<double> noise(0, 1);
    // A tenth of the processes leak 20 MB an hour.
    auto leak_per_hour = [](size_t process) { return process % 10 == 0 ? 20.0 * 1024 * 1024 : 0.0; };
    for (int64_t hour = 0; hour < days * 24; ++hour) {
      auto appender = store->NewAppender("bench");
      for (size_t i = 0; i < processes; ++i) {
        Labels labels{{"process", fmt::format("worker-{}", i)}};
        auto up = *appender->Ref(SeriesKey("process_up", labels));
        auto restarts = *appender->Ref(SeriesKey("process_restarts_total", labels));
        auto memory = *appender->Ref(SeriesKey("process_memory_bytes", labels));
        auto cpu = *appender->Ref(SeriesKey("process_cpu_percent", labels));
        auto uptime = *appender->Ref(SeriesKey("process_uptime_seconds", labels));
        for (int64_t s = 0; s < 3600; s += kGrid) {
          const int64_t t = hour * 3600 + s;
          const TimePoint at = FromMillis((kStart + t) * 1000);
          const double base = 300e6 + 50e6 * std::sin(static_cast<double>(t) * 6.283 / kDay);
          const double sawtooth = 40e6 * static_cast<double>(t % 600) / 600;
          appender->Add(up, at, 1);
          appender->Add(restarts, at, 2);
          appender->Add(memory, at,
                        base + sawtooth + leak_per_hour(i) * static_cast<double>(t) / 3600 + 2e6 * noise(rng));
          appender->Add(cpu, at, std::max(0.0, 8 + 3 * noise(rng)));
          appender->Add(uptime, at, static_cast<double>(t));
          samples += 5;
        }
      }
      for (int c = 0; c < 8; ++c) {
        auto ch = *appender->Ref(SeriesKey("epoch_participants", {{"channel", fmt::format("ch{}", c)}}));
        appender->Add(ch, FromMillis((kStart + hour * 3600 + 120) * 1000), 2000 + 200 * noise(rng));
        ++samples;
      }
      OFFMON_RETURN_IF_ERROR(appender->Commit(FromMillis((kStart + hour * 3600 + 3600) * 1000)));
    }
    return Status::Ok();
  }
};

Env* g_env = nullptr;

void BM_Backtest(benchmark::State& state) {
  Config config;
  const TimePoint from = FromMillis(kStart * 1000), to = FromMillis((kStart + g_env->days * kDay) * 1000);
  size_t evaluations = 0, transitions = 0;
  for (auto _ : state) {
    analyzer::Analyzer a(config, *g_env->store, analyzer::AnalyzerMode::kBacktest);
    for (TimePoint t = from; t <= to; t += std::chrono::minutes(5)) {
      auto result = a.Evaluate(t);
      if (!result) {
        state.SkipWithError(result.error().ToString().c_str());
        return;
      }
      transitions += result->size();
      ++evaluations;
    }
  }
  state.counters["samples"] = static_cast<double>(g_env->samples);
  state.counters["evaluations"] = static_cast<double>(evaluations);
  state.counters["transitions"] = static_cast<double>(transitions);
}

// The floor: every sample of the range read out of the store, nothing analyzed.
void BM_ReadEverySample(benchmark::State& state) {
  const TimePoint from = FromMillis(kStart * 1000), to = FromMillis((kStart + g_env->days * kDay + 1) * 1000);
  for (auto _ : state) {
    auto series = g_env->store->Select(*store::Selector::Parse(R"({__name__=~".+"})"));
    size_t read = 0;
    for (const store::SeriesInfo& info : *series) read += g_env->store->ReadRange(info.id, from, to)->size();
    benchmark::DoNotOptimize(read);
    state.counters["samples_read"] = static_cast<double>(read);
  }
}

}  // namespace
}  // namespace offmon

int main(int argc, char** argv) {
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i > 0 ? " " : "") + std::string(argv[i]);
  benchmark::Initialize(&argc, argv);
  offmon::Env env;
  if (offmon::Status status = env.Fill(); !status.ok()) {
    std::fprintf(stderr, "bench_analyzer: %s\n", status.ToString().c_str());
    return 1;
  }
  offmon::g_env = &env;
  benchmark::AddCustomContext("cpu_model", offmon::CpuModel());
  benchmark::AddCustomContext("nproc", std::to_string(std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("command_line", command_line);
  benchmark::AddCustomContext("date_utc", offmon::FormatRfc3339(offmon::SystemClock().Now()));
  benchmark::AddCustomContext("dataset", fmt::format("{} processes x 5 series + 8 channels, {} d at 30 s = {} samples",
                                                     env.processes, env.days, env.samples));
  auto whole = [](benchmark::internal::Benchmark* b) {
    b->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();
  };
  whole(benchmark::RegisterBenchmark("BM_Backtest30d/offmon_analyze_every_rule_5m_step", offmon::BM_Backtest));
  whole(benchmark::RegisterBenchmark("BM_Backtest30d/floor_read_every_sample", offmon::BM_ReadEverySample));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
