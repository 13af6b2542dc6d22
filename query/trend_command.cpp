#include <ostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "offmon/analyzer/series_stats.h"
#include "offmon/query/query_command.h"
#include "offmon/store/buckets.h"
#include "offmon/store/store_command.h"

namespace offmon::query {

namespace {

struct TrendOptions {
  std::string selector;
  std::string since = "7d";
  std::string step;  // default: about 60 rows over the range
};

// Picks a step giving ~60 rows, rounded to one the rollups answer.
Duration DefaultStep(Duration range) {
  using namespace std::chrono;
  for (Duration step : {Duration(minutes(5)), Duration(minutes(15)), Duration(hours(1)), Duration(hours(6)),
                        Duration(hours(24))}) {
    if (range / step <= 100) return step;
  }
  return hours(24 * 7);
}

void RunTrend(CliContext& ctx, const TrendOptions& options) {
  auto selector = store::Selector::Parse(options.selector);
  if (!selector) return ctx.Fail(selector.error().WithContext("trend: selector"));
  auto since = ParseDuration(options.since);
  if (!since) return ctx.Fail(since.error().WithContext("trend: --since"));
  Duration step = DefaultStep(*since);
  if (!options.step.empty()) {
    auto parsed = ParseDuration(options.step);
    if (!parsed) return ctx.Fail(parsed.error().WithContext("trend: --step"));
    step = *parsed;
  }
  auto store = store::OpenStoreForCommand(ctx, /*read_only=*/true);
  if (!store) return ctx.Fail(store.error());
  auto series = (*store)->Select(*selector);
  if (!series) return ctx.Fail(series.error());
  if (series->empty()) {
    return ctx.Fail(Status::NotFound(fmt::format("trend: no series matches {}", options.selector)));
  }
  const TimePoint to = ctx.clock->Now() + Duration(1);
  const TimePoint from = to - *since;
  for (const store::SeriesInfo& info : *series) {
    auto buckets = store::ReadBuckets(**store, info.id, from, to, step);
    if (!buckets) return ctx.Fail(buckets.error());
    *ctx.out << fmt::format("{}  (last {}, step {})\n", info.key.ToString(), options.since,
                            FormatDurationShort(step));
    if (buckets->empty()) {
      *ctx.out << "  no samples in range\n\n";
      continue;
    }
    *ctx.out << fmt::format("  {:<24} {:>14} {:>14} {:>14} {:>7}\n", "time", "min", "avg", "max", "samples");
    std::vector<Sample> averages;
    for (const store::RollupBucket& b : *buckets) {
      *ctx.out << fmt::format("  {:<24} {:>14.6g} {:>14.6g} {:>14.6g} {:>7}\n", FormatRfc3339(b.start), b.min,
                              b.avg(), b.max, b.count);
      averages.push_back(Sample{b.start, b.avg()});
    }
    auto last = (*store)->ReadRange(info.id, std::max(from, buckets->back().start), to);
    if (!last) return ctx.Fail(last.error());
    if (!last->empty()) {
      *ctx.out << fmt::format("  last: {:.6g} at {}\n", last->back().value, FormatRfc3339(last->back().time));
    }
    if (auto stats = analyzer::Summarize(averages); stats && stats->slope_per_hour) {
      *ctx.out << fmt::format("  slope: {:+.6g}/h\n", *stats->slope_per_hour);
    }
    *ctx.out << '\n';
  }
}

}  // namespace

void AddTrendCommand(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("trend", "Historical trend of the series matching a selector");
  auto options = std::make_shared<TrendOptions>();
  cmd->add_option("selector", options->selector, "Series selector, e.g. 'system_load1' or 'm{process=\"w1\"}'")
      ->required();
  cmd->add_option("--since", options->since, "How far back, e.g. 24h, 7d (default 7d)");
  cmd->add_option("--step", options->step, "Bucket width, e.g. 5m, 1h (default: about 60 rows)");
  cmd->callback([&ctx, options] { RunTrend(ctx, *options); });
}

}  // namespace offmon::query
