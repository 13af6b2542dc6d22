#include "offmon/analyzer/leak_detector.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>

#include "offmon/analyzer/robust_trend.h"

namespace offmon::analyzer {
namespace {

constexpr double kMillisPerHour = 3'600'000.0;
// Caps the projection so it fits a Duration whatever the tunables say (~114 years).
constexpr double kMaxHoursToLimit = 1e6;

// The minimum of the samples of one fine bucket within one segment. Ages are
// milliseconds before `now`: integers, so bucket arithmetic is exact.
struct Floor {
  int64_t bucket = 0;         // fine bucket index, age / fine width; 0 is the newest
  int64_t oldest_age_ms = 0;  // age of the bucket's first sample
  int64_t newest_age_ms = 0;  // age of its last sample
  int64_t min_age_ms = 0;     // age of its minimum
  double x = 0;               // the minimum's time in hours relative to now (<= 0), once for every window
  double min = 0;
  int32_t segment = 0;    // non-decreasing; a new id after every restart
  bool settling = false;  // within LeakOptions::restart_settle of its segment's restart
};

// The floor points of one window, as parallel arrays for robust_trend. x is in hours
// relative to now (<= 0), y in bytes.
struct Points {
  std::vector<double> x, y;
  std::vector<int32_t> segment;
  int64_t oldest_age_ms = 0, newest_age_ms = 0;
};

// Buffers reused across the windows of one call.
struct Workspace {
  std::vector<Floor> floors;
  Points points;
  std::vector<double> slopes;     // pairwise slopes for TheilSenSlope
  std::vector<double> values;     // copies for medians
  std::vector<double> residuals;  // y - (segment intercept + slope × x)
  std::vector<double> quantized;  // y rounded down to the tie resolution
  std::vector<double> earlier;    // floors one load cycle ago
};

struct Verdict {
  double slope = 0;  // bytes per hour
  double floor = 0;  // fitted floor at now
  double hours_to_limit = 0;
  double z = 0;
  Duration window{};
};

// Median of a non-empty vector; reorders it.
double MedianInPlace(std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(mid), v.end());
  const double upper = v[mid];
  if (v.size() % 2 == 1) return upper;
  return (upper + *std::max_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(mid))) / 2;
}

// One pass over the samples of the last `lookback`: the minimum per fine bucket and
// segment. Buckets are aligned to `now`, so every window's buckets are unions of fine
// ones. A bucket is never shared by two segments: a restart starts a new floor.
void BuildFloors(std::span<const Sample> memory, std::span<const TimePoint> restarts, TimePoint now,
                 Duration lookback, int64_t fine_ms, std::vector<Floor>& floors) {
  const TimePoint start = now - lookback;
  auto first = std::partition_point(memory.begin(), memory.end(), [&](const Sample& s) { return s.time <= start; });
  auto last = std::partition_point(first, memory.end(), [&](const Sample& s) { return s.time <= now; });
  auto restart = std::partition_point(restarts.begin(), restarts.end(), [&](TimePoint t) { return t <= start; });
  const int64_t now_ms = ToMillis(now);
  constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  int64_t next_restart_ms = restart != restarts.end() ? ToMillis(*restart) : kNever;
  // A stopped process reports 0; only a running one has a floor. Also drops NaN, ±Inf.
  auto usable = [](double v) { return v > 0 && v < std::numeric_limits<double>::infinity(); };
  int32_t segment = 0;
  int64_t bucket = -1;  // of the previous floor; ages only shrink, so it only counts down
  auto it = first;
  while (it != last) {
    if (!usable(it->value)) {
      ++it;
      continue;
    }
    const int64_t t0 = ToMillis(it->time);
    if (t0 >= next_restart_ms) {
      while (restart != restarts.end() && ToMillis(*restart) <= t0) ++restart;
      next_restart_ms = restart != restarts.end() ? ToMillis(*restart) : kNever;
      // Restarts before the first sample start nothing we can see.
      if (!floors.empty()) ++segment;
    }
    // Walking the boundary down replaces a division per floor.
    const int64_t age0 = now_ms - t0;
    if (bucket < 0) bucket = age0 / fine_ms;
    while (bucket > 0 && age0 < bucket * fine_ms) --bucket;
    double min = it->value;
    int64_t min_ms = t0;
    // The floor ends with its bucket (ages below bucket × fine_ms) or at the next restart.
    const int64_t end_ms = std::min(now_ms - bucket * fine_ms, next_restart_ms - 1);
    int64_t newest_ms = t0;
    // This loop runs over every sample (5,760 for 48 h at 30 s) and dominates the call:
    // nothing in it but the minimum.
    for (++it; it != last; ++it) {
      const int64_t t = ToMillis(it->time);
      if (t > end_ms) break;
      const double value = it->value;
      if (!usable(value)) continue;
      newest_ms = t;
      if (value < min) {
        min = value;
        min_ms = t;
      }
    }
    // Written in place, field by field: a Floor built aside and copied in was read back
    // wider than it was written, a store-forwarding stall per floor.
    Floor& floor = floors.emplace_back();
    floor.bucket = bucket;
    floor.segment = segment;
    floor.min = min;
    floor.min_age_ms = now_ms - min_ms;
    floor.x = -static_cast<double>(floor.min_age_ms) / kMillisPerHour;
    floor.oldest_age_ms = now_ms - t0;
    floor.newest_age_ms = now_ms - newest_ms;
  }
}

