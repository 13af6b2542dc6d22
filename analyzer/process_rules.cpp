// The guide's "Process Health (PM2)" and "Resource Usage" rules for processes.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <vector>

#include "offmon/analyzer/leak_detector.h"
#include "offmon/analyzer/series_stats.h"
#include "offmon/common/metric_names.h"
#include "rules_impl.h"

namespace offmon::analyzer {

namespace {

using std::chrono::minutes;

std::string ProcessName(const store::SeriesInfo& info) { return std::string(info.key.Label("process")); }

std::string StatusOf(const RuleContext& ctx, const std::string& process) {
  auto it = ctx.ledger.processes().find(process);
  return it != ctx.ledger.processes().end() && !it->second.status.empty() ? it->second.status : "not online";
}

// CounterIncreases over the samples of a counter from `base` (one of them) through now,
// from the history's kept changes: the base, then every later sample that differs from
// the one before it. A sample equal to the one before it adds no increase, so the result
// is the same, and each evaluation looks at the samples new since the last instead of the
// whole window. `lookback`: the rule's window, the same at every evaluation.
Result<CounterIncrease> IncreasesSince(const RuleContext& ctx, store::SeriesId series, Sample base, Duration lookback) {
  auto changes = ctx.history.Changes(series, ctx.now - lookback, ctx.now);
  if (!changes) return changes.error();
  const auto after = std::upper_bound(changes->begin(), changes->end(), base.time,
                                      [](TimePoint t, const Sample& s) { return t < s.time; });
  // A counter changes rarely: its samples fit on the stack.
  std::array<Sample, 16> few;
  std::vector<Sample> many;
  const auto n = static_cast<size_t>(changes->end() - after) + 1;
  std::span<Sample> samples(few.data(), std::min(n, few.size()));
  if (n > few.size()) {
    many.resize(n);
    samples = many;
  }
  samples[0] = base;
  std::copy(after, changes->end(), samples.begin() + 1);
  return CounterIncreases(samples);
}

}  // namespace

Status ProcessOfflineRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  return ThresholdRule(
      ctx, rule, "ProcessOffline", metric::kProcessUp, /*above=*/false,
      [&](const store::SeriesInfo& info, double) {
        const std::string name = ProcessName(info);
        return fmt::format("{} is {}", name, StatusOf(ctx, name));
      },
      out);
}

Status AllProcessesOfflineRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration interval = IntervalFor(ctx.config, metric::kProcessUp);
  auto windows = Windows(ctx, metric::kProcessUp, ThresholdLookback(ctx.config, rule, metric::kProcessUp));
  if (!windows) return windows.error();
  size_t watched = 0, offline = 0;
  bool sustained = true;
  std::vector<std::string> names;
  for (const SeriesWindow& w : *windows) {
    if (!LatestFresh(w.samples, ctx.now, interval)) continue;  // no longer reported
    ++watched;
    auto run = CurrentRun(w.samples, ctx.now, interval, [](double v) { return v < 1; });
    // One watched process up settles it; the others need not be looked at.
    if (!run) return Status::Ok();
    ++offline;
    sustained = sustained && run->Sustained(rule.for_duration);
    names.push_back(ProcessName(*w.info));
  }
  if (watched == 0 || offline != watched) return Status::Ok();
  Finding finding{"AllProcessesOffline",
                  Severity::kCritical,
                  {},
                  std::string(metric::kProcessUp),
                  fmt::format("all {} watched processes are offline: {}", watched, fmt::join(names, ", "))};
  finding.pending = !sustained;
  out.push_back(std::move(finding));
  return Status::Ok();
}

