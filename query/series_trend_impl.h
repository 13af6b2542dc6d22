// What `offmon trend` gathered for one run: the bucket grid and, per matching series, its
// buckets, statistics, alert episodes and baseline band. Every renderer (terminal chart,
// CSV, JSON, SVG) reads this and nothing else, so they agree. Plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "alert_history_impl.h"
#include "trend_stats_impl.h"
#include "value_units_impl.h"

namespace offmon::query {

// Buckets of `step` from `start` (aligned to a multiple of step since the unix epoch) to
// `end` (the end of the last bucket); `slots` buckets in all (some absent: no samples).
struct TrendGrid {
  TimePoint start, end;
  Duration step{};
  size_t slots = 0;
  // The slot a time falls in (clamped to the grid).
  size_t SlotOf(TimePoint t) const {
    if (t <= start || slots == 0) return 0;
    auto slot = static_cast<size_t>((t - start) / step);
    return slot < slots ? slot : slots - 1;
  }
};

// One point of a baseline band: the baseline's bucket means at a bucket start.
struct BaselinePoint {
  TimePoint start;
  double median = 0;
  double spread = 0;
};

// A firing MemoryLeak's trend on a memory series: the Theil–Sen line through the bucket
// means since the leak began (within the range), and where it reaches the rule's limit.
struct LeakTrend {
  TimePoint from;                     // the first bucket of the fit
  double from_value = 0;              // the line's value there
  double slope_per_s = 0;             // bytes per second
  double limit = 0;                   // the MemoryLeak rule's limit
  std::optional<TimePoint> crossing;  // when the line reaches the limit; nullopt: not within a year
  double At(TimePoint t) const { return from_value + slope_per_s * std::chrono::duration<double>(t - from).count(); }
};

struct SeriesTrend {
  SeriesKey key;
  UnitKind unit = UnitKind::kCount;
  std::vector<store::RollupBucket> buckets;
  std::optional<TrendStats> stats;               // nullopt: no samples in range
  std::vector<AlertEpisode> alerts;              // episodes of this series overlapping the grid
  std::vector<BaselinePoint> baseline;           // empty when the series has no baseline
  std::string baseline_median, baseline_spread;  // the baseline series' keys, when any
  std::optional<LeakTrend> leak_trend;           // the dashboard's, while MemoryLeak fires
};

struct TrendView {
  std::string selector;  // as resolved (shortcuts expanded)
  std::string since;     // as given, e.g. "7d"
  TrendGrid grid;
  TimePoint until;     // the end of the range asked for (--until); grid.end is past it
  std::string source;  // "1h rollups", "5m rollups" or "raw samples"
  std::vector<SeriesTrend> series;
};

// Reads every series of `series` over [from, to) at `step` into `view` (replacing what
// it held): buckets, statistics, alert episodes of `episodes` overlapping the range,
// baseline band. `offmon trend` and the dashboard's charts. The store's error when a
// read fails.
Status FillView(store::Store& store, const std::vector<store::SeriesInfo>& series,
                const std::vector<AlertEpisode>& episodes, TimePoint from, TimePoint to, Duration step,
                TrendView& view);

}  // namespace offmon::query