// Renumbers segments so that sharp floor drops start new ones too: a restart nobody
// reported (uptime not collected, a crash between two samples). A drop counts when the
// floor falls more than `drop_fraction` below the median of the segment's last three
// floors and the next floor stays down as well; a single low bucket (a deep GC, or
// sparse samples catching the sawtooth's trough) is not a restart.
void InferRestarts(std::vector<Floor>& floors, double drop_fraction) {
  std::array<double, 3> recent{};  // the segment's last floors, as a ring
  size_t recent_count = 0;
  int32_t segment = 0;
  int32_t previous_reported = floors.empty() ? 0 : floors.front().segment;
  for (size_t i = 0; i < floors.size(); ++i) {
    // floors[i + 1].segment is still the reported id here; floors[i] is rewritten below.
    const int32_t reported = floors[i].segment;
    bool restarted = reported != previous_reported;
    if (!restarted && recent_count > 0) {
      const double reference = recent_count == 1   ? recent[0]
                               : recent_count == 2 ? (recent[0] + recent[1]) / 2
                                                   : std::max(std::min(recent[0], recent[1]),
                                                              std::min(std::max(recent[0], recent[1]), recent[2]));
      const double threshold = (1 - drop_fraction) * reference;
      const bool next_down =
          i + 1 == floors.size() || floors[i + 1].segment != reported || floors[i + 1].min < threshold;
      restarted = floors[i].min < threshold && next_down;
    }
    if (restarted) {
      ++segment;
      recent_count = 0;
    }
    recent[recent_count % recent.size()] = floors[i].min;
    ++recent_count;
    previous_reported = reported;
    floors[i].segment = segment;
  }
}

// Marks the floors that start within `settle` of their segment's restart: a process
// warming up after a restart (loading code, filling pools) climbs for a while, and that
// climb, repeated after every restart, would read as growth. The first segment is left
// alone; whatever restart began it lies before the lookback.
void MarkSettling(std::vector<Floor>& floors, int64_t settle_ms) {
  if (settle_ms <= 0) return;
  int64_t restart_age = 0;
  for (size_t i = 1; i < floors.size(); ++i) {
    if (floors[i].segment != floors[i - 1].segment) restart_age = floors[i].oldest_age_ms;
    floors[i].settling = floors[i].segment != floors.front().segment && floors[i].oldest_age_ms > restart_age - settle_ms;
  }
}

// The window's points: fine floors merged into `bucket_ms` buckets, one point per
// bucket and segment, placed at the time of its minimum.
void BuildPoints(std::span<const Floor> floors, int64_t window_ms, int64_t bucket_ms, int64_t fine_ms,
                 Points& points) {
  points.x.clear();
  points.y.clear();
  points.segment.clear();
  auto first = std::partition_point(floors.begin(), floors.end(),
                                    [&](const Floor& f) { return f.bucket * fine_ms >= window_ms; });
  if (first == floors.end()) return;
  points.oldest_age_ms = first->oldest_age_ms;
  points.newest_age_ms = floors.back().newest_age_ms;
  // Coarse bucket c covers ages [c × bucket_ms, (c + 1) × bucket_ms); ages only shrink
  // along the floors, so the boundary is walked instead of dividing per floor.
  int64_t bucket = first->bucket * fine_ms / bucket_ms, bucket_start_age = bucket * bucket_ms;
  int64_t last_bucket = -1;
  for (auto it = first; it != floors.end(); ++it) {
    if (it->settling) continue;
    while (it->bucket * fine_ms < bucket_start_age) {
      --bucket;
      bucket_start_age -= bucket_ms;
    }
    const double x = it->x;
    if (!points.x.empty() && bucket == last_bucket && it->segment == points.segment.back()) {
      if (it->min < points.y.back()) {
        points.y.back() = it->min;
        points.x.back() = x;
      }
      continue;
    }
    points.x.push_back(x);
    points.y.push_back(it->min);
    points.segment.push_back(it->segment);
    last_bucket = bucket;
  }
}

// Daily-cycle guard for windows shorter than the cycle: the floor over the window's last
// third must exceed the floor over the same stretch one period earlier by `needed`
// bytes. A leak is higher than yesterday; the rising half of a load cycle is not. The
// comparison is by time of day, across restarts: a load cycle follows the clock, not the
// process, so a process restarted by a daily deploy is still compared with yesterday
// (settling floors, the warm-up after a restart, are left out). When history does not
// reach back a period, the comparison says nothing.
enum class CycleCheck { kNotApplicable, kBeaten, kNotBeaten, kNoHistory };

CycleCheck CompareWithLastCycle(std::span<const Floor> floors, int64_t window_ms, int64_t period_ms, double needed,
                                std::vector<double>& recent, std::vector<double>& earlier) {
  if (period_ms <= 0 || window_ms >= period_ms || floors.empty()) return CycleCheck::kNotApplicable;
  const int64_t third_ms = window_ms / 3;
  recent.clear();
  earlier.clear();
  for (auto it = floors.rbegin(); it != floors.rend() && it->min_age_ms < period_ms + third_ms; ++it) {
    if (it->settling) continue;
    if (it->min_age_ms < third_ms) recent.push_back(it->min);
    if (it->min_age_ms >= period_ms) earlier.push_back(it->min);
  }
  if (recent.empty() || earlier.empty()) return CycleCheck::kNoHistory;
  return MedianInPlace(recent) - MedianInPlace(earlier) >= needed ? CycleCheck::kBeaten : CycleCheck::kNotBeaten;
}

