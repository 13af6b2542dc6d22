// Robust trend statistics for short series: the Theil–Sen slope and the Mann–Kendall
// trend test. Both look at every pair of points, so they cost O(n²): aggregate a long
// series into a few dozen points (e.g. bucket minima) before calling them.
//
// Segments: a series may be cut into runs (a process restarts and its memory starts
// over). Pairs only count when both points carry the same segment id, so each run
// contributes its own trend and the jumps between runs are ignored. Segment ids must be
// non-decreasing (each segment one contiguous run); an empty span means one segment.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace offmon::analyzer {

// 1 / Φ⁻¹(3/4): scales a median absolute deviation to a standard deviation for normally
// distributed data.
inline constexpr double kMadToSigma = 1.4826;

// The median of the slopes (y[j] - y[i]) / (x[j] - x[i]) over all pairs i < j in the
// same segment with x[i] != x[j]; the two middle slopes are averaged when the number of
// pairs is even. Up to 29 % of the points can be arbitrary without moving it far, which
// least squares cannot claim. x, y and (when non-empty) segments have the same length.
// nullopt when no pair qualifies. `scratch`, when given, holds the pairwise slopes so a
// caller in a hot loop avoids one allocation per call; its contents are overwritten.
[[nodiscard]] std::optional<double> TheilSenSlope(std::span<const double> x, std::span<const double> y,
                                                  std::span<const int32_t> segments = {},
                                                  std::vector<double>* scratch = nullptr);

struct MannKendallResult {
  // Sum of sign(y[j] - y[i]) over the pairs i < j of a segment: concordant minus
  // discordant pairs. Equal values count 0.
  double s = 0;
  // Variance of S under "no trend", with the tie correction: per segment,
  // (n(n-1)(2n+5) - Σ t(t-1)(2t+5)) / 18 over the groups of t equal values; segments are
  // independent, so their variances add.
  double variance = 0;
  // Continuity-corrected normal score, (S - 1) / √variance for S > 0 and (S + 1) / √variance
  // for S < 0; 0 when S is 0 or the variance is 0 (e.g. every value equal).
  double z = 0;
  size_t pairs = 0;  // pairs compared (same segment)
};

// Mann–Kendall test for a monotonic trend of y, taken in order (y[i] observed before
// y[i+1]); `segments` as above. The test assumes independent samples: positively
// autocorrelated data inflate |z|, and long runs of equal values shrink the variance, so
// a handful of tiny increments after a tied run can look significant. Callers should
// quantize values to a meaningful resolution, use a strict threshold and demand a
// minimum effect size as well.
[[nodiscard]] MannKendallResult MannKendall(std::span<const double> y, std::span<const int32_t> segments = {});

}  // namespace offmon::analyzer
