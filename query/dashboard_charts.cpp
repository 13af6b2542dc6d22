// The dashboard's charts page: the trend SVG (svg_chart.cpp) inline, one chart per
// process (memory and CPU), per channel (participants with the baseline band) and one
// for the database (events/hour, response time), each with its alert markers.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "alert_history_impl.h"
#include "dashboard_impl.h"
#include "offmon/analyzer/robust_trend.h"
#include "offmon/common/metric_names.h"
#include "offmon/query/dashboard.h"
#include "offmon/store/selector.h"
#include "series_trend_impl.h"
#include "svg_chart_impl.h"

namespace offmon::query {

namespace {

// The step of each range: about 60-120 points; beyond a day a multiple of an hour, which
// the 1-hour rollups answer (store/buckets.h picks the source by step).
Duration StepOf(ChartRange range) {
  using std::chrono::hours, std::chrono::minutes;
  switch (range) {
    case ChartRange::k1h:
      return minutes(1);
    case ChartRange::k24h:
      return minutes(15);
    case ChartRange::k7d:
      return hours(2);
    case ChartRange::k30d:
      return hours(6);
  }
  return minutes(15);
}

// Every series of `metric`, grouped by the value of `label` (all under "" for none).
Status Group(store::Store& store, std::string_view metric, std::string_view label,
             std::map<std::string, std::vector<store::SeriesInfo>>* out) {
  auto selector = store::Selector::Parse(metric);
  if (!selector) return selector.error();
  auto series = store.Select(*selector);
  if (!series) return series.error();
  for (store::SeriesInfo& info : *series) {
    (*out)[std::string(label.empty() ? std::string_view() : info.key.Label(label))].push_back(std::move(info));
  }
  return Status::Ok();
}

// A crossing further out than this is no projection worth drawing.
constexpr double kFarthestCrossingS = 366.0 * 86400;

// For each memory series of `view` whose process has a MemoryLeak firing: the Theil–Sen
// line through its bucket means since the leak began (the last three buckets at least),
// drawn with the chart as the trend the limit is projected from.
void AddLeakTrends(const std::vector<AlertEpisode>& episodes, double limit, TrendView& view) {
  for (SeriesTrend& s : view.series) {
    if (s.key.name != metric::kProcessMemoryBytes) continue;
    auto leak = std::find_if(episodes.begin(), episodes.end(), [&](const AlertEpisode& e) {
      return e.alert == "MemoryLeak" && !e.resolved_at && BelongsTo(e, s.key);
    });
    if (leak == episodes.end()) continue;
    std::vector<const store::RollupBucket*> used;
    for (const store::RollupBucket& b : s.buckets) {
      if (b.count > 0) used.push_back(&b);
    }
    const auto since = std::find_if(used.begin(), used.end(), [&](const store::RollupBucket* b) {
      return b->start + view.grid.step > leak->active_since;
    });
    used.erase(used.begin(), std::min(since, used.end() - std::min<ptrdiff_t>(3, std::ssize(used))));
    if (used.size() < 2) continue;
    // Bucket means are drawn at the middle of their buckets; so is the line.
    const TimePoint from = used.front()->start + view.grid.step / 2;
    std::vector<double> x, y, offsets;
    for (const store::RollupBucket* b : used) {
      x.push_back(std::chrono::duration<double>(b->start + view.grid.step / 2 - from).count());
      y.push_back(b->avg());
    }
    const std::optional<double> slope = analyzer::TheilSenSlope(x, y);
    if (!slope) continue;
    for (size_t i = 0; i < x.size(); ++i) offsets.push_back(y[i] - *slope * x[i]);
    std::nth_element(offsets.begin(), offsets.begin() + std::ssize(offsets) / 2, offsets.end());
    LeakTrend trend{from, offsets[offsets.size() / 2], *slope, limit, std::nullopt};
    const double seconds_to_limit = (limit - trend.from_value) / *slope;
    if (*slope > 0 && seconds_to_limit < kFarthestCrossingS) {
      trend.crossing = from + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds_to_limit));
    }
    s.leak_trend = trend;
  }
}

