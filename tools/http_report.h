// The health report as JSON for the daemon's GET /api/report: the daemon's report_json
// hook, set by the app layer because the collector may not use the query module that
// builds and renders the report (data flows collector -> store -> analyzer -> query).
#pragma once

#include "offmon/collector/daemon.h"

namespace offmon::tools {

// A hook returning query::RenderReportJson of query::BuildHealthReport at the given time
// (docs/report.md has the schema); the store's error when the report cannot be built.
collector::ReportJson HttpReportJson();

}  // namespace offmon::tools