// Whether a short window certainly fails its "crossing is near" test, from an O(n) bound,
// so the O(n²) statistics are spent only on windows that might pass; most windows of a
// healthy process are short ones and stop here. The bound: a Theil–Sen slope is a median
// of pairwise slopes within segments, and each of those is a dx-weighted mean of the
// slopes between neighbouring points, so b <= S (the steepest neighbouring slope). The
// floor at now is a median of y - b·x over points with -W <= x <= 0, so it is at most
// Y + b·W (Y the highest point, or the newest floor, which stands in for it after a
// restart). Hence
// (limit - floor) / b >= (limit - Y) / S - W; above near_factor·W the window cannot pass.
bool CannotBeNear(const Points& p, double newest_floor, double window_hours, double near_factor,
                  double limit_bytes) {
  double steepest = 0, highest = std::max(newest_floor, p.y.front());
  for (size_t i = 1; i < p.x.size(); ++i) {
    highest = std::max(highest, p.y[i]);
    const double dx = p.x[i] - p.x[i - 1];
    if (p.segment[i] == p.segment[i - 1] && dx > 0) steepest = std::max(steepest, (p.y[i] - p.y[i - 1]) / dx);
  }
  if (steepest <= 0) return true;  // no rising pair: b <= 0, which the slope test rejects
  // A margin of 1 % keeps rounding from ever rejecting a window that passes exactly.
  return (limit_bytes - highest) / steepest - window_hours > 1.01 * near_factor * window_hours;
}

