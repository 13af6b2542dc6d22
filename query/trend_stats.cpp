#include <algorithm>
#include <cmath>

#include "offmon/analyzer/robust_trend.h"
#include "offmon/store/buckets.h"
#include "trend_stats_impl.h"

namespace offmon::query {

double NearestRankP95(std::vector<double>& values) {
  if (values.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(values.size()))) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(rank), values.end());
  return values[rank];
}

double BucketP95(std::span<const store::RollupBucket> buckets) {
  std::vector<std::pair<double, int64_t>> means;
  int64_t total = 0;
  for (const store::RollupBucket& b : buckets) {
    if (b.count <= 0) continue;
    means.emplace_back(b.avg(), b.count);
    total += b.count;
  }
  if (means.empty()) return 0;
  std::sort(means.begin(), means.end());
  const auto rank = static_cast<int64_t>(std::ceil(0.95 * static_cast<double>(total)));
  int64_t seen = 0;
  for (const auto& [mean, count] : means) {
    seen += count;
    if (seen >= rank) return mean;
  }
  return means.back().first;
}

std::optional<double> BucketSlopePerHour(std::span<const store::RollupBucket> buckets, size_t* points) {
  std::vector<double> x, y;
  const size_t group = std::max<size_t>(1, (buckets.size() + kMaxSlopePoints - 1) / kMaxSlopePoints);
  for (size_t i = 0; i < buckets.size(); i += group) {
    double sum = 0, time_sum = 0;
    int64_t count = 0;
    size_t n = 0;
    for (size_t j = i; j < std::min(buckets.size(), i + group); ++j) {
      if (buckets[j].count <= 0 || !std::isfinite(buckets[j].sum)) continue;
      sum += buckets[j].sum;
      count += buckets[j].count;
      time_sum += static_cast<double>(ToMillis(buckets[j].start)) / 3'600'000.0;
      ++n;
    }
    if (n == 0) continue;
    x.push_back(time_sum / static_cast<double>(n));
    y.push_back(sum / static_cast<double>(count));
  }
  if (points != nullptr) *points = x.size();
  if (x.size() < 2) return std::nullopt;
  // Hours since the first point keeps the pairwise differences exact.
  const double x0 = x.front();
  for (double& v : x) v -= x0;
  return analyzer::TheilSenSlope(x, y);
}

std::optional<TrendStats> ComputeTrendStats(std::span<const store::RollupBucket> buckets,
                                            std::optional<std::vector<double>> raw, Sample last) {
  TrendStats stats;
  double sum = 0;
  bool any = false;
  for (const store::RollupBucket& b : buckets) {
    if (b.count <= 0) continue;
    if (!any) {
      stats.min = b.min;
      stats.max = b.max;
    } else {
      store::FoldMinMax(b.min, b.max, &stats.min, &stats.max);  // a NaN bucket does not hide the others
    }
    any = true;
    sum += b.sum;
    stats.count += b.count;
  }
  if (!any) return std::nullopt;
  stats.avg = sum / static_cast<double>(stats.count);
  if (raw && !raw->empty()) {
    stats.p95 = NearestRankP95(*raw);
    stats.p95_exact = true;
  } else {
    stats.p95 = BucketP95(buckets);
  }
  stats.last = last;
  stats.slope_per_hour = BucketSlopePerHour(buckets, &stats.slope_points);
  return stats;
}

}  // namespace offmon::query
