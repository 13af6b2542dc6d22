#include "offmon/analyzer/series_stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace offmon::analyzer {

std::optional<SeriesStats> Summarize(std::span<const Sample> samples) {
  std::vector<double> values;
  values.reserve(samples.size());
  SeriesStats stats;
  // Time is centred on the first sample to keep the regression well conditioned.
  double t0 = 0, sum_t = 0, sum_v = 0, sum_tt = 0, sum_tv = 0;
  for (const Sample& s : samples) {
    if (!std::isfinite(s.value)) continue;
    if (values.empty()) t0 = static_cast<double>(ToMillis(s.time));
    double t = (static_cast<double>(ToMillis(s.time)) - t0) / 3'600'000.0;
    values.push_back(s.value);
    sum_t += t;
    sum_v += s.value;
    sum_tt += t * t;
    sum_tv += t * s.value;
    stats.last = s;
  }
  if (values.empty()) return std::nullopt;
  const auto n = static_cast<double>(values.size());
  stats.count = values.size();
  auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  stats.min = *lo;
  stats.max = *hi;
  stats.avg = sum_v / n;
  size_t rank = static_cast<size_t>(std::ceil(0.95 * n)) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(rank), values.end());
  stats.p95 = values[rank];
  double denominator = n * sum_tt - sum_t * sum_t;
  if (values.size() >= 2 && denominator > 1e-12) stats.slope_per_hour = (n * sum_tv - sum_t * sum_v) / denominator;
  return stats;
}

CounterIncrease CounterIncreases(std::span<const Sample> samples) {
  CounterIncrease out;
  const Sample* before = nullptr;
  for (const Sample& s : samples) {
    if (!std::isfinite(s.value)) continue;
    if (before != nullptr) {
      const double delta = s.value >= before->value ? s.value - before->value : s.value;
      if (delta > 0) {
        out.total += delta;
        out.at.push_back(s.time);
      }
    }
    before = &s;
  }
  return out;
}

std::span<const Sample> FromBaseAt(std::span<const Sample> samples, TimePoint t) {
  auto it =
      std::upper_bound(samples.begin(), samples.end(), t, [](TimePoint x, const Sample& s) { return x < s.time; });
  if (it != samples.begin()) --it;
  return samples.subspan(static_cast<size_t>(it - samples.begin()));
}

}  // namespace offmon::analyzer
