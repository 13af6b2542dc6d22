// What the rules share: freshness, sustained runs, threshold rules, formatting.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "rules_impl.h"

namespace offmon::analyzer {

std::span<const RuleEntry> AllRules() {
  static constexpr RuleEntry kRules[] = {
      {"AllProcessesOffline", AllProcessesOfflineRule},
      {"ProcessOffline", ProcessOfflineRule},
      {"DatabaseUnreachable", DatabaseUnreachableRule},
      {"CollectorFailing", CollectorFailingRule},
      {"RestartLoop", RestartLoopRule},
      {"ProcessRestarted", ProcessRestartedRule},
      {"ProcessMemoryHigh", ProcessMemoryHighRule},
      {"MemoryLeak", MemoryLeakRule, MemoryLeakFastRule},
      {"CpuHigh", CpuHighRule},
      {"SystemMemoryLow", SystemMemoryLowRule},
      {"DiskSpaceLow", DiskSpaceLowRule},
      {"DatabaseSlow", DatabaseSlowRule},
      {"EventRateLow", EventRateLowRule},
      {"CollectorBehind", CollectorBehindRule},
      {"EpochSealingStale", EpochSealingStaleRule},
      {"ZeroParticipants", ZeroParticipantsRule},
      {"EpochUnpublished", EpochUnpublishedRule},
      {"ParticipantDrop", ParticipantDropRule},
      {"ParticipantVariance", ParticipantVarianceRule},
      {"EpochMissing", EpochMissingRule},
      {"EpochDataLoss", EpochDataLossRule},
      {"EpochCountMismatch", EpochCountMismatchRule},
  };
  return kRules;
}

Duration MaxAge(std::span<const Sample> samples, Duration collector_interval) {
  Duration age = 3 * collector_interval;
  // The median spacing of the last few samples: imported history may be sampled every
  // 30 minutes, and its latest sample is still the present.
  constexpr size_t kRecent = 5;
  if (samples.size() >= 2) {
    const size_t n = std::min(kRecent, samples.size() - 1);
    std::array<Duration, kRecent> gaps;
    for (size_t i = 0; i < n; ++i)
      gaps[i] = samples[samples.size() - 1 - i].time - samples[samples.size() - 2 - i].time;
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<ptrdiff_t>(n / 2),
                     gaps.begin() + static_cast<ptrdiff_t>(n));
    age = std::max(age, gaps[n / 2] * 5 / 2);
  }
  return age;
}

std::optional<Sample> LatestFresh(std::span<const Sample> samples, TimePoint now, Duration collector_interval) {
  if (samples.empty() || samples.back().time > now) return std::nullopt;
  if (now - samples.back().time > MaxAge(samples, collector_interval)) return std::nullopt;
  return samples.back();
}

std::optional<Run> CurrentRun(std::span<const Sample> samples, TimePoint now, Duration collector_interval,
                              const std::function<bool(double)>& holds, double min_share,
                              const std::function<bool(double)>& tolerable) {
  auto latest = LatestFresh(samples, now, collector_interval);
  if (!latest || !holds(latest->value)) return std::nullopt;
  Run run{latest->time, latest->time, latest->value, 0, 0};
  const Duration max_gap = MaxAge(samples, collector_interval);
  TimePoint newer = latest->time;
  bool stray = false;  // the sample just newer than i did not hold; joins if i does
  for (size_t i = samples.size(); i-- > 0;) {
    // A gap longer than the freshness limit breaks the run: nothing was observed then.
    if (newer - samples[i].time > max_gap) break;
    newer = samples[i].time;
    if (!holds(samples[i].value)) {
      if (stray || min_share >= 1.0 || (tolerable && !tolerable(samples[i].value))) break;
      stray = true;
      continue;
    }
    if (stray) {
      ++run.samples;
      ++run.strays;
      stray = false;
    }
    run.since = samples[i].time;
    ++run.samples;
  }
  return run;
}

Duration IntervalFor(const Config& config, std::string_view metric) {
  if (metric.starts_with("process_")) return std::min(config.pm2.interval, config.processes.interval);
  if (metric.starts_with("db_") || metric.starts_with("epoch_")) return config.postgres.interval;
  return config.system.interval;
}

std::string FormatBytes(double bytes) {
  constexpr double kMiB = 1024.0 * 1024;
  if (std::abs(bytes) >= 1024 * kMiB) return fmt::format("{:.1f} GB", bytes / (1024 * kMiB));
  return fmt::format("{:.0f} MB", bytes / kMiB);
}