// The verdict of one window, or nullopt when its trend is not a leak. Checks run
// cheapest first; each one states the trap it closes.
std::optional<Verdict> EvaluateWindow(Duration window, bool longest, bool young, const LeakThresholds& th,
                                      const LeakOptions& options, Workspace& ws) {
  const Points& p = ws.points;
  const size_t n = p.x.size();
  const double window_hours = static_cast<double>(window.count()) / kMillisPerHour;
  if (n < 2) return std::nullopt;
  // Enough history: samples spanning most of the window, and enough points that can
  // pair up (a point alone in its segment contributes no pair).
  if (static_cast<double>(p.oldest_age_ms - p.newest_age_ms) <
      options.min_coverage * static_cast<double>(window.count())) {
    return std::nullopt;
  }
  size_t usable = 0;
  for (size_t begin = 0, end = 0; begin < n; begin = end) {
    for (end = begin + 1; end < n && p.segment[end] == p.segment[begin]; ++end) {}
    if (end - begin >= 2) usable += end - begin;
  }
  if (usable < static_cast<size_t>(std::max(options.min_points, 2))) return std::nullopt;
  if (!longest && CannotBeNear(p, ws.floors.back().min, window_hours, th.near_factor, options.limit_bytes)) {
    return std::nullopt;
  }

  // Significance. Rounding to the tie resolution keeps byte-level jitter after a long
  // flat run from counting as a run of increases. It needs no slope, and every check
  // here only rejects, so it runs before the Theil–Sen slope: comparing pairs is cheaper
  // than selecting the median of their slopes, and a flat floor (the longest window of
  // every healthy process) stops here.
  ws.quantized.resize(n);
  for (size_t i = 0; i < n; ++i) {
    ws.quantized[i] =
        options.tie_resolution_bytes > 0 ? std::floor(p.y[i] / options.tie_resolution_bytes) : p.y[i];
  }
  const MannKendallResult mk = MannKendall(ws.quantized, p.segment);
  if (mk.z < th.min_mann_kendall_z) return std::nullopt;

  // Slope of the floor, pairs never crossing a restart.
  const std::optional<double> slope = TheilSenSlope(p.x, p.y, p.segment, &ws.slopes);
  if (!slope || *slope <= 0 || *slope < th.min_growth_scale * options.min_rate_bytes_per_hour) return std::nullopt;
  const double b = *slope;

  // Per-segment intercepts (median of y - b·x) give the residuals, the longest run and
  // the current floor: the last segment's line at x = 0 (now).
  ws.residuals.assign(n, 0);
  double run_hours = 0, floor = 0;
  for (size_t begin = 0, end = 0; begin < n; begin = end) {
    for (end = begin + 1; end < n && p.segment[end] == p.segment[begin]; ++end) {}
    ws.values.clear();
    for (size_t i = begin; i < end; ++i) ws.values.push_back(p.y[i] - b * p.x[i]);
    const double intercept = MedianInPlace(ws.values);
    for (size_t i = begin; i < end; ++i) ws.residuals[i] = p.y[i] - b * p.x[i] - intercept;
    run_hours = std::max(run_hours, p.x[end - 1] - p.x[begin]);
    floor = intercept;
  }
  // Restarted within the settle time: the fit describes the previous run; the process
  // is at its newest floor now.
  if (ws.floors.back().settling) floor = ws.floors.back().min;
  const double hours_to_limit =
      floor >= options.limit_bytes ? 0.0 : std::min((options.limit_bytes - floor) / b, kMaxHoursToLimit);
  // Short windows see stretches of a daily cycle or a warm-up as trends; they are only
  // there to catch a fast leak early, so they speak only when the crossing is near.
  if (!longest && hours_to_limit > th.near_factor * window_hours) return std::nullopt;

  // Effect size: enough growth in absolute terms and against the scatter of the floors,
  // within one run. Growth is counted over the longest segment, not summed over them:
  // a leak that restarts contain to a few MiB per run is no threat, and a slope fitted to
  // several short runs is less certain than their total span suggests.
  ws.values.clear();
  for (size_t begin = 0, end = 0; begin < n; begin = end) {
    for (end = begin + 1; end < n && p.segment[end] == p.segment[begin]; ++end) {}
    if (end - begin < 2) continue;  // a lone point's residual is 0 by construction
    for (size_t i = begin; i < end; ++i) ws.values.push_back(std::abs(ws.residuals[i]));
  }
  const double spread = kMadToSigma * MedianInPlace(ws.values);
  const double growth = b * run_hours;
  if (growth < th.min_growth_scale * options.min_growth_bytes || growth < th.min_growth_spreads * spread) {
    return std::nullopt;
  }

  // Monotone at the floor: a leak's floor does not fall back within a segment. A slow
  // cycle (a GC or batch job every few hours, longer than a bucket) shows up as ramps
  // whose floors drop by the ramp's height; noise drops by a few spreads at most.
  double drawdown = 0;
  for (size_t begin = 0, end = 0; begin < n; begin = end) {
    double peak = p.y[begin];
    for (end = begin + 1; end < n && p.segment[end] == p.segment[begin]; ++end) {
      drawdown = std::max(drawdown, peak - p.y[end]);
      peak = std::max(peak, p.y[end]);
    }
  }
  if (drawdown > th.max_drawdown_fraction * growth) return std::nullopt;

  // Sustained: growth in every third of the window. A one-time step leaves two thirds
  // flat; a daily cycle has a falling third; growth that levels off slows third by third.
  std::array<double, 3> third_slope{};
  std::array<size_t, 4> edge{0, 0, 0, n};
  for (int k = 1; k < 3; ++k) {
    const double boundary = -window_hours * (3 - k) / 3;
    edge[k] = static_cast<size_t>(std::lower_bound(p.x.begin(), p.x.end(), boundary) - p.x.begin());
  }
  // Points of a segment stay sorted by x, and segments follow each other in time, so x is
  // sorted and the thirds are contiguous ranges.
  for (size_t k = 0; k < 3; ++k) {
    const size_t count = edge[k + 1] - edge[k];
    const auto x = std::span<const double>(p.x).subspan(edge[k], count);
    const auto y = std::span<const double>(p.y).subspan(edge[k], count);
    const auto s = std::span<const int32_t>(p.segment).subspan(edge[k], count);
    const std::optional<double> local = TheilSenSlope(x, y, s, &ws.slopes);
    if (!local) return std::nullopt;
    third_slope[k] = *local;
  }
  // The thirds' median levels, restarts spliced out (each segment shifted onto the
  // common line), at their median times. A step raises the slope between the first and
  // last levels without raising the thirds' own slopes. Level differences are also the
  // steadier measure of slowing down: a median of a third is less noisy than a slope
  // fitted within it.
  std::array<double, 3> level{}, at{};
  for (size_t k = 0; k < 3; ++k) {
    const size_t mid = (edge[k] + edge[k + 1]) / 2;  // x is sorted: its median is in the middle
    at[k] = (edge[k + 1] - edge[k]) % 2 == 1 ? p.x[mid] : (p.x[mid - 1] + p.x[mid]) / 2;
    ws.values.clear();
    for (size_t i = edge[k]; i < edge[k + 1]; ++i) ws.values.push_back(ws.residuals[i] + b * p.x[i]);
    level[k] = MedianInPlace(ws.values);
  }
  auto level_slope = [&](size_t from, size_t to) {
    return at[to] > at[from] ? (level[to] - level[from]) / (at[to] - at[from]) : 0.0;
  };
  const double reference = std::max(b, level_slope(0, 2));
  for (double local : third_slope) {
    if (local < th.min_third_fraction * reference) return std::nullopt;
  }
  const double recent_pace = level_slope(1, 2);
  if (recent_pace < th.min_last_third_ratio * level_slope(0, 1)) return std::nullopt;
  // Near at the current pace too: projected with the latest level slope, which falls
  // below the window's slope while growth slows down.
  if (!longest && recent_pace < b && floor < options.limit_bytes) {
    if (recent_pace <= 0 || (options.limit_bytes - floor) / recent_pace > th.near_factor * window_hours) {
      return std::nullopt;
    }
  }

  // Higher than one load cycle ago (short windows only). Without a cycle of history to
  // compare with, a rising stretch of the cycle and a young leak look alike; only a
  // crossing within about one window length is then urgent enough to report.
  switch (CompareWithLastCycle(ws.floors, window.count(), options.cycle_period.count(),
                               th.min_cycle_growth_fraction * b * window_hours, ws.values, ws.earlier)) {
    case CycleCheck::kNotApplicable:
    case CycleCheck::kBeaten:
      break;
    case CycleCheck::kNotBeaten:
      return std::nullopt;
    case CycleCheck::kNoHistory:
      if (!young && hours_to_limit > th.near_factor_without_cycle * window_hours) return std::nullopt;
      break;
  }
  return Verdict{b, floor, hours_to_limit, mk.z, window};
}

