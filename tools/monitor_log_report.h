// The health report in the monitor log: the daemon's after_analysis hook, set by the app
// layer when it registers `offmon collect`, because the collector may not use the query
// module that renders the report (data flows collector -> store -> analyzer -> query).
#pragma once

#include "offmon/collector/daemon.h"

namespace offmon::tools {

// The guide's "Monitoring Interval: Every 30 minutes".
inline constexpr Duration kMonitorLogReportEvery = std::chrono::minutes(30);

// A hook that appends the plain report (no colour, no emoji) to the daemon's log, one
// record per line tagged "report | ", after the first analysis, after every analysis that
// logged a transition, and otherwise every kMonitorLogReportEvery. The log's sinks (the
// rotating monitor.log, stderr) and its rotation are the daemon's. A report that cannot be
// built is logged as an error instead. docs/report.md ("monitor.log").
collector::AfterAnalysis MonitorLogReport();

}  // namespace offmon::tools