Result<std::vector<SeriesWindow>> Windows(const RuleContext& ctx, std::string_view metric, Duration lookback) {
  auto series = ctx.history.Series(metric, lookback);
  if (!series) return series.error();
  std::vector<SeriesWindow> out;
  out.reserve(series->size());
  for (const store::SeriesInfo& info : *series) {
    auto samples = ctx.history.Window(info.id, ctx.now - lookback, ctx.now);
    if (!samples) return samples.error();
    if (!samples->empty()) out.push_back({&info, *samples});
  }
  return out;
}

Finding MakeFinding(std::string_view alert, Severity severity, const store::SeriesInfo& info, std::string summary) {
  return Finding{std::string(alert), severity, info.key.labels, info.key.ToString(), std::move(summary)};
}

void JudgeThreshold(const RuleContext& ctx, const RuleConfig& rule, std::string_view alert, Duration interval,
                    const store::SeriesInfo& info, std::span<const Sample> samples, bool above,
                    const std::function<std::string(const store::SeriesInfo&, double)>& describe,
                    std::vector<Finding>& out) {
  const double resolve_ratio = rule.params.contains("resolve_ratio") ? rule.Param("resolve_ratio") : 1.0;
  const auto min_samples = static_cast<size_t>(rule.params.contains("min_samples") ? rule.Param("min_samples") : 2);
  const double min_share = rule.params.contains("min_share") ? rule.Param("min_share") : 1.0;
  auto beyond = [above](double level) { return [above, level](double v) { return above ? v > level : v < level; }; };
  std::optional<Finding> finding;
  // A run needs its latest sample beyond the level; most series are nowhere near either
  // level, and this spares them CurrentRun at every evaluation.
  const std::optional<Sample> latest_fresh = LatestFresh(samples, ctx.now, interval);
  for (auto [level, severity] : {std::pair{rule.critical, Severity::kCritical}, {rule.warning, Severity::kWarning}}) {
    if (!level || !latest_fresh || !beyond(*level)(latest_fresh->value)) continue;
    // A stray reading is one still past the resolve level (87.5 % against 90, not a
    // worker's 40 % between two spikes).
    auto run = CurrentRun(samples, ctx.now, interval, beyond(*level), min_share, beyond(*level * resolve_ratio));
    if (!run) continue;
    const bool sustained = run->Sustained(rule.for_duration, min_samples, min_share);
    if (!finding || sustained) {
      finding = MakeFinding(alert, severity, info, describe(info, run->value));
      finding->pending = !sustained;
    }
    if (sustained) break;
  }
  if ((!finding || finding->pending) && ctx.is_firing(alert, info.key.labels)) {
    // Hysteresis: hold until the value is clearly back on the good side of the lowest
    // level the rule has.
    const double level = rule.warning ? *rule.warning : *rule.critical;
    const std::optional<Sample>& latest = latest_fresh;
    // Where stray readings are tolerated, one stray reading does not resolve either: the
    // one before it must be past the resolve level too.
    const bool held = latest && (beyond(level * resolve_ratio)(latest->value) ||
                                 (min_share < 1.0 && samples.size() >= 2 &&
                                  beyond(level * resolve_ratio)(samples[samples.size() - 2].value)));
    if (held) {
      finding = MakeFinding(alert, Severity::kWarning, info, describe(info, latest->value));
      finding->hold_only = true;
    }
  }
  if (finding) out.push_back(std::move(*finding));
}

Status ThresholdRule(const RuleContext& ctx, const RuleConfig& rule, std::string_view alert, std::string_view metric,
                     bool above, const std::function<std::string(const store::SeriesInfo&, double)>& describe,
                     std::vector<Finding>& out) {
  const Duration interval = IntervalFor(ctx.config, metric);
  auto windows = Windows(ctx, metric, ThresholdLookback(ctx.config, rule, metric));
  if (!windows) return windows.error();
  for (const SeriesWindow& w : *windows) JudgeThreshold(ctx, rule, alert, interval, *w.info, w.samples, above, describe, out);
  return Status::Ok();
}

Duration ThresholdLookback(const Config& config, const RuleConfig& rule, std::string_view metric) {
  return rule.for_duration + 4 * IntervalFor(config, metric) + std::chrono::minutes(90);
}

}  // namespace offmon::analyzer