// Two bounds that rule a window out before its Theil–Sen slope is selected, when that
// slope must reach `slope` (> 0) for the window to pass. Both keep a margin of 1 %, so
// rounding never rejects a window that passes exactly.
//
// The steepest step: a slope between any two of the samples (or of points taken from them,
// as Reduce does) is a dx-weighted mean of the slopes between neighbouring samples, so
// it is at most the steepest of those. O(n).
bool SteepestStepBelow(std::span<const Sample* const> samples, double slope) {
  double steepest = -std::numeric_limits<double>::infinity();
  for (size_t i = 1; i < samples.size(); ++i) {
    const auto dt = (samples[i]->time - samples[i - 1]->time).count();
    if (dt <= 0) return false;  // a vertical step: no bound
    steepest = std::max(steepest, (samples[i]->value - samples[i - 1]->value) / static_cast<double>(dt));
  }
  return steepest * kMillisPerHour < 0.99 * slope;
}

// The median: it reaches `slope` only if at least half of the pairwise slopes do (for an
// even count, the upper middle one does; their average is at most it). Counting them
// needs no division and no selection, which are most of TheilSenSlope's cost, and the
// count stops once more than half of the pairs fall short. Pairs far apart go first:
// against a slope well above the trend they are the surest to fall short. O(n²) at most.
bool MedianSlopeBelow(std::span<const double> x, std::span<const double> y, double slope) {
  const double relaxed = 0.99 * slope;
  const size_t n = x.size(), all = n * (n - (n > 0 ? 1 : 0)) / 2;
  // First in O(n): with x increasing, the pairs at least `far` apart all fall short when
  // each point's y − slope·x is below the lowest of the points `far` or more before it.
  // When those pairs are more than half, that decides (a healthy window: y − slope·x
  // falls at nearly the whole slope, and GC swings only reach a few points ahead). A
  // further 1 % margin covers rounding in y − slope·x.
  auto apart = [n](size_t d) { return (n - d) * (n - d + 1) / 2; };  // pairs at least d apart
  size_t far = n;
  while (far > 1 && apart(far) <= all / 2) --far;
  if (apart(far) > all / 2 && std::is_sorted(x.begin(), x.end(), std::less_equal<>())) {
    const double steeper = 0.98 * slope;
    double lowest = std::numeric_limits<double>::infinity();
    bool short_of_it = true;
    for (size_t j = far; j < n && short_of_it; ++j) {
      lowest = std::min(lowest, y[j - far] - steeper * x[j - far]);
      short_of_it = y[j] - steeper * x[j] < lowest;
    }
    if (short_of_it) return true;
  }
  size_t pairs = 0, reaching = 0;
  for (size_t lag = n; lag-- > 1;) {
    for (size_t i = 0, j = lag; j < n; ++i, ++j) {
      const double dx = x[j] - x[i], dy = y[j] - y[i];
      pairs += dx != 0 ? 1 : 0;
      reaching += (dx > 0 && dy >= relaxed * dx) || (dx < 0 && dy <= relaxed * dx) ? 1 : 0;
    }
    // Pairs with equal x do not count, so there are at most `all`; more than half of
    // those falling short already decides.
    if (pairs - reaching > all / 2) return true;
  }
  return reaching < pairs - pairs / 2;
}

// The usable samples `samples` (sorted, at least one) as at most kSteadyMaxPoints points:
// x in hours relative to `now`, y the minimum of each equal slice of their span (all of
// them when they are few).
constexpr size_t kSteadyMaxPoints = 32;  // bounds the pairs of Theil–Sen and Mann–Kendall
void Reduce(const std::vector<const Sample*>& samples, TimePoint now, std::vector<double>& x, std::vector<double>& y) {
  x.clear();
  y.clear();
  const auto hours_before_now = [&](TimePoint t) { return static_cast<double>((t - now).count()) / kMillisPerHour; };
  const TimePoint t_first = samples.front()->time;
  const int64_t span_ms = (samples.back()->time - t_first).count();
  size_t slice = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    const Sample* s = samples[i];
    const size_t k = samples.size() <= kSteadyMaxPoints
                         ? i
                         : std::min<size_t>(kSteadyMaxPoints - 1,
                                            static_cast<size_t>((s->time - t_first).count() *
                                                                static_cast<int64_t>(kSteadyMaxPoints) / (span_ms + 1)));
    if (y.empty() || k != slice) {
      slice = k;
      x.push_back(hours_before_now(s->time));
      y.push_back(s->value);
    } else if (s->value < y.back()) {
      x.back() = hours_before_now(s->time);
      y.back() = s->value;
    }
  }
}

}  // namespace