Status RestartLoopRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration window = rule.ParamDuration("window");
  const Duration interval = IntervalFor(ctx.config, metric::kProcessRestartsTotal);
  const Duration lookback = window + 4 * interval + minutes(90);
  auto counters = Windows(ctx, metric::kProcessRestartsTotal, lookback);
  if (!counters) return counters.error();
  // The samples of metric `name` with the same labels, read only for a process that loops.
  auto same_process = [&](std::string_view name, const store::SeriesInfo& info) -> Result<std::span<const Sample>> {
    auto windows = Windows(ctx, name, lookback);
    if (!windows) return windows.error();
    for (const SeriesWindow& w : *windows) {
      if (w.info->key.labels == info.key.labels) return w.samples;
    }
    return std::span<const Sample>();
  };
  for (const SeriesWindow& w : *counters) {
    if (!LatestFresh(w.samples, ctx.now, interval)) continue;
    std::span<const Sample> in_window = FromBaseAt(w.samples, ctx.now - window);
    if (in_window.size() < 2) continue;
    auto increases = IncreasesSince(ctx, w.info->id, in_window.front(), lookback);
    if (!increases) return increases.error();
    const CounterIncrease& restarts = *increases;
    const bool firing = ctx.is_firing("RestartLoop", w.info->key.labels);
    if (restarts.total <= *rule.warning && !firing) continue;
    if (restarts.total == 0) continue;
    // Why it loops, for the on-call engineer's first step.
    std::string kind = "crash loop";
    const double oom_level =
        rule.Param("oom_ratio") * ctx.config.analyzer.rules.at("ProcessMemoryHigh").critical.value_or(0);
    auto mem = same_process(metric::kProcessMemoryBytes, *w.info);
    if (!mem) return mem.error();
    size_t near_limit = 0;
    for (TimePoint restart : restarts.at) {
      double peak = 0;
      for (const Sample& s : *mem) {
        if (s.time >= restart - 3 * interval - minutes(2) && s.time < restart) peak = std::max(peak, s.value);
      }
      if (oom_level > 0 && peak >= oom_level) ++near_limit;
    }
    auto up = same_process(metric::kProcessUp, *w.info);
    if (!up) return up.error();
    auto down = CurrentRun(*up, ctx.now, interval, [](double v) { return v < 1; });
    if (down && ctx.now - restarts.at.back() >= rule.ParamDuration("stalled_after")) {
      kind = fmt::format("PM2 backoff stalled: no restart for {} and the process is {}",
                         FormatDurationShort(ctx.now - restarts.at.back()), StatusOf(ctx, ProcessName(*w.info)));
    } else if (!restarts.at.empty() && near_limit * 2 > restarts.at.size()) {
      kind = fmt::format("out-of-memory loop: memory above {} before {} of {} restarts", FormatBytes(oom_level),
                         near_limit, restarts.at.size());
    }
    Finding finding = MakeFinding("RestartLoop", Severity::kWarning, *w.info,
                                  fmt::format("{} restarted {:.0f} times in the last {} ({})", ProcessName(*w.info),
                                              restarts.total, FormatDurationShort(window), kind));
    finding.hold_only = restarts.total <= *rule.warning;
    out.push_back(std::move(finding));
  }
  return Status::Ok();
}

Status ProcessRestartedRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration window = rule.ParamDuration("window");
  const Duration interval = IntervalFor(ctx.config, metric::kProcessRestartsTotal);
  const Duration lookback = window + 4 * interval;
  auto counters = Windows(ctx, metric::kProcessRestartsTotal, lookback);
  if (!counters) return counters.error();
  const double loop_level = ctx.config.analyzer.rules.at("RestartLoop").warning.value_or(0);
  for (const SeriesWindow& w : *counters) {
    if (!LatestFresh(w.samples, ctx.now, interval)) continue;
    auto increases = IncreasesSince(ctx, w.info->id, FromBaseAt(w.samples, ctx.now - window).front(), lookback);
    if (!increases) return increases.error();
    const double restarts = increases->total;
    // A loop is RestartLoop's business; this is the guide's "occasional restarts".
    if (restarts < 1 || restarts > loop_level) continue;
    out.push_back(MakeFinding("ProcessRestarted", Severity::kInfo, *w.info,
                              fmt::format("{} restarted {:.0f} time{} in the last {} (occasional; RestartLoop above {:.0f})",
                                          ProcessName(*w.info), restarts, restarts == 1 ? "" : "s",
                                          FormatDurationShort(window), loop_level)));
  }
  return Status::Ok();
}

Status ProcessMemoryHighRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  return ThresholdRule(
      ctx, rule, "ProcessMemoryHigh", metric::kProcessMemoryBytes, /*above=*/true,
      [&](const store::SeriesInfo& info, double value) {
        return fmt::format("{} uses {} (warning above {}, critical above {})", ProcessName(info), FormatBytes(value),
                           FormatBytes(rule.warning.value_or(0)), FormatBytes(rule.critical.value_or(0)));
      },
      out);
}

