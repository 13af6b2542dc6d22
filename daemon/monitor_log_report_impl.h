// The health report in the monitor log, appended by the daemon after its evaluations of
// the rules (the daemon module may use query, which builds and renders the report).
//
// Thread safety: one MonitorLogReport per daemon, used on its event loop thread only.
#pragma once

#include <optional>

#include "offmon/common/config.h"
#include "offmon/common/time.h"

namespace spdlog {
class logger;
}
namespace offmon::store {
class Store;
}

namespace offmon::daemon {

// The guide's "Monitoring Interval: Every 30 minutes".
inline constexpr Duration kMonitorLogReportEvery = std::chrono::minutes(30);

// Appends the plain report (no colour, no emoji) to the daemon's log, one record per line
// tagged "report | ", after the first analysis, after every analysis that logged a
// transition, and otherwise every kMonitorLogReportEvery. The log's sinks (the rotating
// monitor.log, stderr) and its rotation are the daemon's. A report that cannot be built is
// logged as an error instead. docs/report.md ("monitor.log").
class MonitorLogReport {
 public:
  // After an evaluation at `at` that logged `announced` transitions (firing, escalated,
  // resolved), with the running config and the daemon's store. Never throws.
  void AfterAnalysis(const Config& config, store::Store& store, TimePoint at, size_t announced, spdlog::logger& log);

 private:
  std::optional<TimePoint> last_;  // when the last report was appended
};

}  // namespace offmon::daemon
