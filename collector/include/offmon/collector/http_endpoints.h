// HttpEndpoints: what the daemon's HTTP listener serves (docs/metrics.md, "HTTP
// endpoints"):
//   GET /metrics     the newest sample of every series stored in the last
//                    [http] stale_after, plus the daemon's own health, in the Prometheus
//                    text format 0.0.4 or OpenMetrics (by Accept), streamed per family
//   GET /healthz     200 "ok" when every collector succeeded within twice its interval,
//                    else 503 with one reason per line
//   GET /api/report  the health report as JSON (through the app layer's ReportJson)
//   GET /            a short index; anything else 404
//
// Thread safety: the daemon's event loop thread only (it reads the store and the
// daemon's status in place).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "offmon/collector/daemon.h"
#include "offmon/collector/daemon_status.h"
#include "offmon/collector/http_listener.h"
#include "offmon/collector/metrics_exposition.h"

namespace offmon::collector {

// Notifications queued and not yet delivered or failed, by receiver.
using OutboxBacklog = std::function<std::map<std::string, int64_t>()>;

class HttpEndpoints {
 public:
  // Everything is borrowed and must outlive this object; `config` is the running one
  // (read at every request, so a reload takes effect). `report_json` and
  // `outbox_backlog` may be empty.
  struct Sources {
    store::Store* store = nullptr;
    const DaemonStatus* status = nullptr;
    const Config* config = nullptr;
    const Clock* clock = nullptr;
    std::string store_path;  // for offmon_daemon_store_size_bytes
    ReportJson report_json;
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

}  // namespace offmon::collector