namespace {

LeakOptions LeakOptionsFor(const RuleConfig& rule) {
  LeakOptions options;
  options.limit_bytes = rule.Param("limit");
  options.critical_horizon = rule.ParamDuration("horizon");
  return options;
}

// The restart times of the process `memory` belongs to, from its counter's changes.
// `hint`: where its counter usually is among `counters` (the memory series' own position).
Result<std::vector<TimePoint>> RestartsOf(const RuleContext& ctx, const std::vector<SeriesWindow>& counters,
                                          size_t hint, const store::SeriesInfo& memory, Duration lookback) {
  auto same_process = [&](const SeriesWindow& c) { return c.info->key.labels == memory.key.labels; };
  // Each process has both series, so looking at the hint first spares comparing the
  // labels of every process with every other's at every evaluation.
  const SeriesWindow* counter = hint < counters.size() && same_process(counters[hint]) ? &counters[hint] : nullptr;
  for (size_t k = 0; counter == nullptr && k < counters.size(); ++k) {
    if (same_process(counters[k])) counter = &counters[k];
  }
  if (counter == nullptr) return std::vector<TimePoint>();
  auto changes = ctx.history.Changes(counter->info->id, ctx.now - lookback, ctx.now);
  if (!changes) return changes.error();
  return CounterIncreases(*changes).at;
}

Finding MakeLeakFinding(const store::SeriesInfo& info, const LeakFinding& leak, const LeakOptions& options) {
  std::string when = !leak.time_to_limit ? "not projected to reach it"
                     : leak.time_to_limit->count() == 0
                         ? "already above it"
                         : fmt::format("reaches it in {}", FormatDurationShort(*leak.time_to_limit));
  // Minute-scale growth reads better per second (per hour when the limit is hours away),
  // and its "floor" is the level now.
  const bool fast = leak.window < std::chrono::hours(1);
  const std::string rate = fast && leak.critical ? fmt::format("{}/s", FormatBytes(leak.bytes_per_hour / 3600))
                                : fmt::format("{}/h", FormatBytes(leak.bytes_per_hour));
  return MakeFinding("MemoryLeak", leak.critical ? Severity::kCritical : Severity::kWarning, info,
                     fmt::format("{} memory grows {} over the last {} ({} {}); limit {}: {}{}", ProcessName(info), rate,
                                 FormatDurationShort(leak.window), fast ? "now" : "post-GC floor",
                                 FormatBytes(leak.floor_bytes), FormatBytes(options.limit_bytes), when,
                                 leak.cycle_unexcluded ? " (less than a day of history: a daily cycle is not yet excluded)"
                                                       : ""));
}

}  // namespace

Status MemoryLeakRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const LeakOptions options = LeakOptionsFor(rule);
  auto memory = Windows(ctx, metric::kProcessMemoryBytes, options.lookback);
  if (!memory) return memory.error();
  auto counters = Windows(ctx, metric::kProcessRestartsTotal, options.lookback);
  if (!counters) return counters.error();
  const Duration interval = IntervalFor(ctx.config, metric::kProcessMemoryBytes);
  // The detector keeps the lowest sample per fine bucket (the shortest window over
  // buckets_per_window, 15 min by default); thirds of that keep its floors exact when
  // evaluations fall on the cell grid, as a backtest's do, and within a cell otherwise.
  const Duration shortest = *std::min_element(options.windows.begin(), options.windows.end());
  const Duration cell = std::max<Duration>(std::chrono::seconds(1), shortest / options.buckets_per_window / 3);
  for (size_t i = 0; i < memory->size(); ++i) {
    const SeriesWindow& w = (*memory)[i];
    if (!LatestFresh(w.samples, ctx.now, interval)) continue;
    auto floors = ctx.history.Reduced(w.info->id, ctx.now - options.lookback, ctx.now, cell);
    if (!floors) return floors.error();
    auto restarts = RestartsOf(ctx, *counters, i, *w.info, options.lookback);
    if (!restarts) return restarts.error();
    const bool firing = ctx.is_firing("MemoryLeak", w.info->key.labels);
    auto leak = DetectLeak(*floors, *restarts, ctx.now, firing, options);
    if (leak) out.push_back(MakeLeakFinding(*w.info, *leak, options));
  }
  return Status::Ok();
}

Status MemoryLeakFastRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const LeakOptions options = LeakOptionsFor(rule);
  const Duration lookback = std::max(options.fast_history, options.steady_window) + options.fast_window;
  auto memory = Windows(ctx, metric::kProcessMemoryBytes, lookback);
  if (!memory) return memory.error();
  auto counters = Windows(ctx, metric::kProcessRestartsTotal, lookback);
  if (!counters) return counters.error();
  const Duration interval = IntervalFor(ctx.config, metric::kProcessMemoryBytes);
  for (size_t i = 0; i < memory->size(); ++i) {
    const SeriesWindow& w = (*memory)[i];
    if (!LatestFresh(w.samples, ctx.now, interval)) continue;
    auto restarts = RestartsOf(ctx, *counters, i, *w.info, lookback);
    if (!restarts) return restarts.error();
    auto leak = DetectFastLeak(w.samples, *restarts, ctx.now, options);
    // Hours from the limit at a steady pace: a WARNING now, not a crash later.
    if (!leak) {
      leak = DetectSteadyLeak(w.samples, *restarts, ctx.now, ctx.is_firing("MemoryLeak", w.info->key.labels), options);
    }
    if (leak) out.push_back(MakeLeakFinding(*w.info, *leak, options));
  }
  return Status::Ok();
}

Status CpuHighRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  return ThresholdRule(
      ctx, rule, "CpuHigh", metric::kProcessCpuPercent, /*above=*/true,
      [&](const store::SeriesInfo& info, double value) {
        return fmt::format("{} CPU {:.0f}% (above {:.0f}% for {} or more)", ProcessName(info), value,
                           rule.critical.value_or(0), FormatDurationShort(rule.for_duration));
      },
      out);
}

}  // namespace offmon::analyzer
