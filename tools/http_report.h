// The health report as JSON for the daemon's GET /api/report, and the web dashboard: the
// daemon's report_json and dashboard hooks, set by the app layer because the collector may not use the query module that
// builds and renders the report (data flows collector -> store -> analyzer -> query).
#pragma once

#include "offmon/collector/daemon.h"

namespace offmon::tools {

// A hook returning query::RenderReportJson of query::BuildHealthReport at the given time
// (docs/report.md has the schema); the store's error when the report cannot be built.
collector::ReportJson HttpReportJson();

// A hook answering the web dashboard's paths with query::ServeDashboard (query/dashboard.h),
// its security headers attached; the store's error when a page cannot be built.
collector::Dashboard HttpDashboard();

}  // namespace offmon::tools