std::optional<LeakFinding> DetectLeak(std::span<const Sample> memory, std::span<const TimePoint> restarts,
                                      TimePoint now, bool already_firing, const LeakOptions& options) {
  const LeakThresholds& th = already_firing ? options.hold : options.fire;
  const int64_t buckets = std::clamp(options.buckets_per_window, 6, 64);
  Duration shortest = Duration::max(), longest = Duration::zero();
  for (Duration w : options.windows) {
    if (w <= Duration::zero() || w > options.lookback) continue;
    shortest = std::min(shortest, w);
    longest = std::max(longest, w);
  }
  if (longest == Duration::zero()) return std::nullopt;
  const int64_t fine_ms = std::max<int64_t>(1, shortest.count() / buckets);

  Workspace ws;
  ws.floors.reserve(static_cast<size_t>(options.lookback.count() / fine_ms) + restarts.size() + 2);
  BuildFloors(memory, restarts, now, options.lookback, fine_ms, ws.floors);
  if (ws.floors.size() < 2) return std::nullopt;
  InferRestarts(ws.floors, options.restart_drop_fraction);
  MarkSettling(ws.floors, options.restart_settle.count());

  // Less than a load cycle of history: the longest window it covers stands in for the
  // longest, under the young thresholds.
  const auto history_ms = static_cast<double>(ws.floors.front().oldest_age_ms);
  const bool young = options.cycle_period.count() > 0 && history_ms < static_cast<double>(options.cycle_period.count());
  Duration longest_covered = Duration::zero();
  for (Duration w : options.windows) {
    if (w > Duration::zero() && w <= options.lookback && options.min_coverage * static_cast<double>(w.count()) <= history_ms) {
      longest_covered = std::max(longest_covered, w);
    }
  }
  std::optional<Verdict> best;
  for (Duration w : options.windows) {
    if (w <= Duration::zero() || w > options.lookback) continue;
    BuildPoints(ws.floors, w.count(), std::max<int64_t>(fine_ms, w.count() / buckets), fine_ms, ws.points);
    std::optional<Verdict> verdict = EvaluateWindow(w, w == longest, false, th, options, ws);
    if (!verdict && young && w == longest_covered && w >= options.young_min_window) {
      verdict = EvaluateWindow(w, true, true, already_firing ? options.hold : options.young, options, ws);
    }
    if (!verdict) continue;
    // Report the most urgent window; among equals the longer one has more evidence.
    if (!best || verdict->hours_to_limit < best->hours_to_limit ||
        (verdict->hours_to_limit == best->hours_to_limit && verdict->window > best->window)) {
      best = verdict;
    }
  }
  if (!best) return std::nullopt;
  LeakFinding finding;
  finding.bytes_per_hour = best->slope;
  finding.floor_bytes = best->floor;
  finding.time_to_limit = Duration(std::llround(best->hours_to_limit * kMillisPerHour));
  finding.window = best->window;
  finding.mann_kendall_z = best->z;
  finding.critical = *finding.time_to_limit < options.critical_horizon;
  // Whichever window found it, less than a cycle of history cannot exclude one.
  finding.cycle_unexcluded = young;
  return finding;
}

std::optional<LeakFinding> DetectFastLeak(std::span<const Sample> memory, std::span<const TimePoint> restarts,
                                          TimePoint now, const LeakOptions& options) {
  constexpr size_t kMaxRecent = 32;  // at 2 s sampling the last minute; bounds the pairs
  constexpr double kRestartFall = 2.0 / 3;
  auto usable = [](double v) { return v > 0 && v < std::numeric_limits<double>::infinity(); };
  const auto end = std::partition_point(memory.begin(), memory.end(), [&](const Sample& s) { return s.time <= now; });
  const auto after_restart =
      std::partition_point(restarts.begin(), restarts.end(), [&](TimePoint t) { return t <= now; });
  const TimePoint restarted = after_restart == restarts.begin() ? TimePoint::min() : *(after_restart - 1);
  const size_t min_samples = static_cast<size_t>(std::max(options.fast_min_samples, 3));
  // The newest samples, newest first, while they rise at every step (a leak this fast
  // rises by megabytes between samples, far above noise), back to the window, a restart,
  // or the cap.
  std::array<Sample, kMaxRecent> recent;
  size_t k = 0;
  auto it = end;
  while (it != memory.begin() && k < kMaxRecent) {
    const Sample& s = *(it - 1);
    if (s.time < restarted) break;
    if (!usable(s.value)) {
      --it;
      continue;
    }
    if (k > 0 && s.value * kRestartFall > recent[k - 1].value) break;  // fell to a restart
    if (recent[0].time - s.time > options.fast_window) break;
    if (k > 0 && s.value >= recent[k - 1].value) break;
    recent[k++] = s;
    --it;
  }
  if (k < min_samples || now - recent[0].time > options.fast_window) return std::nullopt;
  std::reverse(recent.begin(), recent.begin() + static_cast<ptrdiff_t>(k));
  const std::span<const Sample> window(recent.data(), k);

  std::array<double, kMaxRecent> x, y;
  for (size_t i = 0; i < k; ++i) {
    x[i] = static_cast<double>((window[i].time - now).count()) / kMillisPerHour;
    y[i] = window[i].value;
  }
  const std::optional<double> slope =
      TheilSenSlope(std::span<const double>(x.data(), k), std::span<const double>(y.data(), k));
  if (!slope || *slope <= 0) return std::nullopt;
  const double b = *slope;
  std::array<double, kMaxRecent> offsets;
  for (size_t i = 0; i < k; ++i) offsets[i] = y[i] - b * x[i];
  std::nth_element(offsets.begin(), offsets.begin() + static_cast<ptrdiff_t>(k / 2), offsets.begin() + static_cast<ptrdiff_t>(k));
  const double level = std::max(offsets[k / 2], window.back().value);
  const double hours_to_limit = level >= options.limit_bytes ? 0.0 : (options.limit_bytes - level) / b;
  if (hours_to_limit > static_cast<double>(options.fast_horizon.count()) / kMillisPerHour) return std::nullopt;
  // Large against the way to the limit, and not slowing down (a warm-up approaches its
  // plateau ever more slowly).
  const double growth = window.back().value - window.front().value;
  if (growth < options.fast_min_growth_fraction * (options.limit_bytes - window.front().value)) return std::nullopt;
  const size_t mid = k / 2;
  auto pace = [&](size_t from, size_t to) {
    return (y[to] - y[from]) / std::max(x[to] - x[from], 1e-9);
  };
  if (pace(mid, k - 1) < 0.5 * pace(0, mid)) return std::nullopt;
  // A new high: above every earlier sample of the last fast_history since the restart, by
  // half the growth (a sawtooth's climb ends at its old peaks, give or take noise).
  const TimePoint history_start = std::max(restarted, now - options.fast_history);
  double newer = window.front().value;
  for (auto h = it; h != memory.begin();) {
    const Sample& s = *--h;
    if (s.time < history_start) break;
    if (!usable(s.value)) continue;
    if (s.value * kRestartFall > newer) break;  // the process restarted after this sample
    if (s.value >= window.back().value - growth / 2) return std::nullopt;
    newer = s.value;
  }
  LeakFinding finding;
  finding.bytes_per_hour = b;
  finding.floor_bytes = level;
  finding.time_to_limit = Duration(std::llround(hours_to_limit * kMillisPerHour));
  finding.window = window.back().time - window.front().time;
  finding.critical = true;
  return finding;
}

