// Summary statistics of a run of samples: what `offmon trend` prints per series and
// what the rules will build on. Pure functions.
#pragma once

#include <optional>
#include <span>

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

}  // namespace offmon::analyzer
