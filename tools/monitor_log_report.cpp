#include "monitor_log_report.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string_view>

#include "offmon/query/health_report.h"
#include "offmon/query/report_render.h"

namespace offmon::tools {

collector::AfterAnalysis MonitorLogReport() {
  struct State {
    std::optional<TimePoint> last;  // when the last report was appended
  };
  return [state = std::make_shared<State>()](const collector::AnalysisDone& done) {
    const bool due = !state->last || done.announced > 0 || done.at - *state->last >= kMonitorLogReportEvery;
    if (!due) return;
    state->last = done.at;
    try {
      auto report = query::BuildHealthReport(done.store, done.config, done.at);
      if (!report) {
        done.log.error("report: {}", report.error().ToString());
        return;
      }
      const std::string text = query::RenderReportText(*report, query::RenderOptions{/*terminal=*/false});
      std::string_view rest = text;
      while (!rest.empty()) {
        const size_t nl = rest.find('\n');
        done.log.info("report | {}", rest.substr(0, nl));
        rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      }
    } catch (const std::exception& e) {  // the daemon's loop must not see an exception
      done.log.error("report: {}", e.what());
    }
  };
}

}  // namespace offmon::tools
