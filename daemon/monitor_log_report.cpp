#include "monitor_log_report_impl.h"

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "offmon/query/health_report.h"
#include "offmon/query/report_render.h"

namespace offmon::daemon {

void MonitorLogReport::AfterAnalysis(const Config& config, store::Store& store, TimePoint at, size_t announced,
                                     spdlog::logger& log) {
  const bool due = !last_ || announced > 0 || at - *last_ >= kMonitorLogReportEvery;
  if (!due) return;
  last_ = at;
  try {
    auto report = query::BuildHealthReport(store, config, at);
    if (!report) {
      log.error("report: {}", report.error().ToString());
      return;
    }
    const std::string text = query::RenderReportText(*report, query::RenderOptions{/*terminal=*/false});
    std::string_view rest = text;
    while (!rest.empty()) {
      const size_t nl = rest.find('\n');
      log.info("report | {}", rest.substr(0, nl));
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    }
  } catch (const std::exception& e) {  // the daemon's loop must not see an exception
    log.error("report: {}", e.what());
  }
}

}  // namespace offmon::daemon
