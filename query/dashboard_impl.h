// What the dashboard's pages share: the page shell around a fragment, the embedded
// static assets, and small formatting helpers. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "offmon/common/time.h"
#include "offmon/query/dashboard.h"

namespace offmon::query {

// The dashboard's pages, for the navigation bar.
enum class DashboardPage { kOverview, kCharts, kAlerts };

// A whole HTML page: head (stylesheet and script from /static), navigation with `page`
// current, and <main> holding `fragment`, which the script replaces every
// `refresh_seconds` by what `live_src` returns. `range_bar`: the charts' range links
// (empty: none).
std::string PageShell(DashboardPage page, std::string_view title, std::string_view live_src, std::string_view range_bar,
                      const std::string& fragment, TimePoint at);

// The embedded assets (generated from query/dashboard/ by CMake): nullptr for an unknown
// name. `content_type` is set for a known one.
const std::string_view* DashboardAsset(std::string_view name, std::string_view* content_type);

// How far back a range reaches: 1h, 24h, 7d, 30d.
Duration ChartRangeLength(ChartRange range);

// "2025-11-15 04:45:30", the report's time format.
std::string DashboardTime(TimePoint t);

// How often the script polls the live fragment.
inline constexpr int kRefreshSeconds = 5;

}  // namespace offmon::query