// One chart: `series` over the range, rendered as inline SVG (the XML declaration of the
// standalone document dropped).
// `min_step`: epochs are hourly, so a channel's chart takes at least an hour a point, else
// its line would be dots with gaps between them (as `offmon trend` widens a sparse step).
Result<std::string> Chart(store::Store& store, const Config& config, const std::vector<store::SeriesInfo>& series,
                          const std::vector<AlertEpisode>& episodes, TimePoint at, ChartRange range,
                          const std::string& title, std::string_view kind, const std::string& name,
                          Duration min_step = Duration(0)) {
  const TimePoint to = at + Duration(1);
  TrendView view;
  view.selector = title;
  view.since = std::string(ChartRangeName(range));
  view.until = at;
  const Duration step = std::max(StepOf(range), min_step);
  OFFMON_RETURN_IF_ERROR(FillView(store, series, episodes, to - ChartRangeLength(range), to, step, view));
  const RuleSet& rules = config.analyzer.rules;
  if (auto leak = rules.find("MemoryLeak"); leak != rules.end() && leak->second.enabled) {
    AddLeakTrends(episodes, leak->second.Param("limit"), view);
  }
  std::string svg = RenderSvg(view);
  if (svg.starts_with("<?xml")) svg.erase(0, svg.find('\n') + 1);
  return fmt::format("<div class=\"chart\" data-kind=\"{}\" data-name=\"{}\">\n{}</div>\n", kind, HtmlEscape(name),
                     svg);
}

// Under a process's chart, each MemoryLeak still firing on its memory: the leak detector's
// summary, which states the growth rate and when the limit is projected to be reached.
std::string LeakNotes(const std::vector<AlertEpisode>& episodes, const std::vector<store::SeriesInfo>& series) {
  std::string out;
  for (const AlertEpisode& e : episodes) {
    if (e.alert != "MemoryLeak" || e.resolved_at) continue;
    const bool ours = std::any_of(series.begin(), series.end(), [&](const store::SeriesInfo& info) {
      return info.key.name == metric::kProcessMemoryBytes && BelongsTo(e, info.key);
    });
    if (!ours) continue;
    out += fmt::format("<p class=\"leak {}\" data-alert=\"MemoryLeak\">MemoryLeak since {}: {}</p>\n",
                       analyzer::SeverityName(e.severity), DashboardTime(e.fired_at), HtmlEscape(e.summary));
  }
  return out;
}

}  // namespace

Result<std::string> RenderChartsFragment(store::Store& store, const Config& config, TimePoint at, ChartRange range) {
  auto transitions = analyzer::ReadTransitions(store, at);
  if (!transitions) return transitions.error();
  const std::vector<AlertEpisode> episodes = BuildEpisodes(*transitions);

  std::map<std::string, std::vector<store::SeriesInfo>> processes, channels, database;
  OFFMON_RETURN_IF_ERROR(Group(store, "process_memory_bytes", "process", &processes));
  OFFMON_RETURN_IF_ERROR(Group(store, "process_cpu_percent", "process", &processes));
  OFFMON_RETURN_IF_ERROR(Group(store, "epoch_participants", "channel", &channels));
  OFFMON_RETURN_IF_ERROR(Group(store, "db_events_last_hour", "", &database));
  OFFMON_RETURN_IF_ERROR(Group(store, "db_response_seconds", "", &database));

  std::string out;
  out += "<section id=\"process-charts\"><h2>Processes: memory and CPU</h2>\n";
  if (processes.empty()) out += "<p class=\"muted\">no data: no process series in the store</p>\n";
  for (const auto& [name, series] : processes) {
    auto chart = Chart(store, config, series, episodes, at, range, "memory and CPU of " + name, "process", name);
    if (!chart) return chart.error();
    out += *chart;
    out += LeakNotes(episodes, series);
  }
  out += "</section>\n<section id=\"channel-charts\"><h2>Channels: participants per epoch, baseline band</h2>\n";
  if (channels.empty()) out += "<p class=\"muted\">no data: no epoch_participants series in the store</p>\n";
  for (const auto& [name, series] : channels) {
    auto chart = Chart(store, config, series, episodes, at, range, "participants of " + name, "channel", name,
                       std::chrono::hours(1));
    if (!chart) return chart.error();
    out += *chart;
  }
  out += "</section>\n<section id=\"database-charts\"><h2>Database: events per hour, response time</h2>\n";
  if (database.empty()) {
    out += "<p class=\"muted\">no data: the database collector has recorded nothing</p>\n";
  } else {
    auto chart = Chart(store, config, database[""], episodes, at, range, "database", "database", "database");
    if (!chart) return chart.error();
    out += *chart;
  }
  out += "</section>\n";
  return out;
}

}  // namespace offmon::query
