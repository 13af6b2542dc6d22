// The guide's "Resource Usage" rules for the host, "Database Connectivity", and offmon's
// own collectors.
#include <fmt/format.h>

#include <algorithm>

#include "offmon/common/metric_names.h"
#include "rules_impl.h"

namespace offmon::analyzer {

namespace {

using std::chrono::minutes;

std::string LastFailure(const RuleContext& ctx, std::string_view collector, TimePoint since) {
  auto it = ctx.ledger.failures().find(collector);
  if (it == ctx.ledger.failures().end() || it->second.at < since) return "";
  return it->second.reason;
}

Duration CollectorInterval(const Config& config, std::string_view collector) {
  if (collector == "pm2") return config.pm2.interval;
  if (collector == "processes") return config.processes.interval;
  if (collector == "postgres") return config.postgres.interval;
  return config.system.interval;  // system, self
}

// A collector is silent after two of its intervals, and never before 30 s: on a machine
// starved of CPU a daemon on 2-second intervals can miss a few seconds, which is not an
// incident (seen: the demo's three collectors "not run for 4s" under a load of 10).
Duration SilentAfter(const Config& config, std::string_view collector) {
  return std::max<Duration>(2 * CollectorInterval(config, collector), std::chrono::seconds(30));
}

}  // namespace

Status SystemMemoryLowRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  return ThresholdRule(
      ctx, rule, "SystemMemoryLow", metric::kSystemMemoryAvailableBytes, /*above=*/false,
      [&](const store::SeriesInfo&, double value) {
        return fmt::format("system memory available {} (below {})", FormatBytes(value),
                           FormatBytes(rule.critical.value_or(0)));
      },
      out);
}

Status DiskSpaceLowRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration lookback = ThresholdLookback(ctx.config, rule, metric::kDiskFreeBytes);
  auto free = Windows(ctx, metric::kDiskFreeBytes, lookback);
  if (!free) return free.error();
  auto total = Windows(ctx, metric::kDiskTotalBytes, lookback);
  if (!total) return total.error();
  for (const SeriesWindow& f : *free) {
    std::optional<double> size;
    for (const SeriesWindow& t : *total) {
      if (t.info->key.labels == f.info->key.labels && !t.samples.empty()) size = t.samples.back().value;
    }
    if (!size || *size <= 0) continue;
    // The rule's levels are percent free; judge the free bytes against them.
    std::vector<Sample> percent(f.samples.begin(), f.samples.end());
    for (Sample& s : percent) s.value = 100 * s.value / *size;
    JudgeThreshold(
        ctx, rule, "DiskSpaceLow", IntervalFor(ctx.config, metric::kDiskFreeBytes), *f.info, percent, /*above=*/false,
        [&](const store::SeriesInfo& info, double value) {
          return fmt::format("{} has {} free ({:.1f}%; warning below {:.0f}%, critical below {:.0f}%)",
                             info.key.Label("mount"), FormatBytes(value * *size / 100), value, rule.warning.value_or(0),
                             rule.critical.value_or(0));
        },
        out);
  }
  return Status::Ok();
}

Status DatabaseUnreachableRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  return ThresholdRule(
      ctx, rule, "DatabaseUnreachable", metric::kDbUp, /*above=*/false,
      [&](const store::SeriesInfo&, double) {
        // The collector's own words: refused, auth failed, timeout, TLS, ... (no secrets).
        std::string reason = LastFailure(ctx, "postgres", ctx.now - 3 * ctx.config.postgres.interval);
        return reason.empty() ? std::string("database unreachable") : fmt::format("database unreachable: {}", reason);
      },
      out);
}

Status DatabaseSlowRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  return ThresholdRule(
      ctx, rule, "DatabaseSlow", metric::kDbResponseSeconds, /*above=*/true,
      [&](const store::SeriesInfo&, double value) {
        return fmt::format("database answers in {:.0f} ms (warning above {:.0f} ms)", value * 1000,
                           rule.warning.value_or(0) * 1000);
      },
      out);
}

Status EventRateLowRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  return ThresholdRule(
      ctx, rule, "EventRateLow", metric::kDbEventsLastHour, /*above=*/false,
      [&](const store::SeriesInfo&, double value) {
        return value < 1 ? std::string("no participation events in the last hour: no data flowing")
                         : fmt::format("{:.0f} participation events in the last hour (below {:.0f})", value,
                                       rule.warning.value_or(0));
      },
      out);
}

Status CollectorFailingRule(const RuleContext& ctx, const RuleConfig& rule, std::vector<Finding>& out) {
  const Duration critical_after = rule.ParamDuration("critical_after");
  auto windows = Windows(ctx, metric::kCollectorUp, critical_after + minutes(10));
  if (!windows) return windows.error();
  // Staleness only means something while the daemon runs: some collector is current.
  bool daemon_alive = false;
  for (const SeriesWindow& w : *windows) {
    const Duration silent_after = SilentAfter(ctx.config, w.info->key.Label("collector"));
    daemon_alive = daemon_alive || ctx.now - w.samples.back().time <= silent_after;
  }
  if (!daemon_alive) return Status::Ok();
  for (const SeriesWindow& w : *windows) {
    const std::string collector(w.info->key.Label("collector"));
    const Sample& latest = w.samples.back();
    const bool stale = ctx.now - latest.time > SilentAfter(ctx.config, collector);
    if (!stale && latest.value >= 1) continue;
    std::optional<TimePoint> last_success;
    for (const Sample& s : w.samples) {
      if (s.value >= 1) last_success = s.time;
    }
    // Blind only after failing for critical_after: a collector that has not yet succeeded
    // since the store began (a daemon two seconds old) has not been blind for that long.
    const bool blind = ctx.now - last_success.value_or(w.samples.front().time) >= critical_after;
    std::string reason = LastFailure(ctx, collector, ctx.now - critical_after);
    std::string summary =
        stale ? fmt::format("collector {} has not run for {}", collector, FormatDurationShort(ctx.now - latest.time))
              : fmt::format("collector {} failing{}{}", collector, reason.empty() ? "" : ": ", reason);
    if (blind) summary += fmt::format(" (no successful run in {})", FormatDurationShort(critical_after));
    out.push_back(
        MakeFinding("CollectorFailing", blind ? Severity::kCritical : Severity::kWarning, *w.info, std::move(summary)));
  }
  return Status::Ok();
}

}  // namespace offmon::analyzer
