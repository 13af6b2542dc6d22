// HttpEndpoints: what the daemon's HTTP listener serves (docs/metrics.md, "HTTP
// endpoints"):
//   GET /metrics     the newest sample of every series stored in the last
//                    [http] stale_after, plus the daemon's own health, in the Prometheus
//                    text format 0.0.4 or OpenMetrics (by Accept), streamed per family
//   GET /healthz     200 "ok" when every collector succeeded within twice its interval,
//                    else 503 with one reason per line
//   GET /api/report  the health report as JSON (query's, through Sources::report_json)
//   anything else    the web dashboard (query/dashboard.h, through Sources::dashboard:
//                    /, /charts, /alerts, /static/*, /api/overview, ...); without it,
//                    / is a short index and anything else 404
//
// With a bearer token ([http] token_file, docs/dashboard.md), every path but /healthz
// needs `Authorization: Bearer TOKEN`, else 401; the comparison takes the same time
// wherever the given token differs. Every response carries X-Content-Type-Options:
// nosniff; the dashboard's carry its own security headers too (a Content-Security-Policy).
//
// Thread safety: the daemon's event loop thread only (it reads the store and the
// daemon's status in place).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "offmon/common/config.h"
#include "offmon/common/result.h"
#include "offmon/common/time.h"
#include "offmon/serve/daemon_status.h"
#include "offmon/serve/http_listener.h"
#include "offmon/serve/metrics_exposition.h"

namespace offmon::store {
class Store;
}

namespace offmon::serve {

// The health report as of `at` as one JSON document, for GET /api/report
// (docs/metrics.md, "HTTP endpoints"). Runs on the event loop thread; must not throw; an
// error becomes a 500 response with its message.
using ReportJson = std::function<Result<std::string>(store::Store& store, const Config& config, TimePoint at)>;

// query::RenderReportJson of query::BuildHealthReport at `at` (docs/report.md has the
// schema); the store's error when the report cannot be built.
Result<std::string> HealthReportJson(store::Store& store, const Config& config, TimePoint at);

// One answer of the web dashboard (query/dashboard.h) for the HTTP listener.
struct DashboardReply {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // security headers
};
// The dashboard's answer to GET `target` as of `at` (a 404 reply for a path it does not
// serve), for every path the listener has no endpoint of its own for. Same thread and
// error rules as ReportJson.
using Dashboard = std::function<Result<DashboardReply>(store::Store& store, const Config& config, TimePoint at,
                                                       std::string_view target)>;

// query::ServeDashboard with its security headers attached.
Result<DashboardReply> DashboardAnswer(store::Store& store, const Config& config, TimePoint at,
                                       std::string_view target);

// Notifications queued and not yet delivered or failed, by receiver.
using OutboxBacklog = std::function<std::map<std::string, int64_t>()>;

class HttpEndpoints {
 public:
  // Everything is borrowed and must outlive this object; `config` is the running one
  // (read at every request, so a reload takes effect). `report_json` (empty: 404) and
  // `outbox_backlog` may be empty.
  struct Sources {
    store::Store* store = nullptr;
    const DaemonStatus* status = nullptr;
    const Config* config = nullptr;
    const Clock* clock = nullptr;
    std::string store_path;  // for offmon_daemon_store_size_bytes
    ReportJson report_json = HealthReportJson;
    Dashboard dashboard = DashboardAnswer;
    OutboxBacklog outbox_backlog;
    std::shared_ptr<const HttpStats> http_stats;
  };
  explicit HttpEndpoints(Sources sources) : sources_(std::move(sources)) {}

  HttpResponse Handle(const HttpRequest& request);

  // The bearer token every path but /healthz requires from now on: nullopt for none; an
  // empty string refuses every such request (a token_file that cannot be read).
  void SetToken(std::optional<std::string> token) { token_ = std::move(token); }

  // The daemon's own families (offmon_daemon_*) at `now`.
  std::vector<OwnFamily> OwnFamilies(TimePoint now) const;

 private:
  HttpResponse Metrics(const HttpRequest& request);
  HttpResponse Healthz();
  HttpResponse Report();
  HttpResponse DashboardPage(const HttpRequest& request);
  bool Authorized(const HttpRequest& request) const;

  Sources sources_;
  std::optional<std::string> token_;
};

// The token of [http] token_file: the file's content without surrounding blanks and
// newlines. nullopt when token_file is "" (no token); IOError naming the file (never its
// content) when it cannot be read, InvalidArgument when it holds no token.
Result<std::optional<std::string>> ReadHttpToken(const HttpConfig& config);

}  // namespace offmon::serve
