// The statistics `offmon trend` prints per series, from its buckets (exact min, max,
// mean and count: rollups keep min/max/sum/count) and, over ranges short enough to read
// raw samples cheaply, the raw values (exact p95). Definitions: docs/trend.md.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "offmon/common/sample.h"
#include "offmon/store/store.h"

namespace offmon::query {

struct TrendStats {
  int64_t count = 0;  // samples
  double min = 0, avg = 0, max = 0;
  double p95 = 0;
  bool p95_exact = false;  // nearest rank over raw samples; else estimated from the buckets
  Sample last;             // the newest sample in range
  // Theil–Sen slope over the bucket means, in value units per hour; nullopt with fewer
  // than two buckets.
  std::optional<double> slope_per_hour;
  size_t slope_points = 0;  // the points the slope was fitted on
  std::optional<double> slope_per_day() const {
    return slope_per_hour ? std::optional<double>(*slope_per_hour * 24) : std::nullopt;
  }
};

// Robust slopes look at every pair of points; more buckets than this are merged into
// this many points (count-weighted means) first.
inline constexpr size_t kMaxSlopePoints = 512;

// Statistics of a series from its buckets; `raw`, when given, holds the finite raw values
// of the same range (for an exact p95). nullopt when the buckets hold no sample.
std::optional<TrendStats> ComputeTrendStats(std::span<const store::RollupBucket> buckets,
                                            std::optional<std::vector<double>> raw, Sample last);

// Nearest-rank p95 of `values` (reordered); 0 when empty.
double NearestRankP95(std::vector<double>& values);
// p95 estimated from buckets: the nearest-rank p95 of the bucket means, each weighted by
// its sample count. 0 when empty.
double BucketP95(std::span<const store::RollupBucket> buckets);
// Theil–Sen slope per hour over the bucket means (at the bucket starts), after merging
// down to kMaxSlopePoints. `points` receives the number of points used.
std::optional<double> BucketSlopePerHour(std::span<const store::RollupBucket> buckets, size_t* points);

}  // namespace offmon::query