std::optional<LeakFinding> DetectSteadyLeak(std::span<const Sample> memory, std::span<const TimePoint> restarts,
                                            TimePoint now, bool already_firing, const LeakOptions& options) {
  constexpr double kRestartFall = 2.0 / 3;
  const LeakThresholds& th = already_firing ? options.hold : options.fire;
  auto usable = [](double v) { return v > 0 && v < std::numeric_limits<double>::infinity(); };
  const auto end = std::partition_point(memory.begin(), memory.end(), [&](const Sample& s) { return s.time <= now; });
  const auto after_restart =
      std::partition_point(restarts.begin(), restarts.end(), [&](TimePoint t) { return t <= now; });
  std::optional<TimePoint> restarted;
  if (after_restart != restarts.begin()) restarted = *(after_restart - 1);
  // The run since the last restart, back to fast_history (or steady_window if longer):
  // [run_begin, end). An inferred restart (a fall to under two thirds) starts it too.
  const TimePoint history_start = now - std::max(options.fast_history, options.steady_window);
  auto run_begin = end;
  double newer = std::numeric_limits<double>::quiet_NaN();
  while (run_begin != memory.begin()) {
    const Sample& s = *(run_begin - 1);
    if (s.time < history_start || (restarted && s.time < *restarted)) break;
    if (usable(s.value)) {
      if (!std::isnan(newer) && s.value * kRestartFall > newer) {
        restarted = std::max(restarted.value_or(TimePoint::min()), run_begin->time);
        break;
      }
      newer = s.value;
    }
    --run_begin;
  }
  // A warm-up after a restart climbs for a while: judged from restart_settle on.
  TimePoint judged_from = history_start;
  if (restarted) judged_from = std::max(judged_from, *restarted + options.restart_settle);
  const auto judged_begin =
      std::partition_point(run_begin, end, [&](const Sample& s) { return s.time < judged_from; });
  if (judged_begin == end) return std::nullopt;

  std::vector<double> x, y, quantized, residuals, scratch;
  x.reserve(kSteadyMaxPoints);
  y.reserve(kSteadyMaxPoints);
  std::vector<double> px, py;  // the window before
  std::vector<const Sample*> samples, previous;
  samples.reserve(static_cast<size_t>(end - judged_begin));  // the longest window's, at most
  const double horizon_hours =
      static_cast<double>(options.steady_horizon.count()) / kMillisPerHour * (already_firing ? 2.0 : 1.0);
  // Fast in itself: the pace would cover the whole limit within twice the horizon. A
  // process near the limit climbing slowly (the rising half of a daily cycle, a GC climb
  // at 3.5 GiB) is the hours horizon's to judge, with its cycle check.
  auto fast_enough = [&](double slope) { return !(slope * 2 * horizon_hours < options.limit_bytes); };
  // The slope that test needs: every check below only rejects, so a window that cannot
  // reach it stops before the statistics (nearly every window of a healthy process: a GC
  // climb is far slower). This runs at every evaluation of every process.
  const double needed = options.limit_bytes / (2 * horizon_hours);
  const bool bounded = needed > 0 && std::isfinite(needed);
  bool clipped_done = false;
  for (Duration w = options.steady_window; w >= options.steady_min_span && w > Duration::zero(); w /= 2) {
    const TimePoint start = now - w;
    const bool clipped = start <= judged_begin->time;  // longer than the judged history
    if (clipped && clipped_done) continue;
    clipped_done = clipped_done || clipped;
    const auto first = std::partition_point(judged_begin, end, [&](const Sample& s) { return s.time < start; });
    // The usable samples of the window.
    samples.clear();
    for (auto it = first; it != end; ++it) {
      if (usable(it->value)) samples.push_back(&*it);
    }
    if (samples.size() < static_cast<size_t>(std::max(options.steady_min_samples, 4))) continue;
    const TimePoint t_first = samples.front()->time, t_last = samples.back()->time;
    if (t_last - t_first < options.steady_min_span) continue;
    if (bounded && SteepestStepBelow(samples, needed)) continue;
    Reduce(samples, now, x, y);
    const size_t n = x.size();
    if (n < 4) continue;
    if (bounded && MedianSlopeBelow(x, y, needed)) continue;
    const std::optional<double> slope = TheilSenSlope(x, y, {}, &scratch);
    if (!slope || *slope <= 0) continue;
    const double b = *slope;
    // Significant: quantized so byte-level jitter is a tie.
    quantized.resize(n);
    const double resolution = std::max(options.tie_resolution_bytes, 1.0);
    for (size_t i = 0; i < n; ++i) quantized[i] = std::floor(y[i] / resolution);
    if (MannKendall(quantized).z < th.min_mann_kendall_z) continue;
    // Large, against the floor's own spread around the line.
    residuals.resize(n);
    for (size_t i = 0; i < n; ++i) residuals[i] = y[i] - b * x[i];
    std::vector<double> copy = residuals;
    const double level_now = MedianInPlace(copy);
    for (double& r : residuals) r = std::abs(r - level_now);
    const double spread = kMadToSigma * MedianInPlace(residuals);
    const double growth = b * (x.back() - x.front());
    if (growth < th.min_growth_scale * options.steady_min_growth_bytes || growth < th.min_growth_spreads * spread) {
      continue;
    }
    // Sustained and not slowing: every third climbs, the last one about as fast as the
    // middle one (a step leaves a flat third, a warm-up slows down). The strict `young`
    // values, also when firing: minutes of history cannot exclude much, and a climb that
    // has levelled off must resolve. A warm-up with a 2-minute time constant slows by 0.73
    // between thirds of a 2-minute window.
    const LeakThresholds& shape = options.young;
    const std::span<const double> xs(x), ys(y);
    std::array<double, 3> thirds{};
    bool sustained = true;
    for (size_t k = 0; k < 3 && sustained; ++k) {
      const size_t from = n * k / 3, to = n * (k + 1) / 3;
      const std::optional<double> local = TheilSenSlope(xs.subspan(from, to - from), ys.subspan(from, to - from), {}, &scratch);
      sustained = local && *local >= shape.min_third_fraction * b;
      if (local) thirds[k] = *local;
    }
    if (!sustained || thirds[2] < shape.min_last_third_ratio * thirds[1]) continue;
    // Nor slower than the window of the same length before it, where the run has one: a
    // warm-up that began before the window climbed faster then.
    {
      const TimePoint before = t_first - (t_last - t_first);
      previous.clear();
      for (auto it = judged_begin; it != first; ++it) {
        if (it->time >= before && usable(it->value)) previous.push_back(&*it);
      }
      if (previous.size() >= 4) {
        Reduce(previous, now, px, py);
        const std::optional<double> earlier = TheilSenSlope(px, py, {}, &scratch);
        if (earlier && b < shape.min_last_third_ratio * *earlier) continue;
      }
    }
    // A new high against the run's earlier samples.
    bool new_high = true;
    for (auto it = run_begin; it != first && new_high; ++it) {
      if (usable(it->value) && it->value >= y.back() - growth / 2) new_high = false;
    }
    if (!new_high) continue;
    const double level = std::max(level_now, y.back());
    const double hours_to_limit = level >= options.limit_bytes ? 0.0 : (options.limit_bytes - level) / b;
    if (!fast_enough(b)) continue;
    const double fast_hours = static_cast<double>(options.fast_horizon.count()) / kMillisPerHour;
    if (hours_to_limit > horizon_hours) continue;
    if (!already_firing && hours_to_limit < fast_hours) continue;  // the minutes horizon's business
    LeakFinding finding;
    finding.bytes_per_hour = b;
    finding.floor_bytes = level;
    finding.time_to_limit = Duration(std::llround(std::min(hours_to_limit, kMaxHoursToLimit) * kMillisPerHour));
    finding.window = t_last - t_first;
    finding.mann_kendall_z = MannKendall(quantized).z;
    finding.critical = false;
    return finding;
  }
  return std::nullopt;
}

