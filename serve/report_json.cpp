#include <exception>
#include <string>

#include "offmon/query/health_report.h"
#include "offmon/query/report_render.h"
#include "offmon/serve/http_endpoints.h"

namespace offmon::serve {

Result<std::string> HealthReportJson(store::Store& store, const Config& config, TimePoint at) {
  try {
    auto report = query::BuildHealthReport(store, config, at);
    if (!report) return report.error();
    return query::RenderReportJson(*report);
  } catch (const std::exception& e) {  // the daemon's loop must not see an exception
    return Status::Corruption(std::string("report: ") + e.what());
  }
}

}  // namespace offmon::serve
