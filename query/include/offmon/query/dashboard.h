// The web dashboard the daemon serves (docs/dashboard.md): the health report as a page
// (overview), charts of processes, channels and the database, and the alert history, as
// server-rendered HTML with inline SVG, plus one stylesheet and one small script that
// polls the fragment endpoints and swaps the page's content without a reload. Everything
// served is in the binary: no CDN, no external font, no chart library.
//
//   GET /                      overview page        GET /api/overview  its live fragment
//   GET /charts?range=24h      charts page          GET /api/charts?range=24h
//   GET /alerts?range=7d       alert history page   GET /api/alerts?range=7d
//   GET /static/dashboard.css, /static/dashboard.js, /static/favicon.svg
//
// Every label read from the store (process, channel, alert summary, silence reason) is
// HTML-escaped. The pages load no inline script, so a Content-Security-Policy of
// `default-src 'self'` holds; the HTTP layer adds the headers (kDashboardSecurityHeaders).
// Read-only: nothing here writes to the store.
//
// Thread safety: pure functions, except those taking a store, which use it from the
// calling thread only.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "offmon/common/config.h"
#include "offmon/common/result.h"
#include "offmon/common/time.h"
#include "offmon/query/health_report.h"
#include "offmon/store/store.h"

namespace offmon::query {

// One answer of the dashboard: status, type and whole body (pages are small).
struct DashboardResponse {
  unsigned status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
};

// The headers every dashboard response (and, in the daemon, every response) carries.
inline constexpr std::pair<std::string_view, std::string_view> kDashboardSecurityHeaders[] = {
    {"Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
};

// Whether `path` (without the query string) is one of the dashboard's.
bool IsDashboardPath(std::string_view path);

// Answers GET `target` ("/charts?range=7d") as of `at`. 404 for a path not the
// dashboard's, 400 for a bad range; the store's error (Corruption, IOError) when a read
// fails.
Result<DashboardResponse> ServeDashboard(store::Store& store, const Config& config, TimePoint at,
                                         std::string_view target);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);

// The overview: the health report plus, per process, the last hour of memory and CPU
// for the sparklines (at most 60 values, each the mean of consecutive samples, oldest
// first).
struct Sparkline {
  std::vector<double> values;
};
struct OverviewData {
  HealthReport report;
  std::map<std::string, Sparkline> memory, cpu;  // by process name
};

// Builds the overview as of `at`. Fails with the store's error when a read fails.
Result<OverviewData> BuildOverview(store::Store& store, const Config& config, TimePoint at);

// The overview's content (what /api/overview returns and / wraps in the page shell).
std::string RenderOverviewFragment(const OverviewData& data);
// The whole overview page.
std::string RenderOverviewPage(const OverviewData& data);

// The charts' time ranges, each read from the store at a step that keeps a chart near
// 60-120 points (1h: raw minutes; 24h: 15 min; 7d: 2 h; 30d: 6 h, the rollups).
enum class ChartRange { k1h, k24h, k7d, k30d };
// "1h", "24h", "7d", "30d" (default 24h when empty); InvalidArgument otherwise.
Result<ChartRange> ParseChartRange(std::string_view text);
std::string_view ChartRangeName(ChartRange range);

// The charts' content over `range` before `at`: per process memory and CPU, per channel
// participants with the baseline band, the database's events/hour and response time,
// alert markers on each. Fails with the store's error.
Result<std::string> RenderChartsFragment(store::Store& store, const Config& config, TimePoint at, ChartRange range);

// The alert history's content: episodes that fired within `range` before `at` (as
// `offmon alerts`), with durations and per receiver delivery state, and the silences
// active at `at`. Fails with the store's error.
Result<std::string> RenderAlertsFragment(store::Store& store, const Config& config, TimePoint at, ChartRange range);

}  // namespace offmon::query