std::optional<LeakFinding> PredictLinearLeak(std::span<const Sample> memory, TimePoint now, Duration window,
                                             Duration horizon, double limit_bytes) {
  // Prometheus' range selector [window] at `now` is left-open: (now - window, now].
  const TimePoint start = now - window;
  auto first = std::partition_point(memory.begin(), memory.end(), [&](const Sample& s) { return s.time <= start; });
  auto last = std::partition_point(first, memory.end(), [&](const Sample& s) { return s.time <= now; });
  // Time in hours relative to now, so the intercept is the fitted value at now, as in
  // predict_linear.
  double n = 0, sum_x = 0, sum_y = 0, sum_xx = 0, sum_xy = 0;
  for (auto it = first; it != last; ++it) {
    if (!std::isfinite(it->value)) continue;
    const double x = static_cast<double>((it->time - now).count()) / kMillisPerHour;
    n += 1;
    sum_x += x;
    sum_y += it->value;
    sum_xx += x * x;
    sum_xy += x * it->value;
  }
  const double denominator = n * sum_xx - sum_x * sum_x;
  if (n < 2 || denominator <= 0) return std::nullopt;
  const double slope = (n * sum_xy - sum_x * sum_y) / denominator;
  const double at_now = (sum_y - slope * sum_x) / n;
  const double horizon_hours = static_cast<double>(horizon.count()) / kMillisPerHour;
  if (at_now + slope * horizon_hours < limit_bytes) return std::nullopt;
  LeakFinding finding;
  finding.bytes_per_hour = slope;
  finding.floor_bytes = at_now;
  // Reaching here with at_now below the limit implies a positive slope.
  const double hours = at_now >= limit_bytes ? 0.0 : std::min((limit_bytes - at_now) / slope, kMaxHoursToLimit);
  finding.time_to_limit = Duration(std::llround(hours * kMillisPerHour));
  finding.window = window;
  return finding;
}

}  // namespace offmon::analyzer
