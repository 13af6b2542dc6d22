// CPU families: `process_cpu_percent` point samples (what PM2's monit shows at the
// moment of the sample) of a worker at 10–60 % with spikes above 90 % lasting 30 s to
// 4.5 min, with or without sustained plateaus above 90 % lasting 15 min to 2 h. Sampled
// every 30 s to 30 min; the plateaus sampled every 15 or 30 min are a family of their own
// (`cpu/sustained-coarse`), since a 15-minute plateau may then hold a single sample.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "scenario.h"

namespace offmon::accuracy {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

struct CpuSpec {
  std::string family;
  bool fast = false;
  Duration interval = minutes(1);
  double base = 30;
  Duration spike_every = hours(1);  // mean gap between spikes
  int plateaus_per_day = 0;
  // Readings jitter as on a busy host: plateau and spike readings N(95, 4) up to 100,
  // and one in ten a stray reading of 80–90.
  bool jitter = false;
};

struct Span {
  TimePoint from, to;
  bool sustained = false;
};

Scenario Generate(const CpuSpec& spec, uint64_t base_seed) {
  Scenario sc;
  sc.family = spec.family;
  sc.name = fmt::format("{}:base={:.0f},spikes/{}m,plateaus/day={},every={}s", spec.family, spec.base,
                        spec.spike_every.count() / 60000, spec.plateaus_per_day, spec.interval.count() / 1000);
  Rng rng(ScenarioSeed(base_seed, sc.name));
  const TimePoint start = CorpusStart();
  const TimePoint end = start + days(2);
  sc.from = start + hours(1);
  sc.to = end;
  sc.step = minutes(1);
  const std::string process = "worker";

  std::vector<Span> spans;
  // Plateaus: spread over each day, rotating through the durations.
  static const Duration kDurations[] = {minutes(15), minutes(20), minutes(30), minutes(60), minutes(120)};
  size_t rotation = static_cast<size_t>(rng.Uniform(0, 5));
  for (int d = 0; d < 2; ++d) {
    for (int k = 0; k < spec.plateaus_per_day; ++k) {
      const Duration slot = hours(24) / spec.plateaus_per_day;
      const TimePoint begin = start + days(d) + slot * k + minutes(static_cast<int>(rng.Uniform(60, 180)));
      const Duration length = kDurations[rotation++ % 5];
      if (begin + length + minutes(20) > end) continue;
      spans.push_back({begin, begin + length, true});
      sc.windows.push_back(
          Window{Kind::kCpuHigh, process, begin, begin, begin + length + minutes(10), std::nullopt, 0});
    }
  }
  // Spikes: 30 s to 4.5 min long, separated by at least a minute back at the base level
  // (exponential gaps; overlapping spikes would be one longer burst), never touching a
  // plateau.
  for (TimePoint t = start + minutes(20);;) {
    t += minutes(1) + std::chrono::duration_cast<Duration>(spec.spike_every * (-std::log(1 - rng.Uniform())));
    if (t >= end - minutes(10)) break;
    const Duration length = seconds(30 + static_cast<int64_t>(rng.Uniform(0, 240)));
    bool clear = true;
    for (const Span& s : spans) {
      if (s.sustained && t < s.to + minutes(10) && t + length > s.from - minutes(10)) clear = false;
    }
    if (clear) spans.push_back({t, t + length, false});
    t += length;
  }
  SeriesData cpu{"process_cpu_percent", "process", process, {}};
  for (TimePoint t = start; t < end; t += spec.interval) {
    double value = std::clamp(rng.Normal(spec.base, 6), 0.0, 88.0);
    for (const Span& s : spans) {
      if (t >= s.from && t < s.to) {
        value = spec.jitter ? (rng.Uniform() < 0.1 ? rng.Uniform(80, 90) : std::min(100.0, rng.Normal(95, 4)))
                            : rng.Uniform(s.sustained ? 91 : 92, 100);
      }
    }
    cpu.samples.push_back({t, std::round(value * 10) / 10});
  }
  sc.series.push_back(std::move(cpu));
  return sc;
}

std::vector<CpuSpec> CpuSpecs() {
  std::vector<CpuSpec> specs;
  const Duration fine[] = {seconds(30), minutes(1), minutes(5)};
  const Duration coarse[] = {minutes(15), minutes(30)};
  for (double base : {10.0, 40.0, 60.0}) {
    for (Duration every : fine) {
      specs.push_back({"cpu/sustained", base == 40 && every != minutes(1), every, base, minutes(90), 3});
    }
    for (Duration every : coarse)
      specs.push_back({"cpu/sustained-coarse", base == 40 && every == minutes(15), every, base, minutes(90), 3});
    // Spikes only: a worker with a spike every ~45 min, and a busy one every ~15 min.
    for (Duration gap : {Duration(minutes(45)), Duration(minutes(15))}) {
      for (Duration every : {fine[0], fine[1], fine[2], coarse[0], coarse[1]}) {
        specs.push_back({"cpu/spikes",
                         base == 40 && ((gap == minutes(15) && (every == minutes(1) || every == minutes(30))) ||
                                        (gap == minutes(45) && every == minutes(5))),
                         every, base, gap, 0});
      }
    }
  }
  // Jittered readings (±10 points, stray lows), at the default 30 s and at 1 min.
  for (double base : {10.0, 40.0}) {
    for (Duration every : {fine[0], fine[1]}) {
      specs.push_back({"cpu/sustained-jitter", base == 40 && every == fine[0], every, base, minutes(90), 3, true});
      specs.push_back({"cpu/spikes-jitter", base == 40 && every == fine[0], every, base, minutes(15), 0, true});
    }
  }
  return specs;
}

}  // namespace

void AddCpuScenarios(Subset subset, uint64_t seed, std::vector<Scenario>& out) {
  for (const CpuSpec& spec : CpuSpecs()) {
    if (subset == Subset::kFast && !spec.fast) continue;
    out.push_back(Generate(spec, seed));
  }
}

}  // namespace offmon::accuracy
