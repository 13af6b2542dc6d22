#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "trend_export_impl.h"

namespace offmon::query {

namespace {

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// JSON has no NaN or infinity: null instead.
nlohmann::json Number(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

}  // namespace

nlohmann::json LabelsJson(const Labels& labels) {
  nlohmann::json out = nlohmann::json::object();
  for (const Label& l : labels) out[l.name] = l.value;
  return out;
}

std::string TrendCsv(const TrendView& view) {
  std::string out = "series,start,min,avg,max,count\n";
  for (const SeriesTrend& s : view.series) {
    const std::string key = CsvField(s.key.ToString());
    for (const store::RollupBucket& b : s.buckets) {
      if (b.count <= 0) continue;
      out += fmt::format("{},{},{},{},{},{}\n", key, FormatRfc3339(b.start), b.min, b.avg(), b.max, b.count);
    }
  }
  return out;
}

nlohmann::json EpisodeJson(const AlertEpisode& e, TimePoint until) {
  nlohmann::json out{{"alert", e.alert},
                     {"severity", analyzer::SeverityName(e.severity)},
                     {"labels", LabelsJson(e.labels)},
                     {"series", e.series},
                     {"summary", e.summary},
                     {"active_since", FormatRfc3339(e.active_since)},
                     {"fired_at", FormatRfc3339(e.fired_at)},
                     {"resolved_at", e.resolved_at ? nlohmann::json(FormatRfc3339(*e.resolved_at)) : nlohmann::json()},
                     {"duration_s", DurationSeconds(e.DurationUntil(until))},
                     {"escalated", e.escalated}};
  if (!e.inhibited_by.empty()) out["inhibited_by"] = e.inhibited_by;
  return out;
}

nlohmann::json TrendJson(const TrendView& view) {
  nlohmann::json series = nlohmann::json::array();
  for (const SeriesTrend& s : view.series) {
    nlohmann::json buckets = nlohmann::json::array();
    for (const store::RollupBucket& b : s.buckets) {
      if (b.count <= 0) continue;
      buckets.push_back({{"start", FormatRfc3339(b.start)},
                         {"min", Number(b.min)},
                         {"avg", Number(b.avg())},
                         {"max", Number(b.max)},
                         {"count", b.count}});
    }
    nlohmann::json stats;  // null without samples
    if (s.stats) {
      const TrendStats& st = *s.stats;
      stats = {{"count", st.count},
               {"min", Number(st.min)},
               {"avg", Number(st.avg)},
               {"max", Number(st.max)},
               {"p95", Number(st.p95)},
               {"p95_exact", st.p95_exact},
               {"last", {{"time", FormatRfc3339(st.last.time)}, {"value", Number(st.last.value)}}},
               {"slope_per_hour", st.slope_per_hour ? Number(*st.slope_per_hour) : nlohmann::json()},
               {"slope_per_day", st.slope_per_hour ? Number(*st.slope_per_day()) : nlohmann::json()},
               {"slope_method", "theil-sen over bucket means"},
               {"slope_points", st.slope_points}};
    }
    nlohmann::json alerts = nlohmann::json::array();
    for (const AlertEpisode& e : s.alerts) alerts.push_back(EpisodeJson(e, view.until));
    nlohmann::json baseline;
    if (!s.baseline.empty()) {
      nlohmann::json points = nlohmann::json::array();
      for (const BaselinePoint& b : s.baseline) {
        points.push_back(
            {{"start", FormatRfc3339(b.start)}, {"median", Number(b.median)}, {"spread", Number(b.spread)}});
      }
      baseline = {{"median_series", s.baseline_median}, {"spread_series", s.baseline_spread}, {"points", points}};
    }
    series.push_back({{"series", s.key.ToString()},
                      {"name", s.key.name},
                      {"labels", LabelsJson(s.key.labels)},
                      {"unit", UnitKindName(s.unit)},
                      {"stats", stats},
                      {"buckets", buckets},
                      {"alerts", alerts},
                      {"baseline", baseline}});
  }
  return {{"selector", view.selector},
          {"since", view.since},
          {"from", FormatRfc3339(view.grid.start)},
          {"to", FormatRfc3339(view.grid.end)},
          {"until", FormatRfc3339(view.until)},
          {"step_s", DurationSeconds(view.grid.step)},
          {"source", view.source},
          {"series", series}};
}

}  // namespace offmon::query
