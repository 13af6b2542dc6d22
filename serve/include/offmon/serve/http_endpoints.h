// HttpEndpoints: what the daemon's HTTP listener serves (docs/metrics.md, "HTTP
// endpoints"):
//   GET /metrics     the newest sample of every series stored in the last
//                    [http] stale_after, plus the daemon's own health, in the Prometheus
//                    text format 0.0.4 or OpenMetrics (by Accept), streamed per family
//   GET /healthz     200 "ok" when every collector succeeded within twice its interval,
//                    else 503 with one reason per line
//   GET /api/report  the health report as JSON (query's, through Sources::report_json)
//   GET /            a short index; anything else 404
//
// Thread safety: the daemon's event loop thread only (it reads the store and the
// daemon's status in place).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

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
    OutboxBacklog outbox_backlog;
    std::shared_ptr<const HttpStats> http_stats;
  };
  explicit HttpEndpoints(Sources sources) : sources_(std::move(sources)) {}

  HttpResponse Handle(const HttpRequest& request);

  // The daemon's own families (offmon_daemon_*) at `now`.
  std::vector<OwnFamily> OwnFamilies(TimePoint now) const;

 private:
  HttpResponse Metrics(const HttpRequest& request);
  HttpResponse Healthz();
  HttpResponse Report();

  Sources sources_;
};

}  // namespace offmon::serve
