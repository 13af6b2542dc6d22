// The dashboard's routing, page shell and overview page (the health report as HTML).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "dashboard_impl.h"
#include "offmon/common/format.h"
#include "offmon/query/dashboard.h"
#include "offmon/store/selector.h"
#include "svg_chart_impl.h"
#include "text_format_impl.h"

namespace offmon::query {

namespace {

constexpr Duration kSparklineRange = std::chrono::hours(1);
constexpr size_t kSparklinePoints = 60;
constexpr double kSparkWidth = 120, kSparkHeight = 24;

std::string Mebibytes(double bytes) { return fmt::format("{:.0f} MB", bytes / (1024.0 * 1024)); }
std::string Gibibytes(double bytes) { return fmt::format("{:.1f} G", bytes / (1024.0 * 1024 * 1024)); }

// The text report's stale note, as a span: "stale: last sample 2025-11-15 04:45:30, 3m ago".
std::string StaleMark(const Reading& reading, TimePoint at) {
  return fmt::format(" <span class=\"stale\">stale: last sample {}, {}</span>", DashboardTime(reading.time),
                     HtmlEscape(Ago(at, reading.time)));
}

// An escaped value, its stale mark, or "no data".
std::string Value(const Reading& reading, const std::string& text, TimePoint at) {
  if (!reading.present()) return "<span class=\"muted\">no data</span>";
  return HtmlEscape(text) + (reading.stale ? StaleMark(reading, at) : "");
}

// A small inline SVG line over `values` (oldest first); empty with fewer than two.
std::string SparklineSvg(const Sparkline& line, std::string_view what) {
  if (line.values.size() < 2) return "";
  const auto [lo_it, hi_it] = std::minmax_element(line.values.begin(), line.values.end());
  const double lo = *lo_it, hi = *hi_it;
  const double span = hi > lo ? hi - lo : 1;
  std::string points;
  const double dx = kSparkWidth / static_cast<double>(line.values.size() - 1);
  for (size_t i = 0; i < line.values.size(); ++i) {
    const double y = kSparkHeight - 2 - (line.values[i] - lo) / span * (kSparkHeight - 4);
    points += fmt::format("{}{:.1f},{:.1f}", i ? " " : "", dx * static_cast<double>(i), y);
  }
  return fmt::format(
      "<svg class=\"sparkline\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
      "aria-label=\"{2}\" data-points=\"{3}\"><polyline points=\"{4}\" fill=\"none\" stroke=\"#1f77b4\" "
      "stroke-width=\"1.5\"/></svg>",
      kSparkWidth, kSparkHeight, HtmlEscape(what), line.values.size(), points);
}

const Sparkline* Find(const std::map<std::string, Sparkline>& lines, const std::string& name) {
  auto it = lines.find(name);
  return it == lines.end() ? nullptr : &it->second;
}

// The newest stale reading of a process, which marks its row as the text report does.
const Reading* StaleOf(const ProcessStatus& p) {
  const Reading* stale = nullptr;
  for (const Reading* r : {&p.up, &p.uptime_seconds, &p.restarts_total, &p.memory_bytes, &p.cpu_percent}) {
    if (r->present() && r->stale && (stale == nullptr || r->time > stale->time)) stale = r;
  }
  return stale;
}

void StatusSection(const HealthReport& r, std::string& out) {
  const std::string_view status = HealthStatusName(r.status);
  out += fmt::format(
      "<section id=\"status\"><div class=\"status {0}\" data-status=\"{0}\">Status: {0}{1}</div>"
      "<div class=\"muted\">Report at {2}</div></section>\n",
      status,
      r.soft() ? " <span class=\"muted\">(pending: seen, not yet held for its rule's <code>for</code>)</span>" : "",
      HtmlEscape(FormatRfc3339(r.at)));
}

void AlertsSection(const HealthReport& r, std::string& out) {
  out += "<section id=\"alerts\"><h2>Active alerts</h2>\n";
  if (r.alerts.empty()) out += "<p class=\"ok\">No alerts</p>\n";
  for (const AlertRow& a : r.alerts) {
    const std::string_view severity = analyzer::SeverityName(a.severity);
    out +=
        fmt::format("<div class=\"alert sev-{}{}\" data-alert=\"{}\" data-state=\"{}\">", severity,
                    a.inhibited_by.empty() ? "" : " inhibited", HtmlEscape(a.alert), a.firing ? "firing" : "pending");
    out += fmt::format("<span class=\"{0}\">{0}</span> <span class=\"subject\">{1}</span>{2}<br>\n", severity,
                       HtmlEscape(SeriesKey(a.alert, a.labels).ToString()),
                       a.firing ? (a.escalated ? " <span class=\"muted\">(escalated)</span>" : "")
                                : " <span class=\"muted\">(pending)</span>");
    out += fmt::format("<span class=\"muted\">{} since {} ({})</span><br>\n", a.firing ? "firing" : "pending",
                       DashboardTime(a.since), HtmlEscape(Ago(r.at, a.since)));
    out += HtmlEscape(a.summary) + "<br>\n";
    if (!a.inhibited_by.empty()) out += fmt::format("caused by <code>{}</code><br>\n", HtmlEscape(a.inhibited_by));
    if (a.silenced) {
      out += fmt::format("<span class=\"note\">silenced until {} by {}: {}</span><br>\n",
                         DashboardTime(a.silenced->until), HtmlEscape(a.silenced->by), HtmlEscape(a.silenced->reason));
    }
    if (a.acknowledged) {
      out += fmt::format("<span class=\"note\">acknowledged until {} by {}: {}</span><br>\n",
                         DashboardTime(a.acknowledged->until), HtmlEscape(a.acknowledged->by),
                         HtmlEscape(a.acknowledged->reason));
    }
    if (!a.first_action.empty()) {
      out += fmt::format("First action ({}): {}\n", HtmlEscape(a.guide_section), HtmlEscape(a.first_action));
    }
    out += "</div>\n";
  }
  out += "</section>\n";
}

void ProcessesSection(const OverviewData& d, std::string& out) {
  const HealthReport& r = d.report;
  out += "<section id=\"processes\"><h2>Processes</h2>\n";
  if (r.processes.empty()) {
    out += "<p class=\"muted\">no data: no process series in the store</p></section>\n";
    return;
  }
  out +=
      "<table><thead><tr><th>Process</th><th>State</th><th>Uptime</th><th>Restarts (last hour)</th>"
      "<th>Memory</th><th>CPU</th></tr></thead><tbody>\n";
  for (const ProcessStatus& p : r.processes) {
    const Reading* stale = StaleOf(p);
    const bool online = p.status == "online" || (p.status.empty() && p.up.present() && *p.up.value >= 1);
    std::string restarts = "<span class=\"muted\">no data</span>";
    if (p.restarts_total.present()) {
      restarts = fmt::format("{:.0f}", *p.restarts_total.value);
      if (p.restarts_last_hour) restarts += fmt::format(" ({:.0f})", *p.restarts_last_hour);
    }
    std::string memory = p.memory_bytes.present() ? HtmlEscape(Mebibytes(*p.memory_bytes.value)) : "no data";
    if (const Sparkline* s = Find(d.memory, p.name)) memory += SparklineSvg(*s, "memory, last hour");
    std::string cpu = p.cpu_percent.present() ? fmt::format("{:.0f}%", *p.cpu_percent.value) : "no data";
    if (const Sparkline* s = Find(d.cpu, p.name)) cpu += SparklineSvg(*s, "CPU, last hour");
    out += fmt::format(
        "<tr class=\"process\" data-process=\"{0}\"><td>{0}{1}</td><td class=\"{2}\">{3}</td><td>{4}</td>"
        "<td>{5}</td><td>{6}</td><td>{7}</td></tr>\n",
        HtmlEscape(p.name), stale != nullptr ? StaleMark(*stale, r.at) : "", online ? "ok" : "down",
        HtmlEscape(p.status.empty() ? "unknown" : p.status),
        p.uptime_seconds.present() ? HtmlEscape(FormatDurationShort(std::chrono::duration_cast<Duration>(
                                         std::chrono::duration<double>(*p.uptime_seconds.value))))
                                   : "no data",
        restarts, memory, cpu);
  }
  out += "</tbody></table></section>\n";
}

void DatabaseSection(const HealthReport& r, std::string& out) {
  const DatabaseHealth& db = r.database;
  out += "<section id=\"database\"><h2>Database</h2>\n";
  if (!db.up.present() && !db.events_last_hour.present() && !db.latest_epoch.present()) {
    out += "<p class=\"muted\">no data: the database collector has recorded nothing</p></section>\n";
    return;
  }
  const bool up = db.up.present() && *db.up.value >= 1;
  out += "<table><tbody>\n";
  out += fmt::format("<tr><th>Connection</th><td class=\"{}\">{}</td></tr>\n", up ? "ok" : "down",
                     Value(db.up, up ? "Connected" : "Not connected", r.at));
  out += fmt::format(
      "<tr><th>Response time</th><td>{}</td></tr>\n",
      Value(db.response_seconds,
            db.response_seconds.present() ? fmt::format("{:.0f} ms", *db.response_seconds.value * 1000) : "", r.at));
  out += fmt::format(
      "<tr><th>Events (last hour)</th><td>{}</td></tr>\n",
      Value(db.events_last_hour, db.events_last_hour.present() ? GroupThousands(*db.events_last_hour.value) : "", r.at));
  std::string latest;
  if (db.latest_epoch.present()) {
    latest = fmt::format("{:.0f}", *db.latest_epoch.value);
    if (db.latest_epoch_age_seconds.present()) {
      latest += fmt::format(" ({:.0f} seconds old)", *db.latest_epoch_age_seconds.value);
    }
  }
  out += fmt::format("<tr><th>Latest epoch</th><td>{}</td></tr>\n", Value(db.latest_epoch, latest, r.at));
  if (db.backfill_oldest_epoch.present()) {
    const bool done = db.backfill_done.present() && *db.backfill_done.value >= 1;
    out += fmt::format("<tr><th>History</th><td>read back to {}{}</td></tr>\n",
                       DashboardTime(FromMillis(static_cast<int64_t>(*db.backfill_oldest_epoch.value) * 1000)),
                       done ? " (backfill complete)" : " (backfill in progress: baselines are partial)");
  }
  out += "</tbody></table></section>\n";
}

// A line under the epochs and channels while the store is behind the database.
std::string BehindNote(const HealthReport& r) {
  std::optional<int64_t> newest;
  for (const EpochRow& e : r.epochs) {
    if (e.epoch) newest = std::max(newest.value_or(*e.epoch), *e.epoch);
  }
  if (!r.database.Behind(newest)) return "";
  return "<p class=\"stale\">collector behind: the store has not caught up with the database</p>\n";
}

void EpochsSection(const HealthReport& r, std::string& out) {
  out += "<section id=\"epochs\"><h2>Recent epochs</h2>\n";
  if (r.epochs.empty()) {
    out += "<p class=\"muted\">no data: no sealed epochs in the store</p></section>\n";
    return;
  }
  out +=
      "<table><thead><tr><th>Epoch</th><th>Channel</th><th>Participants</th><th>Sealed</th><th>Published</th>"
      "</tr></thead><tbody>\n";
  for (const EpochRow& e : r.epochs) {
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                       e.epoch ? std::to_string(*e.epoch) : "-", HtmlEscape(e.channel),
                       GroupThousands(static_cast<double>(e.participants)), DashboardTime(e.sealed_at),
                       !e.published   ? "unknown"
                       : *e.published ? "<span class=\"ok\">yes</span>"
                                      : "<span class=\"down\">no</span>");
  }
  out += "</tbody></table>\n" + BehindNote(r) + "</section>\n";
}

void ChannelsSection(const HealthReport& r, std::string& out) {
  out += "<section id=\"channels\"><h2>Channels</h2>\n";
  if (r.channels.empty()) {
    out += "<p class=\"muted\">no data: no epoch_participants series in the store</p></section>\n";
    return;
  }
  out +=
      "<table><thead><tr><th>Channel</th><th>Last epoch</th><th>Sealed</th><th>Baseline</th></tr></thead>"
      "<tbody>\n";
  for (const ChannelRow& c : r.channels) {
    std::string baseline = "no baseline yet (too few epochs)";
    if (c.baseline) {
      baseline = analyzer::FormatBaseline(*c.baseline);
      if (c.last_participants && c.baseline->median > 0) {
        const double change = std::round((*c.last_participants / c.baseline->median - 1) * 100);
        baseline += fmt::format(" ({:+.0f}%)", change == 0 ? 0.0 : change);
      }
    }
    out += fmt::format(
        "<tr class=\"channel\" data-channel=\"{0}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td>"
        "</tr>\n",
        HtmlEscape(c.channel), c.last_participants ? GroupThousands(*c.last_participants) : "-",
        c.last_sealed_at ? DashboardTime(*c.last_sealed_at) : "-", HtmlEscape(baseline));
  }
  out += "</tbody></table>\n" + BehindNote(r) + "</section>\n";
}

void SilencesSection(const HealthReport& r, std::string& out) {
  if (r.silences.empty()) return;
  out += "<section id=\"silences\"><h2>Silences</h2><table><tbody>\n";
  for (const analyzer::Silence& s : r.silences) {
    out += fmt::format("<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>until {} by {}: {}</td></tr>\n",
                       HtmlEscape(s.id), HtmlEscape(analyzer::MatchersText(s.matchers)), DashboardTime(s.end()),
                       HtmlEscape(s.by), HtmlEscape(s.reason));
  }
  out += "</tbody></table></section>\n";
}

void SystemSection(const HealthReport& r, std::string& out) {
  const SystemResources& s = r.system;
  out += "<section id=\"system\"><h2>System resources</h2><table><tbody>\n";
  std::string memory = "<span class=\"muted\">no data</span>";
  if (s.memory_total_bytes.present() && s.memory_available_bytes.present()) {
    memory =
        Value(s.memory_available_bytes,
              fmt::format("{} used | {} free", Gibibytes(*s.memory_total_bytes.value - *s.memory_available_bytes.value),
                          Gibibytes(*s.memory_available_bytes.value)),
              r.at);
  }
  out += fmt::format("<tr><th>Memory</th><td>{}</td></tr>\n", memory);
  std::string load = "<span class=\"muted\">no data</span>";
  if (s.load1.present() && s.load5.present() && s.load15.present()) {
    load = Value(s.load1, fmt::format("{:.2f}, {:.2f}, {:.2f}", *s.load1.value, *s.load5.value, *s.load15.value), r.at);
  }
  out += fmt::format("<tr><th>CPU load (1/5/15 min)</th><td>{}</td></tr>\n", load);
  if (s.cpu_percent.present()) {
    out += fmt::format("<tr><th>CPU</th><td>{}</td></tr>\n",
                       Value(s.cpu_percent, fmt::format("{:.0f}%", *s.cpu_percent.value), r.at));
  }
  for (const DiskRow& d : s.disks) {
    if (!d.free_bytes.present()) continue;
    std::string text = Gibibytes(*d.free_bytes.value) + " free";
    if (d.total_bytes.present() && *d.total_bytes.value > 0) {
      text += fmt::format(" of {} ({:.0f}% used)", Gibibytes(*d.total_bytes.value),
                          (1 - *d.free_bytes.value / *d.total_bytes.value) * 100);
    }
    out += fmt::format("<tr><th>Disk {}</th><td>{}</td></tr>\n", HtmlEscape(d.mount), Value(d.free_bytes, text, r.at));
  }
  if (s.disks.empty()) out += "<tr><th>Disk</th><td><span class=\"muted\">no data</span></td></tr>\n";
  out += "</tbody></table></section>\n";
}

// Per process, the last hour of `metric`: the raw samples, averaged in groups down to at
// most kSparklinePoints (a daemon started a minute ago already draws a line).
Status ReadSparklines(store::Store& store, std::string_view metric, TimePoint at,
                      std::map<std::string, Sparkline>* out) {
  auto selector = store::Selector::Parse(metric);
  if (!selector) return selector.error();
  auto series = store.Select(*selector);
  if (!series) return series.error();
  for (const store::SeriesInfo& info : *series) {
    const std::string process(info.key.Label("process"));
    if (process.empty()) continue;
    auto samples = store.ReadRange(info.id, at - kSparklineRange, at + Duration(1));
    if (!samples) return samples.error();
    const size_t group = (samples->size() + kSparklinePoints - 1) / kSparklinePoints;
    Sparkline& line = (*out)[process];
    for (size_t i = 0; i < samples->size(); i += group) {
      const size_t end = std::min(samples->size(), i + group);
      double sum = 0;
      size_t n = 0;
      for (size_t j = i; j < end; ++j) {
        if (!std::isfinite((*samples)[j].value)) continue;  // a gap, not a point
        sum += (*samples)[j].value;
        ++n;
      }
      if (n > 0) line.values.push_back(sum / static_cast<double>(n));
    }
  }
  return Status::Ok();
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// The value of `name` in the target's query string ("range=7d"), undecoded; empty when
// absent.
std::string_view QueryValue(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    const size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

std::string RangeBar(std::string_view page, ChartRange current) {
  std::string out = "<div class=\"range\">Range: ";
  for (ChartRange r : {ChartRange::k1h, ChartRange::k24h, ChartRange::k7d, ChartRange::k30d}) {
    out += fmt::format("<a href=\"{}?range={}\"{}>{}</a>", page, ChartRangeName(r),
                       r == current ? " class=\"current\"" : "", ChartRangeName(r));
  }
  return out + "</div>\n";
}

DashboardResponse Html(std::string body) { return DashboardResponse{200, "text/html; charset=utf-8", std::move(body)}; }

}  // namespace

// The SVG charts' escaping serves HTML too (&apos; is an HTML5 entity).
std::string HtmlEscape(std::string_view text) { return XmlEscape(text); }

std::string DashboardTime(TimePoint t) {
  std::string text = FormatRfc3339(t).substr(0, 19);
  if (text.size() > 10) text[10] = ' ';
  return text;
}

std::string PageShell(DashboardPage page, std::string_view title, std::string_view live_src, std::string_view range_bar,
                      const std::string& fragment, TimePoint at) {
  auto link = [page](DashboardPage p, std::string_view href, std::string_view text) {
    return fmt::format("<a href=\"{}\"{}>{}</a>", href, p == page ? " class=\"current\"" : "", text);
  };
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>offmon: {0}</title><link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">"
      "<link rel=\"stylesheet\" href=\"/static/dashboard.css\">"
      "<script src=\"/static/dashboard.js\" defer></script></head>\n<body>"
      "<header><span class=\"brand\">offmon</span><nav>{1}{2}{3}</nav>"
      "<span id=\"updated\">updated {4}Z</span></header>\n"
      "<main><h1 class=\"muted\">{0}</h1>{5}<div id=\"live\" data-src=\"{6}\" data-refresh=\"{7}\">\n{8}</div></main>"
      "</body></html>\n",
      HtmlEscape(title), link(DashboardPage::kOverview, "/", "Overview"),
      link(DashboardPage::kCharts, "/charts", "Charts"), link(DashboardPage::kAlerts, "/alerts", "Alerts"),
      DashboardTime(at).substr(11), range_bar, HtmlEscape(live_src), kRefreshSeconds, fragment);
}

Result<OverviewData> BuildOverview(store::Store& store, const Config& config, TimePoint at) {
  auto report = BuildHealthReport(store, config, at);
  if (!report) return report.error();
  OverviewData data;
  data.report = std::move(*report);
  OFFMON_RETURN_IF_ERROR(ReadSparklines(store, "process_memory_bytes", at, &data.memory));
  OFFMON_RETURN_IF_ERROR(ReadSparklines(store, "process_cpu_percent", at, &data.cpu));
  return data;
}

std::string RenderOverviewFragment(const OverviewData& data) {
  std::string out;
  out.reserve(16 * 1024);
  StatusSection(data.report, out);
  AlertsSection(data.report, out);
  ProcessesSection(data, out);
  DatabaseSection(data.report, out);
  EpochsSection(data.report, out);
  ChannelsSection(data.report, out);
  SilencesSection(data.report, out);
  SystemSection(data.report, out);
  return out;
}

std::string RenderOverviewPage(const OverviewData& data) {
  return PageShell(DashboardPage::kOverview, "Overview", "/api/overview", "", RenderOverviewFragment(data),
                   data.report.at);
}

Result<ChartRange> ParseChartRange(std::string_view text) {
  if (text.empty() || text == "24h") return ChartRange::k24h;
  if (text == "1h") return ChartRange::k1h;
  if (text == "7d") return ChartRange::k7d;
  if (text == "30d") return ChartRange::k30d;
  return Status::InvalidArgument("range: one of 1h, 24h, 7d, 30d");
}

Duration ChartRangeLength(ChartRange range) {
  using std::chrono::hours;
  switch (range) {
    case ChartRange::k1h:
      return hours(1);
    case ChartRange::k24h:
      return hours(24);
    case ChartRange::k7d:
      return hours(24 * 7);
    case ChartRange::k30d:
      return hours(24 * 30);
  }
  return hours(24);
}

std::string_view ChartRangeName(ChartRange range) {
  switch (range) {
    case ChartRange::k1h:
      return "1h";
    case ChartRange::k24h:
      return "24h";
    case ChartRange::k7d:
      return "7d";
    case ChartRange::k30d:
      return "30d";
  }
  return "24h";
}

bool IsDashboardPath(std::string_view path) {
  return path == "/" || path == "/charts" || path == "/alerts" || path == "/api/overview" || path == "/api/charts" ||
         path == "/api/alerts" || path.starts_with("/static/");
}

Result<DashboardResponse> ServeDashboard(store::Store& store, const Config& config, TimePoint at,
                                         std::string_view target) {
  const std::string_view path = PathOf(target);
  if (path.starts_with("/static/")) {
    std::string_view type;
    const std::string_view* asset = DashboardAsset(path.substr(8), &type);
    if (asset == nullptr) return DashboardResponse{404, "text/plain; charset=utf-8", "not found\n"};
    return DashboardResponse{200, std::string(type), std::string(*asset)};
  }
  if (path == "/" || path == "/api/overview") {
    auto data = BuildOverview(store, config, at);
    if (!data) return data.error();
    return Html(path == "/" ? RenderOverviewPage(*data) : RenderOverviewFragment(*data));
  }
  if (path == "/charts" || path == "/api/charts" || path == "/alerts" || path == "/api/alerts") {
    const bool alerts = path.ends_with("alerts");
    const std::string_view range_text = QueryValue(target, "range");
    auto range = alerts && range_text.empty() ? Result<ChartRange>(ChartRange::k7d) : ParseChartRange(range_text);
    if (!range) return DashboardResponse{400, "text/plain; charset=utf-8", range.error().message() + "\n"};
    auto fragment =
        alerts ? RenderAlertsFragment(store, config, at, *range) : RenderChartsFragment(store, config, at, *range);
    if (!fragment) return fragment.error();
    if (path.starts_with("/api/")) return Html(std::move(*fragment));
    const std::string live = fmt::format("/api/{}?range={}", alerts ? "alerts" : "charts", ChartRangeName(*range));
    return Html(PageShell(alerts ? DashboardPage::kAlerts : DashboardPage::kCharts, alerts ? "Alerts" : "Charts", live,
                          RangeBar(alerts ? "/alerts" : "/charts", *range), *fragment, at));
  }
  return DashboardResponse{404, "text/plain; charset=utf-8", "not found\n"};
}

}  // namespace offmon::query
