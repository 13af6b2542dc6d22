#include "offmon/common/rules_config.h"

#include <cassert>
#include <charconv>
#include <cmath>

namespace offmon {

namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr double kMiB = 1024.0 * 1024;
constexpr double kGiB = 1024.0 * kMiB;

struct Param {
  const char* name;
  RuleUnit unit;
  double value;
};

RuleConfig Rule(RuleUnit unit, std::optional<double> warning, std::optional<double> critical, Duration for_duration,
                Duration keep_firing_for, std::initializer_list<Param> params = {}) {
  RuleConfig rule;
  rule.threshold_unit = unit;
  rule.warning = warning;
  rule.critical = critical;
  rule.for_duration = for_duration;
  rule.keep_firing_for = keep_firing_for;
  for (const Param& p : params) {
    rule.params.emplace(p.name, p.value);
    rule.param_units.emplace(p.name, p.unit);
  }
  return rule;
}

constexpr RuleUnit kN = RuleUnit::kNumber;
constexpr RuleUnit kB = RuleUnit::kBytes;
constexpr RuleUnit kS = RuleUnit::kSeconds;
constexpr double H = 3600;
constexpr double M = 60;

RuleSet MakeDefaults() {
  const Duration zero{0};
  RuleSet r;
  // Processes. A PM2 restart takes well under a second, so one minute of "not online"
  // is an outage, not a restart in progress.
  // process_up below 1: not online.
  r["ProcessOffline"] = Rule(kN, 1, {}, minutes(1), zero);
  r["AllProcessesOffline"] = Rule(kN, {}, {}, minutes(1), zero);
  // More than `warning` restarts in `window`, from counter increases.
  r["RestartLoop"] = Rule(kN, 20, {}, zero, minutes(10),
                          {{"window", kS, 1 * H}, {"oom_ratio", kN, 0.9}, {"stalled_after", kS, 10 * M}});
  // INFO (recorded, never notified): the guide's "occasional restarts", 1 to RestartLoop's
  // level in `window`.
  r["ProcessRestarted"] = Rule(kN, {}, {}, zero, zero, {{"window", kS, 1 * H}});
  r["ProcessMemoryHigh"] = Rule(kB, 3 * kGiB, 4 * kGiB, minutes(1), zero, {{"resolve_ratio", kN, 0.95}});
  // keep_firing_for: the steady horizon judges minutes of samples, and a pause of a few
  // minutes (a GC holding the floor) must not resolve a leak that then climbs on.
  r["MemoryLeak"] = Rule(kN, {}, {}, zero, minutes(10),
                         {{"limit", kB, 4 * kGiB}, {"horizon", kS, 6 * H}, {"evaluate_every", kS, 30 * M}});
  // Sustained: the observations over `for` above the level (judged from the samples,
  // so a slow evaluation step cannot mistake two spikes for a plateau), and at least
  // `min_samples` of them: a start, a middle and an end, so two spikes caught by two
  // consecutive sparse samples (every 5 minutes or more) are not a plateau either. Real
  // readings jitter: single stray readings below the level (but above the resolve level)
  // between two above it are tolerated while at least `min_share` of the run's readings
  // are above.
  r["CpuHigh"] = Rule(kN, {}, 90, minutes(5), zero,
                      {{"resolve_ratio", kN, 0.9}, {"min_samples", kN, 3}, {"min_share", kN, 0.8}});
  r["SystemMemoryLow"] = Rule(kB, {}, 200 * kMiB, minutes(1), zero, {{"resolve_ratio", kN, 1.25}});
  // Percent of the filesystem free.
  r["DiskSpaceLow"] = Rule(kN, 10, 5, minutes(5), zero, {{"resolve_ratio", kN, 1.2}});
  // Database. Two failed cycles in a row (one minute apart) before paging.
  r["DatabaseUnreachable"] = Rule(kN, {}, 1, minutes(1), zero);  // db_up below 1
  r["DatabaseSlow"] = Rule(kS, 0.5, 5, minutes(3), zero, {{"resolve_ratio", kN, 0.8}});
  // Events per hour below the level; CRITICAL below 1, i.e. none.
  r["EventRateLow"] = Rule(kN, 100, 1, minutes(5), zero, {{"resolve_ratio", kN, 1.2}});
  // db_backfill_done below 1: the PostgreSQL collector's backfill still running after `for`.
  r["CollectorBehind"] = Rule(kN, 1, {}, minutes(60), zero);
  r["EpochSealingStale"] = Rule(kS, 2 * H, 4 * H, zero, zero);
  // CRITICAL when every epoch sealed in `recent` (at least two) had zero participants.
  r["ZeroParticipants"] = Rule(kN, {}, {}, zero, zero, {{"recent", kS, 3 * H}, {"hold", kS, 2 * H}});
  r["EpochUnpublished"] = Rule(kN, {}, {}, zero, zero, {{"grace", kS, 1 * H}, {"lookback", kS, 24 * H}});
  r["ParticipantDrop"] = Rule(kN, {}, {}, zero, zero,
                              {{"drop_ratio", kN, 0.5},
                               {"consecutive", kN, 2},
                               {"min_sigmas", kN, 3},
                               {"resolve_ratio", kN, 0.7},
                               {"baseline_window", kS, 14 * 24 * H}});
  // INFO: the latest epoch `variance` or more off its baseline, short of a drop; while it
  // is at most `offline_after` old.
  r["ParticipantVariance"] = Rule(kN, {}, {}, zero, zero, {{"variance", kN, 0.2}, {"offline_after", kS, 150 * M}});
  // A hole of at most `max_missing` hourly epochs between two sealed ones while another
  // channel sealed in that hour; longer gaps are offline time.
  r["EpochMissing"] = Rule(kN, {}, {}, zero, zero, {{"max_missing", kN, 1}, {"hold", kS, 2 * H}});
  r["EpochDataLoss"] = Rule(kN, {}, {}, zero, zero, {{"hold", kS, 24 * H}});
  r["EpochCountMismatch"] = Rule(kN, {}, {}, zero, zero, {{"hold", kS, 2 * H}});
  // WARNING when the last run failed or no run is recorded in two intervals; CRITICAL
  // when no run succeeded for `critical_after` (a whole report period blind).
  r["CollectorFailing"] = Rule(kN, {}, {}, zero, zero, {{"critical_after", kS, 30 * M}});
  return r;
}

}  // namespace

double RuleConfig::Param(std::string_view key) const {
  auto it = params.find(key);
  assert(it != params.end() && "rule parameter missing from DefaultRules()");
  return it == params.end() ? std::nan("") : it->second;
}

Duration RuleConfig::ParamDuration(std::string_view key) const {
  return Duration(static_cast<int64_t>(std::llround(Param(key) * 1000)));
}

const RuleSet& DefaultRules() {
  static const RuleSet defaults = MakeDefaults();
  return defaults;
}

std::optional<double> ParseBytes(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || !std::isfinite(value) || value < 0) return std::nullopt;
  std::string_view unit(ptr, static_cast<size_t>(end - ptr));
  if (!unit.empty() && unit.back() == 'B') unit.remove_suffix(1);
  if (unit.size() == 2 && unit[1] == 'i') unit.remove_suffix(1);
  static constexpr std::string_view kPrefixes = "KMGT";
  if (unit.empty()) return value;
  if (unit.size() != 1) return std::nullopt;
  size_t power = kPrefixes.find(unit[0]);
  if (power == std::string_view::npos) return std::nullopt;
  return value * std::pow(1024.0, static_cast<double>(power + 1));
}

}  // namespace offmon
