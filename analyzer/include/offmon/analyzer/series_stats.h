// Summary statistics of a run of samples: what `offmon trend` prints per series and
// what the rules build on, and a counter's increases (the restart rules, the report's
// restarts in the last hour and the escalation's attempted fixes). Pure functions.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "offmon/common/sample.h"

namespace offmon::analyzer {

struct SeriesStats {
  size_t count = 0;
  double min = 0, avg = 0, max = 0, p95 = 0;
  Sample last;
  // Least-squares slope, in value units per hour; nullopt with fewer than two samples
  // or no spread in time.
  std::optional<double> slope_per_hour;
};

// Statistics over the finite values of `samples` (NaN and ±Inf are skipped); nullopt
// when none are finite. p95 uses the nearest-rank method.
std::optional<SeriesStats> Summarize(std::span<const Sample> samples);

// A counter's increases over time-sorted samples, Prometheus-style without extrapolation:
// each rise between consecutive samples counts; a decrease is a reset (PM2 `reset`, a
// deleted and re-added process) and counts the new value, not a drop. Non-finite samples
// are skipped (the next one is compared with the last finite one). Fewer than two finite
// samples: no increase.
struct CounterIncrease {
  double total = 0;
  std::vector<TimePoint> at;  // the times of the samples at which it went up, in order
};
CounterIncrease CounterIncreases(std::span<const Sample> samples);

// The last sample at or before `t` and every sample after it: a counter's value at the
// start of a window and its samples in it. All of `samples` when none is at or before `t`.
std::span<const Sample> FromBaseAt(std::span<const Sample> samples, TimePoint t);

}  // namespace offmon::analyzer
