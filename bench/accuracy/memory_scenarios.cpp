// Memory families: true leaks (1–500 MiB/h, with GC sawtooth, noise, restarts that reset
// memory while the leak continues, late starts) and non-leaks (flat, sawtooth, a one-time
// step, growth that levels off, daily cycles), sampled every 30 s to 30 min.
//
// The process is simulated on a 30 s grid: its post-GC floor (base + leak since the
// last restart + step + level-off + daily cycle, times a warm-up after each restart),
// plus a GC sawtooth above the floor and Gaussian noise. It crashes (and PM2 restarts it,
// counter + 1) when the noise-free peak reaches 4 GiB, as in the guide's Issue 5.
#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "scenario.h"

namespace offmon::accuracy {

namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr double kMiB = 1024.0 * 1024;
constexpr double kLimitMiB = 4096;  // 4 GiB, the guide's 4 GB
constexpr Duration kGrid = seconds(30);
// The judged range starts 6 h into the history: the least-squares peer's window.
constexpr Duration kJudgedFrom = std::chrono::hours(6);

struct MemorySpec {
  std::string family;
  bool fast = false;
  Duration interval = minutes(1);
  Duration length = days(5);
  double base_mib = 800;
  double noise_mib = 5;
  double saw_mib = 30;  // GC sawtooth height above the floor
  Duration saw_period = minutes(15);
  double leak_mib_per_hour = 0;   // 0: no leak
  Duration leak_start{0};         // after the scenario's start
  Duration restart_every{0};      // deploy-like restarts, ±20 %; 0: none
  bool restarts_reported = true;  // false: no restart counter series at all
  double step_mib = 0;
  Duration step_at{0};
  double leveloff_mib = 0;  // A·(1 − e^(−t/τ)) from leveloff_at
  Duration leveloff_tau = hours(2);
  Duration leveloff_at{0};
  double cycle_fraction = 0;  // daily cycle: ± this fraction of base
  Duration judged_from = kJudgedFrom;
};

double Hours(Duration d) { return std::chrono::duration<double, std::ratio<3600>>(d).count(); }

std::string IntervalText(Duration d) {
  return d < minutes(1) ? fmt::format("{}s", d.count() / 1000) : fmt::format("{}m", d.count() / 60000);
}

Scenario Generate(const MemorySpec& spec, uint64_t base_seed) {
  Scenario sc;
  sc.family = spec.family;
  sc.name = fmt::format("{}:base={:.0f}", spec.family, spec.base_mib);
  if (spec.leak_mib_per_hour > 0) sc.name += fmt::format(",leak={}MiB/h", spec.leak_mib_per_hour);
  if (spec.leak_start.count() > 0) sc.name += fmt::format(",from={:.0f}h", Hours(spec.leak_start));
  if (spec.saw_mib > 0) sc.name += fmt::format(",saw={:.0f}/{}m", spec.saw_mib, spec.saw_period.count() / 60000);
  if (spec.noise_mib > 0) sc.name += fmt::format(",noise={:.0f}", spec.noise_mib);
  if (spec.restart_every.count() > 0)
    sc.name +=
        fmt::format(",restart={:.0f}h{}", Hours(spec.restart_every), spec.restarts_reported ? "" : "(unreported)");
  if (spec.step_mib > 0) sc.name += fmt::format(",step={:.0f}", spec.step_mib);
  if (spec.leveloff_mib > 0)
    sc.name += fmt::format(",leveloff={:.0f}/tau={:.0f}h", spec.leveloff_mib, Hours(spec.leveloff_tau));
  if (spec.cycle_fraction > 0) sc.name += fmt::format(",cycle=±{:.0f}%", spec.cycle_fraction * 100);
  sc.name += ",every=" + IntervalText(spec.interval);
  Rng rng(ScenarioSeed(base_seed, sc.name));

  const TimePoint start = CorpusStart();
  const TimePoint end = start + spec.length;
  sc.from = start + spec.judged_from;
  sc.to = end;
  sc.step = minutes(5);
  const std::string process = "worker";
  SeriesData memory{"process_memory_bytes", "process", process, {}};
  SeriesData counter{"process_restarts_total", "process", process, {}};

  const double saw_phase = rng.Uniform();
  const double cycle_phase = rng.Uniform(0, 24);
  double restarts = std::floor(rng.Uniform(0, 8));  // the lifetime counter so far
  std::optional<TimePoint> last_restart;
  auto next_deploy = [&](TimePoint from) {
    return from + std::chrono::duration_cast<Duration>(spec.restart_every * rng.Uniform(0.8, 1.2));
  };
  TimePoint deploy = spec.restart_every.count() > 0 ? next_deploy(start) : TimePoint::max();
  const TimePoint leak_from = start + spec.leak_start;
  std::optional<TimePoint> crossing;
  // Simulate past the end (without emitting samples) to learn when a slow leak would
  // reach the limit; 60 days is far beyond any alert's horizon.
  const TimePoint horizon = spec.leak_mib_per_hour > 0 ? end + days(60) : end;
  const int64_t every = spec.interval / kGrid;
  int64_t tick = 0;
  for (TimePoint t = start; t < horizon; t += kGrid, ++tick) {
    if (t >= deploy) {
      restarts += 1;
      last_restart = t;
      deploy = next_deploy(t);
    }
    double floor = spec.base_mib;
    if (spec.leak_mib_per_hour > 0 && t > leak_from) {
      const TimePoint since = last_restart && *last_restart > leak_from ? *last_restart : leak_from;
      floor += spec.leak_mib_per_hour * Hours(t - since);
    }
    if (spec.step_mib > 0 && t >= start + spec.step_at) floor += spec.step_mib;
    if (spec.leveloff_mib > 0 && t > start + spec.leveloff_at)
      floor += spec.leveloff_mib * (1 - std::exp(-Hours(t - start - spec.leveloff_at) / Hours(spec.leveloff_tau)));
    if (spec.cycle_fraction > 0) {
      const double hour_of_day = std::fmod(Hours(t - start), 24.0);
      floor += spec.base_mib * spec.cycle_fraction * std::sin(2 * std::numbers::pi * (hour_of_day - cycle_phase) / 24);
    }
    if (last_restart) {  // warm-up: 60 % of the floor right after a restart, τ = 10 min
      floor *= 1 - 0.4 * std::exp(-std::chrono::duration<double>(t - *last_restart).count() / 600);
    }
    if (floor + spec.saw_mib >= kLimitMiB) {  // out of memory: crash, PM2 restarts it
      if (!crossing && spec.leak_mib_per_hour > 0) crossing = t;
      restarts += 1;
      last_restart = t;
      if (t >= end) break;
      continue;
    }
    if (t >= end || tick % every != 0) continue;
    double saw = 0;
    if (spec.saw_mib > 0) {
      const double x = Hours(t - start) / Hours(spec.saw_period) + saw_phase;
      saw = spec.saw_mib * (x - std::floor(x));
    }
    const double value = std::max(1.0, floor + saw + rng.Normal(0, spec.noise_mib));
    memory.samples.push_back({t, std::round(value * kMiB)});
    counter.samples.push_back({t, restarts});
  }
  sc.series.push_back(std::move(memory));
  if (spec.restarts_reported) sc.series.push_back(std::move(counter));
  if (spec.leak_mib_per_hour > 0) {
    sc.windows.push_back(
        Window{Kind::kMemoryLeak, process, leak_from, leak_from, end, crossing, spec.leak_mib_per_hour});
  }
  return sc;
}

std::vector<MemorySpec> MemorySpecs() {
  const std::vector<Duration> intervals = {seconds(30), minutes(1), minutes(5), minutes(15), minutes(30)};
  std::vector<MemorySpec> specs;
  size_t rotation = 0;
  auto next_interval = [&] { return intervals[rotation++ % intervals.size()]; };
  auto leak_length = [](double rate) { return rate >= 100 ? days(3) : days(6); };

  // True leaks. They start with the judged range, after 6 h of history without a leak
  // (so a fast leak's first crash is always inside the judged range).
  for (double rate : {1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0}) {
    for (int variant = 0; variant < 2; ++variant) {
      MemorySpec s{.family = "memory/leak-clean"};
      s.fast = variant == 0 && (rate == 1 || rate == 10 || rate == 100 || rate == 500);
      s.interval = next_interval();
      s.length = leak_length(rate);
      s.base_mib = variant == 0 ? 700 : 1400;
      s.noise_mib = 4;
      s.saw_mib = 20;
      s.saw_period = minutes(10);
      s.leak_mib_per_hour = rate;
      s.leak_start = kJudgedFrom;
      specs.push_back(s);
    }
  }
  for (double rate : {2.0, 10.0, 25.0, 50.0, 100.0, 250.0}) {
    for (int variant = 0; variant < 2; ++variant) {
      MemorySpec s{.family = "memory/leak-sawtooth"};
      s.fast = variant == 0 && rate == 50;
      s.interval = next_interval();
      s.length = leak_length(rate);
      s.base_mib = 900;
      s.noise_mib = 8;
      s.saw_mib = variant == 0 ? 150 : 400;
      s.saw_period = variant == 0 ? minutes(7) : minutes(40);
      s.leak_mib_per_hour = rate;
      s.leak_start = kJudgedFrom;
      specs.push_back(s);
    }
  }
  for (double rate : {5.0, 10.0, 25.0, 50.0, 100.0}) {
    MemorySpec s{.family = "memory/leak-noisy"};
    s.fast = rate == 25;
    s.interval = next_interval();
    s.length = leak_length(rate);
    s.base_mib = 1000;
    s.noise_mib = rate >= 25 ? 40 : 25;
    s.saw_mib = 60;
    s.saw_period = minutes(20);
    s.leak_mib_per_hour = rate;
    s.leak_start = kJudgedFrom;
    specs.push_back(s);
  }
  // Deploy-like restarts reset memory; the leak resumes from the base every time.
  for (double rate : {10.0, 20.0, 50.0, 100.0}) {
    for (Duration every : {Duration(hours(12)), Duration(hours(24))}) {
      MemorySpec s{.family = "memory/leak-restarts"};
      s.fast = rate == 50 && every == hours(24);
      s.interval = next_interval();
      s.length = days(6);
      s.base_mib = 600;
      s.noise_mib = 8;
      s.saw_mib = 80;
      s.saw_period = minutes(15);
      s.leak_mib_per_hour = rate;
      s.leak_start = kJudgedFrom;
      s.restart_every = every;
      specs.push_back(s);
    }
  }
  for (double rate : {20.0, 50.0, 100.0}) {
    MemorySpec s{.family = "memory/leak-restarts-unreported"};
    s.interval = next_interval();
    s.length = days(6);
    s.base_mib = 600;
    s.noise_mib = 8;
    s.saw_mib = 80;
    s.leak_mib_per_hour = rate;
    s.leak_start = kJudgedFrom;
    s.restart_every = hours(18);
    s.restarts_reported = false;
    specs.push_back(s);
  }
  // Leaks that start after 2–3 quiet days.
  for (double rate : {5.0, 20.0, 50.0, 100.0, 300.0}) {
    for (int variant = 0; variant < 2; ++variant) {
      MemorySpec s{.family = "memory/leak-late"};
      s.fast = variant == 0 && rate == 100;
      s.interval = next_interval();
      s.leak_start = variant == 0 ? hours(50) : hours(67);
      s.length = s.leak_start + (rate >= 100 ? days(2) : days(4));
      s.base_mib = 800;
      s.noise_mib = 10;
      s.saw_mib = 100;
      s.saw_period = minutes(25);
      s.leak_mib_per_hour = rate;
      specs.push_back(s);
    }
  }

  // Non-leaks, 5 days each.
  for (double base : {300.0, 1200.0, 2500.0, 3300.0}) {
    for (double noise : {5.0, 30.0}) {
      MemorySpec s{.family = "memory/flat"};
      s.fast = (base == 1200 && noise == 30) || (base == 3300 && noise == 5);
      s.interval = next_interval();
      s.base_mib = base;
      s.noise_mib = noise;
      s.saw_mib = 0;
      specs.push_back(s);
    }
  }
  for (double saw : {100.0, 300.0, 600.0}) {
    for (Duration period : {Duration(minutes(10)), Duration(minutes(45)), Duration(hours(3))}) {
      MemorySpec s{.family = "memory/sawtooth"};
      s.fast = saw == 300 && period == minutes(45);
      s.interval = next_interval();
      s.base_mib = saw == 600 ? 2800 : 1500;
      s.saw_mib = saw;
      s.saw_period = period;
      specs.push_back(s);
    }
  }
  for (double step : {150.0, 500.0, 1000.0, 1500.0}) {
    for (double base : {600.0, 2300.0}) {
      if (base + step > 3700) continue;
      MemorySpec s{.family = "memory/step"};
      s.fast = step == 1000 && base == 600;
      s.interval = next_interval();
      s.base_mib = base;
      s.saw_mib = 60;
      s.step_mib = step;
      s.step_at = hours(44);
      specs.push_back(s);
    }
  }
  for (double amplitude : {300.0, 600.0, 1000.0}) {
    for (Duration tau : {Duration(hours(1)), Duration(hours(2)), Duration(hours(4)), Duration(hours(8))}) {
      MemorySpec s{.family = "memory/level-off"};
      s.fast = amplitude == 600 && tau == hours(2);
      s.interval = next_interval();
      s.base_mib = 900;
      s.saw_mib = 60;
      s.leveloff_mib = amplitude;
      s.leveloff_tau = tau;
      s.leveloff_at = hours(30);
      specs.push_back(s);
    }
  }
  for (double fraction : {0.1, 0.2, 0.25}) {
    for (double base : {1000.0, 2600.0, 3000.0}) {
      MemorySpec s{.family = "memory/daily-cycle"};
      s.fast = fraction == 0.2 && base == 2600;
      s.interval = next_interval();
      s.base_mib = base;
      s.saw_mib = 60;
      s.cycle_fraction = fraction;
      specs.push_back(s);
    }
  }
  // A daily cycle on a process restarted by a daily deploy: the cycle guard never has
  // a day without a restart to compare with.
  for (double base : {1000.0, 2600.0, 3000.0}) {
    MemorySpec s{.family = "memory/daily-cycle-restarts"};
    s.interval = next_interval();
    s.base_mib = base;
    s.saw_mib = 60;
    s.cycle_fraction = 0.2;
    s.restart_every = hours(24);
    specs.push_back(s);
  }
  // A process's first day: histories of 12, 24 and 36 h from its start, judged from its
  // first hour. Leaks from the first sample or from half-way; warm-ups that fill caches
  // for 30–90 min then stay flat; growth decelerating to a plateau. The family name
  // carries the history length.
  for (Duration length : {Duration(hours(12)), Duration(hours(24)), Duration(hours(36))}) {
    const std::string suffix = fmt::format("-{:.0f}h", Hours(length));
    for (double rate : {15.0, 30.0, 60.0, 130.0}) {
      for (int variant = 0; variant < 2; ++variant) {
        MemorySpec s{.family = "memory/young-leak" + suffix};
        s.fast = variant == 0 && rate == 60 && length == hours(12);
        s.interval = next_interval();
        s.length = length;
        s.base_mib = variant == 0 ? 300 : 800;
        s.noise_mib = variant == 0 ? 5 : 12;
        s.saw_mib = variant == 0 ? 20 : 100;
        s.saw_period = variant == 0 ? minutes(10) : minutes(30);
        s.leak_mib_per_hour = rate;
        s.leak_start = variant == 0 ? Duration(0) : length / 2;
        s.judged_from = hours(1);
        specs.push_back(s);
      }
    }
    for (double amplitude : {300.0, 800.0}) {
      for (Duration tau : {Duration(minutes(10)), Duration(minutes(30)), Duration(hours(3))}) {
        MemorySpec s{.family = (tau < hours(1) ? "memory/young-warm-up" : "memory/young-bounded") + suffix};
        s.fast = amplitude == 800 && tau == minutes(30) && length == hours(12);
        s.interval = next_interval();
        s.length = length;
        s.base_mib = 400;
        s.saw_mib = 60;
        s.leveloff_mib = amplitude;
        s.leveloff_tau = tau;
        s.judged_from = hours(1);
        specs.push_back(s);
      }
    }
  }
  return specs;
}

// Minute-scale leaks: a worker quiet for its history (2 h to 36 h), then gaining 5–30
// MB/s, sampled every 2–30 s as PM2 does under load, until it crashes at 4 GiB; and
// warm-ups of 300–800 MB in 10–60 s that then stay flat. Judged from 30 min before the
// event at a step of one sampling interval.
struct FastSpec {
  std::string family;
  bool fast = false;
  Duration history = hours(2);
  Duration interval = seconds(5);
  double leak_mb_per_second = 0;  // 0: a warm-up instead
  double warm_up_mb = 0;
  Duration warm_up_over = seconds(30);
};

Scenario GenerateFast(const FastSpec& spec, uint64_t base_seed) {
  Scenario sc;
  sc.family = spec.family;
  sc.name = fmt::format("{}:history={:.0f}h,every={}", spec.family, Hours(spec.history), IntervalText(spec.interval));
  if (spec.leak_mb_per_second > 0) sc.name += fmt::format(",leak={:.0f}MB/s", spec.leak_mb_per_second);
  if (spec.warm_up_mb > 0) sc.name += fmt::format(",warm-up={:.0f}MB/{}", spec.warm_up_mb, IntervalText(spec.warm_up_over));
  Rng rng(ScenarioSeed(base_seed, sc.name));
  const TimePoint start = CorpusStart();
  const TimePoint onset = start + spec.history;
  const double base = 300 * kMiB;
  const double rate = spec.leak_mb_per_second * 1e6;
  const std::optional<TimePoint> crossing =
      rate > 0 ? std::optional(onset + Duration(std::llround((kLimitMiB * kMiB - base) / rate * 1000))) : std::nullopt;
  const TimePoint end = (crossing ? *crossing : onset + spec.warm_up_over) + minutes(10);
  sc.from = onset - minutes(30);
  sc.to = end;
  sc.step = spec.interval;
  SeriesData memory{"process_memory_bytes", "process", "worker", {}};
  SeriesData counter{"process_restarts_total", "process", "worker", {}};
  for (TimePoint t = start; t < end; t += spec.interval) {
    const double since = std::chrono::duration<double>(t - onset).count();
    double value = base + 20 * kMiB * std::fmod(std::chrono::duration<double>(t - start).count() / 300, 1.0);
    // Crashed at the limit: PM2 restarted it (counter + 1), back at its base.
    const double restarts = crossing && t >= *crossing ? 1 : 0;
    if (rate > 0 && since > 0 && restarts == 0) value += rate * since;
    if (spec.warm_up_mb > 0 && since > 0) {
      value += spec.warm_up_mb * 1e6 * std::min(1.0, since / std::chrono::duration<double>(spec.warm_up_over).count());
    }
    memory.samples.push_back({t, std::round(value + rng.Normal(0, 3 * kMiB))});
    counter.samples.push_back({t, restarts});
  }
  sc.series.push_back(std::move(memory));
  sc.series.push_back(std::move(counter));
  if (crossing) {
    sc.windows.push_back(Window{Kind::kMemoryLeak, "worker", onset, onset, *crossing + minutes(1), crossing,
                                spec.leak_mb_per_second * 3600 * 1e6 / kMiB});
  }
  return sc;
}

std::vector<FastSpec> FastSpecs() {
  std::vector<FastSpec> specs;
  const Duration histories[] = {hours(2), hours(6), hours(12), hours(24), hours(36)};
  const Duration intervals[] = {seconds(2), seconds(5), seconds(10), seconds(30)};
  size_t rotation = 0;
  for (double rate : {5.0, 10.0, 20.0, 30.0}) {
    for (Duration interval : intervals) {
      const Duration history = histories[rotation++ % 5];
      specs.push_back({fmt::format("memory/leak-minutes-{:.0f}h", Hours(history)), rate == 20 && interval == seconds(5),
                       history, interval, rate});
    }
  }
  for (double mb : {300.0, 800.0}) {
    for (Duration over : {Duration(seconds(10)), Duration(seconds(60))}) {
      for (Duration interval : {Duration(seconds(2)), Duration(seconds(10))}) {
        FastSpec s{"memory/warm-up-seconds", mb == 300 && over == seconds(10) && interval == seconds(2),
                   histories[rotation++ % 5], interval};
        s.warm_up_mb = mb;
        s.warm_up_over = over;
        specs.push_back(s);
      }
    }
  }
  return specs;
}

}  // namespace

void AddMemoryScenarios(Subset subset, uint64_t seed, std::vector<Scenario>& out) {
  for (const MemorySpec& spec : MemorySpecs()) {
    if (subset == Subset::kFast && !spec.fast) continue;
    out.push_back(Generate(spec, seed));
  }
  for (const FastSpec& spec : FastSpecs()) {
    if (subset == Subset::kFast && !spec.fast) continue;
    out.push_back(GenerateFast(spec, seed));
  }
}

}  // namespace offmon::accuracy
