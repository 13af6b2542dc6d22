#include "http_report.h"

#include "offmon/query/dashboard.h"
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

collector::Dashboard HttpDashboard() {
  return [](store::Store& store, const Config& config, TimePoint at,
            std::string_view target) -> Result<collector::DashboardReply> {
    try {
      auto page = query::ServeDashboard(store, config, at, target);
      if (!page) return page.error();
      collector::DashboardReply reply{page->status, std::move(page->content_type), std::move(page->body), {}};
      for (const auto& [name, value] : query::kDashboardSecurityHeaders) reply.headers.emplace_back(name, value);
      return reply;
    } catch (const std::exception& e) {  // the daemon's loop must not see an exception
      return Status::Corruption(std::string("dashboard: ") + e.what());
    }
  };
}

}  // namespace offmon::tools
