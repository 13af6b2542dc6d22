// `offmon trend SELECTOR`: per matching series a terminal chart, statistics, slope and
// alert markers; --csv / --json for machines, --svg FILE for people. Gathers a TrendView
// and hands it to the renderers (terminal_chart, trend_export, svg_chart). docs/trend.md.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "alert_history_impl.h"
#include "offmon/common/metric_names.h"
#include "offmon/query/query_command.h"
#include "offmon/store/buckets.h"
#include "offmon/store/store_command.h"
#include "series_trend_impl.h"
#include "svg_chart_impl.h"
#include "terminal_chart_impl.h"
#include "trend_export_impl.h"
#include "trend_stats_impl.h"

namespace offmon::query {

namespace {

struct TrendOptions {
  std::string selector;
  std::string since = "7d";
  std::string step;  // default: at most 100 buckets over the range
  std::string until = "now";
  std::string process, channel;
  bool csv = false, json = false;
  std::string svg;
};

// What on-call people ask most, by name: `offmon trend memory --process w1`.
struct Shortcut {
  std::string_view name;
  std::string_view metric;
  std::string_view label;  // the label --process / --channel sets; empty for none
};
constexpr Shortcut kShortcuts[] = {
    {"memory", metric::kProcessMemoryBytes, "process"},     {"cpu", metric::kProcessCpuPercent, "process"},
    {"restarts", metric::kProcessRestartsTotal, "process"}, {"uptime", metric::kProcessUptimeSeconds, "process"},
    {"participants", metric::kEpochParticipants, "channel"}, {"events", metric::kDbEventsLastHour, ""},
};

// The series whose bucket means, ± the second's, draw a metric's baseline band.
struct BaselineSeries {
  std::string_view metric, median, spread;
};
constexpr BaselineSeries kBaselines[] = {
    {metric::kEpochParticipants, metric::kBaselineParticipantsMedian, metric::kBaselineParticipantsSpread},
    {metric::kProcessMemoryBytes, metric::kBaselineProcessMemoryBytesMedian, metric::kBaselineProcessMemoryBytesSpread},
    {metric::kProcessCpuPercent, metric::kBaselineProcessCpuPercentMedian, metric::kBaselineProcessCpuPercentSpread},
};

// Raw samples are read for an exact p95 up to this range; beyond, p95 is estimated from
// the buckets (docs/trend.md).
constexpr Duration kExactP95Range = std::chrono::hours(24 * 8);
// A guard against a step so small the grid cannot be drawn or read in reasonable time.
constexpr size_t kMaxSlots = 200'000;

std::string Quote(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// The selector text for a shortcut or a selector, with --process / --channel added as
// label matchers.
Result<std::string> ResolveSelector(const TrendOptions& options) {
  std::vector<std::pair<std::string_view, std::string_view>> extra;
  if (!options.process.empty()) extra.emplace_back("process", options.process);
  if (!options.channel.empty()) extra.emplace_back("channel", options.channel);
  std::string text = options.selector;
  for (const Shortcut& s : kShortcuts) {
    if (options.selector != s.name) continue;
    for (const auto& [label, value] : extra) {
      if (label != s.label) {
        return Status::InvalidArgument(fmt::format("trend {} takes no --{}", s.name, label));
      }
    }
    text = std::string(s.metric);
    break;
  }
  if (extra.empty()) return text;
  std::string matchers;
  for (const auto& [label, value] : extra) {
    matchers += fmt::format("{}{}={}", matchers.empty() ? "" : ",", label, Quote(value));
  }
  if (!text.empty() && text.back() == '}') {
    const size_t close = text.size() - 1;
    const size_t before = text.find_last_not_of(" \t", close - 1);
    const bool bare = before == std::string::npos || text[before] == '{' || text[before] == ',';
    text.insert(close, bare ? matchers : "," + matchers);
  } else {
    text += "{" + matchers + "}";
  }
  return text;
}

// The steps a default may take: each one the rollups answer.
constexpr std::chrono::minutes kStepCandidates[] = {
    std::chrono::minutes(5),       std::chrono::minutes(10),         std::chrono::minutes(15),
    std::chrono::minutes(30),      std::chrono::minutes(60),         std::chrono::minutes(2 * 60),
    std::chrono::minutes(3 * 60),  std::chrono::minutes(6 * 60),     std::chrono::minutes(12 * 60),
    std::chrono::minutes(24 * 60), std::chrono::minutes(7 * 24 * 60)};

// Picks a step giving at most 100 buckets.
Duration DefaultStep(Duration range) {
  for (Duration step : kStepCandidates) {
    if (range / step <= 100) return step;
  }
  return std::chrono::hours(24 * 7);
}

// The median spacing of consecutive non-empty buckets over every series, when it is
// wider than the step: data sampled more sparsely than the default step (hourly epochs
// at a 30m step) would otherwise chart as every other bucket empty.
std::optional<Duration> SparseSpacing(const TrendView& view) {
  std::vector<Duration> gaps;
  for (const SeriesTrend& s : view.series) {
    for (size_t i = 1; i < s.buckets.size(); ++i) gaps.push_back(s.buckets[i].start - s.buckets[i - 1].start);
  }
  if (gaps.empty()) return std::nullopt;
  std::nth_element(gaps.begin(), gaps.begin() + static_cast<ptrdiff_t>(gaps.size() / 2), gaps.end());
  const Duration median = gaps[gaps.size() / 2];
  return median > view.grid.step ? std::optional(median) : std::nullopt;
}

std::string SourceOf(Duration step) {
  if (step % std::chrono::hours(1) == Duration(0)) return "1h rollups";
  if (step % std::chrono::minutes(5) == Duration(0)) return "5m rollups";
  return "raw samples";
}

// The baseline band of `s`, when its metric has one and the baseline series exist.
Status ReadBaseline(store::Store& store, const TrendGrid& grid, TimePoint to, SeriesTrend& s) {
  for (const BaselineSeries& b : kBaselines) {
    if (s.key.name != b.metric) continue;
    auto read = [&](std::string_view metric) -> Result<std::optional<std::vector<store::RollupBucket>>> {
      const SeriesKey key(std::string(metric), s.key.labels);
      auto selector = store::Selector::Parse(key.ToString());
      if (!selector) return selector.error();
      auto found = store.Select(*selector);
      if (!found) return found.error();
      for (const store::SeriesInfo& info : *found) {
        if (info.key != key) continue;
        auto buckets = store::ReadBuckets(store, info.id, grid.start, to, grid.step);
        if (!buckets) return buckets.error();
        return std::optional(std::move(*buckets));
      }
      return std::optional<std::vector<store::RollupBucket>>();
    };
    auto median = read(b.median);
    if (!median) return median.error();
    if (!*median || (*median)->empty()) return Status::Ok();
    auto spread = read(b.spread);
    if (!spread) return spread.error();
    size_t j = 0;
    for (const store::RollupBucket& m : **median) {
      BaselinePoint point{m.start, m.avg(), 0};
      if (*spread) {
        const auto& sb = **spread;
        while (j < sb.size() && sb[j].start < m.start) ++j;
        if (j < sb.size() && sb[j].start == m.start) point.spread = sb[j].avg();
      }
      s.baseline.push_back(point);
    }
    s.baseline_median = SeriesKey(b.median, s.key.labels).ToString();
    s.baseline_spread = SeriesKey(b.spread, s.key.labels).ToString();
  }
  return Status::Ok();
}

}  // namespace

Status FillView(store::Store& store, const std::vector<store::SeriesInfo>& series,
                const std::vector<AlertEpisode>& episodes, TimePoint from, TimePoint to, Duration step,
                TrendView& view) {
  view.source = SourceOf(step);
  view.grid.step = step;
  view.grid.start = from - (from.time_since_epoch() % step + step) % step;
  view.grid.slots = static_cast<size_t>((to - view.grid.start + step - Duration(1)) / step);
  view.grid.end = view.grid.start + step * static_cast<int64_t>(view.grid.slots);
  view.series.clear();
  for (const store::SeriesInfo& info : series) {
    SeriesTrend s;
    s.key = info.key;
    s.unit = UnitOfMetric(info.key.name);
    auto buckets = store::ReadBuckets(store, info.id, view.grid.start, to, step);
    if (!buckets) return buckets.error();
    s.buckets = std::move(*buckets);
    if (!s.buckets.empty()) {
      std::optional<std::vector<double>> raw;
      Sample last;
      if (to - view.grid.start <= kExactP95Range) {
        auto samples = store.ReadRange(info.id, view.grid.start, to);
        if (!samples) return samples.error();
        raw.emplace();
        raw->reserve(samples->size());
        for (const Sample& sample : *samples) {
          if (std::isfinite(sample.value)) raw->push_back(sample.value);
        }
        if (!samples->empty()) last = samples->back();
      } else {
        auto tail = store.ReadRange(info.id, s.buckets.back().start, to);
        if (!tail) return tail.error();
        if (!tail->empty()) last = tail->back();
      }
      s.stats = ComputeTrendStats(s.buckets, std::move(raw), last);
    }
    for (const AlertEpisode& e : episodes) {
      if (BelongsTo(e, s.key) && e.Overlaps(view.grid.start, to)) s.alerts.push_back(e);
    }
    OFFMON_RETURN_IF_ERROR(ReadBaseline(store, view.grid, to, s));
    view.series.push_back(std::move(s));
  }
  return Status::Ok();
}

namespace {

void RunTrend(CliContext& ctx, const TrendOptions& options) {
  auto text = ResolveSelector(options);
  if (!text) return ctx.Fail(text.error());
  auto selector = store::Selector::Parse(*text);
  if (!selector) return ctx.Fail(selector.error().WithContext("trend: selector"));
  auto since = ParseDuration(options.since);
  if (!since) return ctx.Fail(since.error().WithContext("trend: --since"));
  if (*since <= Duration(0)) return ctx.Fail(Status::InvalidArgument("trend: --since must be longer than 0s"));
  Duration step = DefaultStep(*since);
  if (!options.step.empty()) {
    auto parsed = ParseDuration(options.step);
    if (!parsed) return ctx.Fail(parsed.error().WithContext("trend: --step"));
    step = *parsed;
  }
  if (step < std::chrono::seconds(1)) return ctx.Fail(Status::InvalidArgument("trend: --step must be at least 1s"));
  if (static_cast<size_t>(*since / step) > kMaxSlots) {
    return ctx.Fail(
        Status::InvalidArgument(fmt::format("trend: --since {} at --step {} is more than {} buckets; use a longer step",
                                            options.since, options.step, kMaxSlots)));
  }
  auto until = ParseTimeArg(options.until, ctx.clock->Now());
  if (!until) return ctx.Fail(until.error().WithContext("trend: --until"));

  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return ctx.Fail(store.error());
  auto series = (*store)->Select(*selector);
  if (!series) return ctx.Fail(series.error());
  if (series->empty()) return ctx.Fail(Status::NotFound(fmt::format("trend: no series matches {}", *text)));

  // [from, to) includes a sample taken at `until`.
  const TimePoint to = *until + Duration(1);
  TrendView view;
  view.selector = *text;
  view.since = options.since;
  view.until = *until;
  auto transitions = analyzer::ReadTransitions(**store, *until);
  if (!transitions) return ctx.Fail(transitions.error().WithContext("trend: alert history"));
  const std::vector<AlertEpisode> episodes = BuildEpisodes(*transitions);
  if (Status status = FillView(**store, *series, episodes, to - *since, to, step, view); !status.ok()) {
    return ctx.Fail(status);
  }
  if (options.step.empty()) {
    if (auto spacing = SparseSpacing(view)) {
      for (Duration candidate : kStepCandidates) {
        if (candidate < *spacing) continue;
        if (Status status = FillView(**store, *series, episodes, to - *since, to, candidate, view); !status.ok()) {
          return ctx.Fail(status);
        }
        break;
      }
    }
  }
  const bool any_samples =
      std::any_of(view.series.begin(), view.series.end(), [](const SeriesTrend& s) { return s.stats.has_value(); });
  if (!any_samples) {
    return ctx.Fail(Status::NotFound(
        fmt::format("trend: no samples of {} in the last {} before {}", *text, options.since, FormatRfc3339(*until))));
  }

  if (!options.svg.empty()) {
    std::ofstream file(options.svg, std::ios::binary | std::ios::trunc);
    const std::string svg = RenderSvg(view);
    file.write(svg.data(), static_cast<std::streamsize>(svg.size()));
    file.close();
    if (!file) return ctx.Fail(Status::IOError(fmt::format("trend: cannot write --svg {}", options.svg)));
  }
  if (options.csv) {
    *ctx.out << TrendCsv(view);
  } else if (options.json) {
    *ctx.out << TrendJson(view).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    RenderTerminal(*ctx.out, view, TerminalWidth());
    if (!options.svg.empty()) *ctx.out << fmt::format("chart written to {}\n", options.svg);
  }
}

}  // namespace

void AddTrendCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("trend", "Historical trend of the series matching a selector");
  auto options = std::make_shared<TrendOptions>();
  cmd->add_option("selector", options->selector,
                  "Series selector, e.g. 'system_load1' or 'm{process=\"w1\"}', or a shortcut: memory, cpu, "
                  "restarts, uptime (--process NAME), participants (--channel NAME), events")
      ->required();
  cmd->add_option("--since", options->since, "How far back, e.g. 24h, 7d (default 7d)");
  cmd->add_option("--step", options->step, "Bucket width, e.g. 5m, 1h (default: at most 100 buckets)");
  cmd->add_option("--until", options->until, "End of the range: RFC 3339, unix seconds or now-2h (default now)");
  cmd->add_option("--process", options->process, "Only series of this process (label process)");
  cmd->add_option("--channel", options->channel, "Only series of this channel (label channel)");
  auto* csv = cmd->add_flag("--csv", options->csv, "One CSV row per bucket: series,start,min,avg,max,count");
  auto* json = cmd->add_flag("--json", options->json, "One JSON document: buckets, statistics, alerts, baseline");
  csv->excludes(json);
  cmd->add_option("--svg", options->svg, "Also write the chart as a standalone SVG file");
  cmd->callback([&ctx, options] { RunTrend(ctx, *options); });
}

}  // namespace offmon::query
