// Memory-leak trend detection for one process: the guide's "memory increases every hour,
// eventually hits 4GB and crashes". DetectLeak looks for a significant, sustained upward
// trend of the post-GC memory floor, whatever its current level, and projects when it
// reaches the limit; PredictLinearLeak is the least-squares peer (Prometheus'
// predict_linear) it is compared with. docs/memory-leak-detection.md explains the design,
// the defaults and what each check guards against.
//
// Pure functions over samples the caller has read; no store access. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <vector>

#include "offmon/common/sample.h"
#include "offmon/common/time.h"

namespace offmon::analyzer {

// The thresholds one window's trend must pass; docs/memory-leak-detection.md says which
// trap each one closes. LeakOptions holds two sets: `fire` for a process that is not
// alerting and the looser `hold` once it is, so a finding near a threshold does not flap.
// Every `hold` value must be at least as permissive as its `fire` value.
struct LeakThresholds {
  // Scales LeakOptions::min_rate_bytes_per_hour and min_growth_bytes.
  double min_growth_scale = 1.0;
  // Mann–Kendall z of the floors. 3.0 is one-sided p ≈ 0.0013, strict because the test
  // assumes independent samples, which neighbouring floors only approximate.
  double min_mann_kendall_z = 3.0;
  // The growth (slope × the longest stretch between restarts) must be at least this many
  // robust spreads of the floors around the fit (1.4826 × median |residual|): visible by
  // eye, not just significant. Noise that passes the z test reaches about 4.
  double min_growth_spreads = 5.0;
  // The floor may fall back within a segment (a point below an earlier one) by at most
  // this fraction of the growth. A leak's floor does not fall back; a cycle longer than a
  // bucket (a collection or batch job every few hours) falls back by a whole climb.
  double max_drawdown_fraction = 0.5;
  // Sustained: the Theil–Sen slope within each third of the window must be at least this
  // fraction of the larger of the window's slope and the slope between the first and last
  // thirds' median levels. A one-time step leaves flat thirds; a daily cycle a falling
  // one. Negative values tolerate a noisy third (the `hold` set uses -0.5).
  double min_third_fraction = 0.4;
  // Not slowing down: the slope between the last two thirds' median levels must be at
  // least this fraction of the slope between the first two. Growth that levels off slows
  // by e^(-2/3) ≈ 0.51 per third when its time constant is 3 h in a 6 h window.
  double min_last_third_ratio = 0.7;
  // Windows shorter than the longest only fire when the projected crossing is at most
  // this many window lengths away, at the window's slope and at the pace between its last
  // two thirds: short windows are there to catch fast leaks early, not to report every
  // rising stretch of a few hours.
  double near_factor = 4.0;
  // Windows shorter than LeakOptions::cycle_period must show the floor of their last third
  // above the floor one period earlier by this fraction of slope × window. A leak is
  // higher than yesterday; the rising half of yesterday's cycle is not.
  double min_cycle_growth_fraction = 0.5;
  // When that comparison is impossible (less than a period of history, or a restart in
  // between), a shorter window fires only if the projected crossing is within this many
  // window lengths: a young process's fast leak still alerts, a rising stretch of its
  // first day's cycle does not.
  double near_factor_without_cycle = 1.0;
};

struct LeakOptions {
  // The guide's 4 GB (PM2 reports binary MB). Default 4 GiB.
  double limit_bytes = 4.0 * 1024 * 1024 * 1024;
  // A finding is critical when the projected time to the limit is below this. Default 6 h.
  Duration critical_horizon = std::chrono::hours(6);
  // The most history DetectLeak looks at. Default 48 h. Windows longer than this are
  // ignored.
  Duration lookback = std::chrono::hours(48);
  // No finding below this slope. Default 0.5 MiB/h, half the slowest leak the tests
  // require (1 MiB/h), so the estimate's noise does not hide it.
  double min_rate_bytes_per_hour = 0.5 * 1024 * 1024;
  // No finding unless the growth within one run (slope × the window's longest stretch
  // between restarts) reaches this. Default 32 MiB: below the 48 MiB a 1 MiB/h leak adds
  // in 48 h, above allocator churn. A leak that restarts keep below this is contained.
  double min_growth_bytes = 32.0 * 1024 * 1024;
  // Trend windows ending at `now`. The longest one (within lookback) fires on any
  // significant sustained trend; the shorter ones only on near crossings (near_factor).
  // Default 6 h, 12 h, 24 h, 48 h.
  std::vector<Duration> windows = {std::chrono::hours(6), std::chrono::hours(12), std::chrono::hours(24),
                                   std::chrono::hours(48)};
  // Each window is cut into this many buckets aligned to `now`; a bucket's minimum is
  // its floor point (the post-GC floor), and the O(n²) statistics see at most this many
  // points plus one per restart. Default 24: 15 min buckets for 6 h, 2 h for 48 h.
  // Clamped to [6, 64].
  int buckets_per_window = 24;
  // A window needs samples spanning at least this fraction of it. Default 0.75.
  double min_coverage = 0.75;
  // A window needs at least this many floor points in segments of two or more. Default
  // 10, so 30 min sampling (12 points in 6 h) still works.
  int min_points = 10;
  // Floors within this time after a restart (reported or inferred) are left out: a
  // process warming up after a restart climbs for a while, and that climb, repeated after
  // every restart, would read as growth. Default 2 h.
  Duration restart_settle = std::chrono::hours(2);
  // A restart is inferred where the floor drops by more than this fraction below the
  // median of the segment's previous three floors, and the next floor stays down too.
  // Default 0.25.
  double restart_drop_fraction = 0.25;
  // Mann–Kendall compares floors rounded down to this resolution, so byte-level jitter
  // after a long flat run is a tie rather than a trend. Default 1 MiB.
  double tie_resolution_bytes = 1024.0 * 1024;
  // The period of the usual load cycle. Windows shorter than it must beat the floor one
  // period earlier (min_cycle_growth_fraction), so the rising half of a daily cycle does
  // not fire even near the limit. Zero disables. Default 24 h.
  Duration cycle_period = std::chrono::hours(24);
  // The minutes horizon (DetectFastLeak): growth that reaches the limit within
  // `fast_horizon` at its current pace. Default 1 h.
  Duration fast_horizon = std::chrono::hours(1);
  // It is judged on the samples of the last `fast_window`, at least `fast_min_samples` of
  // them (three collection intervals), whatever their spacing. Defaults 5 min and 4.
  Duration fast_window = std::chrono::minutes(5);
  int fast_min_samples = 4;
  // The growth seen must be at least this fraction of the way from where it started to
  // the limit: a warm-up of a few hundred MB in a few seconds is not a leak. Default 0.1.
  double fast_min_growth_fraction = 0.1;
  // How far back a new high is judged: the latest sample must be above every earlier
  // sample of this span since the last restart (a GC sawtooth climbs back to its old
  // peaks, a leak past them). Default 2 h.
  Duration fast_history = std::chrono::hours(2);
  // The steady horizon (DetectSteadyLeak): a steady climb, judged on the samples of the
  // last `steady_window` (default 30 min) since the last restart, that reaches the limit
  // within `steady_horizon` (default 3 h) but not within fast_horizon (the minutes
  // horizon's, CRITICAL). A WARNING: the crash is hours away, the operator has time.
  Duration steady_window = std::chrono::minutes(30);
  Duration steady_horizon = std::chrono::hours(3);
  // The climb must span at least `steady_min_span` (default 30 s) with at least
  // `steady_min_samples` samples (default 8): a spike of a few samples is not a trend.
  Duration steady_min_span = std::chrono::seconds(30);
  int steady_min_samples = 8;
  // ...and grow by at least this much over its span. Default 16 MiB: above allocator
  // churn and the jitter of an idle Node process.
  double steady_min_growth_bytes = 16.0 * 1024 * 1024;
  LeakThresholds fire;
  // A process with less than cycle_period of history: its longest window with coverage
  // fires without the near-crossing rules when the trend passes these stricter
  // thresholds (well above noise and GC swings, not slowing down), as a WARNING that
  // says a daily cycle is not yet excluded; a crossing inside critical_horizon makes it
  // CRITICAL. Once a day of history exists the cycle check decides.
  // The young thresholds apply to windows at least this long. Default 12 h: six hours of
  // a daily cycle's rising half look too much like a leak.
  Duration young_min_window = std::chrono::hours(12);
  LeakThresholds young{.min_mann_kendall_z = 3.0,
                       .min_growth_spreads = 8.0,
                       .max_drawdown_fraction = 0.3,
                       .min_third_fraction = 0.5,
                       .min_last_third_ratio = 0.8};
  LeakThresholds hold{.min_growth_scale = 0.75,
                      .min_mann_kendall_z = 2.0,
                      .min_growth_spreads = 3.0,
                      .max_drawdown_fraction = 0.75,
                      .min_third_fraction = -0.5,
                      .min_last_third_ratio = 0.35,
                      .near_factor = 8.0,
                      .min_cycle_growth_fraction = 0.25,
                      .near_factor_without_cycle = 2.0};
};

struct LeakFinding {
  double bytes_per_hour = 0;             // Theil–Sen slope of the post-GC floor
  double floor_bytes = 0;                // current post-GC floor (level the projection starts from)
  std::optional<Duration> time_to_limit;  // projected time until limit_bytes; 0 when already above
  Duration window{};                     // span of history the verdict rests on
  double mann_kendall_z = 0;
  bool critical = false;                 // time_to_limit < critical_horizon
  // Found on less than a day of history (LeakOptions::young): a daily load cycle's
  // rising half cannot be told from a leak yet.
  bool cycle_unexcluded = false;
};

// memory: one process's memory samples (bytes) with time <= now, sorted by time, at least
// the last options.lookback of them when available. restarts: sorted times at which the
// process restarted (from its restart counter or uptime); restarts are also inferred
// from sharp floor drops. already_firing relaxes thresholds (hysteresis).
//
// Returns the finding of the window with the nearest projected crossing among the windows
// that pass (ties: the longer window), or nullopt when none does: too little history,
// no significant sustained growth, or a short window whose crossing is far away.
// Samples after `now` and non-finite values are ignored. Cost: one pass over the
// samples plus O(buckets_per_window²) per window; see bench/leak_detector_bench.cpp.
[[nodiscard]] std::optional<LeakFinding> DetectLeak(std::span<const Sample> memory, std::span<const TimePoint> restarts,
                                                    TimePoint now, bool already_firing, const LeakOptions& options);

// The minutes horizon: memory climbing so fast that it reaches options.limit_bytes within
// options.fast_horizon, judged on the last few samples (options.fast_window, at least
// fast_min_samples of them) whatever the history length: a Theil–Sen slope, rising at
// every step, not slowing (the newer half's pace at least half the older's), a
// growth of at least fast_min_growth_fraction of the way to the limit, and the latest
// sample above every earlier one of the last fast_history since the last restart
// (reported, or a fall to under two thirds between two samples). The finding is always
// critical; `window` is the span of the samples judged. nullopt otherwise. Cost: one pass
// over the samples of fast_history plus at most 32² pairs.
[[nodiscard]] std::optional<LeakFinding> DetectFastLeak(std::span<const Sample> memory,
                                                        std::span<const TimePoint> restarts, TimePoint now,
                                                        const LeakOptions& options);

// The steady horizon: memory climbing at a steady pace that reaches options.limit_bytes
// within options.steady_horizon, but not within fast_horizon (DetectFastLeak's), judged on
// the samples of the last steady_window since the last restart (reported, or a fall to
// under two thirds), leaving out the first restart_settle after a reported or inferred
// restart (a warm-up). Windows of steady_window, half of it, a quarter, ... down to
// steady_min_span, ending at now, each reduced to at most 32 points (the minimum of each
// slice: the post-GC floor at that scale); the longest window that passes decides:
//   - at least steady_min_samples samples over at least steady_min_span;
//   - a significant rise (Mann–Kendall z, `fire`/`hold` min_mann_kendall_z), by at least
//     steady_min_growth_bytes (scaled by min_growth_scale) and min_growth_spreads robust
//     spreads of the points around the Theil–Sen line;
//   - sustained and not slowing: each third's slope at least min_third_fraction of the
//     window's, the last third's at least min_last_third_ratio of the middle one's, and
//     the window's at least min_last_third_ratio of the window of the same length before
//     it where the run has one (a warm-up approaching its plateau slows down; a step
//     leaves a flat third), always with the strict `young` values;
//   - fast in itself: the slope covers limit_bytes within twice steady_horizon (683 MiB/h
//     for 4 GiB and 3 h), so a slow climb near the limit is left to DetectLeak;
//   - a new high: the newest point above every earlier sample of the last fast_history
//     since the restart by half the window's growth (a GC sawtooth climbs back to its old
//     peaks, not past them).
// `already_firing` judges z, growth and spreads with the `hold` thresholds, with twice the
// horizon and no lower bound on the crossing (a leak that gets faster stays alerted). The finding is a WARNING
// (critical false); nullopt otherwise. Cost: O(n) over the samples of fast_history plus
// O(32²) per window.
[[nodiscard]] std::optional<LeakFinding> DetectSteadyLeak(std::span<const Sample> memory,
                                                          std::span<const TimePoint> restarts, TimePoint now,
                                                          bool already_firing, const LeakOptions& options);

// The peer offmon is compared with: least squares over the last `window` (default 6 h) like
// Prometheus' predict_linear; fires when the fit projects crossing limit_bytes within `horizon` (24 h).
// The finding carries the fitted slope, the fitted value at `now` as floor_bytes, and the
// time until the fit crosses the limit; mann_kendall_z stays 0 and critical false (the
// peer rule has one severity). nullopt with fewer than two finite samples in the window.
[[nodiscard]] std::optional<LeakFinding> PredictLinearLeak(std::span<const Sample> memory, TimePoint now,
                                                           Duration window = std::chrono::hours(6),
                                                           Duration horizon = std::chrono::hours(24),
                                                           double limit_bytes = 4.0 * 1024 * 1024 * 1024);

}  // namespace offmon::analyzer
