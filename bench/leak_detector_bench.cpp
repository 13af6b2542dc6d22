// One leak evaluation as the analyzer runs it: every 15 min of analysed time, per
// process, over the last 48 h of memory samples. The budget is ~30 µs per call. Shapes:
// a flat GC sawtooth (every window runs to its cheap rejections) and a steady leak
// (every window runs every check). Fixed seeds.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <vector>

#include "offmon/analyzer/leak_detector.h"

namespace offmon::analyzer {
namespace {

constexpr double kMiB = 1024.0 * 1024;
const TimePoint kStart = FromMillis(1'761'955'200'000);  // 2025-11-01T00:00:00Z

// 48 h at `step_seconds`: 700 MiB plus `leak_mib_per_hour`, a 60 MiB sawtooth every ~8
// min and 3 MiB of noise.
std::vector<Sample> MakeHistory(int step_seconds, double leak_mib_per_hour) {
  std::mt19937 rng(42);
  std::normal_distribution<double> noise(0, 3 * kMiB);
  std::uniform_real_distribution<double> period(4, 12);  // minutes
  std::vector<Sample> memory;
  const int count = 48 * 3600 / step_seconds;
  double last_gc = 0, gc_period = period(rng);
  for (int i = 0; i < count; ++i) {
    const double minutes = i * step_seconds / 60.0;
    while (minutes - last_gc >= gc_period) {
      last_gc += gc_period;
      gc_period = period(rng);
    }
    const double value = 700 * kMiB + leak_mib_per_hour * kMiB * minutes / 60 +
                         60 * kMiB * (minutes - last_gc) / gc_period + noise(rng);
    memory.push_back({kStart + std::chrono::seconds(int64_t{i} * step_seconds), value});
  }
  return memory;
}

// Args: sampling interval in seconds, leak in MiB/h.
void BM_DetectLeak(benchmark::State& state) {
  const std::vector<Sample> memory = MakeHistory(static_cast<int>(state.range(0)), static_cast<double>(state.range(1)));
  const TimePoint now = memory.back().time;
  const LeakOptions options;
  bool found = false;
  for (auto _ : state) {
    std::optional<LeakFinding> finding = DetectLeak(memory, {}, now, false, options);
    found = finding.has_value();
    benchmark::DoNotOptimize(finding);
  }
  state.counters["found"] = found ? 1 : 0;
  state.counters["samples"] = static_cast<double>(memory.size());
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(memory.size()));
}
BENCHMARK(BM_DetectLeak)->ArgNames({"step_s", "leak_mib_h"})->Args({30, 0})->Args({30, 10})->Args({300, 0})->Args({300, 10});

// The least-squares peer over its usual 6 h window, on the same histories.
void BM_PredictLinearLeak(benchmark::State& state) {
  const std::vector<Sample> memory = MakeHistory(static_cast<int>(state.range(0)), static_cast<double>(state.range(1)));
  const TimePoint now = memory.back().time;
  for (auto _ : state) {
    std::optional<LeakFinding> finding =
        PredictLinearLeak(memory, now, std::chrono::hours(6), std::chrono::hours(24), 4096 * kMiB);
    benchmark::DoNotOptimize(finding);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(memory.size()));
}
BENCHMARK(BM_PredictLinearLeak)->ArgNames({"step_s", "leak_mib_h"})->Args({30, 0})->Args({30, 10});

}  // namespace
}  // namespace offmon::analyzer

BENCHMARK_MAIN();
