// Restart families: `process_restarts_total` (PM2's lifetime restart_time) of a worker
// over 3 days, sampled every 30 s to 30 min. Crash loops (30–600 restarts an hour, 10 min
// to 3 h, each more than 20 in its first hour) on top of occasional restarts; a counter
// reset (`pm2 reset`, or the process deleted and re-added) of a counter that has grown
// past 20 over a month; slow occasional restarts (0.2–5 an hour).
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

struct Loop {
  double per_hour;
  Duration length;
};

struct RestartSpec {
  std::string family;
  bool fast = false;
  Duration interval = minutes(1);
  double initial = 0;  // lifetime counter at the start
  double occasional_per_hour = 0.2;
  std::vector<Loop> loops = {};  // crash loops, one a day from the second half of day 1
  double reset_to = -1;          // >= 0: counter reset to this value mid-scenario
};

Scenario Generate(const RestartSpec& spec, uint64_t base_seed) {
  Scenario sc;
  sc.family = spec.family;
  sc.name = fmt::format("{}:initial={:.0f},occasional={}/h,every={}s", spec.family, spec.initial,
                        spec.occasional_per_hour, spec.interval.count() / 1000);
  for (const Loop& l : spec.loops) sc.name += fmt::format(",loop={:.0f}/h*{}m", l.per_hour, l.length.count() / 60000);
  if (spec.reset_to >= 0) sc.name += fmt::format(",reset-to={:.0f}", spec.reset_to);
  Rng rng(ScenarioSeed(base_seed, sc.name));
  const TimePoint start = CorpusStart();
  const TimePoint end = start + days(3);
  sc.from = start + hours(1);
  sc.to = end;
  sc.step = minutes(1);
  const std::string process = "worker";

  std::vector<TimePoint> restarts;
  for (TimePoint t = start;;) {  // occasional: a Poisson process
    t += std::chrono::duration_cast<Duration>(hours(1) * (-std::log(1 - rng.Uniform())) / spec.occasional_per_hour);
    if (t >= end) break;
    restarts.push_back(t);
  }
  for (size_t k = 0; k < spec.loops.size(); ++k) {
    const Loop& loop = spec.loops[k];
    const TimePoint begin =
        start + hours(14 + 24 * static_cast<int>(k)) + minutes(static_cast<int>(rng.Uniform(0, 300)));
    const Duration gap = std::chrono::duration_cast<Duration>(hours(1) / loop.per_hour);
    TimePoint t = begin;
    for (; t < begin + loop.length; t += std::chrono::duration_cast<Duration>(gap * rng.Uniform(0.7, 1.3))) {
      restarts.push_back(t);
    }
    sc.windows.push_back(
        Window{Kind::kRestartLoop, process, begin, begin, begin + loop.length + hours(1), std::nullopt, 0});
  }
  std::sort(restarts.begin(), restarts.end());
  const TimePoint reset_at =
      spec.reset_to >= 0 ? start + hours(40) + minutes(static_cast<int>(rng.Uniform(0, 600))) : TimePoint::max();
  SeriesData counter{"process_restarts_total", "process", process, {}};
  double value = spec.initial;
  bool reset_done = false;
  size_t next = 0;
  for (TimePoint t = start; t < end; t += spec.interval) {
    while (next < restarts.size() && restarts[next] <= t) {
      if (!reset_done && restarts[next] >= reset_at) break;
      value += 1;
      ++next;
    }
    if (!reset_done && t >= reset_at) {
      value = spec.reset_to;
      reset_done = true;
      while (next < restarts.size() && restarts[next] <= t) {
        value += 1;
        ++next;
      }
    }
    counter.samples.push_back({t, value});
  }
  sc.series.push_back(std::move(counter));
  return sc;
}

std::vector<RestartSpec> RestartSpecs() {
  std::vector<RestartSpec> specs;
  const std::vector<Duration> intervals = {seconds(30), minutes(1), minutes(5), minutes(15), minutes(30)};
  const std::vector<std::vector<Loop>> loop_sets = {
      {{30, hours(1)}, {120, minutes(20)}},
      {{60, minutes(30)}, {240, minutes(15)}},
      {{600, minutes(10)}, {30, hours(2)}},
      {{60, hours(1)}, {120, hours(3)}},
  };
  size_t rotation = 0;
  for (const auto& loops : loop_sets) {
    for (Duration every : {intervals[rotation % 5], intervals[(rotation + 2) % 5]}) {
      RestartSpec s{.family = "restart/crash-loop"};
      s.fast = (rotation == 1 || rotation == 3) && every == intervals[rotation % 5];
      s.interval = every;
      s.initial = std::round(150.0 * static_cast<double>(rotation));
      s.occasional_per_hour = 0.3;
      s.loops = loops;
      specs.push_back(s);
    }
    ++rotation;
  }
  for (double initial : {35.0, 400.0}) {
    for (double reset_to : {0.0, 1.0}) {
      for (Duration every : {Duration(minutes(1)), Duration(minutes(30))}) {
        RestartSpec s{.family = "restart/counter-reset"};
        s.fast = initial == 400 && reset_to == 0 && every == minutes(1);
        s.interval = every;
        s.initial = initial;
        s.occasional_per_hour = 0.3;
        s.reset_to = reset_to;
        specs.push_back(s);
      }
    }
  }
  for (double rate : {0.2, 1.0, 3.0, 5.0}) {
    for (Duration every : {Duration(seconds(30)), Duration(minutes(5)), Duration(minutes(30))}) {
      RestartSpec s{.family = "restart/occasional"};
      s.fast = rate == 3 && every == minutes(5);
      s.interval = every;
      s.initial = 5;
      s.occasional_per_hour = rate;
      specs.push_back(s);
    }
  }
  return specs;
}

}  // namespace

void AddRestartScenarios(Subset subset, uint64_t seed, std::vector<Scenario>& out) {
  for (const RestartSpec& spec : RestartSpecs()) {
    if (subset == Subset::kFast && !spec.fast) continue;
    out.push_back(Generate(spec, seed));
  }
}

}  // namespace offmon::accuracy
