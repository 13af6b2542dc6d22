#include "http_report.h"

#include "offmon/query/health_report.h"
#include "offmon/query/report_render.h"

namespace offmon::tools {

collector::ReportJson HttpReportJson() {
  return [](store::Store& store, const Config& config, TimePoint at) -> Result<std::string> {
    try {
      auto report = query::BuildHealthReport(store, config, at);
      if (!report) return report.error();
      return query::RenderReportJson(*report);
    } catch (const std::exception& e) {  // the daemon's loop must not see an exception
      return Status::Corruption(std::string("report: ") + e.what());
    }
  };
}

}  // namespace offmon::tools
