// The rules: each turns the history at one evaluation time into findings. Internal to
// the analyzer; docs/alert-rules.md describes every rule and its defaults.
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "event_ledger_impl.h"
#include "offmon/analyzer/alert.h"
#include "offmon/analyzer/history.h"
#include "offmon/common/config.h"

namespace offmon::analyzer {

// Everything a rule sees at one evaluation.
struct RuleContext {
  TimePoint now;
  const Config& config;
  History& history;
  const EventLedger& ledger;
  // Whether an alert is firing now: rules apply their resolve condition (hysteresis) to
  // firing alerts and their start condition to the others.
  std::function<bool(std::string_view alert, const Labels& labels)> is_firing;
  // One channel's sealed epochs (with participant sets) sealed in [from, to].
  std::function<Result<std::vector<store::EpochRecord>>(const std::string& channel, TimePoint from, TimePoint to)>
      store_epochs;
};

using RuleFn = Status (*)(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out);

struct RuleEntry {
  std::string_view name;
  RuleFn fn;
  // Runs at every evaluation, also between the runs of a rule with `evaluate_every`: the
  // part of a slow rule that must react within a collection interval or two.
  RuleFn every_evaluation = nullptr;
};

// Every rule, in evaluation order.
std::span<const RuleEntry> AllRules();

Status ProcessOfflineRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status AllProcessesOfflineRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status RestartLoopRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status ProcessRestartedRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status ProcessMemoryHighRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status MemoryLeakRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
// MemoryLeak on the minutes horizon (DetectFastLeak, CRITICAL) and, when that finds
// nothing, the steady horizon (DetectSteadyLeak, WARNING), at every evaluation.
Status MemoryLeakFastRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status CpuHighRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status SystemMemoryLowRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status DiskSpaceLowRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status CollectorFailingRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status DatabaseUnreachableRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status DatabaseSlowRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status EventRateLowRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status CollectorBehindRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status EpochSealingStaleRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status ZeroParticipantsRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status EpochUnpublishedRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status ParticipantDropRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status ParticipantVarianceRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status EpochMissingRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status EpochDataLossRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);
Status EpochCountMismatchRule(const RuleContext&, const RuleConfig&, std::vector<Finding>&);

// ---- shared by the rules ----

// How old a series' latest sample may be and still count as the present: three of its
// collector's intervals, or more for a series sampled more sparsely (imported history),
// judged from its own recent spacing.
Duration MaxAge(std::span<const Sample> samples, Duration collector_interval);

// The latest sample when it is fresh (see MaxAge), else nullopt.
std::optional<Sample> LatestFresh(std::span<const Sample> samples, TimePoint now, Duration collector_interval);

// A threshold condition judged on the observations themselves, so that the evaluation
// step cannot turn two spikes into a plateau: `holds` is true of the latest fresh
// sample and of every sample back to `since`, except, when `min_share` < 1, stray
// readings: a single sample that does not hold between two that do (never two in a
// row, never the newest or the oldest, and for which `tolerable` holds when given) is
// part of the run and counted in `strays`.
struct Run {
  TimePoint since;   // the oldest sample of the run
  TimePoint latest;  // the newest
  double value = 0;  // the newest value
  size_t samples = 0;
  size_t strays = 0;  // samples of the run where `holds` is false
  // Held for `for_duration` by the samples' own timestamps, seen by at least
  // `min_samples` observations (at least two) when for_duration > 0, with at least
  // `min_share` of them holding.
  bool Sustained(Duration for_duration, size_t min_samples = 2, double min_share = 1.0) const {
    if (static_cast<double>(samples - strays) < min_share * static_cast<double>(samples)) return false;
    return for_duration.count() == 0 || (samples >= std::max<size_t>(min_samples, 2) && latest - since >= for_duration);
  }
};
std::optional<Run> CurrentRun(std::span<const Sample> samples, TimePoint now, Duration collector_interval,
                              const std::function<bool(double)>& holds, double min_share = 1.0,
                              const std::function<bool(double)>& tolerable = {});

// The collector interval a metric's samples arrive at, from the config.
Duration IntervalFor(const Config& config, std::string_view metric);

// "3.2 GB", "512 MB": the guide's units (binary, as PM2 prints them).
std::string FormatBytes(double bytes);

// Series of `metric` with their samples over [now - lookback, now].
struct SeriesWindow {
  const store::SeriesInfo* info;
  std::span<const Sample> samples;
};
Result<std::vector<SeriesWindow>> Windows(const RuleContext& ctx, std::string_view metric, Duration lookback);

// A finding about `info`'s subject (its labels), for `alert`.
Finding MakeFinding(std::string_view alert, Severity severity, const store::SeriesInfo& info, std::string summary);

// The generic threshold rule: per series of `metric`, CRITICAL/WARNING when the value is
// beyond a level (above when `above`, else below) sustained for rule.for_duration; a
// firing alert holds until the value is back past level * resolve_ratio. `describe`
// writes the summary from the series and its latest value.
Status ThresholdRule(const RuleContext& ctx, const RuleConfig& rule, std::string_view alert, std::string_view metric,
                     bool above, const std::function<std::string(const store::SeriesInfo&, double)>& describe,
                     std::vector<Finding>& out);

// ThresholdRule's verdict on one series' samples (which may be derived, e.g. percent free).
void JudgeThreshold(const RuleContext& ctx, const RuleConfig& rule, std::string_view alert, Duration interval,
                    const store::SeriesInfo& info, std::span<const Sample> samples, bool above,
                    const std::function<std::string(const store::SeriesInfo&, double)>& describe,
                    std::vector<Finding>& out);

// How much history ThresholdRule reads: the `for` duration, a few intervals of slack,
// and enough for MaxAge's spacing of sparse imported history.
Duration ThresholdLookback(const Config& config, const RuleConfig& rule, std::string_view metric);

}  // namespace offmon::analyzer
