// What serve answers from query: the health report as JSON and the dashboard's pages.
#include <exception>
#include <string>

#include "offmon/query/dashboard.h"
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

Result<DashboardReply> DashboardAnswer(store::Store& store, const Config& config, TimePoint at,
                                       std::string_view target) {
  try {
    auto page = query::ServeDashboard(store, config, at, target);
    if (!page) return page.error();
    DashboardReply reply{page->status, std::move(page->content_type), std::move(page->body), {}};
    for (const auto& [name, value] : query::kDashboardSecurityHeaders) reply.headers.emplace_back(name, value);
    return reply;
  } catch (const std::exception& e) {  // the daemon's loop must not see an exception
    return Status::Corruption(std::string("dashboard: ") + e.what());
  }
}

}  // namespace offmon::serve
