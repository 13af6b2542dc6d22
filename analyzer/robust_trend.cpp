#include "offmon/analyzer/robust_trend.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace offmon::analyzer {
namespace {

int32_t SegmentOf(std::span<const int32_t> segments, size_t i) { return segments.empty() ? 0 : segments[i]; }

// The tie-correction term of one group of t equal values: t(t-1)(2t+5).
double TieTerm(double t) { return t * (t - 1) * (2 * t + 5); }

}  // namespace

std::optional<double> TheilSenSlope(std::span<const double> x, std::span<const double> y,
                                    std::span<const int32_t> segments, std::vector<double>* scratch) {
  assert(x.size() == y.size());
  assert(segments.empty() || segments.size() == x.size());
  std::vector<double> local;
  std::vector<double>& slopes = scratch != nullptr ? *scratch : local;
  const size_t n = std::min(x.size(), y.size());
  // Sized for every pair up front and trimmed after: no capacity check per pair.
  slopes.resize(n * (n - (n > 0 ? 1 : 0)) / 2);
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t segment = SegmentOf(segments, i);
    // Segments are contiguous runs, so the first point of another segment ends the row.
    for (size_t j = i + 1; j < n && SegmentOf(segments, j) == segment; ++j) {
      const double dx = x[j] - x[i];
      if (dx != 0) slopes[count++] = (y[j] - y[i]) / dx;
    }
  }
  slopes.resize(count);
  if (slopes.empty()) return std::nullopt;
  const size_t mid = slopes.size() / 2;
  std::nth_element(slopes.begin(), slopes.begin() + static_cast<ptrdiff_t>(mid), slopes.end());
  const double upper = slopes[mid];
  if (slopes.size() % 2 == 1) return upper;
  // After nth_element everything before `mid` is <= slopes[mid]; the largest of those is
  // the lower middle value.
  const double lower = *std::max_element(slopes.begin(), slopes.begin() + static_cast<ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

MannKendallResult MannKendall(std::span<const double> y, std::span<const int32_t> segments) {
  assert(segments.empty() || segments.size() == y.size());
  MannKendallResult result;
  const size_t n = y.size();
  size_t begin = 0;
  while (begin < n) {
    const int32_t segment = SegmentOf(segments, begin);
    size_t end = begin + 1;
    while (end < n && SegmentOf(segments, end) == segment) ++end;
    double s = 0, ties = 0;
    for (size_t i = begin; i < end; ++i) {
      // `later_equal` counts the later values equal to y[i]. Within a group of t equal
      // values these counts are t-1, t-2, ..., 0, so summing TieTerm(c + 1) - TieTerm(c)
      // telescopes to TieTerm(t) per group without sorting or allocating.
      double later_equal = 0;
      for (size_t j = i + 1; j < end; ++j) {
        const double d = y[j] - y[i];
        if (d > 0) {
          s += 1;
        } else if (d < 0) {
          s -= 1;
        } else {
          later_equal += 1;
        }
      }
      ties += TieTerm(later_equal + 1) - TieTerm(later_equal);
    }
    const auto m = static_cast<double>(end - begin);
    result.s += s;
    result.variance += (TieTerm(m) - ties) / 18.0;
    result.pairs += (end - begin) * (end - begin - 1) / 2;
    begin = end;
  }
  if (result.variance > 0) {
    if (result.s > 0) result.z = (result.s - 1) / std::sqrt(result.variance);
    if (result.s < 0) result.z = (result.s + 1) / std::sqrt(result.variance);
  }
  return result;
}

}  // namespace offmon::analyzer
